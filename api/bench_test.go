package api_test

import (
	"net/http"
	"testing"

	"github.com/aimsg/aimsg/config"
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
