// Package database opens the service's database, PostgreSQL or embedded
// SQLite, as a bun.DB with the same models and queries on both.
package database

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect/pgdialect"
	"github.com/uptrace/bun/dialect/sqlitedialect"
	"github.com/uptrace/bun/driver/sqliteshim"

	"github.com/aimsg/aimsg/config"
)

// sqlitePragmas make SQLite behave like a server database for our use:
// enforced foreign keys, writers that wait instead of failing, WAL so readers
// do not block the writer, and write transactions that take the lock up front
// (a deferred transaction that later writes can deadlock with another one).
var sqlitePragmas = []string{
	"_pragma=foreign_keys(1)",
	"_pragma=busy_timeout(10000)",
	"_pragma=journal_mode(WAL)",
	"_pragma=synchronous(NORMAL)",
	"_txlock=immediate",
}

// Open connects to the database at url (DATABASE_URL syntax) and checks that
// it answers. The caller closes the returned DB.
func Open(ctx context.Context, url string, logger *slog.Logger) (*bun.DB, error) {
	dialect, dsn, err := config.ParseDatabaseURL(url)
	if err != nil {
		return nil, fmt.Errorf("database url: %w", err)
	}
	var db *bun.DB
	switch dialect {
	case config.Postgres:
		sqldb, err := openPostgres(dsn)
		if err != nil {
			return nil, err
		}
		db = bun.NewDB(sqldb, pgdialect.New())
	case config.SQLite:
		sqldb, err := openSQLite(dsn)
		if err != nil {
			return nil, err
		}
		db = bun.NewDB(sqldb, sqlitedialect.New())
	}
	if logger != nil {
		db = db.WithQueryHook(queryLogger{logger: logger})
	}
	if err := db.PingContext(ctx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("connect to %s database: %w", dialect, err)
	}
	return db, nil
}

func openSQLite(path string) (*sql.DB, error) {
	path, query, _ := strings.Cut(path, "?")
	memory := path == ":memory:"
	if !memory {
		if dir := filepath.Dir(path); dir != "." {
			if err := os.MkdirAll(dir, 0o750); err != nil {
				return nil, fmt.Errorf("create sqlite folder: %w", err)
			}
		}
	}
	params := strings.Join(sqlitePragmas, "&")
	if query != "" {
		params += "&" + query
	}
	sqldb, err := sql.Open(sqliteshim.ShimName, "file:"+path+"?"+params)
	if err != nil {
		return nil, fmt.Errorf("open sqlite: %w", err)
	}
	if memory {
		// Every connection to :memory: is a database of its own: keep one, forever.
		sqldb.SetMaxOpenConns(1)
		sqldb.SetConnMaxLifetime(0)
		sqldb.SetConnMaxIdleTime(0)
	}
	return sqldb, nil
}

// Dialect reports which SQL dialect db speaks.
func Dialect(db bun.IDB) config.Dialect {
	if db.Dialect().Name().String() == "pg" {
		return config.Postgres
	}
	return config.SQLite
}

// queryLogger logs failed queries, and every query at debug level.
type queryLogger struct{ logger *slog.Logger }

func (q queryLogger) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context {
	return ctx
}

func (q queryLogger) AfterQuery(ctx context.Context, e *bun.QueryEvent) {
	elapsed := time.Since(e.StartTime)
	if e.Err != nil && !errors.Is(e.Err, sql.ErrNoRows) && !errors.Is(e.Err, sql.ErrTxDone) {
		q.logger.LogAttrs(ctx, slog.LevelWarn, "query failed",
			slog.String("operation", e.Operation()),
			slog.Duration("duration", elapsed),
			slog.String("error", e.Err.Error()))
		return
	}
	q.logger.LogAttrs(ctx, slog.LevelDebug, "query",
		slog.String("operation", e.Operation()),
		slog.Duration("duration", elapsed),
		slog.String("query", e.Query))
}
