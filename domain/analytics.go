package domain

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/uptrace/bun"
)

// Analytics answer whether the assistant is any good, from the episodes
// that ended in a period (a day's figures are final once the day is
// over): how many the AI resolved, how many went to a person, how fast
// the first answers came, what people rated, and what it cost. Three
// indexed queries, whatever the period: the episodes' sums, their reply
// times (percentiles are computed here, the same on both databases), and
// the ratings of their messages.

// AnalyticsFilter selects the episodes of a period [From, To), of one
// agent (the one that answered last; "" the built-in assistant) or one
// channel (of the episode's first message) when set.
type AnalyticsFilter struct {
	From, To time.Time
	Agent    *string
	Channel  *Channel
}

// MaxAnalyticsDays bounds a period.
const MaxAnalyticsDays = 366

// Check refuses a period that is empty, reversed or too long.
func (f AnalyticsFilter) Check() error {
	if !f.From.Before(f.To) {
		return invalid("from must be before to")
	}
	if f.To.Sub(f.From) > MaxAnalyticsDays*24*time.Hour {
		return invalid(fmt.Sprintf("a period is at most %d days", MaxAnalyticsDays))
	}
	return nil
}

// Summary is what the episodes of a period came to.
type Summary struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
	// Conversations are the episodes that ended: one request each.
	Conversations int64             `json:"conversations"`
	Outcomes      map[Outcome]int64 `json:"outcomes"`
	// AIResolutionRate is resolved_by_ai over conversations; HandoffRate
	// the share handed to a person (0 without conversations).
	AIResolutionRate float64 `json:"ai_resolution_rate"`
	HandoffRate      float64 `json:"handoff_rate"`
	// FirstReply is the time from a request to the AI's first answer;
	// PersonFirstReply from a handoff to a person's first answer.
	FirstReply       ReplyTimes `json:"first_reply"`
	PersonFirstReply ReplyTimes `json:"person_first_reply"`
	Turns            int64      `json:"turns"`
	Feedback         Ratings    `json:"feedback"`
	CSAT             CSAT       `json:"csat"`
	Tokens           Tokens     `json:"tokens"`
	CostUSD          float64    `json:"cost_usd"`
}

// ReplyTimes are the median and 90th percentile of reply times, in
// milliseconds (null when nothing was answered); Count how many there
// were.
type ReplyTimes struct {
	Count    int64  `json:"count"`
	MedianMS *int64 `json:"median_ms"`
	P90MS    *int64 `json:"p90_ms"`
}

// Ratings count the thumbs people gave the episodes' answers.
type Ratings struct {
	Up   int64 `json:"up"`
	Down int64 `json:"down"`
}

// CSAT is the satisfaction survey: how often it was asked and answered,
// and the average score (null without an answer).
type CSAT struct {
	Asked      int64    `json:"asked"`
	Answered   int64    `json:"answered"`
	AnswerRate float64  `json:"answer_rate"`
	Average    *float64 `json:"average"`
}

// Tokens are the LLM tokens the episodes used.
type Tokens struct {
	Prompt     int64 `json:"prompt"`
	Completion int64 `json:"completion"`
	Total      int64 `json:"total"`
}

// DailySummary is a day's summary.
type DailySummary struct {
	Date string `json:"date"`
	Summary
}

// Summarize is what the episodes of f's period came to.
func Summarize(ctx context.Context, db bun.IDB, f AnalyticsFilter) (*Summary, error) {
	byDay, err := summarize(ctx, db, f, false)
	if err != nil {
		return nil, err
	}
	s := byDay[""]
	if s == nil {
		s = emptySummary()
	}
	s.From, s.To = f.From, f.To
	return s, nil
}

// SummarizeDaily is Summarize for each UTC day of f's period, oldest
// first, days without episodes included.
func SummarizeDaily(ctx context.Context, db bun.IDB, f AnalyticsFilter) ([]DailySummary, error) {
	byDay, err := summarize(ctx, db, f, true)
	if err != nil {
		return nil, err
	}
	var out []DailySummary
	for day := Day(f.From); day.Before(f.To); day = day.AddDate(0, 0, 1) {
		date := day.Format(time.DateOnly)
		s := byDay[date]
		if s == nil {
			s = emptySummary()
		}
		s.From, s.To = maxTime(day, f.From), minTime(day.AddDate(0, 0, 1), f.To)
		out = append(out, DailySummary{Date: date, Summary: *s})
	}
	return out, nil
}

