package domain_test

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The analytics bench's data: users talking to the assistant, their
// messages (a question and its answer each time) over the days before
// now, and the episodes and ratings those make.
const (
	analyticsBenchUsers = 2000
	// Sessions of 1 to 9 questions (3⅓ on average: 500,000 questions,
	// 1,000,000 messages).
	analyticsBenchSessions = 150_000
	analyticsBenchDays     = 90
)

// BenchmarkAnalyticsSummary is the analytics page of a busy deployment on
// PostgreSQL (skipped without TEST_DATABASE_URL): 2,000 users whose AI
// conversations hold 1,000,000 messages over 90 days, ~146,000 episodes
// and ~20,000 ratings (seedAnalytics; one to two minutes, not timed).
// Each sub-benchmark asks for the last 30 days as the API does (the 30
// UTC days to the end of today): Summarize of every episode, of one
// agent's, of one channel's, and SummarizeDaily. Besides ns/op each
// reports ms/op, p50-ms and max-ms, and logs once EXPLAIN (ANALYZE,
// BUFFERS) of the three queries it ran (whole with -v: without it a
// benchmark's log is cut at ten lines). The requirement: a 30-day
// summary in 200 ms at most.
//
//	TEST_DATABASE_URL=postgres://... go test ./domain -run '^$' -bench BenchmarkAnalytics -benchtime 20x -v
func BenchmarkAnalyticsSummary(b *testing.B) {
	url := os.Getenv("TEST_DATABASE_URL")
	if url == "" {
		b.Skip("needs PostgreSQL: set TEST_DATABASE_URL")
	}
	ctx := context.Background()
	db := testenv.Migrated(b, url)
	now := time.Now().UTC()
	seedAnalytics(b, db, now)

	to := domain.Day(now).AddDate(0, 0, 1)
	from := to.AddDate(0, 0, -30)
	agent, channel := "billing", domain.ChannelTwilio
	cases := []struct {
		name  string
		f     domain.AnalyticsFilter
		daily bool
	}{
		{"summary/all", domain.AnalyticsFilter{From: from, To: to}, false},
		{"summary/agent=billing", domain.AnalyticsFilter{From: from, To: to, Agent: &agent}, false},
		{"summary/channel=twilio", domain.AnalyticsFilter{From: from, To: to, Channel: &channel}, false},
		{"daily/all", domain.AnalyticsFilter{From: from, To: to}, true},
	}
	explained := map[string]bool{}
	for _, c := range cases {
		ask := func(db bun.IDB) (int64, error) {
			if c.daily {
				days, err := domain.SummarizeDaily(ctx, db, c.f)
				var n int64
				for _, d := range days {
					n += d.Conversations
				}
				return n, err
			}
			s, err := domain.Summarize(ctx, db, c.f)
			if err != nil {
				return 0, err
			}
			return s.Conversations, nil
		}
		b.Run(c.name, func(b *testing.B) {
			if !explained[c.name] {
				explained[c.name] = true
				rec := &recorder{}
				n, err := ask(db.WithQueryHook(rec))
				if err != nil {
					b.Fatal(err)
				}
				b.Logf("%d episodes in the period", n)
				for _, q := range rec.queries {
					var plan []string
					if err := db.NewRaw("EXPLAIN (ANALYZE, BUFFERS) "+q).Scan(ctx, &plan); err != nil {
						b.Fatal(err)
					}
					b.Logf("%s\n%s", q, strings.Join(plan, "\n"))
				}
			}
			took := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for range b.N {
				t0 := time.Now()
				if _, err := ask(db); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			b.StopTimer()
			slices.Sort(took)
			ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
			b.ReportMetric(ms(b.Elapsed())/float64(b.N), "ms/op")
			b.ReportMetric(ms(took[len(took)/2]), "p50-ms")
			b.ReportMetric(ms(took[len(took)-1]), "max-ms")
		})
	}
}

// seedAnalytics stores, set-based, the analytics bench's data, the last
// message about two hours before now, then vacuums and analyzes it as
// autovacuum would have:
//
//   - users bench1..bench2000, each on one channel (60% web, 25% twilio,
//     15% telegram);
//   - 150,000 sessions, at random times over the 90 days, of one user
//     each (shares skewed: the busiest has ~6,000 messages, the median
//     ~430): 1 to 9 questions about 75 s apart, each answered 1.5-6 s later
//     by the assistant (model set), in the user's conversation
//     "ai:<id>"; ids in the order of time;
//   - the episodes, as the conversation workflow ends them: a
//     conversation's messages until 30 minutes of quiet (sessions that
//     close merge), ended 30 minutes after their last message (an hour
//     when handed off), inserted in the order they ended: 65% resolved
//     by the AI, 8% handed off, 17% resolved by a person, 10% abandoned
//     (half of them after a person answered); the last agent "" 60%,
//     billing 30%, sales 10%; the survey asked in 40% of those not
//     handed off (its message: the episode's last) and answered in 16%;
//     tokens by turns and their cost;
//   - ratings of one answer in 25, 80% up.
//
// The messages' per-row triggers (NOTIFY of the live path, the webhook
// outbox) are off while they are stored: no one listens to data this
// old; the per-statement counters run.
func seedAnalytics(b *testing.B, db *bun.DB, now time.Time) {
	b.Helper()
	ctx := context.Background()
	end := now.Add(-time.Hour)
	start := end.AddDate(0, 0, -analyticsBenchDays)
	steps := []struct {
		what string
		sql  string
		args []any
	}{
		{"users", `INSERT INTO users (username, email, hashed_password, is_active, is_superuser, is_system, created_at, updated_at)
			SELECT 'bench' || i, 'bench' || i || '@example.com', 'x', true, false, false, ?0::timestamptz, ?0::timestamptz
			FROM generate_series(1, ?1) AS i`, []any{start.AddDate(0, 0, -1), analyticsBenchUsers}},
		{"triggers off", `ALTER TABLE messages DISABLE TRIGGER messages_live, DISABLE TRIGGER messages_webhooks`, nil},
		{"messages", `WITH u AS (
				SELECT id, row_number() OVER (ORDER BY id) - 1 AS i,
					CASE WHEN id % 20 < 12 THEN 'web' WHEN id % 20 < 17 THEN 'twilio' ELSE 'telegram' END AS channel
				FROM users WHERE NOT is_system
			), ai AS (
				SELECT id FROM users WHERE username = 'assistant' AND is_system
			), s AS (
				SELECT s,
					floor(?2 * power((hashint8extended(s, 1) & 9223372036854775807)::float8 / 9223372036854775808, 1.5))::int AS i,
					?0::timestamptz + (hashint8extended(s, 2) & 9223372036854775807)::float8 / 9223372036854775808 * ?1 * interval '1 second' AS at,
					(ARRAY[1, 1, 1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4, 4, 4, 5, 5, 6, 6, 7, 7, 8, 9])[1 + s % 30] AS pairs
				FROM generate_series(0, ?3 - 1) AS s
			), p AS (
				SELECT s.s * 16 + j AS p, s.i,
					s.at + j * interval '75 seconds' + (hashint8extended(s.s * 16 + j, 3) & 9223372036854775807) % 30000 * interval '1 millisecond' AS at,
					1500 + (hashint8extended(s.s * 16 + j, 4) & 9223372036854775807) % 4500 AS delay_ms
				FROM s CROSS JOIN LATERAL generate_series(0, s.pairs - 1) AS j
			)
			INSERT INTO messages (sender_id, recipient_id, content, is_read, conversation_id, channel,
				turn_status, dispatched_at, model, delivery_status, created_at, updated_at)
			SELECT CASE k WHEN 0 THEN u.id ELSE ai.id END, CASE k WHEN 0 THEN ai.id ELSE u.id END,
				CASE k WHEN 0 THEN 'Question ' || p.p || ': how do I change my plan, and what happens to my invoice'
					ELSE 'Answer ' || p.p || ': ' || repeat('You can change it under Settings, then Billing. ', 5) END,
				true, 'ai:' || u.id, u.channel,
				CASE k WHEN 0 THEN 'replied' END, CASE k WHEN 0 THEN p.at END,
				CASE k WHEN 1 THEN CASE WHEN p.p % 4 = 0 THEN 'gpt-4o' ELSE 'gpt-4o-mini' END END,
				CASE WHEN k = 1 AND u.channel <> 'web' THEN 'delivered' END,
				p.at + k * p.delay_ms * interval '1 millisecond', p.at + k * p.delay_ms * interval '1 millisecond'
			FROM p JOIN u ON u.i = p.i CROSS JOIN ai CROSS JOIN generate_series(0, 1) AS k
			ORDER BY p.at, p.p, k`, []any{start, end.Sub(start).Seconds() - 3600, analyticsBenchUsers, analyticsBenchSessions}},
		{"triggers on", `ALTER TABLE messages ENABLE TRIGGER messages_live, ENABLE TRIGGER messages_webhooks`, nil},
		{"episodes", `WITH s1 AS (
				SELECT id, conversation_id, sender_id, channel, created_at, model IS NOT NULL AS reply,
					CASE WHEN lag(created_at) OVER w IS NULL OR created_at - lag(created_at) OVER w > interval '30 minutes'
						THEN 1 ELSE 0 END AS start
				FROM messages WHERE conversation_id LIKE 'ai:%'
				WINDOW w AS (PARTITION BY conversation_id ORDER BY id)
			), s2 AS (
				SELECT *, SUM(start) OVER (PARTITION BY conversation_id ORDER BY id) AS n FROM s1
			), g AS (
				SELECT conversation_id, n, MIN(sender_id) FILTER (WHERE NOT reply) AS user_id, MIN(channel) AS channel,
					MIN(id) AS first_id, MAX(id) AS last_id, MIN(created_at) AS started_at, MAX(created_at) AS last_at,
					MIN(created_at) FILTER (WHERE reply) AS replied_at, COUNT(*) FILTER (WHERE NOT reply) AS turns
				FROM s2 GROUP BY conversation_id, n
			), h AS (
				SELECT g.*, (hashint8extended(first_id, 4) & 9223372036854775807) % 100 AS o,
					(hashint8extended(first_id, 5) & 9223372036854775807) % 100 AS a,
					(hashint8extended(first_id, 6) & 9223372036854775807) % 100 AS c,
					hashint8extended(first_id, 7) & 9223372036854775807 AS r
				FROM g
			), e AS (
				SELECT h.*,
					CASE WHEN o < 65 THEN 'resolved_by_ai' WHEN o < 73 THEN 'handed_off'
						WHEN o < 90 THEN 'resolved_by_person' ELSE 'abandoned' END AS outcome,
					o >= 65 AND (o < 90 OR o >= 95) AS handed, o >= 73 AND (o < 90 OR o >= 95) AS answered,
					CASE WHEN a < 60 THEN '' WHEN a < 90 THEN 'billing' ELSE 'sales' END AS agent,
					turns * (900 + r % 1100) AS prompt, turns * (120 + r % 280) AS completion
				FROM h
			), f AS (
				SELECT e.*, last_at + CASE WHEN handed THEN interval '60 minutes' ELSE interval '30 minutes' END AS ended_at,
					c < 40 AND outcome <> 'handed_off' AS asked, c < 16 AND outcome <> 'handed_off' AS scored
				FROM e
			)
			INSERT INTO episodes (key, conversation_id, user_id, channel, outcome, agent, agents,
				first_message_id, last_message_id, started_at, ended_at, day, handed_off_at, first_reply_ms, person_reply_ms,
				turns, prompt_tokens, completion_tokens, cost_usd, csat_message_id, csat_asked_at, csat_score, csat_answered_at)
			SELECT conversation_id || ':' || first_id, conversation_id, user_id, channel, outcome, agent,
				CASE WHEN agent <> '' AND r % 3 = 0 THEN 'triage,' || agent ELSE agent END,
				first_id, last_id, started_at, ended_at, to_char(ended_at AT TIME ZONE 'UTC', 'YYYY-MM-DD'),
				CASE WHEN handed THEN started_at + (last_at - started_at) / 2 END,
				(extract(epoch FROM replied_at - started_at) * 1000)::bigint,
				CASE WHEN answered THEN 20000 + r % 1780000 END,
				turns, prompt, completion, prompt * 0.15e-6 + completion * 0.6e-6,
				CASE WHEN asked THEN last_id END, CASE WHEN asked THEN ended_at END,
				CASE WHEN scored THEN (ARRAY[1, 2, 3, 4, 4, 5, 5, 5, 5, 5])[1 + r % 10] END,
				CASE WHEN scored THEN ended_at + interval '4 minutes' END
			FROM f ORDER BY ended_at`, nil},
		{"ratings", `INSERT INTO message_feedback (message_id, user_id, rating, created_at, updated_at)
			SELECT id, recipient_id, CASE WHEN (hashint8extended(id, 9) & 9223372036854775807) % 10 < 8 THEN 'up' ELSE 'down' END,
				created_at + interval '1 minute', created_at + interval '1 minute'
			FROM messages WHERE model IS NOT NULL AND (hashint8extended(id, 8) & 9223372036854775807) % 25 = 0
			ORDER BY id`, nil},
		// As in service, where autovacuum would have run after the rows
		// came: statistics to plan with, and the pages' visibility known.
		{"vacuum", `VACUUM (ANALYZE) users, messages, episodes, message_feedback`, nil},
	}
	began := time.Now()
	var took []string
	for _, s := range steps {
		t0 := time.Now()
		if _, err := db.ExecContext(ctx, s.sql, s.args...); err != nil {
			b.Fatalf("seed %s: %v", s.what, err)
		}
		took = append(took, fmt.Sprintf("%s %s", s.what, time.Since(t0).Round(time.Millisecond)))
	}
	var counts struct {
		Users, Messages, Episodes, Ratings int64
		Size                               string
	}
	err := db.NewRaw(`SELECT (SELECT COUNT(*) FROM users) AS users, (SELECT COUNT(*) FROM messages) AS messages,
		(SELECT COUNT(*) FROM episodes) AS episodes, (SELECT COUNT(*) FROM message_feedback) AS ratings,
		pg_size_pretty(pg_total_relation_size('messages')) || ' messages, ' ||
		pg_size_pretty(pg_total_relation_size('episodes')) || ' episodes (with indexes)' AS size`).Scan(ctx, &counts)
	if err != nil {
		b.Fatal(err)
	}
	b.Logf("seeded %d users, %d messages, %d episodes, %d ratings (%s) in %s: %s", counts.Users, counts.Messages,
		counts.Episodes, counts.Ratings, counts.Size, time.Since(began).Round(time.Millisecond), strings.Join(took, ", "))
}
