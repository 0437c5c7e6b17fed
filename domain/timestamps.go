package domain

import (
	"context"
	"time"

	"github.com/uptrace/bun"
)

// Timestamps are the created_at/updated_at columns every table carries. They
// are set in Go, in UTC, so both dialects store the same values.
type Timestamps struct {
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// touch stamps the row on insert and update.
func (t *Timestamps) touch(q bun.Query) {
	now := Now()
	switch q.(type) {
	case *bun.InsertQuery:
		if t.CreatedAt.IsZero() {
			t.CreatedAt = now
		}
		t.UpdatedAt = now
	case *bun.UpdateQuery:
		t.UpdatedAt = now
	}
}

// BeforeAppendModel implements bun.BeforeAppendModelHook.
func (t *Timestamps) BeforeAppendModel(_ context.Context, q bun.Query) error {
	t.touch(q)
	return nil
}

// Now is the current time in UTC at the precision both databases keep.
func Now() time.Time {
	return time.Now().UTC().Truncate(time.Microsecond)
}
