package schema

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"ariga.io/atlas/sql/migrate"
	atlasschema "ariga.io/atlas/sql/schema"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/database"
)

// Drift compares the schema the migrations build with the schema the models
// expect. It needs two empty scratch databases of the same dialect: it
// migrates the first with dir and builds the desired schema in the second.
// No changes means the migrations and the models agree.
func Drift(ctx context.Context, migrated, desired *bun.DB, dir fs.FS, logger *slog.Logger) ([]atlasschema.Change, error) {
	if _, err := Up(ctx, migrated, dir, logger); err != nil {
		return nil, fmt.Errorf("migrate scratch database: %w", err)
	}
	if err := createDesired(ctx, desired); err != nil {
		return nil, fmt.Errorf("build desired schema: %w", err)
	}
	return Compare(ctx, migrated, desired)
}

// inspect reads the current schema of db, without the revisions table.
func inspect(ctx context.Context, db *bun.DB) (*atlasschema.Schema, error) {
	drv, err := atlasDriver(db.DB, database.Dialect(db))
	if err != nil {
		return nil, err
	}
	// PostgreSQL's catalog can name a relation another session drops during
	// the inspection (other scratch schemas of the same dev database): that
	// read is retried; anything else is an error.
	var s *atlasschema.Schema
	for attempt := 1; ; attempt++ {
		s, err = drv.InspectSchema(ctx, "", nil)
		if err == nil || attempt == 3 || !strings.Contains(err.Error(), "could not open relation") {
			break
		}
	}
	if err != nil {
		return nil, fmt.Errorf("inspect schema: %w", err)
	}
	s.Tables = slices.DeleteFunc(s.Tables, func(t *atlasschema.Table) bool { return t.Name == revisionTable })
	return s, nil
}

// WriteMigration plans changes as a new migration file named version_name.sql
// in the source directory at path, and rewrites its atlas.sum.
func WriteMigration(ctx context.Context, db *bun.DB, path, version, name string, changes []atlasschema.Change) (string, error) {
	drv, err := atlasDriver(db.DB, database.Dialect(db))
	if err != nil {
		return "", err
	}
	noQualifier := ""
	plan, err := drv.PlanChanges(ctx, name, changes, func(o *migrate.PlanOptions) {
		o.SchemaQualifier = &noQualifier
		o.Indent = "  "
	})
	if err != nil {
		return "", fmt.Errorf("plan migration: %w", err)
	}
	plan.Version = version
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return "", fmt.Errorf("open migration directory: %w", err)
	}
	if err := migrate.NewPlanner(drv, dir).WritePlan(plan); err != nil {
		return "", fmt.Errorf("write migration: %w", err)
	}
	return filepath.Join(path, version+"_"+name+".sql"), nil
}

// Rehash rewrites atlas.sum of the source directory at path, after a
// migration file was written or edited by hand before it was ever applied.
func Rehash(path string) error {
	dir, err := migrate.NewLocalDir(path)
	if err != nil {
		return fmt.Errorf("open migration directory: %w", err)
	}
	sum, err := dir.Checksum()
	if err != nil {
		return fmt.Errorf("hash migrations: %w", err)
	}
	if err := migrate.WriteSumFile(dir, sum); err != nil {
		return fmt.Errorf("write atlas.sum: %w", err)
	}
	return nil
}

// MissingDowns are the migrations of dir without a reverse file.
func MissingDowns(dir fs.FS) ([]migrate.File, error) {
	d := fsDir{dir}
	files, err := d.Files()
	if err != nil {
		return nil, err
	}
	var out []migrate.File
	for _, f := range files {
		if _, err := d.downOf(f); errors.Is(err, ErrNoDown) {
			out = append(out, f)
		} else if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// WriteDown plans the reverse of migration up with atlas, from the schema
// after it to the schema before it, on two empty scratch databases, and
// writes it as V_name.down.sql in the source directory at path. What
// atlas does not see (triggers, functions, rows a migration inserts) is
// left to be written by hand: the file says so.
func WriteDown(ctx context.Context, before, after *bun.DB, path string, up migrate.File, logger *slog.Logger) (string, error) {
	dir := os.DirFS(path)
	files, err := fsDir{dir}.Files()
	if err != nil {
		return "", err
	}
	prev := ""
	for _, f := range files {
		if f.Version() < up.Version() {
			prev = f.Version()
		}
	}
	if prev != "" {
		if _, err := UpTo(ctx, before, dir, prev, logger); err != nil {
			return "", fmt.Errorf("migrate to %s: %w", prev, err)
		}
	}
	if _, err := UpTo(ctx, after, dir, up.Version(), logger); err != nil {
		return "", fmt.Errorf("migrate to %s: %w", up.Version(), err)
	}
	changes, err := Compare(ctx, after, before)
	if err != nil {
		return "", err
	}
	name := strings.TrimSuffix(up.Name(), ".sql") + downSuffix
	if len(changes) == 0 {
		body := "-- The schema is the same before and after " + up.Name() + ": what it did\n" +
			"-- (triggers, functions, rows) is undone by hand below.\n"
		if err := os.WriteFile(filepath.Join(path, name), []byte(body), 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", name, err)
		}
		return filepath.Join(path, name), Rehash(path)
	}
	return WriteMigration(ctx, after, path, up.Version(), up.Desc()+".down", changes)
}

// Compare is what turns the schema of a into the schema of b (empty: the
// same tables, columns, indexes and keys). The databases' schema names
// differ (scratch schemas); only their contents count.
func Compare(ctx context.Context, a, b *bun.DB) ([]atlasschema.Change, error) {
	from, err := inspect(ctx, a)
	if err != nil {
		return nil, err
	}
	to, err := inspect(ctx, b)
	if err != nil {
		return nil, err
	}
	to.Name = from.Name
	drv, err := atlasDriver(a.DB, database.Dialect(a))
	if err != nil {
		return nil, err
	}
	changes, err := drv.SchemaDiff(from, to)
	if err != nil {
		return nil, fmt.Errorf("diff schemas: %w", err)
	}
	return changes, nil
}
