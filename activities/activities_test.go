package activities_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketelegram"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/metrics"
)

// turnFixture is a user who wrote to the assistant on a channel, and the
// activities of a worker on the same database.
type turnFixture struct {
	db      *bun.DB
	user    *domain.User
	inbound *domain.Message
	acts    *activities.Activities
}

func newTurnFixture(t *testing.T, url string, ch domain.Channel, address string) *turnFixture {
	t.Helper()
	db := testenv.Migrated(t, url)
	u, msgs := testenv.AskAssistant(t, db, "alice", ch, address, "what are my reports?")
	in := msgs[0]
	acts := &activities.Activities{DB: db, Agents: activities.DefaultAgents(activities.AgentSettings{}), HistoryMax: 50,
		Deliverers: map[domain.Channel]activities.Deliverer{}, Logger: testenv.Logger(), Metrics: metrics.New()}
	return &turnFixture{db: db, user: u, inbound: in, acts: acts}
}

// run executes one activity as the worker would, and decodes its result.
func run(t *testing.T, fn any, in any, out any) error {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	env := suite.NewTestActivityEnvironment()
	env.RegisterActivity(fn)
	v, err := env.ExecuteActivity(fn, in)
	if err == nil && out != nil {
		require.NoError(t, v.Get(out))
	}
	return err
}

// saveReply stores the assistant's reply to the fixture's message.
func (f *turnFixture) saveReply(t *testing.T, content string) int64 {
	t.Helper()
	var id int64
	require.NoError(t, run(t, f.acts.SaveReply, activities.SaveReplyInput{
		ConversationID: *f.inbound.ConversationID, UserID: f.user.ID, AnswersUpTo: f.inbound.ID,
		Content: content, Channel: string(f.inbound.Channel)}, &id))
	return id
}

func (f *turnFixture) message(t *testing.T, id int64) *domain.Message {
	t.Helper()
	m, err := domain.MessageByID(context.Background(), f.db, id)
	require.NoError(t, err)
	return m
}

// nonRetryable says whether err is an application error of type typ that
// Temporal will not retry.
func nonRetryable(err error, typ string) bool {
	var appErr *temporal.ApplicationError
	return errors.As(err, &appErr) && appErr.Type() == typ && appErr.NonRetryable()
}

func TestTurnPolicyIsTheWorkersWithItsAgentsTools(t *testing.T) {
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelWeb, "")
	f.acts.Policy = activities.TurnPolicy{MaxLLMCalls: 3, LLMAttempts: 4, LLMRetryInterval: time.Second, LLMCallTimeout: time.Minute}
	var p activities.TurnPolicy
	require.NoError(t, run(t, f.acts.TurnPolicy, activities.DefaultAgent, &p))
	assert.Equal(t, 3, p.MaxLLMCalls)
	assert.EqualValues(t, 4, p.LLMAttempts)
	assert.Equal(t, time.Minute, p.LLMCallTimeout)
	assert.ElementsMatch(t, append(activities.DefaultAgents(activities.AgentSettings{}).ToolNames(), activities.HandoffTool), p.Tools,
		"the tools that run as activities, and the handoff the workflow carries out")

	err := run(t, f.acts.TurnPolicy, "no_such_agent", nil)
	assert.True(t, nonRetryable(err, activities.ErrUnknownAgent), "%v", err)
	assert.Greater(t, activities.LLMCallTimeout(time.Minute), time.Minute, "CallLLM's timeout leaves the request its whole time")
}

func TestLoadHistoryAndSaveReplyOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		f := newTurnFixture(t, url, domain.ChannelWeb, "")
		var history []int64
		require.NoError(t, run(t, f.acts.LoadHistory, activities.LoadHistoryInput{
			ConversationID: *f.inbound.ConversationID, UpTo: f.inbound.ID}, &history))
		assert.Equal(t, []int64{f.inbound.ID}, history)

		first, again := f.saveReply(t, "hello"), f.saveReply(t, "hello")
		assert.Equal(t, first, again, "a retried save finds the reply it stored")
		assert.Equal(t, domain.TurnReplied, *f.message(t, f.inbound.ID).TurnStatus)

		err := run(t, f.acts.SaveReply, activities.SaveReplyInput{ConversationID: *f.inbound.ConversationID,
			UserID: f.user.ID, AnswersUpTo: f.inbound.ID, Content: "x", Channel: "carrier-pigeon"}, nil)
		assert.True(t, nonRetryable(err, activities.ErrBadChannel), "%v", err)
	})
}

