package domain_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// Streams count until closed or, for a process that stopped renewing
// them, until they are stale; renewing keeps a process's streams counted.
func TestStreamsCountUntilClosedOrStale(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u := newUser(t, db, "viewer", false)
		limits := domain.StreamLimits{PerUser: 2, PerAddress: 3, Stale: time.Minute, RetryAfter: 30 * time.Second}
		open := func(process, addr string) (int64, error) {
			return domain.OpenStream(ctx, db, limits, u.ID, addr, process)
		}
		refused := func(err error) bool {
			var th *domain.Throttled
			return errors.As(err, &th) && th.Reason == domain.TooManyStreams && th.RetryAfter == 30*time.Second
		}
		a, err := open("alive", "192.0.2.1")
		require.NoError(t, err)
		_, err = open("dying", "192.0.2.1")
		require.NoError(t, err)
		_, err = open("alive", "192.0.2.2")
		assert.True(t, refused(err), "a third stream of the user: %v", err)

		require.NoError(t, domain.CloseStream(ctx, db, a))
		_, err = open("alive", "192.0.2.1")
		require.NoError(t, err, "a closed stream frees its place")

		// Both age past Stale; only the live process renews its own.
		_, err = db.NewUpdate().Model((*domain.EventStream)(nil)).
			Set("seen_at = ?", domain.Now().Add(-2*time.Minute)).Where("1 = 1").Exec(ctx)
		require.NoError(t, err)
		require.NoError(t, domain.RenewStreams(ctx, db, "alive", limits.Stale))
		_, err = open("alive", "192.0.2.1")
		require.NoError(t, err, "the stopped process's stream no longer counts")
		_, err = open("alive", "192.0.2.1")
		assert.True(t, refused(err), "the renewed one still does: %v", err)
		n, err := db.NewSelect().Model((*domain.EventStream)(nil)).Where("process = ?", "dying").Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n, "renewing drops the stale rows")

		// Per address, whoever's streams they are.
		other := newUser(t, db, "neighbour", false)
		_, err = domain.OpenStream(ctx, db, limits, other.ID, "192.0.2.1", "alive")
		require.NoError(t, err)
		_, err = domain.OpenStream(ctx, db, limits, other.ID, "192.0.2.1", "alive")
		assert.True(t, refused(err), "a fourth stream from the address: %v", err)
	})
}

// Take admits Max hits per window and then says how long to wait.
func TestTakeAdmitsMaxPerWindow(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		lim := domain.Limit{Key: "test:key", Max: 3, Window: time.Hour}
		for range 3 {
			require.NoError(t, domain.Take(ctx, db, lim, "slow down"))
		}
		err := domain.Take(ctx, db, lim, "slow down")
		var th *domain.Throttled
		require.ErrorAs(t, err, &th)
		assert.Equal(t, "slow down", th.Reason)
		assert.InDelta(t, time.Hour.Seconds(), th.RetryAfter.Seconds(), 5)
		require.NoError(t, domain.Take(ctx, db, domain.Limit{Key: "test:other", Max: 3, Window: time.Hour}, "x"),
			"keys are counted apart")
		require.NoError(t, domain.Take(ctx, db, domain.Limit{Key: "test:key", Window: time.Hour}, "x"),
			"Max 0 is no limit")
	})
}
