package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// EventStream is one open event stream, written down so that every API
// process counts a user's streams the same. The process holding it
// renews SeenAt while it is open; a process that died leaves rows that
// stop counting once they are StreamLimits.Stale old.
type EventStream struct {
	bun.BaseModel `bun:"table:event_streams,alias:es"`

	ID       int64     `bun:"id,pk,autoincrement"`
	UserID   int64     `bun:"user_id,notnull"`
	Address  string    `bun:"address,type:varchar(64),notnull"`
	Process  string    `bun:"process,type:varchar(32),notnull"`
	OpenedAt time.Time `bun:"opened_at,notnull"`
	SeenAt   time.Time `bun:"seen_at,notnull"`
}

// StreamLimits bound the open event streams per user and per client
// address (0: no bound per address).
type StreamLimits struct {
	PerUser    int
	PerAddress int
	// Stale is when a stream nobody renewed stops counting.
	Stale time.Duration
	// RetryAfter is what a refused client is told to wait.
	RetryAfter time.Duration
}

// TooManyStreams is the reason a stream is refused.
const TooManyStreams = "Too many open event streams; close one and try again"

// OpenStream writes down a stream of userID from address held by process,
// or returns *Throttled when the user or the address has as many open as
// the limits allow.
func OpenStream(ctx context.Context, db bun.IDB, l StreamLimits, userID int64, address, process string) (int64, error) {
	st := EventStream{UserID: userID, Address: address, Process: process}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		userKey, addrKey := fmt.Sprintf("stream:user:%d", userID), "stream:address:"+st.Address
		if err := lockKeys(ctx, tx, userKey, addrKey); err != nil {
			return err
		}
		now := Now()
		for _, bound := range []struct {
			column string
			value  any
			max    int
		}{{"user_id", userID, l.PerUser}, {"address", st.Address, l.PerAddress}} {
			if bound.max <= 0 {
				continue
			}
			n, err := tx.NewSelect().Model((*EventStream)(nil)).
				Where("? = ? AND seen_at >= ?", bun.Ident(bound.column), bound.value, now.Add(-l.Stale)).Count(ctx)
			if err != nil {
				return fmt.Errorf("count streams: %w", err)
			}
			if n >= int64(bound.max) {
				return &Throttled{Reason: TooManyStreams, RetryAfter: l.RetryAfter}
			}
		}
		st.OpenedAt, st.SeenAt = now, now
		if _, err := tx.NewInsert().Model(&st).Exec(ctx); err != nil {
			return fmt.Errorf("open stream: %w", err)
		}
		return nil
	})
	return st.ID, err
}

// CloseStream forgets a stream that ended.
func CloseStream(ctx context.Context, db bun.IDB, id int64) error {
	if _, err := db.NewDelete().Model((*EventStream)(nil)).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("close stream: %w", err)
	}
	return nil
}

// RenewStreams marks every stream process holds as still open, and
// forgets the streams of processes that stopped renewing theirs.
func RenewStreams(ctx context.Context, db bun.IDB, process string, stale time.Duration) error {
	now := Now()
	_, err := db.NewUpdate().Model((*EventStream)(nil)).Set("seen_at = ?", now).Where("process = ?", process).Exec(ctx)
	if err != nil {
		return fmt.Errorf("renew streams: %w", err)
	}
	if _, err := db.NewDelete().Model((*EventStream)(nil)).Where("seen_at < ?", now.Add(-stale)).Exec(ctx); err != nil {
		return fmt.Errorf("drop stale streams: %w", err)
	}
	return nil
}
