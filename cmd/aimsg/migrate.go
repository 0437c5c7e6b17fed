package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"ariga.io/atlas/sql/migrate"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/schema"
)

const migrateUsage = `usage: aimsg migrate <command>

  up                 apply pending migrations to DATABASE_URL
  down [--to VERSION] [--force]
                     undo the last migration, or every one after VERSION (0: all);
                     refuses to drop tables holding rows without --force
  status             list migrations, applied and pending, and what down would undo
  diff [flags] NAME  write the next migration of both dialects from the models,
                     with its reverse file
  downs [flags]      write the reverse files that are missing, planned with atlas
  hash               rewrite atlas.sum after editing an unapplied migration`

// migrateCmd runs `aimsg migrate ...`.
func migrateCmd(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError(migrateUsage)
	}
	switch args[0] {
	case "up":
		return migrateUp(ctx, e)
	case "status":
		return migrateStatus(ctx, e)
	case "down":
		return migrateDown(ctx, e, args[1:])
	case "diff":
		return migrateDiff(ctx, e, args[1:])
	case "downs":
		return migrateDowns(ctx, e, args[1:])
	case "hash":
		return migrateHash(e, args[1:])
	}
	return usageError(migrateUsage)
}

func migrateUp(ctx context.Context, e *env) error {
	cfg := e.cfg
	db, err := database.Open(ctx, cfg.DatabaseURL, e.logs.Root)
	if err != nil {
		return err
	}
	defer db.Close()
	applied, err := schema.Up(ctx, db, schema.Migrations(database.Dialect(db)), e.logs.Root)
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		fmt.Fprintln(e.stdout, "database is up to date")
		return nil
	}
	for _, name := range applied {
		fmt.Fprintln(e.stdout, "applied", name)
	}
	return nil
}

func migrateStatus(ctx context.Context, e *env) error {
	cfg := e.cfg
	db, err := database.Open(ctx, cfg.DatabaseURL, e.logs.Root)
	if err != nil {
		return err
	}
	defer db.Close()
	files, err := schema.Status(ctx, db, schema.Migrations(database.Dialect(db)))
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "VERSION\tDESCRIPTION\tSTATE\tAPPLIED AT")
	pending := 0
	for _, f := range files {
		state, at := "applied", f.Applied.UTC().Format(time.RFC3339)
		if f.Applied.IsZero() {
			state, at = "pending", "-"
			pending++
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\n", f.Version, f.Description, state, at)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d applied, %d pending\n", len(files)-pending, pending)
	steps, err := schema.DownPlan(ctx, db, schema.Migrations(database.Dialect(db)), "")
	if err != nil {
		return err
	}
	for _, s := range steps {
		note := ""
		if len(s.Drops) > 0 {
			note = ", dropping " + s.Dropped()
		}
		fmt.Fprintf(e.stdout, "down would undo %s_%s%s\n", s.Version, s.Description, note)
	}
	return nil
}

// migrateDown undoes the last migration, or those after --to.
func migrateDown(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate down", flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	to := fs.String("to", "", "undo every migration after this version (0: all); default: the last one")
	force := fs.Bool("force", false, "drop tables even when they hold rows")
	if err := fs.Parse(args); err != nil || fs.NArg() != 0 {
		return usageError("usage: aimsg migrate down [--to VERSION] [--force]")
	}
	db, err := database.Open(ctx, e.cfg.DatabaseURL, e.logs.Root)
	if err != nil {
		return err
	}
	defer db.Close()
	undone, err := schema.Down(ctx, db, schema.Migrations(database.Dialect(db)), *to, *force, e.logs.Root)
	for _, name := range undone {
		fmt.Fprintln(e.stdout, "undid", name)
	}
	if err != nil {
		return err
	}
	if len(undone) == 0 {
		fmt.Fprintln(e.stdout, "nothing to undo")
	}
	return nil
}

