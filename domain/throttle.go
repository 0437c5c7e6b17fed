package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// LoginFailure is one failed login, counted under a throttle key (the
// account tried, the client address). Stored in the database so every API
// process sees the same counts.
type LoginFailure struct {
	bun.BaseModel `bun:"table:login_failures,alias:lf"`

	ID        int64     `bun:"id,pk,autoincrement"`
	Key       string    `bun:"key,type:varchar(255),notnull"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// failureRetention bounds the table: older failures never count again.
const failureRetention = 24 * time.Hour

// RecordLoginFailure counts a failed login under every key.
func RecordLoginFailure(ctx context.Context, db bun.IDB, keys ...string) error {
	now := Now()
	rows := make([]LoginFailure, 0, len(keys))
	for _, k := range keys {
		rows = append(rows, LoginFailure{Key: truncatedKey(k), CreatedAt: now})
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
			return fmt.Errorf("record login failure: %w", err)
		}
		_, err := tx.NewDelete().Model((*LoginFailure)(nil)).
			Where("key IN (?) AND created_at < ?", bun.List(keysOf(rows)), now.Add(-failureRetention)).Exec(ctx)
		return err
	})
}

// LoginRetryAfter says how long logins under any of keys must wait: zero
// while every key has fewer than limit failures in the last window.
func LoginRetryAfter(ctx context.Context, db bun.IDB, limit int, window time.Duration, keys ...string) (time.Duration, error) {
	now := Now()
	var wait time.Duration
	for _, k := range keys {
		var times []time.Time
		err := db.NewSelect().Model((*LoginFailure)(nil)).Column("created_at").
			Where("key = ? AND created_at > ?", truncatedKey(k), now.Add(-window)).
			Order("created_at DESC").Limit(int64(limit)).Scan(ctx, &times)
		if err != nil {
			return 0, fmt.Errorf("count login failures: %w", err)
		}
		if len(times) < limit {
			continue
		}
		// Free again when the oldest of the last limit failures leaves the window.
		if w := times[limit-1].Add(window).Sub(now); w > wait {
			wait = w
		}
	}
	return wait, nil
}

// ClearLoginFailures forgets the failures under key, after a good login.
func ClearLoginFailures(ctx context.Context, db bun.IDB, key string) error {
	if _, err := db.NewDelete().Model((*LoginFailure)(nil)).Where("key = ?", truncatedKey(key)).Exec(ctx); err != nil {
		return fmt.Errorf("clear login failures: %w", err)
	}
	return nil
}

func keysOf(rows []LoginFailure) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r.Key
	}
	return out
}

func truncatedKey(k string) string {
	if len(k) > 255 {
		return k[:255]
	}
	return k
}
