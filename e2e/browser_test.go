package e2e_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
)

// browserAgent answers like the report and help agents would: questions
// about reports call list_reports and list what it returned; questions
// about lockers or parcels call search_knowledge and answer with the first
// sentence of the first passage found, citing its number; a request to go
// slowly is streamed in pieces 400 ms apart; anything else is echoed.
func browserAgent(_ int, req fakellm.Request) fakellm.Response {
	last := req.Last()
	if last.Role == "tool" {
		// Which tool answered: the call with the result's id.
		var tool string
		for _, m := range req.Messages {
			for _, tc := range m.ToolCalls {
				if tc.ID == last.ToolCallID {
					tool = tc.Function.Name
				}
			}
		}
		if tool == "search_knowledge" {
			// "[n] title — heading", then the passage's text, then "URL: ...".
			lines := strings.Split(last.Text(), "\n")
			for i, line := range lines {
				n, _, found := strings.Cut(strings.TrimPrefix(line, "["), "]")
				if !strings.HasPrefix(line, "[") || !found || i+1 >= len(lines) {
					continue
				}
				sentence, _, _ := strings.Cut(lines[i+1], ". ")
				return fakellm.Response{Content: strings.TrimSuffix(sentence, ".") + " [" + n + "]."}
			}
			return fakellm.Response{Content: "I could not find that in the help articles."}
		}
		reports := listedReports(last)
		if len(reports) == 0 {
			return fakellm.Response{Content: "You have no reports."}
		}
		var items []string
		for _, r := range reports {
			items = append(items, `"`+r.Title+`" (`+r.Status+`)`)
		}
		return fakellm.Response{Content: "Your reports: " + strings.Join(items, ", ")}
	}
	if strings.Contains(last.Text(), "slowly") {
		return fakellm.Response{Content: "I am writing this slowly for you.",
			Chunks: []string{"I am ", "writing ", "this ", "slowly ", "for you."}, ChunkDelay: 400 * time.Millisecond}
	}
	if text := strings.ToLower(last.Text()); strings.Contains(text, "locker") || strings.Contains(text, "parcel") {
		args, _ := json.Marshal(map[string]string{"query": last.Text()})
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("call_kb", "search_knowledge", string(args))}}
	}
	if strings.Contains(strings.ToLower(last.Text()), "report") {
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("call_1", "list_reports", `{}`)}}
	}
	return fakellm.Response{Content: "You said: " + last.Text()}
}

// TestWebAppInABrowser runs e2e/browser/app.test.mjs: Debian's Chromium,
// driven by playwright-core, uses the web app against the whole stack
// (API on a real socket, worker, Temporal, the fake LLM). Screenshots of
// every page land in e2e/browser/screenshots.
func TestWebAppInABrowser(t *testing.T) {
	node, chromium, dir := browserTools(t)

	urls := testenv.DatabaseURLs(t)
	s := newStack(t, urls[len(urls)-1], browserAgent, nil)
	srv := httptest.NewServer(s.H)
	t.Cleanup(srv.Close)

	const adminName, adminPassword = "webadmin", "webadmin-password"
	hash, err := auth.HashPassword(adminPassword, 10)
	require.NoError(t, err)
	admin, _, err := domain.EnsureSuperuser(context.Background(), s.db, domain.SuperuserInput{
		Username: adminName, Email: adminName + "@example.com", HashedPassword: hash})
	require.NoError(t, err)

	sam, samAsked := texterUndelivered(t, s)
	caseyName, caseyPassword, survey := conversationsThatEnded(t, s, admin, sam, samAsked)

	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, "--test", "--test-reporter=spec", "app.test.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(),
		"BASE_URL="+srv.URL,
		"CHROMIUM="+chromium,
		"SCREENSHOT_DIR="+filepath.Join(dir, "screenshots"),
		"SUPERUSER_NAME="+adminName,
		"SUPERUSER_PASSWORD="+adminPassword,
		"SURVEY_USER_NAME="+caseyName,
		"SURVEY_USER_PASSWORD="+caseyPassword,
	)
	out, err := cmd.CombinedOutput()
	t.Logf("browser tests:\n%s", out)
	require.NoError(t, err, "the browser tests failed")

	// What the browser did is in the database: the report went through
	// the superuser's hands, and every question got its answer.
	reports, _, err := domain.ListAllReports(context.Background(), s.db, admin, domain.ReportFilter{Page: domain.Page{Limit: 10}})
	require.NoError(t, err)
	require.Len(t, reports, 1)
	assert.Equal(t, "Login page is broken", reports[0].Title)
	assert.Equal(t, domain.ReportResolved, reports[0].Status)
	answered, err := domain.EpisodeByKey(context.Background(), s.db, survey.Key)
	require.NoError(t, err)
	if assert.NotNil(t, answered.CSATScore, "the survey was answered in the chat") {
		assert.Equal(t, 4, *answered.CSATScore)
	}
	for _, shot := range []string{"01-sign-in", "03-chat", "07-admin-users", "09-report-resolved", "11-api-docs",
		"12-chat-with-a-person", "13-support-conversation", "14-support-inbox",
		"15-knowledge", "16-knowledge-edit", "17-knowledge-search", "18-chat-with-sources", "19-phone-knowledge",
		"20-not-delivered-inbox", "21-not-delivered-conversation", "22-chat-with-a-picture", "23-rated-answer",
		"24-analytics", "25-survey"} {
		info, err := os.Stat(filepath.Join(dir, "screenshots", shot+".png"))
		if assert.NoError(t, err) {
			assert.Greater(t, info.Size(), int64(5000), shot)
		}
	}
}