// migrateDiff plans the difference between the migrations and the models
// on scratch databases, the same version for both dialects.
func migrateDiff(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate diff", flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	devURL := fs.String("dev-url", e.getenv("DEV_DATABASE_URL"), "PostgreSQL database to plan on (scratch schemas are created and dropped)")
	dir := fs.String("dir", filepath.Join("schema", "migrations"), "source folder of the migrations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return usageError("usage: aimsg migrate diff [--dev-url URL] [--dir DIR] NAME")
	}
	if *devURL == "" {
		return errors.New("migrate diff needs a PostgreSQL dev database: --dev-url or DEV_DATABASE_URL")
	}
	name, version := fs.Arg(0), time.Now().UTC().Format("20060102150405")
	for _, base := range []string{*devURL, "sqlite:///:memory:"} {
		dialect, _, err := config.ParseDatabaseURL(base)
		if err != nil {
			return fmt.Errorf("dev url: %w", err)
		}
		path := filepath.Join(*dir, string(dialect))
		written, err := diffOne(ctx, e, base, path, version, name)
		if err != nil {
			return fmt.Errorf("%s: %w", dialect, err)
		}
		if written == "" {
			fmt.Fprintf(e.stdout, "%s: the migrations match the models, nothing written\n", dialect)
			continue
		}
		fmt.Fprintf(e.stdout, "%s: wrote %s\n", dialect, written)
		if err := writeDowns(ctx, e, base, path); err != nil {
			return fmt.Errorf("%s: %w", dialect, err)
		}
	}
	return nil
}

// migrateDowns writes the reverse files that are missing.
func migrateDowns(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("migrate downs", flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	devURL := fs.String("dev-url", e.getenv("DEV_DATABASE_URL"), "PostgreSQL database to plan on (scratch schemas are created and dropped)")
	dir := fs.String("dir", filepath.Join("schema", "migrations"), "source folder of the migrations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *devURL == "" {
		return errors.New("migrate downs needs a PostgreSQL dev database: --dev-url or DEV_DATABASE_URL")
	}
	for _, base := range []string{*devURL, "sqlite:///:memory:"} {
		dialect, _, err := config.ParseDatabaseURL(base)
		if err != nil {
			return fmt.Errorf("dev url: %w", err)
		}
		if err := writeDowns(ctx, e, base, filepath.Join(*dir, string(dialect))); err != nil {
			return fmt.Errorf("%s: %w", dialect, err)
		}
	}
	return nil
}

// writeDowns plans, with atlas on scratch databases, the reverse file of
// every migration at path that has none.
func writeDowns(ctx context.Context, e *env, baseURL, path string) error {
	missing, err := schema.MissingDowns(os.DirFS(path))
	if err != nil {
		return err
	}
	for _, up := range missing {
		before, dropBefore, err := database.OpenScratch(ctx, baseURL, "aimsg_plan_before", e.logs.Root)
		if err != nil {
			return err
		}
		after, dropAfter, err := database.OpenScratch(ctx, baseURL, "aimsg_plan_after", e.logs.Root)
		if err != nil {
			dropBefore()
			return err
		}
		written, err := schema.WriteDown(ctx, before, after, path, up, e.logs.Root)
		dropAfter()
		dropBefore()
		if err != nil {
			return fmt.Errorf("reverse of %s: %w", up.Name(), err)
		}
		fmt.Fprintf(e.stdout, "wrote %s\n", written)
	}
	return nil
}

func diffOne(ctx context.Context, e *env, baseURL, path, version, name string) (string, error) {
	migrated, dropMigrated, err := database.OpenScratch(ctx, baseURL, "aimsg_plan_migrated", e.logs.Root)
	if err != nil {
		return "", err
	}
	defer dropMigrated()
	desired, dropDesired, err := database.OpenScratch(ctx, baseURL, "aimsg_plan_desired", e.logs.Root)
	if err != nil {
		return "", err
	}
	defer dropDesired()
	changes, err := schema.Drift(ctx, migrated, desired, os.DirFS(path), e.logs.Root)
	if err != nil {
		return "", err
	}
	if len(changes) == 0 {
		return "", nil
	}
	return schema.WriteMigration(ctx, migrated, path, version, name, changes)
}

func migrateHash(e *env, args []string) error {
	fs := flag.NewFlagSet("migrate hash", flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	dir := fs.String("dir", filepath.Join("schema", "migrations"), "source folder of the migrations")
	if err := fs.Parse(args); err != nil {
		return err
	}
	for _, d := range []config.Dialect{config.Postgres, config.SQLite} {
		path := filepath.Join(*dir, string(d))
		if err := schema.Rehash(path); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		fmt.Fprintf(e.stdout, "rehashed %s\n", filepath.Join(path, migrate.HashFileName))
	}
	return nil
}

// usageError is a wrong command line; run prints it and exits with 2.
type usageError string

func (u usageError) Error() string { return string(u) }
