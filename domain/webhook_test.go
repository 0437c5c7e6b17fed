package domain_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func outboxCount(t *testing.T, db *bun.DB) int {
	t.Helper()
	n, err := db.NewSelect().Model((*domain.WebhookOutbox)(nil)).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

func deliveriesOf(t *testing.T, db *bun.DB, subID int64) []domain.WebhookDelivery {
	t.Helper()
	var out []domain.WebhookDelivery
	require.NoError(t, db.NewSelect().Model(&out).Where("subscription_id = ?", subID).Order("id").Scan(context.Background()))
	return out
}

// The triggers write an outbox event for each change a subscription may
// want, in the change's own transaction, and none while nobody subscribes;
// the fan-out makes one delivery per subscription that wants the event.
func TestWebhookEventsAreWrittenWithTheirChange(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, root := newUser(t, db, "ann", false), newUser(t, db, "root", true)
		ai := assistant(t, db)

		_, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: ann.ID, RecipientID: ai.ID, Content: "nobody listens"})
		require.NoError(t, err)
		assert.Zero(t, outboxCount(t, db), "no subscription, no event")

		all, err := domain.CreateWebhook(ctx, db, "https://receiver.example/all", domain.EventList(domain.WebhookEvents), "s1", root.ID)
		require.NoError(t, err)
		reportsOnly, err := domain.CreateWebhook(ctx, db, "https://receiver.example/reports",
			domain.EventList{domain.EventReportCreated, domain.EventReportStatusChanged}, "s2", root.ID)
		require.NoError(t, err)

		q, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: ann.ID, RecipientID: ai.ID, Content: "hello"})
		require.NoError(t, err)
		_, err = domain.SaveReply(ctx, db, domain.Reply{ConversationID: *q.ConversationID, UserID: ann.ID,
			AnswersUpTo: q.ID, Content: "hi ann", Channel: domain.ChannelWeb})
		require.NoError(t, err)
		r, err := domain.CreateReport(ctx, db, ann, "broken", "it broke")
		require.NoError(t, err)
		_, err = domain.CommentReport(ctx, db, root, r.ID, "looking", true)
		require.NoError(t, err)
		_, err = domain.CommentReport(ctx, db, root, r.ID, "still looking", false)
		require.NoError(t, err) // no status change, no event
		conv := domain.AIConversationID(ann.ID)
		require.NoError(t, domain.RecordMode(ctx, db, domain.ModeChange{ConversationID: conv, UserID: ann.ID,
			Mode: domain.ModeHuman, Reason: "asked", AgentID: root.ID, Since: time.Now()}))
		require.NoError(t, domain.RecordMode(ctx, db, domain.ModeChange{ConversationID: conv, UserID: ann.ID, Mode: domain.ModeAI}))
		assert.Equal(t, 6, outboxCount(t, db))

		// A rolled-back change leaves no event.
		err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			if _, err := domain.CreateReport(ctx, tx, ann, "never", "rolled back"); err != nil {
				return err
			}
			return assert.AnError
		})
		require.ErrorIs(t, err, assert.AnError)
		assert.Equal(t, 6, outboxCount(t, db))

		n, err := domain.FanOutWebhooks(ctx, db, 100)
		require.NoError(t, err)
		assert.Equal(t, 6, n)
		assert.Zero(t, outboxCount(t, db))

		got := deliveriesOf(t, db, all.ID)
		var types []domain.WebhookEvent
		for _, d := range got {
			types = append(types, d.Event)
			assert.Equal(t, domain.WebhookPending, d.State)
		}
		assert.Equal(t, []domain.WebhookEvent{domain.EventMessageReceived, domain.EventMessageReplied,
			domain.EventReportCreated, domain.EventReportStatusChanged, domain.EventHandedOff, domain.EventResumed}, types)
		var env struct {
			ID   string         `json:"id"`
			Type string         `json:"type"`
			Data map[string]any `json:"data"`
		}
		require.NoError(t, json.Unmarshal([]byte(got[0].Body), &env))
		assert.Equal(t, got[0].EventID, env.ID)
		assert.Equal(t, "hello", env.Data["content"])
		require.NoError(t, json.Unmarshal([]byte(got[3].Body), &env))
		assert.Equal(t, "open", env.Data["previous_status"])
		assert.Equal(t, "in_progress", env.Data["status"])
		require.NoError(t, json.Unmarshal([]byte(got[4].Body), &env))
		assert.Equal(t, "human", env.Data["mode"])
		assert.EqualValues(t, root.ID, env.Data["agent_id"])

		reports := deliveriesOf(t, db, reportsOnly.ID)
		require.Len(t, reports, 2)
		assert.Equal(t, got[2].EventID, reports[0].EventID, "one event id for every subscription")

		// Deleting a subscription takes its deliveries with it.
		require.NoError(t, domain.DeleteWebhook(ctx, db, reportsOnly.ID))
		assert.Empty(t, deliveriesOf(t, db, reportsOnly.ID))
		assert.ErrorIs(t, domain.DeleteWebhook(ctx, db, reportsOnly.ID), domain.ErrNotFound)
	})
}

// A subscription failing for the give-up time is disabled; a success in
// between starts the count again.
func TestAFailingSubscriptionIsDisabled(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		root, ann := newUser(t, db, "root", true), newUser(t, db, "ann", false)
		sub, err := domain.CreateWebhook(ctx, db, "https://receiver.example", domain.EventList{domain.EventReportCreated}, "s", root.ID)
		require.NoError(t, err)
		for range 3 {
			_, err = domain.CreateReport(ctx, db, ann, "r", "c")
			require.NoError(t, err)
		}
		_, err = domain.FanOutWebhooks(ctx, db, 100)
		require.NoError(t, err)
		ds := deliveriesOf(t, db, sub.ID)
		require.Len(t, ds, 3)

		t0 := time.Now().UTC().Truncate(time.Second)
		attempt := func(d int64, at time.Duration, failed bool) bool {
			a := domain.WebhookAttempt{DeliveryID: d, Status: 200, At: t0.Add(at), GiveUpAfter: time.Hour}
			if failed {
				a.Status, a.Err = 503, "receiver answered 503"
			}
			disabled, err := domain.RecordWebhookAttempt(ctx, db, a)
			require.NoError(t, err)
			return disabled
		}
		assert.False(t, attempt(ds[0].ID, 0, true))
		assert.False(t, attempt(ds[1].ID, 50*time.Minute, false), "a success ends the failing spell")
		assert.False(t, attempt(ds[0].ID, 70*time.Minute, true), "a new spell starts")
		assert.False(t, attempt(ds[0].ID, 100*time.Minute, true))
		assert.True(t, attempt(ds[2].ID, 131*time.Minute, true), "failing for an hour")

		got, err := domain.WebhookByID(ctx, db, sub.ID)
		require.NoError(t, err)
		assert.False(t, got.IsActive)
		require.NotNil(t, got.DisabledReason)
		assert.Contains(t, *got.DisabledReason, "503")
		ds = deliveriesOf(t, db, sub.ID)
		assert.Equal(t, 3, ds[0].Attempts)
		assert.Equal(t, domain.WebhookDelivered, ds[1].State)
		assert.Equal(t, 503, *ds[0].ResponseStatus)

		// A disabled subscription gets no more events.
		_, err = domain.CreateReport(ctx, db, ann, "after", "c")
		require.NoError(t, err)
		assert.Zero(t, outboxCount(t, db))
	})
}