// browserTools finds node, Chromium and e2e/browser (with playwright-core
// installed), or skips the test without them (fails it under CI).
func browserTools(t *testing.T) (node, chromium, dir string) {
	t.Helper()
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	dir = filepath.Join(root, "e2e", "browser")
	chromium = os.Getenv("CHROMIUM")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	node, nodeErr := exec.LookPath("node")
	_, chromiumErr := os.Stat(chromium)
	_, modulesErr := os.Stat(filepath.Join(dir, "node_modules", "playwright-core"))
	if err := errors.Join(nodeErr, chromiumErr, modulesErr); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the browser tests need node, chromium and `npm ci` in e2e/browser: %v", err)
		}
		t.Skipf("browser tests need node, %s and `npm ci --prefix e2e/browser` (.ci/run installs them): %v", chromium, err)
	}
	return node, chromium, dir
}

// texterUndelivered gives the support inbox a person who texts the
// assistant, Sam Texter, whose last reply Twilio never took: the page
// marks it not delivered, and why. It returns Sam and Sam's question.
func texterUndelivered(t *testing.T, s *stack) (*domain.User, *domain.Message) {
	t.Helper()
	ctx := context.Background()
	name, phone, sid := "Sam Texter", "+14155550199", "SM00000000000000000000000000000999"
	u, err := domain.CreateUser(ctx, s.db, domain.NewUser{Username: "samtexter", Email: "sam@example.com",
		HashedPassword: "x", FullName: &name, PhoneNumber: &phone})
	require.NoError(t, err)
	a, err := domain.Assistant(ctx, s.db)
	require.NoError(t, err)
	in, _, err := domain.ReceiveMessage(ctx, s.db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID,
		Content: "Is my order on its way?", Channel: domain.ChannelTwilio, ExternalID: &sid, Address: &phone, NoTurn: true})
	require.NoError(t, err)
	reply, err := domain.SaveReply(ctx, s.db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
		AnswersUpTo: in.ID, Content: "Yes: it left the warehouse this morning."})
	require.NoError(t, err)
	_, err = domain.FailDelivery(ctx, s.db, reply.ID, "gave_up")
	require.NoError(t, err)
	return u, in
}

