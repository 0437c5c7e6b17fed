package domain_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// askAndAnswer stores a question of u to the assistant and the AI's
// answer, with the LLM call that wrote it.
func askAndAnswer(t *testing.T, db *bun.DB, u, ai *domain.User, text string, prompt, completion int64) (q, a *domain.Message) {
	t.Helper()
	ctx := context.Background()
	q, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: ai.ID, Content: text})
	require.NoError(t, err)
	require.NoError(t, domain.RecordLLMCall(ctx, db, &domain.LLMCall{UserID: u.ID, ConversationID: *q.ConversationID,
		TurnID: "turn/1", Purpose: domain.PurposeReply, Provider: "openai", Model: "m1",
		PromptTokens: prompt, CompletionTokens: completion, Outcome: domain.LLMOK}))
	a, err = domain.SaveReply(ctx, db, domain.Reply{ConversationID: *q.ConversationID, UserID: u.ID, AnswersUpTo: q.ID,
		Content: "answer to " + text, Model: "m1"})
	require.NoError(t, err)
	return q, a
}

// An episode is recorded once, with its outcome, reply time, tokens and
// cost; its survey question is saved with it, marked in the message's
// JSON, and answered once, by the web or by a bare number on SMS (not
// the AI's), never by anyone else.
func TestAnEpisodeIsRecordedOnceAndItsSurveyAnsweredOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, bob := newUser(t, db, "ann", false), newUser(t, db, "bob", false)
		ai := assistant(t, db)
		prices := domain.Prices{"m1": {Prompt: 2, Completion: 10}}
		start := domain.Now().Add(-time.Minute)
		q, _ := askAndAnswer(t, db, ann, ai, "where is my parcel", 1000, 100)
		end := domain.EpisodeEnd{Key: domain.EpisodeKey(*q.ConversationID, q.ID, start), ConversationID: *q.ConversationID,
			UserID: ann.ID, Channel: domain.ChannelWeb, FirstMessageID: q.ID, Start: start, End: domain.Now(),
			Ending: domain.EndQuiet, Turns: 1, Survey: domain.SurveyQuestion}
		ep, recorded, err := domain.RecordEpisode(ctx, db, prices, end)
		require.NoError(t, err)
		assert.True(t, recorded)
		assert.Equal(t, domain.OutcomeResolvedByAI, ep.Outcome)
		assert.EqualValues(t, 1000, ep.PromptTokens)
		assert.EqualValues(t, 100, ep.CompletionTokens)
		assert.InDelta(t, 0.003, ep.CostUSD, 1e-12, "1000 × $2/M + 100 × $10/M")
		require.NotNil(t, ep.FirstReplyMS)
		assert.Less(t, *ep.FirstReplyMS, int64(5000))
		require.NotNil(t, ep.CSATMessageID)
		again, recorded, err := domain.RecordEpisode(ctx, db, prices, end)
		require.NoError(t, err)
		assert.False(t, recorded, "recorded once")
		assert.Equal(t, ep.ID, again.ID)
		assert.Equal(t, *ep.CSATMessageID, *again.CSATMessageID, "asked once")

		question, err := domain.MessageFor(ctx, db, ann.ID, *ep.CSATMessageID)
		require.NoError(t, err)
		assert.Equal(t, domain.SurveyQuestion, question.Content)
		require.NotNil(t, question.Survey)
		assert.Nil(t, question.Survey.Score)

		_, err = domain.AnswerSurvey(ctx, db, bob.ID, question.ID, 5)
		assert.ErrorIs(t, err, domain.ErrNotFound, "not bob's")
		_, err = domain.AnswerSurvey(ctx, db, ann.ID, q.ID, 5)
		assert.ErrorIs(t, err, domain.ErrInvalid, "asks no survey")
		_, err = domain.AnswerSurvey(ctx, db, ann.ID, question.ID, 6)
		assert.ErrorIs(t, err, domain.ErrInvalid)
		scored, err := domain.AnswerSurvey(ctx, db, ann.ID, question.ID, 4)
		require.NoError(t, err)
		assert.Equal(t, 4, *scored.CSATScore)
		_, err = domain.AnswerSurvey(ctx, db, ann.ID, question.ID, 1)
		assert.ErrorIs(t, err, domain.ErrConflict, "answered once")
		question, err = domain.MessageFor(ctx, db, ann.ID, question.ID)
		require.NoError(t, err)
		assert.Equal(t, 4, *question.Survey.Score)

		// By SMS: a bare number just after the question is its score,
		// answered with thanks and no turn; the next one is the AI's.
		q2, _ := askAndAnswer(t, db, ann, ai, "and my refund?", 10, 10)
		end2 := end
		end2.Key, end2.FirstMessageID, end2.Start = domain.EpisodeKey(*q2.ConversationID, q2.ID, start), q2.ID, domain.Now()
		ep2, _, err := domain.RecordEpisode(ctx, db, prices, end2)
		require.NoError(t, err)
		sms := func(id, text string) *domain.Received {
			r, err := domain.Receive(ctx, db, ann.ID, ai.ID, domain.Inbound{Channel: domain.ChannelTwilio, Address: "+14155552671",
				ExternalID: id, Text: text}, domain.InboundLimit{})
			require.NoError(t, err)
			return r
		}
		r := sms("SM1", " 5 ")
		assert.True(t, r.Scored)
		assert.Equal(t, domain.SurveyThanks, r.Answer)
		assert.False(t, r.Dispatch(), "not the AI's")
		retried := sms("SM1", " 5 ")
		assert.True(t, retried.Repeated)
		assert.True(t, retried.Scored, "a retried webhook is answered as the first")
		assert.Equal(t, domain.SurveyThanks, retried.Answer)
		got, err := domain.EpisodeByKey(ctx, db, ep2.Key)
		require.NoError(t, err)
		assert.Equal(t, 5, *got.CSATScore)
		r = sms("SM2", "3")
		assert.False(t, r.Scored, "answered already: a message for the AI")
		assert.True(t, r.Dispatch())
	})
}