func emptySummary() *Summary {
	s := &Summary{Outcomes: map[Outcome]int64{}}
	for _, o := range Outcomes {
		s.Outcomes[o] = 0
	}
	return s
}

// summarize computes the summaries of f's episodes, by day (or all under
// "").
func summarize(ctx context.Context, db bun.IDB, f AnalyticsFilter, byDay bool) (map[string]*Summary, error) {
	day := "''"
	if byDay {
		day = "ep.day"
	}
	where := func(q *bun.SelectQuery) *bun.SelectQuery {
		q = q.Where("ep.ended_at >= ? AND ep.ended_at < ?", f.From.UTC(), f.To.UTC())
		if f.Agent != nil {
			q = q.Where("ep.agent = ?", *f.Agent)
		}
		if f.Channel != nil {
			q = q.Where("ep.channel = ?", *f.Channel)
		}
		return q
	}
	var sums []struct {
		Day              string
		Conversations    int64
		ResolvedByAI     int64
		HandedOff        int64
		ResolvedByPerson int64
		Abandoned        int64
		WithPerson       int64
		Turns            int64
		PromptTokens     int64
		CompletionTokens int64
		CostUSD          float64
		Asked            int64
		Answered         int64
		ScoreSum         int64
		FirstMessageID   int64
		LastMessageID    int64
	}
	q := db.NewSelect().TableExpr("episodes AS ep").ColumnExpr(day + " AS day").
		ColumnExpr("COUNT(*) AS conversations").
		ColumnExpr("COUNT(ep.handed_off_at) AS with_person, COALESCE(SUM(ep.turns), 0) AS turns").
		ColumnExpr("COALESCE(SUM(ep.prompt_tokens), 0) AS prompt_tokens, COALESCE(SUM(ep.completion_tokens), 0) AS completion_tokens").
		ColumnExpr("COALESCE(SUM(ep.cost_usd), 0.0) AS cost_usd, COUNT(ep.csat_asked_at) AS asked, COUNT(ep.csat_score) AS answered").
		ColumnExpr("COALESCE(SUM(ep.csat_score), 0) AS score_sum").
		ColumnExpr("COALESCE(MIN(NULLIF(ep.first_message_id, 0)), 0) AS first_message_id, COALESCE(MAX(ep.last_message_id), 0) AS last_message_id")
	for _, o := range Outcomes {
		// One count per outcome, in the column named after it.
		q = q.ColumnExpr("COALESCE(SUM(CASE WHEN ep.outcome = ? THEN 1 ELSE 0 END), 0) AS ?", o, bun.Ident(string(o)))
	}
	if byDay {
		q = q.Group("ep.day")
	}
	if err := where(q).Scan(ctx, &sums); err != nil {
		return nil, fmt.Errorf("sum episodes: %w", err)
	}
	out := map[string]*Summary{}
	var span messageSpan
	for _, r := range sums {
		if r.Conversations == 0 {
			continue
		}
		span.add(r.FirstMessageID, r.LastMessageID)
		s := emptySummary()
		s.Conversations, s.Turns, s.CostUSD = r.Conversations, r.Turns, math.Round(r.CostUSD*1e6)/1e6
		s.Outcomes[OutcomeResolvedByAI], s.Outcomes[OutcomeHandedOff] = r.ResolvedByAI, r.HandedOff
		s.Outcomes[OutcomeResolvedByPerson], s.Outcomes[OutcomeAbandoned] = r.ResolvedByPerson, r.Abandoned
		s.AIResolutionRate = ratio(r.ResolvedByAI, r.Conversations)
		s.HandoffRate = ratio(r.WithPerson, r.Conversations)
		s.Tokens = Tokens{Prompt: r.PromptTokens, Completion: r.CompletionTokens, Total: r.PromptTokens + r.CompletionTokens}
		s.CSAT = CSAT{Asked: r.Asked, Answered: r.Answered, AnswerRate: ratio(r.Answered, r.Asked)}
		if r.Answered > 0 {
			avg := math.Round(float64(r.ScoreSum)/float64(r.Answered)*100) / 100
			s.CSAT.Average = &avg
		}
		out[r.Day] = s
	}
	if len(out) == 0 {
		return out, nil
	}
	if err := replyTimes(ctx, db, where, day, out); err != nil {
		return nil, err
	}
	if err := ratings(ctx, db, where, day, byDay, span, out); err != nil {
		return nil, err
	}
	return out, nil
}

