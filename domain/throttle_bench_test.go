package domain_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// BenchmarkLoginThrottle measures what the throttle adds to a good login
// (bcrypt aside): the attempt counted under its three keys, then taken
// back. Parallel logins of different accounts from one address share the
// address's lock.
//
//	go test ./domain -run '^$' -bench 'LoginThrottle|StreamBookkeeping' -cpu 2
func BenchmarkLoginThrottle(b *testing.B) {
	limits := domain.LoginLimits{Window: 15 * time.Minute, PerAccountAddress: 10, PerAddress: 100,
		DelayAfter: 10, FirstDelay: time.Second, MaxDelay: 5 * time.Minute}
	eachDatabase(b, func(b *testing.B, url string) {
		db := testenv.Migrated(b, url)
		ctx := context.Background()
		var n atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			account := fmt.Sprintf("user%d", n.Add(1))
			for pb.Next() {
				a, err := domain.BeginLogin(ctx, db, limits, account, "192.0.2.1")
				if err != nil {
					b.Fatal(err)
				}
				if err := a.Succeeded(ctx, db); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "logins/s")
	})
}

// BenchmarkStreamBookkeeping measures opening and closing one event
// stream's row, for users with a few streams open each.
func BenchmarkStreamBookkeeping(b *testing.B) {
	limits := domain.StreamLimits{PerUser: 8, PerAddress: 0, Stale: 90 * time.Second, RetryAfter: 30 * time.Second}
	eachDatabase(b, func(b *testing.B, url string) {
		db := testenv.Migrated(b, url)
		ctx := context.Background()
		var n atomic.Int64
		b.SetParallelism(8)
		b.ResetTimer()
		b.RunParallel(func(pb *testing.PB) {
			u := newUser(b, db, fmt.Sprintf("viewer%d", n.Add(1)), false)
			for pb.Next() {
				id, err := domain.OpenStream(ctx, db, limits, u.ID, "192.0.2.1", "bench")
				if err != nil {
					b.Fatal(err)
				}
				if err := domain.CloseStream(ctx, db, id); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "streams/s")
	})
}

func eachDatabase(b *testing.B, fn func(b *testing.B, url string)) {
	for _, url := range testenv.DatabaseURLs(b) {
		d, _, _ := config.ParseDatabaseURL(url)
		b.Run(string(d), func(b *testing.B) { fn(b, url) })
	}
}
