package schema

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"syscall"
	"time"

	"ariga.io/atlas/sql/postgres"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
)

// lockName identifies aimsg's migration lock (a PostgreSQL advisory lock).
const lockName = "aimsg_schema_migrate"

// acquireLock keeps two migrators from running at once: a session-level
// advisory lock on PostgreSQL, an flock beside the database file on SQLite
// (an in-memory database has a single connection and needs none).
func acquireLock(ctx context.Context, db *bun.DB) (func() error, error) {
	if database.Dialect(db) == config.Postgres {
		drv, err := postgres.Open(db.DB)
		if err != nil {
			return nil, fmt.Errorf("atlas postgres driver: %w", err)
		}
		unlock, err := drv.Lock(ctx, lockName, lockTimeout)
		if err != nil {
			return nil, fmt.Errorf("acquire migration lock: %w", err)
		}
		return unlock, nil
	}
	var file string
	if err := db.QueryRowContext(ctx, "SELECT file FROM pragma_database_list WHERE name = 'main'").Scan(&file); err != nil {
		return nil, fmt.Errorf("sqlite database file: %w", err)
	}
	if file == "" {
		return func() error { return nil }, nil
	}
	return flock(ctx, file+".migrate-lock", lockTimeout)
}

func flock(ctx context.Context, path string, timeout time.Duration) (func() error, error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open migration lock: %w", err)
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() error {
				return errors.Join(syscall.Flock(int(f.Fd()), syscall.LOCK_UN), f.Close())
			}, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || time.Now().After(deadline) {
			f.Close()
			return nil, fmt.Errorf("acquire migration lock %s: %w", path, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// lockMigrations takes the migration lock; unlock releases it and logs a
// failure to release (closing the connection or file releases it anyway).
func lockMigrations(ctx context.Context, db *bun.DB, logger *slog.Logger) (unlock func(), err error) {
	release, err := acquireLock(ctx, db)
	if err != nil {
		return nil, err
	}
	return func() {
		if err := release(); err != nil {
			logger.Warn("release migration lock", "error", err)
		}
	}, nil
}
