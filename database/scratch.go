package database

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/url"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
)

// OpenScratch opens an empty database of the same dialect as baseURL, for
// planning migrations: a new schema on PostgreSQL (dropped by the returned
// cleanup), a private in-memory database on SQLite.
func OpenScratch(ctx context.Context, baseURL, prefix string, logger *slog.Logger) (*bun.DB, func(), error) {
	dialect, _, err := config.ParseDatabaseURL(baseURL)
	if err != nil {
		return nil, nil, err
	}
	scratchURL, drop := "sqlite:///:memory:", func() {}
	if dialect == config.Postgres {
		if scratchURL, drop, err = ScratchSchema(ctx, baseURL, prefix); err != nil {
			return nil, nil, err
		}
	}
	db, err := Open(ctx, scratchURL, logger)
	if err != nil {
		drop()
		return nil, nil, err
	}
	return db, func() { _ = db.Close(); drop() }, nil
}

// ScratchSchema creates a new, empty PostgreSQL schema in the database of
// baseURL and returns a URL whose connections use it, and a function that
// drops it.
func ScratchSchema(ctx context.Context, baseURL, prefix string) (string, func(), error) {
	admin, err := Open(ctx, baseURL, nil)
	if err != nil {
		return "", nil, err
	}
	defer admin.Close()
	suffix := make([]byte, 6)
	_, _ = rand.Read(suffix)
	name := prefix + "_" + hex.EncodeToString(suffix)
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+name); err != nil {
		return "", nil, fmt.Errorf("create scratch schema: %w", err)
	}
	drop := func() {
		admin, err := Open(context.WithoutCancel(ctx), baseURL, nil)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.ExecContext(context.WithoutCancel(ctx), "DROP SCHEMA "+name+" CASCADE")
	}
	u, err := url.Parse(baseURL)
	if err != nil {
		drop()
		return "", nil, fmt.Errorf("database url: %w", err)
	}
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