func TestCallLLMThroughTheOpenAIClient(t *testing.T) {
	llm := fakellm.Start(fakellm.Echo)
	t.Cleanup(llm.Close)
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelWeb, "")
	f.acts.LLM = activities.NewEndpoint(llm.BaseURL(), "sk-test", "test-model", 5*time.Second)
	in := activities.CallLLMInput{UserID: f.user.ID, Agent: activities.DefaultAgent, HistoryIDs: []int64{f.inbound.ID}}

	var out activities.CallLLMResult
	require.NoError(t, run(t, f.acts.CallLLM, in, &out))
	assert.Equal(t, "echo: what are my reports?", out.Content)
	assert.EqualValues(t, 20, out.PromptTokens)
	req := llm.Requests()[0]
	assert.Equal(t, "test-model", req.Model)
	assert.Equal(t, "system", req.Messages[0].Role)
	assert.Contains(t, req.ToolNames(), "list_reports")

	for status, retryable := range map[int]bool{http.StatusServiceUnavailable: true, http.StatusTooManyRequests: true,
		http.StatusBadRequest: false, http.StatusUnauthorized: false} {
		llm.SetScript(func(int, fakellm.Request) fakellm.Response { return fakellm.Response{Status: status} })
		err := run(t, f.acts.CallLLM, in, nil)
		require.Error(t, err, "status %d", status)
		assert.Equal(t, !retryable, nonRetryable(err, activities.ErrLLMRejected), "status %d: %v", status, err)
	}

	// Every call is kept: the good one with the tokens the provider
	// reported, the failed ones with how they ended.
	var calls []domain.LLMCall
	require.NoError(t, f.db.NewSelect().Model(&calls).Order("id").Scan(context.Background()))
	require.Len(t, calls, 5)
	good := calls[0]
	assert.Equal(t, domain.LLMOK, good.Outcome)
	assert.Equal(t, f.user.ID, good.UserID)
	assert.Equal(t, *f.inbound.ConversationID, good.ConversationID)
	assert.Equal(t, domain.PurposeReply, good.Purpose)
	assert.Equal(t, "openai", good.Provider)
	assert.EqualValues(t, 20, good.PromptTokens)
	assert.Equal(t, out.PromptTokens+out.CompletionTokens, good.TotalTokens)
	assert.Positive(t, out.CompletionTokens)
	outcomes := map[domain.LLMOutcome]int{}
	for _, c := range calls[1:] {
		outcomes[c.Outcome]++
		assert.Zero(t, c.TotalTokens)
	}
	assert.Equal(t, map[domain.LLMOutcome]int{domain.LLMFailed: 2, domain.LLMRejected: 2}, outcomes)
}

// Past LLM_USER_DAILY_TOKENS a call is refused for good without a request;
// the next UTC day the user has a fresh budget.
func TestCallLLMKeepsToTheDailyBudget(t *testing.T) {
	llm := fakellm.Start(fakellm.Echo)
	t.Cleanup(llm.Close)
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		f := newTurnFixture(t, url, domain.ChannelWeb, "")
		f.acts.LLM = activities.NewEndpoint(llm.BaseURL(), "sk-test", "test-model", 5*time.Second)
		day := time.Date(2026, 11, 30, 23, 59, 0, 0, time.UTC)
		f.acts.Now = func() time.Time { return day }
		in := activities.CallLLMInput{UserID: f.user.ID, Agent: activities.DefaultAgent, HistoryIDs: []int64{f.inbound.ID}}
		var out activities.CallLLMResult
		require.NoError(t, run(t, f.acts.CallLLM, in, &out))
		perCall := out.PromptTokens + out.CompletionTokens
		f.acts.DailyTokens = 2*perCall - 1 // the second call starts below it and passes it

		before := len(llm.Requests())
		require.NoError(t, run(t, f.acts.CallLLM, in, nil))
		err := run(t, f.acts.CallLLM, in, nil)
		assert.True(t, nonRetryable(err, activities.ErrBudgetExceeded), "%v", err)
		assert.Len(t, llm.Requests(), before+1, "no request once the budget is spent")

		day = day.Add(2 * time.Minute) // the next UTC day
		require.NoError(t, run(t, f.acts.CallLLM, in, nil))
		usage, err := domain.UsageByDay(context.Background(), f.db, f.user.ID, day, 2, nil)
		require.NoError(t, err)
		assert.Equal(t, []domain.DailyUsage{
			{Date: "2026-11-30", PromptTokens: 2 * out.PromptTokens, CompletionTokens: 2 * out.CompletionTokens, TotalTokens: 2 * perCall, Calls: 2},
			{Date: "2026-12-01", PromptTokens: out.PromptTokens, CompletionTokens: out.CompletionTokens, TotalTokens: perCall, Calls: 1},
		}, usage)
	})
}

func TestDeliverOnTheWebNeedsNoSender(t *testing.T) {
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelWeb, "")
	id := f.saveReply(t, "hello")
	require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
	assert.Equal(t, domain.DeliveryDelivered, *f.message(t, id).DeliveryStatus)
}

