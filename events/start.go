package events

import (
	"context"
	"log/slog"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
)

// Feed starts what brings events to an API process's hub from the
// database at databaseURL: one LISTENing connection on PostgreSQL, one
// poller on SQLite. It runs until ctx ends; the returned channel closes
// then.
func Feed(ctx context.Context, databaseURL string, db bun.IDB, hub *Hub, log *slog.Logger) <-chan struct{} {
	done := make(chan struct{})
	dialect, dsn, err := config.ParseDatabaseURL(databaseURL)
	go func() {
		defer close(done)
		if err == nil && dialect == config.Postgres {
			(&Listener{DSN: dsn, Hub: hub, Log: log}).Run(ctx)
			return
		}
		(&Poller{DB: db, Hub: hub, Interval: 200 * time.Millisecond, SessionCheck: 2 * time.Second, Log: log}).Run(ctx)
	}()
	return done
}

// PublisherFor is how a process publishes on the database at
// databaseURL: NOTIFY on PostgreSQL; on SQLite, straight into local when
// the API runs in the same process (`aimsg dev`), else the table the API
// processes poll.
func PublisherFor(databaseURL string, db bun.IDB, local *Hub) Publisher {
	if dialect, _, err := config.ParseDatabaseURL(databaseURL); err == nil && dialect == config.Postgres {
		return PostgresPublisher{DB: db}
	}
	if local != nil {
		return local
	}
	return &TablePublisher{DB: db}
}
