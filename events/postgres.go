package events

import (
	"context"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/database"
)

// PostgresPublisher sends events with NOTIFY on the channel of the
// database's schema (aimsg_<schema>), which the triggers of stored
// messages and ended sessions use too.
type PostgresPublisher struct {
	DB bun.IDB
}

// Publish notifies every listening API process; it takes effect when the
// caller's transaction (if any) commits.
func (p PostgresPublisher) Publish(ctx context.Context, ev Event) error {
	payload, err := encode(ev)
	if err != nil {
		return err
	}
	if _, err := p.DB.ExecContext(ctx, "SELECT pg_notify('aimsg_' || current_schema(), ?)", payload); err != nil {
		return fmt.Errorf("publish %s: %w", ev.Kind, err)
	}
	return nil
}

// Listener holds one connection of an API process LISTENing for events
// and hands them to the hub. A dropped connection is made again, and what
// may have been missed meanwhile is re-read once (Hub.CatchUp).
type Listener struct {
	// DSN is the PostgreSQL connection string (DATABASE_URL's).
	DSN string
	Hub *Hub
	Log *slog.Logger
	// connects counts the connections made; pid is the server process of
	// the current one (operators and tests find it in pg_stat_activity).
	connects atomic.Int64
	pid      atomic.Uint32
}

// Connects is how many times the listener has connected and listened.
func (l *Listener) Connects() int64 { return l.connects.Load() }

// PID is the server process id of the listening connection (0 before the
// first).
func (l *Listener) PID() uint32 { return l.pid.Load() }

// Run listens until ctx ends.
func (l *Listener) Run(ctx context.Context) {
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		start := time.Now()
		err := l.listen(ctx)
		if ctx.Err() != nil {
			return
		}
		l.Hub.connected.Store(false)
		if time.Since(start) > time.Minute {
			backoff = 100 * time.Millisecond
		}
		l.Log.Warn("live path: listening connection lost; connecting again", "error", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 5*time.Second)
	}
}

func (l *Listener) listen(ctx context.Context) error {
	cfg, _, err := database.PostgresConfig(l.DSN)
	if err != nil {
		return err
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	var schema string
	if err := conn.QueryRow(ctx, "SELECT current_schema()").Scan(&schema); err != nil {
		return fmt.Errorf("read schema: %w", err)
	}
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{"aimsg_" + schema}.Sanitize()); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	// Listening first, then reading: nothing falls between the two.
	if err := l.Hub.CatchUp(ctx); err != nil {
		return fmt.Errorf("catch up: %w", err)
	}
	l.pid.Store(conn.PgConn().PID())
	l.Hub.markLive()
	l.connects.Add(1)
	for {
		n, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		ev, err := decode(n.Payload)
		if err != nil {
			l.Log.Warn("live path: notification not understood", "error", err)
			continue
		}
		l.Hub.Dispatch(ctx, ev)
	}
}
