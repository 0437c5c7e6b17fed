package schema

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"ariga.io/atlas/sql/migrate"
	"ariga.io/atlas/sql/postgres"
	atlasschema "ariga.io/atlas/sql/schema"
	"ariga.io/atlas/sql/sqlite"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
)

// lockTimeout bounds how long a migration waits for another one to finish.
const lockTimeout = 2 * time.Minute

// ErrChecksum is returned when a migration file does not match atlas.sum:
// someone edited an applied migration, or forgot to rehash a new one.
var ErrChecksum = migrate.ErrChecksumMismatch

// Up applies every pending migration of dir to db, each file in its own
// transaction, while holding a lock that keeps other migrators out. It
// returns the names of the files it applied; none when the database is current.
func Up(ctx context.Context, db *bun.DB, dir fs.FS, logger *slog.Logger) ([]string, error) {
	return UpTo(ctx, db, dir, "", logger)
}

// UpTo is Up that stops after the migration of version to ("": the last).
func UpTo(ctx context.Context, db *bun.DB, dir fs.FS, to string, logger *slog.Logger) ([]string, error) {
	unlock, err := lockMigrations(ctx, db, logger)
	if err != nil {
		return nil, err
	}
	defer unlock()
	pending, err := pendingFiles(ctx, db, dir)
	if err != nil {
		return nil, err
	}
	applied := make([]string, 0, len(pending))
	for _, f := range pending {
		if to != "" && f.Version() > to {
			break
		}
		start := time.Now()
		if err := applyFile(ctx, db, dir, f); err != nil {
			return applied, fmt.Errorf("apply migration %s: %w", describe(f), err)
		}
		logger.Info("applied migration", "version", f.Version(), "description", f.Desc(),
			"duration", time.Since(start))
		applied = append(applied, describe(f))
	}
	return applied, nil
}

// FileStatus is the state of one migration file in one database.
type FileStatus struct {
	Version     string
	Description string
	// Applied is when the file was applied; zero when pending.
	Applied time.Time
}

// Status lists every migration file of dir with when it was applied to db.
// It validates the directory against atlas.sum first.
func Status(ctx context.Context, db *bun.DB, dir fs.FS) ([]FileStatus, error) {
	if err := migrate.Validate(fsDir{dir}); err != nil {
		return nil, fmt.Errorf("validate migrations: %w", err)
	}
	if err := ensureRevisionTable(ctx, db); err != nil {
		return nil, err
	}
	revs, err := revisions{db}.ReadRevisions(ctx)
	if err != nil {
		return nil, err
	}
	done := map[string]time.Time{}
	for _, r := range revs {
		if r.Applied == r.Total && r.Error == "" {
			done[r.Version] = r.ExecutedAt
		}
	}
	files, err := fsDir{dir}.Files()
	if err != nil {
		return nil, err
	}
	out := make([]FileStatus, 0, len(files))
	for _, f := range files {
		out = append(out, FileStatus{Version: f.Version(), Description: f.Desc(), Applied: done[f.Version()]})
	}
	return out, nil
}

// pendingFiles validates dir and returns the files not yet applied to db.
func pendingFiles(ctx context.Context, db *bun.DB, dir fs.FS) ([]migrate.File, error) {
	if err := ensureRevisionTable(ctx, db); err != nil {
		return nil, err
	}
	drv, err := atlasDriver(db.DB, database.Dialect(db))
	if err != nil {
		return nil, err
	}
	if err := checkClean(ctx, db); err != nil {
		return nil, err
	}
	ex, err := migrate.NewExecutor(cleanChecked{drv}, fsDir{dir}, revisions{db})
	if err != nil {
		return nil, fmt.Errorf("migration executor: %w", err)
	}
	pending, err := ex.Pending(ctx)
	if errors.Is(err, migrate.ErrNoPendingFiles) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("pending migrations: %w", err)
	}
	return pending, nil
}

// checkClean refuses a database that has tables but no migration history:
// applying the first migration there would fail halfway or clobber data. It
// looks at the current schema only.
func checkClean(ctx context.Context, db *bun.DB) error {
	n, err := db.NewSelect().Model((*revision)(nil)).Count(ctx)
	if err != nil {
		return fmt.Errorf("count revisions: %w", err)
	}
	if n > 0 {
		return nil
	}
	q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name <> ?"
	if database.Dialect(db) == config.Postgres {
		q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_name <> ?"
	}
	var tables []string
	if err := db.NewRaw(q, revisionTable).Scan(ctx, &tables); err != nil {
		return fmt.Errorf("list tables: %w", err)
	}
	if len(tables) > 0 {
		return fmt.Errorf("database has table %q but no migration history; migrate an empty database", tables[0])
	}
	return nil
}

// cleanChecked leaves the clean check to checkClean: atlas's own inspects
// every schema of the database, slowly, and trips over schemas other
// processes create and drop meanwhile.
type cleanChecked struct{ migrate.Driver }

func (cleanChecked) CheckClean(context.Context, *migrate.TableIdent) error { return nil }

// applyFile runs one migration file and records its revision in one
// transaction, so a failing file leaves neither schema changes nor a revision.
func applyFile(ctx context.Context, db *bun.DB, dir fs.FS, f migrate.File) error {
	return inMigrationTx(ctx, db, func(tx bun.Tx) error {
		drv, err := atlasDriver(tx.Tx, database.Dialect(db))
		if err != nil {
			return err
		}
		ex, err := migrate.NewExecutor(drv, fsDir{dir}, revisions{tx}, migrate.WithAllowDirty(true))
		if err != nil {
			return fmt.Errorf("migration executor: %w", err)
		}
		return ex.Execute(ctx, f)
	})
}

// inMigrationTx runs fn in a transaction on one connection and commits
// it if fn succeeds.
func inMigrationTx(ctx context.Context, db *bun.DB, fn func(bun.Tx) error) error {
	dialect := database.Dialect(db)
	conn, err := db.Conn(ctx)
	if err != nil {
		return fmt.Errorf("get connection: %w", err)
	}
	defer conn.Close()
	if dialect == config.SQLite {
		// SQLite rebuilds tables to alter them, which trips foreign keys
		// mid-way; the pragma cannot change inside a transaction, so it is
		// switched off around it and the keys are checked before commit.
		if _, err := conn.ExecContext(ctx, "PRAGMA foreign_keys = off"); err != nil {
			return fmt.Errorf("disable foreign keys: %w", err)
		}
		defer conn.ExecContext(context.WithoutCancel(ctx), "PRAGMA foreign_keys = on") //nolint:errcheck // best effort on a connection being returned
	}
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after commit
	if err := fn(tx); err != nil {
		return err
	}
	if dialect == config.SQLite {
		if err := foreignKeyCheck(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

func foreignKeyCheck(ctx context.Context, tx bun.Tx) error {
	rows, err := tx.QueryContext(ctx, "PRAGMA foreign_key_check")
	if err != nil {
		return fmt.Errorf("foreign key check: %w", err)
	}
	defer rows.Close()
	if rows.Next() {
		return errors.New("foreign key check: the migration leaves rows that violate a foreign key")
	}
	return rows.Err()
}

func atlasDriver(db atlasschema.ExecQuerier, dialect config.Dialect) (migrate.Driver, error) {
	var (
		drv migrate.Driver
		err error
	)
	switch dialect {
	case config.Postgres:
		drv, err = postgres.Open(db)
	default:
		drv, err = sqlite.Open(db)
	}
	if err != nil {
		return nil, fmt.Errorf("atlas %s driver: %w", dialect, err)
	}
	return drv, nil
}