// conversationsThatEnded gives the analytics page conversations (episodes)
// that ended over the last days: Casey Survey's on the web, resolved by
// the AI, abandoned after a thumbs down, resolved by a person, and Sam's
// by SMS, handed off and left unanswered. Casey's last one, today, ends
// with the satisfaction survey, unanswered: the browser signs in as Casey
// (the name and password returned) and answers it.
func conversationsThatEnded(t *testing.T, s *stack, staff, sam *domain.User, samAsked *domain.Message) (name, password string, survey *domain.Episode) {
	t.Helper()
	ctx := context.Background()
	name, password = "caseysurvey", "casey-survey-password"
	hash, err := auth.HashPassword(password, 10)
	require.NoError(t, err)
	full := "Casey Survey"
	casey, err := domain.CreateUser(ctx, s.db, domain.NewUser{Username: name, Email: name + "@example.com",
		HashedPassword: hash, FullName: &full})
	require.NoError(t, err)
	ai, err := domain.Assistant(ctx, s.db)
	require.NoError(t, err)
	conv := domain.AIConversationID(casey.ID)
	prices := domain.Prices{"m1": {Prompt: 2.5, Completion: 10}}
	// The messages are dated back to when they were written, so the days
	// and reply times read as real ones.
	dated := func(m *domain.Message, at time.Time) {
		_, err := s.db.NewUpdate().Model((*domain.Message)(nil)).Set("created_at = ?", at.UTC()).Where("id = ?", m.ID).Exec(ctx)
		require.NoError(t, err)
	}
	// ask stores Casey's question at and the AI's answer replyIn later,
	// with the LLM call that wrote it.
	ask := func(question, answer string, at time.Time, replyIn time.Duration, prompt, completion int64) (q, a *domain.Message) {
		q, _, err := domain.ReceiveMessage(ctx, s.db, domain.NewMessage{SenderID: casey.ID, RecipientID: ai.ID,
			Content: question, Channel: domain.ChannelWeb, NoTurn: true})
		require.NoError(t, err)
		a, err = domain.SaveReply(ctx, s.db, domain.Reply{ConversationID: conv, UserID: casey.ID, AnswersUpTo: q.ID,
			Content: answer, Model: "m1"})
		require.NoError(t, err)
		require.NoError(t, domain.RecordLLMCall(ctx, s.db, &domain.LLMCall{UserID: casey.ID, ConversationID: conv,
			TurnID: "turn/" + strconv.FormatInt(q.ID, 10), Purpose: domain.PurposeReply, Provider: "openai", Model: "m1",
			PromptTokens: prompt, CompletionTokens: completion, Outcome: domain.LLMOK, CreatedAt: at.Add(replyIn)}))
		dated(q, at)
		dated(a, at.Add(replyIn))
		return q, a
	}
	record := func(e domain.EpisodeEnd) *domain.Episode {
		e.Key = domain.EpisodeKey(e.ConversationID, e.FirstMessageID, e.Start)
		ep, recorded, err := domain.RecordEpisode(ctx, s.db, prices, e)
		require.NoError(t, err)
		require.True(t, recorded)
		return ep
	}
	now := domain.Now()

	at := now.Add(-5 * 24 * time.Hour)
	q, a := ask("Where is my parcel?", "It left the warehouse yesterday and arrives on Friday.", at, 2400*time.Millisecond, 1200, 160)
	_, err = domain.RateAnswer(ctx, s.db, casey.ID, a.ID, domain.RatingUp, nil)
	require.NoError(t, err)
	record(domain.EpisodeEnd{ConversationID: conv, UserID: casey.ID, Channel: domain.ChannelWeb, FirstMessageID: q.ID,
		Start: at, End: at.Add(40 * time.Minute), Ending: domain.EndQuiet, Turns: 1})

	at = now.Add(-3 * 24 * time.Hour)
	q, a = ask("Can I change the delivery address?", "Addresses cannot be changed once a parcel has left.", at, 3100*time.Millisecond, 1500, 210)
	_, err = domain.RateAnswer(ctx, s.db, casey.ID, a.ID, domain.RatingDown, nil)
	require.NoError(t, err)
	record(domain.EpisodeEnd{ConversationID: conv, UserID: casey.ID, Channel: domain.ChannelWeb, FirstMessageID: q.ID,
		Start: at, End: at.Add(35 * time.Minute), Ending: domain.EndQuiet, Turns: 1})

	at = now.Add(-2 * 24 * time.Hour)
	record(domain.EpisodeEnd{ConversationID: domain.AIConversationID(sam.ID), UserID: sam.ID, Channel: domain.ChannelTwilio,
		FirstMessageID: samAsked.ID, Start: at, End: at.Add(time.Hour), HandedOffAt: at.Add(time.Minute),
		Ending: domain.EndIdle, Turns: 1})

	at = now.Add(-24 * time.Hour)
	q, _ = ask("I would like to talk to a person about my refund", "A person will answer you here.", at, 1900*time.Millisecond, 800, 40)
	person, err := domain.SaveOutbound(ctx, s.db, domain.Outbound{UserID: casey.ID, AgentID: staff.ID,
		Content: "Hi Casey, your refund went out this morning: it shows in 2 to 3 days."})
	require.NoError(t, err)
	dated(person, at.Add(5*time.Minute))
	record(domain.EpisodeEnd{ConversationID: conv, UserID: casey.ID, Channel: domain.ChannelWeb, FirstMessageID: q.ID,
		Start: at, End: at.Add(20 * time.Minute), HandedOffAt: at.Add(time.Minute), PersonAnswered: true,
		Ending: domain.EndResumed, Turns: 1})

	at = now.Add(-35 * time.Minute)
	q, _ = ask("Do you deliver on Sundays?", "No: parcels go out from Monday to Saturday.", at, 1700*time.Millisecond, 900, 120)
	survey = record(domain.EpisodeEnd{ConversationID: conv, UserID: casey.ID, Channel: domain.ChannelWeb, FirstMessageID: q.ID,
		Start: at, End: now, Ending: domain.EndQuiet, Turns: 1, Survey: domain.SurveyQuestion})
	require.NotNil(t, survey.CSATMessageID, "the survey was asked")
	return name, password, survey
}
