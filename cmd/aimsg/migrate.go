package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"ariga.io/atlas/sql/migrate"
	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/schema"
)

func newMigrateCmd(p *program) *cobra.Command {
	var down struct {
		to    string
		force bool
	}
	downCmd := &cobra.Command{
		Use:   "down",
		Short: "Undo the last migration, or every one after --to",
		Long: `Undo the last migration, or every one after --to VERSION (0: all).
It refuses to drop tables holding rows without --force.`,
		Args: positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, _ []string) error {
			return migrateDown(ctx, e, down.to, down.force)
		}),
	}
	downCmd.Flags().StringVar(&down.to, "to", "", "undo every migration after `VERSION` (0: all); default: the last one")
	downCmd.Flags().BoolVar(&down.force, "force", false, "drop tables even when they hold rows")

	var diff planFlags
	diffCmd := &cobra.Command{
		Use:   "diff NAME",
		Short: "Write the next migration of both dialects from the models, with its reverse file",
		Args:  positional(cobra.ExactArgs(1)),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, a []string) error {
			return migrateDiff(ctx, e, diff, a[0])
		}),
	}
	diff.add(diffCmd)

	var downs planFlags
	downsCmd := &cobra.Command{
		Use:   "downs",
		Short: "Write the reverse files that are missing, planned with atlas",
		Args:  positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, _ []string) error {
			return migrateDowns(ctx, e, downs)
		}),
	}
	downs.add(downsCmd)

	var hashDir string
	hashCmd := &cobra.Command{
		Use:   "hash",
		Short: "Rewrite atlas.sum after editing an unapplied migration",
		Args:  positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(_ context.Context, e *env, _ []string) error {
			return migrateHash(e, hashDir)
		}),
	}
	addDirFlag(hashCmd, &hashDir)

	return group(&cobra.Command{
		Use:     "migrate",
		Short:   "Apply or inspect database migrations",
		GroupID: groupRun,
	},
		&cobra.Command{
			Use:   "up",
			Short: "Apply pending migrations to DATABASE_URL",
			Args:  positional(cobra.NoArgs),
			RunE:  p.needs(config.NoTokens, migrateUp),
		},
		downCmd,
		&cobra.Command{
			Use:   "status",
			Short: "List migrations, applied and pending, and what down would undo",
			Args:  positional(cobra.NoArgs),
			RunE:  p.needs(config.NoTokens, migrateStatus),
		},
		diffCmd, downsCmd, hashCmd,
	)
}

// planFlags are the flags of the commands that plan migrations on scratch
// databases.
type planFlags struct {
	devURL, dir string
}

func (f *planFlags) add(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.devURL, "dev-url", "", "PostgreSQL database to plan on, at `URL` (scratch schemas are created and dropped); default: DEV_DATABASE_URL")
	addDirFlag(cmd, &f.dir)
}

// addDirFlag is --dir, where the migrations' source lives: a folder per
// dialect.
func addDirFlag(cmd *cobra.Command, dir *string) {
	cmd.Flags().StringVar(dir, "dir", filepath.Join("schema", "migrations"), "source `DIR` of the migrations, a folder per dialect")
	_ = cmd.MarkFlagDirname("dir")
}

func migrateUp(ctx context.Context, e *env, _ []string) error {
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
	// The knowledge base is indexed in KNOWLEDGE_LANGUAGE: a change of it
	// indexes the articles again, here, before the new version serves.
	if err := domain.SetKnowledgeLanguage(ctx, db, cfg.KnowledgeLanguage); err != nil {
		return fmt.Errorf("knowledge language: %w", err)
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

func migrateStatus(ctx context.Context, e *env, _ []string) error {
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
func migrateDown(ctx context.Context, e *env, to string, force bool) error {
	db, err := database.Open(ctx, e.cfg.DatabaseURL, e.logs.Root)
	if err != nil {
		return err
	}
	defer db.Close()
	undone, err := schema.Down(ctx, db, schema.Migrations(database.Dialect(db)), to, force, e.logs.Root)
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
func migrateDiff(ctx context.Context, e *env, f planFlags, name string) error {
	devURL := cmp.Or(f.devURL, e.getenv("DEV_DATABASE_URL"))
	if devURL == "" {
		return errors.New("migrate diff needs a PostgreSQL dev database: --dev-url or DEV_DATABASE_URL")
	}
	version := time.Now().UTC().Format("20060102150405")
	for _, base := range []string{devURL, "sqlite:///:memory:"} {
		dialect, _, err := config.ParseDatabaseURL(base)
		if err != nil {
			return fmt.Errorf("dev url: %w", err)
		}
		path := filepath.Join(f.dir, string(dialect))
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
func migrateDowns(ctx context.Context, e *env, f planFlags) error {
	devURL := cmp.Or(f.devURL, e.getenv("DEV_DATABASE_URL"))
	if devURL == "" {
		return errors.New("migrate downs needs a PostgreSQL dev database: --dev-url or DEV_DATABASE_URL")
	}
	for _, base := range []string{devURL, "sqlite:///:memory:"} {
		dialect, _, err := config.ParseDatabaseURL(base)
		if err != nil {
			return fmt.Errorf("dev url: %w", err)
		}
		if err := writeDowns(ctx, e, base, filepath.Join(f.dir, string(dialect))); err != nil {
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

// migrateHash rewrites the atlas.sum of both dialects under dir.
func migrateHash(e *env, dir string) error {
	for _, d := range []config.Dialect{config.Postgres, config.SQLite} {
		path := filepath.Join(dir, string(d))
		if err := schema.Rehash(path); err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		fmt.Fprintf(e.stdout, "rehashed %s\n", filepath.Join(path, migrate.HashFileName))
	}
	return nil
}