// Outcomes follow how an episode ended; a thumbs down makes a quiet end
// abandoned.
func TestAnEpisodesOutcomeFollowsHowItEnded(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann := newUser(t, db, "ann", false)
		ai := assistant(t, db)
		for i, tc := range []struct {
			ending   domain.EpisodeEnding
			answered bool
			down     bool
			want     domain.Outcome
		}{
			{domain.EndQuiet, false, false, domain.OutcomeResolvedByAI},
			{domain.EndQuiet, false, true, domain.OutcomeAbandoned},
			{domain.EndResumed, true, false, domain.OutcomeResolvedByPerson},
			{domain.EndIdle, true, false, domain.OutcomeAbandoned},
			{domain.EndIdle, false, false, domain.OutcomeHandedOff},
		} {
			q, a := askAndAnswer(t, db, ann, ai, "question", 1, 1)
			if tc.down {
				_, err := domain.RateAnswer(ctx, db, ann.ID, a.ID, domain.RatingDown, nil)
				require.NoError(t, err)
			}
			e := domain.EpisodeEnd{Key: domain.EpisodeKey(*q.ConversationID, q.ID, time.Time{}), ConversationID: *q.ConversationID,
				UserID: ann.ID, Channel: domain.ChannelWeb, FirstMessageID: q.ID, Start: domain.Now().Add(-time.Second),
				End: domain.Now(), Ending: tc.ending, PersonAnswered: tc.answered}
			if tc.ending != domain.EndQuiet {
				e.HandedOffAt = domain.Now()
			}
			ep, _, err := domain.RecordEpisode(ctx, db, nil, e)
			require.NoError(t, err)
			assert.Equal(t, tc.want, ep.Outcome, "case %d", i)
			assert.Zero(t, ep.CostUSD, "no prices: no cost")
		}
	})
}

func TestSurveyScoresAreBareNumbers(t *testing.T) {
	for text, want := range map[string]int{"5": 5, " 1 ": 1, "4/5": 4, "3.": 3, "5!": 5, "2 ⭐": 2,
		"0": 0, "6": 0, "45": 0, "5 stars please": 0, "": 0, "five": 0} {
		assert.Equal(t, want, domain.SurveyScore(text), "%q", text)
	}
}
