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
		send := sender(t, db)
		crossTalk(send, ann.ID, bob.ID)
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

// sender sends "hi" from one user to another through the domain.
func sender(t *testing.T, db *bun.DB) func(from, to int64) *domain.Message {
	return func(from, to int64) *domain.Message {
		m, err := domain.SendMessage(context.Background(), db, domain.NewMessage{SenderID: from, RecipientID: to, Content: "hi"})
		require.NoError(t, err)
		return m
	}
}

// crossTalk sends 20 messages between a and b at once, ten each way: the
// rows the triggers keep for both are written by every insert.
func crossTalk(send func(from, to int64) *domain.Message, a, b int64) {
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Go(func() {
			if i%2 == 0 {
				send(a, b)
			} else {
				send(b, a)
			}
		})
	}
	wg.Wait()
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

// The conversation list reads lines the database keeps; after sends (one
// by one, concurrent and in bulk), replies of the assistant, reads, a read
// undone, deletes of the newest and of older messages, a conversation
// emptied and a deleted user, every user's lines must equal the aggregate
// of their messages, and the list must show it.
func TestConversationLinesFollowTheirMessages(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, bob, cat, dan := newUser(t, db, "ann", false), newUser(t, db, "bob", false),
			newUser(t, db, "cat", false), newUser(t, db, "dan", false)
		ai := assistant(t, db)
		send := sender(t, db)
		crossTalk(send, ann.ID, bob.ID)
		bulk := make([]domain.Message, 0, 30)
		conv := domain.DirectConversationID(ann.ID, dan.ID)
		for i := range 30 {
			from, to := dan.ID, ann.ID
			if i%3 == 0 {
				from, to = to, from
			}
			bulk = append(bulk, domain.Message{SenderID: from, RecipientID: to, Content: "bulk", ConversationID: &conv,
				Channel: domain.ChannelWeb})
		}
		_, err := db.NewInsert().Model(&bulk).Exec(ctx)
		require.NoError(t, err)
		q := send(ann.ID, ai.ID)
		_, err = domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(ann.ID), UserID: ann.ID,
			AnswersUpTo: q.ID, Content: "answer"})
		require.NoError(t, err)

		fromBob := send(bob.ID, ann.ID)
		_, err = domain.MarkRead(ctx, db, ann.ID, fromBob.ID)
		require.NoError(t, err)
		_, err = domain.MarkAllRead(ctx, db, ann.ID, conv)
		require.NoError(t, err)
		_, err = db.NewUpdate().Model((*domain.Message)(nil)).Set("is_read = ?", false).
			Where("id = ?", bulk[1].ID).Exec(ctx) // unread again
		require.NoError(t, err)
		newest := send(ann.ID, bob.ID)
		require.NoError(t, domain.DeleteMessage(ctx, db, ann.ID, newest.ID))
		var older int64 // one of bob's first ten, unread
		require.NoError(t, db.NewSelect().Model((*domain.Message)(nil)).ColumnExpr("min(id)").
			Where("sender_id = ?", bob.ID).Scan(ctx, &older))
		require.NoError(t, domain.DeleteMessage(ctx, db, bob.ID, older))
		only := send(cat.ID, bob.ID)
		require.NoError(t, domain.DeleteMessage(ctx, db, cat.ID, only.ID)) // bob and cat: no conversation left
		send(dan.ID, bob.ID)
		require.NoError(t, domain.DeleteUser(ctx, db, dan.ID))

		type line struct {
			UserID         int64  `bun:"user_id"`
			ConversationID string `bun:"conversation_id"`
			LastMessageID  int64  `bun:"last_message_id"`
			Unread         int64  `bun:"unread"`
		}
		var kept, counted []line
		require.NoError(t, db.NewSelect().Model((*domain.UserConversation)(nil)).
			Order("user_id", "conversation_id").Scan(ctx, &kept))
		require.NoError(t, db.NewRaw(`SELECT user_id, conversation_id, max(id) AS last_message_id, sum(unread) AS unread FROM (
			SELECT sender_id AS user_id, conversation_id, id, 0 AS unread FROM messages
			UNION ALL SELECT recipient_id, conversation_id, id, CASE WHEN is_read THEN 0 ELSE 1 END FROM messages) sides
			WHERE user_id <> ? GROUP BY user_id, conversation_id ORDER BY user_id, conversation_id`, ai.ID).Scan(ctx, &counted))
		assert.Equal(t, counted, kept)
		assert.Len(t, kept, 3, "ann: bob, assistant; bob: ann; nothing of dan's or of bob and cat's")

		list, total, err := domain.Conversations(ctx, db, ann.ID, domain.Page{Limit: 10})
		require.NoError(t, err)
		assert.Equal(t, 2, total)
		require.Len(t, list, 2)
		assert.True(t, list[0].IsAssistant)
		assert.Equal(t, "answer", list[0].LastMessage.Content)
		assert.EqualValues(t, 1, list[0].UnreadCount, "the assistant's answer")
		assert.Equal(t, domain.DirectConversationID(ann.ID, bob.ID), list[1].ConversationID)
		assert.Equal(t, "bob", list[1].OtherUser.Username)
		assert.EqualValues(t, 9, list[1].UnreadCount, "ten from bob, one of them deleted")
		assert.Less(t, list[1].LastMessage.ID, newest.ID, "the deleted newest is not shown")
	})
}
