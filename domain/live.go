package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The queries of the live path: what carries events to the API processes
// where PostgreSQL's LISTEN/NOTIFY does not (SQLite), and what a stream
// re-reads after it may have missed some.

// LiveEvent is an event of the live path written down for the API
// processes to read (SQLite). Rows live for a minute.
type LiveEvent struct {
	bun.BaseModel `bun:"table:live_events,alias:le"`

	ID      int64  `bun:"id,pk,autoincrement"`
	Payload string `bun:"payload,type:text,notnull"`
	Timestamps
}

// AnnounceUserChanged tells every API process, when db's transaction
// commits (never for one rolled back), that something userID could do was
// taken away (a role, superuser rights, the account): their event streams
// end and cached sessions are forgotten
// (events.KindUserChanged). PostgreSQL carries it by NOTIFY on the live
// path's channel; on SQLite it is written down for the pollers.
func AnnounceUserChanged(ctx context.Context, db bun.IDB, userID int64) error {
	payload := fmt.Sprintf(`{"k":"user_changed","u":%d}`, userID)
	if db.Dialect().Name() == dialect.PG {
		if _, err := db.ExecContext(ctx, "SELECT pg_notify('aimsg_' || current_schema(), ?)", payload); err != nil {
			return fmt.Errorf("announce user change: %w", err)
		}
		return nil
	}
	return AppendLiveEvent(ctx, db, payload)
}

// AppendLiveEvent writes an event down.
func AppendLiveEvent(ctx context.Context, db bun.IDB, payload string) error {
	if _, err := db.NewInsert().Model(&LiveEvent{Payload: payload}).Exec(ctx); err != nil {
		return fmt.Errorf("append live event: %w", err)
	}
	return nil
}

// LiveEventsAfter reads the events written after id, oldest first.
func LiveEventsAfter(ctx context.Context, db bun.IDB, after int64, limit int) ([]LiveEvent, error) {
	var evs []LiveEvent
	if err := db.NewSelect().Model(&evs).Where("id > ?", after).Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("live events: %w", err)
	}
	return evs, nil
}

// LatestLiveEventID is the id of the newest event written, 0 if none.
func LatestLiveEventID(ctx context.Context, db bun.IDB) (int64, error) {
	var id int64
	if err := db.NewSelect().Model((*LiveEvent)(nil)).ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("latest live event: %w", err)
	}
	return id, nil
}

// PruneLiveEvents deletes the events written before before.
func PruneLiveEvents(ctx context.Context, db bun.IDB, before time.Time) error {
	if _, err := db.NewDelete().Model((*LiveEvent)(nil)).Where("created_at < ?", before.UTC()).Exec(ctx); err != nil {
		return fmt.Errorf("prune live events: %w", err)
	}
	return nil
}

// MessageRef names a stored message, its conversation and when it was stored.
type MessageRef struct {
	ID             int64     `bun:"id"`
	ConversationID string    `bun:"conversation_id"`
	CreatedAt      time.Time `bun:"created_at"`
}

// MessagesSince lists the messages stored after id, in the given
// conversations only when any are given, oldest first.
func MessagesSince(ctx context.Context, db bun.IDB, after int64, conversations []string, limit int) ([]MessageRef, error) {
	var refs []MessageRef
	q := db.NewSelect().Model((*Message)(nil)).Column("id", "conversation_id", "created_at").
		Where("id > ? AND conversation_id IS NOT NULL", after)
	if len(conversations) > 0 {
		q = q.Where("conversation_id IN (?)", bun.List(conversations))
	}
	if err := q.Order("id").Limit(int64(limit)).Scan(ctx, &refs); err != nil {
		return nil, fmt.Errorf("messages since: %w", err)
	}
	return refs, nil
}

// LatestMessage is the id of the newest message of all, 0 if none.
func LatestMessage(ctx context.Context, db bun.IDB) (int64, error) {
	var id int64
	if err := db.NewSelect().Model((*Message)(nil)).ColumnExpr("COALESCE(MAX(id), 0)").Scan(ctx, &id); err != nil {
		return 0, fmt.Errorf("latest message: %w", err)
	}
	return id, nil
}

// LiveSessions says which of the given sessions are still live (active,
// not expired, their user active).
func LiveSessions(ctx context.Context, db bun.IDB, ids []int64) (map[int64]bool, error) {
	live := map[int64]bool{}
	if len(ids) == 0 {
		return live, nil
	}
	var found []int64
	err := db.NewSelect().Model((*Session)(nil)).Column("s.id").
		Join("JOIN users AS u ON u.id = s.user_id").
		Where("s.id IN (?)", bun.List(ids)).
		Where("s.is_active = ? AND s.expires_at > ? AND u.is_active = ?", true, Now(), true).
		Scan(ctx, &found)
	if err != nil {
		return nil, fmt.Errorf("live sessions: %w", err)
	}
	for _, id := range found {
		live[id] = true
	}
	return live, nil
}
