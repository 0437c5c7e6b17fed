package schema

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"ariga.io/atlas/sql/migrate"
	"github.com/uptrace/bun"
)

// Step is one applied migration a down undoes.
type Step struct {
	Version     string
	Description string
	// Drops are the tables its reverse file drops, with the rows they hold
	// now; a table it rebuilds (SQLite's way to alter one) is not dropped.
	Drops []TableRows
}

// TableRows is a table and how many rows it holds.
type TableRows struct {
	Table string
	Rows  int
}

// Loses reports whether undoing the step deletes rows.
func (s Step) Loses() bool {
	return slices.ContainsFunc(s.Drops, func(t TableRows) bool { return t.Rows > 0 })
}

// ErrDataLoss refuses a down that would drop tables holding rows.
var ErrDataLoss = errors.New("the down would drop tables that hold rows (--force drops them)")

// Everything is the target of a down that undoes every migration.
const Everything = "0"

// DownPlan lists, newest first, the applied migrations a down to version
// to undoes: those after it; "" undoes the last one, Everything all.
func DownPlan(ctx context.Context, db *bun.DB, dir fs.FS, to string) ([]Step, error) {
	steps, _, err := downSteps(ctx, db, fsDir{dir}, to)
	return steps, err
}

// Down undoes the migrations after version to ("": the last one applied,
// Everything: all), newest first, each with its reverse file and the
// removal of its revision in one transaction, under the migration lock.
// Without force it refuses, before changing anything, when a step would
// drop a table holding rows. It returns what it undid.
func Down(ctx context.Context, db *bun.DB, dir fs.FS, to string, force bool, logger *slog.Logger) ([]string, error) {
	unlock, err := lockMigrations(ctx, db, logger)
	if err != nil {
		return nil, err
	}
	defer unlock()
	d := fsDir{dir}
	steps, files, err := downSteps(ctx, db, d, to)
	if err != nil {
		return nil, err
	}
	if !force {
		for _, s := range steps {
			if s.Loses() {
				return nil, fmt.Errorf("undo %s_%s: %w: %s", s.Version, s.Description, ErrDataLoss, s.Dropped())
			}
		}
	}
	undone := make([]string, 0, len(steps))
	for i, s := range steps {
		start := time.Now()
		if err := undoFile(ctx, db, files[i], s.Version); err != nil {
			return undone, fmt.Errorf("undo migration %s: %w", describe(files[i]), err)
		}
		logger.Info("undid migration", "version", s.Version, "description", s.Description,
			"dropped", s.Dropped(), "duration", time.Since(start))
		undone = append(undone, s.Version+"_"+s.Description)
	}
	return undone, nil
}

// downSteps are the steps of a down to `to` and their reverse files.
func downSteps(ctx context.Context, db *bun.DB, d fsDir, to string) ([]Step, []migrate.File, error) {
	if err := migrate.Validate(d); err != nil {
		return nil, nil, fmt.Errorf("validate migrations: %w", err)
	}
	if err := ensureRevisionTable(ctx, db); err != nil {
		return nil, nil, err
	}
	revs, err := revisions{db}.ReadRevisions(ctx)
	if err != nil {
		return nil, nil, err
	}
	files, err := d.Files()
	if err != nil {
		return nil, nil, err
	}
	byVersion := map[string]migrate.File{}
	for _, f := range files {
		byVersion[f.Version()] = f
	}
	if to != "" && to != Everything {
		if _, ok := byVersion[to]; !ok {
			return nil, nil, fmt.Errorf("no migration has version %q", to)
		}
	}
	var (
		steps []Step
		downs []migrate.File
	)
	for i := len(revs) - 1; i >= 0; i-- {
		r := revs[i]
		if to != "" && r.Version <= to && to != Everything {
			break
		}
		up, ok := byVersion[r.Version]
		if !ok {
			return nil, nil, fmt.Errorf("applied migration %s has no file here: run a newer aimsg to undo it", r.Version)
		}
		down, err := d.downOf(up)
		if err != nil {
			return nil, nil, err
		}
		drops, err := droppedTables(ctx, db, down)
		if err != nil {
			return nil, nil, err
		}
		steps = append(steps, Step{Version: r.Version, Description: up.Desc(), Drops: drops})
		downs = append(downs, down)
		if to == "" {
			break
		}
	}
	return steps, downs, nil
}

// undoFile runs a reverse file and deletes its migration's revision.
func undoFile(ctx context.Context, db *bun.DB, down migrate.File, version string) error {
	stmts, err := down.Stmts()
	if err != nil {
		return fmt.Errorf("read statements: %w", err)
	}
	return inMigrationTx(ctx, db, func(tx bun.Tx) error {
		for _, stmt := range stmts {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("%s: %w", firstLine(stmt), err)
			}
		}
		return revisions{tx}.DeleteRevision(ctx, version)
	})
}

var (
	dropTable   = regexp.MustCompile("(?i)^\\s*DROP\\s+TABLE\\s+(?:IF\\s+EXISTS\\s+)?[\"`]?(\\w+)[\"`]?")
	renameTable = regexp.MustCompile("(?i)ALTER\\s+TABLE\\s+[\"`]?\\w+[\"`]?\\s+RENAME\\s+TO\\s+[\"`]?(\\w+)[\"`]?")
)

// droppedTables are the tables a reverse file drops and does not rebuild,
// with their rows.
func droppedTables(ctx context.Context, db *bun.DB, down migrate.File) ([]TableRows, error) {
	stmts, err := down.Stmts()
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", down.Name(), err)
	}
	var dropped, rebuilt []string
	for _, stmt := range stmts {
		stmt = stripComments(stmt)
		if m := dropTable.FindStringSubmatch(stmt); m != nil {
			dropped = append(dropped, m[1])
		}
		if m := renameTable.FindStringSubmatch(stmt); m != nil {
			rebuilt = append(rebuilt, m[1])
		}
	}
	var out []TableRows
	for _, t := range dropped {
		if slices.Contains(rebuilt, t) {
			continue
		}
		var n int
		// A table the file both creates and drops (a rebuild's temporary
		// copy) does not exist yet and holds nothing.
		if err := db.NewRaw("SELECT count(*) FROM ?", bun.Ident(t)).Scan(ctx, &n); err != nil && !missingTable(err) {
			return nil, fmt.Errorf("count rows of %s: %w", t, err)
		}
		out = append(out, TableRows{Table: t, Rows: n})
	}
	return out, nil
}

func missingTable(err error) bool {
	msg := err.Error()
	return strings.Contains(msg, "no such table") || strings.Contains(msg, "does not exist")
}

// stripComments drops the -- lines atlas puts before each statement.
func stripComments(stmt string) string {
	var keep []string
	for _, line := range strings.Split(stmt, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(line), "--") {
			keep = append(keep, line)
		}
	}
	return strings.Join(keep, "\n")
}

func firstLine(stmt string) string {
	stmt = strings.TrimSpace(stripComments(stmt))
	line, _, _ := strings.Cut(stmt, "\n")
	return line
}

// Dropped says which tables the step drops and what they hold:
// "reports (3 rows), roles (0 rows)".
func (s Step) Dropped() string {
	parts := make([]string, 0, len(s.Drops))
	for _, t := range s.Drops {
		parts = append(parts, fmt.Sprintf("%s (%d rows)", t.Table, t.Rows))
	}
	return strings.Join(parts, ", ")
}