func TestDeliverWithoutASenderForTheChannelFailsForGood(t *testing.T) {
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelTwilio, "+15550001111")
	id := f.saveReply(t, "hello")
	err := run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil)
	assert.True(t, nonRetryable(err, activities.ErrChannelNotConfigured), "%v", err)
}

// twilioFixture is a turn whose replies go out by SMS to a fake Twilio.
func twilioFixture(t *testing.T, url string, script faketwilio.Script) (*turnFixture, *faketwilio.Server, *activities.TwilioSender) {
	t.Helper()
	tw := faketwilio.Start("AC123", script)
	t.Cleanup(tw.Close)
	api, err := activities.NewTwilio("AC123", "token", tw.URL)
	require.NoError(t, err)
	f := newTurnFixture(t, url, domain.ChannelTwilio, "+15550001111")
	sender := &activities.TwilioSender{API: api, DB: f.db, From: "+15559990000", StatusCallback: "https://aimsg.test/twilio_status"}
	f.acts.Deliverers[domain.ChannelTwilio] = sender
	return f, tw, sender
}

func TestDeliverBySMSOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		f, tw, _ := twilioFixture(t, url, nil)
		id := f.saveReply(t, "hello by SMS")
		require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
		require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))

		sent := tw.Sent()
		require.Len(t, sent, 1, "delivered again, the reply is not sent twice")
		assert.Equal(t, "+15550001111", sent[0].To)
		assert.Equal(t, "hello by SMS", sent[0].Body)
		reply := f.message(t, id)
		assert.Equal(t, sent[0].SID, *reply.ProviderMessageID)
		assert.Equal(t, domain.DeliverySent, *reply.DeliveryStatus)
	})
}

func TestTwilioRefusingANumberFailsForGood(t *testing.T) {
	f, _, _ := twilioFixture(t, "sqlite:///:memory:", func(int) faketwilio.Response {
		return faketwilio.Response{Status: http.StatusBadRequest, Code: 21211}
	})
	id := f.saveReply(t, "hello")
	err := run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil)
	assert.True(t, nonRetryable(err, activities.ErrTwilioRejected), "%v", err)
	assert.Equal(t, domain.DeliveryFailed, *f.message(t, id).DeliveryStatus)
}

// receiptFirst is a Twilio sender whose status callback lands right after
// Twilio answered, before Deliver records what the sender did.
type receiptFirst struct {
	*activities.TwilioSender
}

func (r receiptFirst) Deliver(ctx context.Context, reply *domain.Message) (string, error) {
	sid, err := r.TwilioSender.Deliver(ctx, reply)
	if err != nil {
		return "", err
	}
	return sid, domain.UpdateDeliveryStatus(ctx, r.DB, sid, domain.DeliveryDelivered)
}

func TestADeliveryReceiptBeforeDeliverEndsIsKept(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		f, tw, sender := twilioFixture(t, url, nil)
		f.acts.Deliverers[domain.ChannelTwilio] = receiptFirst{sender}
		id := f.saveReply(t, "hello")
		require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
		reply := f.message(t, id)
		assert.Equal(t, domain.DeliveryDelivered, *reply.DeliveryStatus, "sent does not overwrite delivered")
		assert.Equal(t, tw.Sent()[0].SID, *reply.ProviderMessageID)
	})
}

func TestDeliverByTelegram(t *testing.T) {
	calls := 0
	tg := faketelegram.Start("bot-token", func(int) faketelegram.Response {
		calls++
		if calls == 1 {
			return faketelegram.Response{Code: http.StatusTooManyRequests, RetryAfter: 3}
		}
		return faketelegram.Response{}
	})
	t.Cleanup(tg.Close)
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelTelegram, "4242")
	f.acts.Deliverers[domain.ChannelTelegram] = &activities.TelegramSender{
		Bot: activities.NewTelegram("bot-token", tg.URL), DB: f.db}
	id := f.saveReply(t, "hello on Telegram")

	err := run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil)
	var appErr *temporal.ApplicationError
	require.ErrorAs(t, err, &appErr)
	assert.Equal(t, activities.ErrTelegramRateLimited, appErr.Type())
	assert.Equal(t, 3*time.Second, appErr.NextRetryDelay(), "waits as long as Telegram asked")

	require.NoError(t, run(t, f.acts.Deliver, activities.DeliverInput{ReplyID: id}, nil))
	require.Len(t, tg.Sent(), 1)
	assert.Equal(t, faketelegram.Sent{ChatID: 4242, Text: "hello on Telegram"}, tg.Sent()[0])
	assert.Equal(t, domain.DeliverySent, *f.message(t, id).DeliveryStatus)
}
