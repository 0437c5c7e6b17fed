package domain_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// bulkMessages stores n messages between a and b in one transaction, in
// statements of 1,000 rows, as an import does.
func bulkMessages(b *testing.B, db *bun.DB, a, c *domain.User, n int) {
	b.Helper()
	conv := domain.DirectConversationID(a.ID, c.ID)
	err := db.RunInTx(context.Background(), nil, func(ctx context.Context, tx bun.Tx) error {
		batch := make([]domain.Message, 0, 1000)
		for i := range n {
			from, to := a.ID, c.ID
			if i%2 == 1 {
				from, to = to, from
			}
			batch = append(batch, domain.Message{SenderID: from, RecipientID: to, Content: "bulk message",
				ConversationID: &conv, Channel: domain.ChannelWeb})
			if len(batch) == cap(batch) || i == n-1 {
				if _, err := tx.NewInsert().Model(&batch).Exec(ctx); err != nil {
					return err
				}
				batch = batch[:0]
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkBulkInsert is 20,000 messages inserted in one transaction; the
// counters of both users and their conversation are kept meanwhile.
//
//	go test ./domain -run '^$' -bench 'BulkInsert|DeleteUserWithMessages' -benchtime 3x
func BenchmarkBulkInsert(b *testing.B) {
	eachDatabase(b, func(b *testing.B, url string) {
		db := testenv.Migrated(b, url)
		a, c := newUser(b, db, "importer", false), newUser(b, db, "peer", false)
		b.ResetTimer()
		for range b.N {
			bulkMessages(b, db, a, c, 20000)
		}
		b.ReportMetric(20000*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// BenchmarkDeleteUserWithMessages deletes a user who has 100,000
// messages with another (not timed: storing them).
func BenchmarkDeleteUserWithMessages(b *testing.B) {
	eachDatabase(b, func(b *testing.B, url string) {
		db := testenv.Migrated(b, url)
		stays := newUser(b, db, "stays", false)
		for i := range b.N {
			b.StopTimer()
			gone := newUser(b, db, "gone"+strconv.Itoa(i), false)
			for range 5 {
				bulkMessages(b, db, gone, stays, 20000)
			}
			b.StartTimer()
			if err := domain.DeleteUser(context.Background(), db, gone.ID); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkConversationList reads the first page (50) of the conversation
// list of a user who has 1,000 conversations of three messages each.
//
//	go test ./domain -run '^$' -bench ConversationList -cpu 2
func BenchmarkConversationList(b *testing.B) {
	eachDatabase(b, func(b *testing.B, url string) {
		db := testenv.Migrated(b, url)
		me := newUser(b, db, "busy", false)
		msgs := make([]domain.Message, 0, 3000)
		for i := range 1000 {
			peer := newUser(b, db, "peer"+strconv.Itoa(i), false)
			conv := domain.DirectConversationID(me.ID, peer.ID)
			for j, from := range []int64{peer.ID, me.ID, peer.ID} {
				to := me.ID
				if from == me.ID {
					to = peer.ID
				}
				msgs = append(msgs, domain.Message{SenderID: from, RecipientID: to, Content: "message " + strconv.Itoa(j),
					ConversationID: &conv, Channel: domain.ChannelWeb})
			}
		}
		if _, err := db.NewInsert().Model(&msgs).Exec(context.Background()); err != nil {
			b.Fatal(err)
		}
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				page, total, err := domain.Conversations(context.Background(), db, me.ID, domain.Page{Limit: 50})
				if err != nil || len(page) != 50 || total != 1001 {
					b.Errorf("page of %d, total %d: %v", len(page), total, err)
					return
				}
			}
		})
	})
}
