package domain_test

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The totals of message lists come from counters the database keeps; after
// sends from many goroutines, deletes and a deleted user they must equal a
// count of the rows themselves, for every box and conversation.
func TestMessageTotalsMatchTheRows(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, bob, cat := newUser(t, db, "ann", false), newUser(t, db, "bob", false), newUser(t, db, "cat", false)
		ai := assistant(t, db)
		send := func(from, to int64) *domain.Message {
			m, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: from, RecipientID: to, Content: "hi"})
			require.NoError(t, err)
			return m
		}
		// Messages crossing between the same users at once (the counters of
		// both are updated in each insert).
		var wg sync.WaitGroup
		for i := range 20 {
			wg.Go(func() {
				if i%2 == 0 {
					send(ann.ID, bob.ID)
				} else {
					send(bob.ID, ann.ID)
				}
			})
		}
		wg.Wait()
		send(ann.ID, cat.ID)
		send(cat.ID, ann.ID)
		send(ann.ID, ai.ID)
		gone := send(ann.ID, bob.ID)
		require.NoError(t, domain.DeleteMessage(ctx, db, ann.ID, gone.ID))
		require.NoError(t, domain.DeleteUser(ctx, db, cat.ID))

		for _, u := range []*domain.User{ann, bob} {
			for _, f := range []domain.MessageFilter{
				{Box: domain.BoxAll}, {Box: domain.BoxSent}, {Box: domain.BoxReceived},
				{Box: domain.BoxAll, ConversationID: domain.DirectConversationID(ann.ID, bob.ID)},
				{Box: domain.BoxAll, ConversationID: domain.AIConversationID(ann.ID)},
				{Box: domain.BoxSent, ConversationID: domain.DirectConversationID(ann.ID, bob.ID)},
			} {
				f.Page = domain.Page{Limit: 5}
				_, total, err := domain.ListMessages(ctx, db, u.ID, f)
				require.NoError(t, err)
				assert.Equal(t, rowCount(t, db, u.ID, f), total, "user %s, filter %+v", u.Username, f)
			}
		}
		_, total, err := domain.ListMessages(ctx, db, ann.ID, domain.MessageFilter{Box: domain.BoxAll, Page: domain.Page{Limit: 5}})
		require.NoError(t, err)
		assert.Equal(t, 21, total, "20 with bob, 1 to the assistant; cat's went with cat")
	})
}

// rowCount counts a list's rows the slow way.
func rowCount(t *testing.T, db *bun.DB, userID int64, f domain.MessageFilter) int {
	q := db.NewSelect().Model((*domain.Message)(nil))
	switch f.Box {
	case domain.BoxSent:
		q = q.Where("sender_id = ?", userID)
	case domain.BoxReceived:
		q = q.Where("recipient_id = ?", userID)
	default:
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("sender_id = ?", userID).WhereOr("recipient_id = ?", userID)
		})
	}
	if f.ConversationID != "" {
		q = q.Where("conversation_id = ?", f.ConversationID)
	}
	n, err := q.Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// Bulk writes (many messages in one statement, a user deleted with all of
// theirs) keep the totals right; the assistant's side of its
// conversations is not counted, so AI traffic shares no counter row.
func TestBulkWritesKeepTotalsAndTheAssistantHasNoCounter(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, bob := newUser(t, db, "ann", false), newUser(t, db, "bob", false)
		ai := assistant(t, db)
		direct, annAI := domain.DirectConversationID(ann.ID, bob.ID), domain.AIConversationID(ann.ID)
		err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
			for b := range 4 {
				batch := make([]domain.Message, 0, 500)
				for i := range 500 {
					m := domain.Message{SenderID: ann.ID, RecipientID: bob.ID, Content: "bulk", ConversationID: &direct, Channel: domain.ChannelWeb}
					switch {
					case i%5 == 0:
						m.SenderID, m.RecipientID, m.ConversationID = ann.ID, ai.ID, &annAI
					case i%5 == 1:
						m.SenderID, m.RecipientID, m.ConversationID = ai.ID, ann.ID, &annAI
					case (i+b)%2 == 0:
						m.SenderID, m.RecipientID = bob.ID, ann.ID
					}
					batch = append(batch, m)
				}
				if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
					return err
				}
			}
			return nil
		})
		require.NoError(t, err)

		filters := []domain.MessageFilter{{Box: domain.BoxAll}, {Box: domain.BoxSent}, {Box: domain.BoxReceived},
			{Box: domain.BoxAll, ConversationID: direct}, {Box: domain.BoxAll, ConversationID: annAI}}
		check := func(u *domain.User) {
			t.Helper()
			for _, f := range filters {
				f.Page = domain.Page{Limit: 5}
				_, total, err := domain.ListMessages(ctx, db, u.ID, f)
				require.NoError(t, err)
				assert.Equal(t, rowCount(t, db, u.ID, f), total, "user %s, filter %+v", u.Username, f)
			}
		}
		check(ann)
		check(bob)
		n, err := db.NewSelect().Model((*domain.MessageCount)(nil)).Where("user_id = ?", ai.ID).Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "the assistant has no counter row")

		require.NoError(t, domain.DeleteUser(ctx, db, bob.ID))
		check(ann)
		_, total, err := domain.ListMessages(ctx, db, ann.ID, domain.MessageFilter{Box: domain.BoxAll, Page: domain.Page{Limit: 5}})
		require.NoError(t, err)
		assert.Equal(t, 800, total, "400 to and 400 from the assistant are left")
	})
}
