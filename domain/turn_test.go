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

// The reconciler's list: messages never dispatched once the API had its
// grace, and messages dispatched so long ago their workflow may have lost
// them; not the ones dispatched lately, not the answered ones.
func TestPendingTurnsAreTheOnesNotDispatched(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "asker", false), assistant(t, db)
		ask := func() int64 {
			m, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "hello",
				Channel: domain.ChannelWeb})
			require.NoError(t, err)
			return m.ID
		}
		// A reply answers every message up to the one it names: the
		// answered one comes first.
		answered, never, lately, long := ask(), ask(), ask(), ask()
		require.NoError(t, domain.MarkDispatched(ctx, db, lately))
		require.NoError(t, domain.MarkDispatched(ctx, db, long))
		_, err := db.NewUpdate().Table("messages").Set("dispatched_at = ?", time.Now().UTC().Add(-time.Hour)).
			Where("id = ?", long).Exec(ctx)
		require.NoError(t, err)
		_, err = domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
			AnswersUpTo: answered, Content: "hi"})
		require.NoError(t, err)

		ids := func(olderThan, staleBefore time.Time) []int64 {
			msgs, err := domain.PendingTurns(ctx, db, olderThan, staleBefore, 100)
			require.NoError(t, err)
			var out []int64
			for _, m := range msgs {
				out = append(out, m.ID)
			}
			return out
		}
		now := time.Now()
		assert.Empty(t, ids(now.Add(-time.Minute), time.Time{}), "the API still has its grace")
		assert.Equal(t, []int64{never}, ids(now.Add(time.Second), time.Time{}), "dispatched: left alone")
		assert.Equal(t, []int64{never, long}, ids(now.Add(time.Second), now.Add(-10*time.Minute)),
			"dispatched an hour ago and still unanswered: again")
	})
}
