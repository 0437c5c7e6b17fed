package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// BenchmarkAuthMe measures an authenticated GET /auth/me through the whole
// handler stack (token check, session and user read), on each database.
//
//	go test ./api -run '^$' -bench AuthMe -cpu 2
func BenchmarkAuthMe(b *testing.B) {
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) {
			hs := newHarness(b, url, nil)
			hs.register("bench", "bench-password")
			tk := hs.login("bench", "bench-password")
			b.ReportAllocs()
			// 32 requests in flight per CPU: the API's clients are many.
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := hs.call("GET", "/auth/me", nil, tk.AccessToken); w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// BenchmarkLogin measures a successful login at the default bcrypt cost
// (12): one hash comparison, a session and a refresh token written.
func BenchmarkLogin(b *testing.B) {
	hs := newHarness(b, "sqlite:///:memory:", map[string]string{"BCRYPT_COST": "12"})
	hs.register("bench", "bench-password")
	b.ResetTimer()
	for b.Loop() {
		hs.login("bench", "bench-password")
	}
}

// BenchmarkListMessages measures GET /messages?limit=50 for a user with
// 10,000 messages, on each database.
//
//	go test ./api -run '^$' -bench ListMessages -cpu 2
func BenchmarkListMessages(b *testing.B) {
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) {
			hs := newHarness(b, url, nil)
			me, other := hs.user("reader"), hs.user("writer")
			seedMessages(b, hs, userID(me), userID(other), 10000)
			b.ReportAllocs()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := hs.call("GET", "/messages?limit=50", nil, me.AccessToken); w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}

// seedMessages stores n messages between two users, alternating direction.
func seedMessages(tb testing.TB, hs *harness, a, b int64, n int) {
	tb.Helper()
	conv := domain.DirectConversationID(a, b)
	batch := make([]domain.Message, 0, 1000)
	for i := range n {
		from, to := a, b
		if i%2 == 1 {
			from, to = b, a
		}
		batch = append(batch, domain.Message{SenderID: from, RecipientID: to, Content: "message number " + strconv.Itoa(i),
			ConversationID: &conv, Channel: domain.ChannelWeb})
		if len(batch) == cap(batch) || i == n-1 {
			if _, err := hs.db.NewInsert().Model(&batch).Exec(context.Background()); err != nil {
				tb.Fatal(err)
			}
			batch = batch[:0]
		}
	}
	// Plan with statistics that know the rows, as a running database does.
	if _, err := hs.db.ExecContext(context.Background(), "ANALYZE"); err != nil {
		tb.Fatal(err)
	}
}

// BenchmarkConversationList measures GET /auth/conversations?limit=50 for
// a user with 1,000 conversations of three messages each, on each
// database, right after the writes.
//
//	go test ./api -run '^$' -bench ConversationList -cpu 2
func BenchmarkConversationList(b *testing.B) {
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) {
			hs := newHarness(b, url, nil)
			me := hs.user("crowded")
			ctx := context.Background()
			msgs := make([]domain.Message, 0, 3000)
			for i := range 1000 {
				name := "peer" + strconv.Itoa(i)
				peer, err := domain.CreateUser(ctx, hs.db, domain.NewUser{Username: name, Email: name + "@example.com", HashedPassword: "x"})
				if err != nil {
					b.Fatal(err)
				}
				conv := domain.DirectConversationID(userID(me), peer.ID)
				for j := range 3 {
					from, to := peer.ID, userID(me)
					if j == 1 {
						from, to = to, from
					}
					msgs = append(msgs, domain.Message{SenderID: from, RecipientID: to, Content: "message " + strconv.Itoa(j),
						ConversationID: &conv, Channel: domain.ChannelWeb})
				}
			}
			if _, err := hs.db.NewInsert().Model(&msgs).Exec(ctx); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			b.SetParallelism(32)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					if w := hs.call("GET", "/auth/conversations?limit=50", nil, me.AccessToken); w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
		})
	}
}
