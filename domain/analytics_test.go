package domain_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The summary and the daily figures add up what the period's episodes
// were, the same on both databases: outcomes and rates, reply time
// percentiles by nearest rank, ratings of their messages only, the
// survey, tokens and cost; filters by agent and channel; days without
// episodes are there, with zeros.
func TestAnalyticsAddUpThePeriodsEpisodes(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann := newUser(t, db, "ann", false)
		ai := assistant(t, db)
		day1 := time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)
		ms := func(v int64) *int64 { return &v }
		score := func(v int) *int { return &v }
		at := func(d time.Time) *time.Time { return &d }
		var msgs []*domain.Message
		for range 8 {
			q, a := askAndAnswer(t, db, ann, ai, "q", 0, 0)
			msgs = append(msgs, q, a)
		}
		conv := *msgs[0].ConversationID
		eps := []domain.Episode{
			{Outcome: domain.OutcomeResolvedByAI, Channel: domain.ChannelWeb, EndedAt: day1.Add(time.Hour), FirstReplyMS: ms(100),
				PromptTokens: 10, CompletionTokens: 5, CostUSD: 0.25, Turns: 1, CSATAskedAt: at(day1), CSATScore: score(5)},
			{Outcome: domain.OutcomeResolvedByAI, Channel: domain.ChannelTwilio, EndedAt: day1.Add(2 * time.Hour), FirstReplyMS: ms(300),
				PromptTokens: 20, CompletionTokens: 5, CostUSD: 0.5, Turns: 2, CSATAskedAt: at(day1)},
			{Outcome: domain.OutcomeResolvedByPerson, Channel: domain.ChannelWeb, EndedAt: day1.Add(3 * time.Hour), FirstReplyMS: ms(200),
				HandedOffAt: at(day1), PersonReplyMS: ms(60000), Turns: 1, CSATAskedAt: at(day1), CSATScore: score(2), Agent: "billing"},
			{Outcome: domain.OutcomeHandedOff, Channel: domain.ChannelWeb, EndedAt: day1.AddDate(0, 0, 2).Add(time.Hour), FirstReplyMS: ms(400),
				HandedOffAt: at(day1), Turns: 1, Agent: "billing"},
			// Outside the period.
			{Outcome: domain.OutcomeAbandoned, Channel: domain.ChannelWeb, EndedAt: day1.AddDate(0, 0, 5), Turns: 9},
		}
		for i := range eps {
			e := &eps[i]
			e.Key, e.ConversationID, e.UserID = conv+":"+string(rune('a'+i)), conv, ann.ID
			e.FirstMessageID, e.LastMessageID = msgs[2*i].ID, msgs[2*i+1].ID
			e.StartedAt, e.Day = e.EndedAt.Add(-time.Minute), e.EndedAt.Format(time.DateOnly)
			_, err := db.NewInsert().Model(e).Exec(ctx)
			require.NoError(t, err)
		}
		rate := func(i int, r domain.Rating) {
			_, err := domain.RateAnswer(ctx, db, ann.ID, msgs[i].ID, r, nil)
			require.NoError(t, err)
		}
		rate(1, domain.RatingUp)    // episode 0
		rate(3, domain.RatingDown)  // episode 1
		rate(7, domain.RatingUp)    // episode 3
		rate(15, domain.RatingDown) // no episode

		f := domain.AnalyticsFilter{From: day1, To: day1.AddDate(0, 0, 3)}
		s, err := domain.Summarize(ctx, db, f)
		require.NoError(t, err)
		assert.EqualValues(t, 4, s.Conversations)
		assert.Equal(t, map[domain.Outcome]int64{domain.OutcomeResolvedByAI: 2, domain.OutcomeResolvedByPerson: 1,
			domain.OutcomeHandedOff: 1, domain.OutcomeAbandoned: 0}, s.Outcomes)
		assert.Equal(t, 0.5, s.AIResolutionRate)
		assert.Equal(t, 0.5, s.HandoffRate)
		assert.EqualValues(t, 4, s.FirstReply.Count)
		assert.EqualValues(t, 200, *s.FirstReply.MedianMS, "nearest rank of 100, 200, 300, 400")
		assert.EqualValues(t, 400, *s.FirstReply.P90MS)
		assert.EqualValues(t, 60000, *s.PersonFirstReply.MedianMS)
		assert.Equal(t, domain.Ratings{Up: 2, Down: 1}, s.Feedback)
		assert.Equal(t, domain.CSAT{Asked: 3, Answered: 2, AnswerRate: 0.6667, Average: func() *float64 { v := 3.5; return &v }()}, s.CSAT)
		assert.Equal(t, domain.Tokens{Prompt: 30, Completion: 10, Total: 40}, s.Tokens)
		assert.Equal(t, 0.75, s.CostUSD)
		assert.EqualValues(t, 5, s.Turns)

		billing := "billing"
		f.Agent = &billing
		s, err = domain.Summarize(ctx, db, f)
		require.NoError(t, err)
		assert.EqualValues(t, 2, s.Conversations)
		assert.Equal(t, 1.0, s.HandoffRate)
		f.Agent = nil
		sms := domain.ChannelTwilio
		f.Channel = &sms
		s, err = domain.Summarize(ctx, db, f)
		require.NoError(t, err)
		assert.EqualValues(t, 1, s.Conversations)
		assert.Equal(t, domain.Ratings{Down: 1}, s.Feedback)
		f.Channel = nil

		days, err := domain.SummarizeDaily(ctx, db, f)
		require.NoError(t, err)
		require.Len(t, days, 3)
		assert.Equal(t, []string{"2026-11-02", "2026-11-03", "2026-11-04"}, []string{days[0].Date, days[1].Date, days[2].Date})
		assert.EqualValues(t, 3, days[0].Conversations)
		assert.EqualValues(t, 0, days[1].Conversations)
		assert.Nil(t, days[1].FirstReply.MedianMS)
		assert.EqualValues(t, 1, days[2].Conversations)
		assert.Equal(t, domain.Ratings{Up: 1}, days[2].Feedback)
		assert.EqualValues(t, 400, *days[2].FirstReply.MedianMS)

		empty, err := domain.Summarize(ctx, db, domain.AnalyticsFilter{From: day1.AddDate(1, 0, 0), To: day1.AddDate(1, 0, 1)})
		require.NoError(t, err)
		assert.Zero(t, empty.Conversations)
		assert.Len(t, empty.Outcomes, 4, "every outcome, at zero")
		assert.ErrorIs(t, domain.AnalyticsFilter{From: day1, To: day1}.Check(), domain.ErrInvalid)
		assert.ErrorIs(t, domain.AnalyticsFilter{From: day1, To: day1.AddDate(2, 0, 0)}.Check(), domain.ErrInvalid)
	})
}