// replyTimes fills in the reply times' percentiles.
func replyTimes(ctx context.Context, db bun.IDB, where func(*bun.SelectQuery) *bun.SelectQuery, day string, out map[string]*Summary) error {
	q := db.NewSelect().TableExpr("episodes AS ep").ColumnExpr(day+" AS day").
		Column("ep.first_reply_ms", "ep.person_reply_ms").
		Where("(ep.first_reply_ms IS NOT NULL OR ep.person_reply_ms IS NOT NULL)")
	rows, err := where(q).Rows(ctx)
	if err != nil {
		return fmt.Errorf("reply times: %w", err)
	}
	defer rows.Close()
	ai, person := map[string][]int64{}, map[string][]int64{}
	for rows.Next() {
		var d string
		var first, personal *int64
		if err := rows.Scan(&d, &first, &personal); err != nil {
			return fmt.Errorf("reply times: %w", err)
		}
		if first != nil {
			ai[d] = append(ai[d], *first)
		}
		if personal != nil {
			person[d] = append(person[d], *personal)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reply times: %w", err)
	}
	for d, s := range out {
		s.FirstReply, s.PersonFirstReply = percentiles(ai[d]), percentiles(person[d])
	}
	return nil
}

// percentiles are the median and 90th percentile of ms by nearest rank
// (the smallest value at least that share of them is no greater than,
// PostgreSQL's percentile_disc).
func percentiles(ms []int64) ReplyTimes {
	out := ReplyTimes{Count: int64(len(ms))}
	if len(ms) == 0 {
		return out
	}
	slices.Sort(ms)
	rank := func(p float64) *int64 {
		i := int(math.Ceil(p*float64(len(ms)))) - 1
		v := ms[max(i, 0)]
		return &v
	}
	out.MedianMS, out.P90MS = rank(0.5), rank(0.9)
	return out
}

// messageSpan bounds the ids of the messages of a period's episodes.
type messageSpan struct{ first, last int64 }

func (m *messageSpan) add(first, last int64) {
	if m.first == 0 || first < m.first {
		m.first = first
	}
	m.last = max(m.last, last)
}

// ratings counts the thumbs on the episodes' messages.
func ratings(ctx context.Context, db bun.IDB, where func(*bun.SelectQuery) *bun.SelectQuery, day string, byDay bool,
	span messageSpan, out map[string]*Summary) error {
	var rows []struct {
		Day    string
		Rating Rating
		N      int64
	}
	q := db.NewSelect().TableExpr("message_feedback AS mf").ColumnExpr(day+" AS day").
		ColumnExpr("mf.rating AS rating, COUNT(*) AS n").
		Join("JOIN messages AS m ON m.id = mf.message_id").
		Join("JOIN episodes AS ep ON ep.conversation_id = m.conversation_id AND m.id >= ep.first_message_id AND m.id <= ep.last_message_id").
		// The ratings of the period's messages only: without the bound
		// the join reads every message (docs/benchmarks.md).
		Where("mf.message_id >= ? AND mf.message_id <= ?", span.first, span.last).
		Group("mf.rating")
	if byDay {
		q = q.Group("ep.day")
	}
	if err := where(q).Scan(ctx, &rows); err != nil {
		return fmt.Errorf("ratings: %w", err)
	}
	for _, r := range rows {
		s := out[r.Day]
		if s == nil {
			continue
		}
		switch r.Rating {
		case RatingUp:
			s.Feedback.Up = r.N
		case RatingDown:
			s.Feedback.Down = r.N
		}
	}
	return nil
}

func ratio(n, of int64) float64 {
	if of == 0 {
		return 0
	}
	return math.Round(float64(n)/float64(of)*10000) / 10000
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
