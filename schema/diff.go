package schema

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
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
	dialect := database.Dialect(migrated)
	from, err := inspect(ctx, migrated)
	if err != nil {
		return nil, err
	}
	to, err := inspect(ctx, desired)
	if err != nil {
		return nil, err
	}
	// The scratch schemas have different names; only their contents count.
	to.Name = from.Name
	drv, err := atlasDriver(migrated.DB, dialect)
	if err != nil {
		return nil, err
	}
	changes, err := drv.SchemaDiff(from, to)
	if err != nil {
		return nil, fmt.Errorf("diff schemas: %w", err)
	}
	return changes, nil
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
