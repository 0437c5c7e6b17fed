package schema_test

import (
	"context"
	"io/fs"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"ariga.io/atlas/sql/migrate"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/schema"
)

func migrationsOf(t *testing.T, db *bun.DB) fs.FS {
	t.Helper()
	return schema.Migrations(database.Dialect(db))
}

// sqlFiles are the migrations and their reverse files.
func sqlFiles(t *testing.T, dir fs.FS) []string {
	t.Helper()
	names, err := fs.Glob(dir, "*.sql")
	require.NoError(t, err)
	require.NotEmpty(t, names)
	return names
}

// upFiles are the migrations alone, in order.
func upFiles(t *testing.T, dir fs.FS) []string {
	t.Helper()
	var ups []string
	for _, n := range sqlFiles(t, dir) {
		if !strings.HasSuffix(n, ".down.sql") {
			ups = append(ups, n)
		}
	}
	return ups
}

func TestUpFromEmptyThenNoop(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		dir := migrationsOf(t, db)

		before, err := schema.Status(ctx, db, dir)
		require.NoError(t, err)
		for _, f := range before {
			assert.True(t, f.Applied.IsZero(), "%s applied before Up", f.Version)
		}

		applied, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err)
		assert.Len(t, applied, len(upFiles(t, dir)))

		again, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err)
		assert.Empty(t, again, "a second run applies nothing")

		after, err := schema.Status(ctx, db, dir)
		require.NoError(t, err)
		for _, f := range after {
			assert.False(t, f.Applied.IsZero(), "%s still pending", f.Version)
		}

		// The migrations create the assistant, and the models read it back.
		a, err := domain.Assistant(ctx, db)
		require.NoError(t, err)
		assert.True(t, a.IsSystem)
		assert.False(t, a.CreatedAt.IsZero())
	})
}

func TestMigrationsMatchModels(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		migrated, desired := testenv.Scratch(t, url), testenv.Scratch(t, url)
		changes, err := schema.Drift(context.Background(), migrated, desired, migrationsOf(t, migrated), testenv.Logger())
		require.NoError(t, err)
		assert.Empty(t, changes, "the models differ from the migrations: run `make migrate-diff NAME=...`")
	})
}

// copyDir copies a migration directory so a test can change it.
func copyDir(t *testing.T, dir fs.FS) fstest.MapFS {
	t.Helper()
	out := fstest.MapFS{}
	require.NoError(t, fs.WalkDir(dir, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(dir, p)
		out[p] = &fstest.MapFile{Data: b}
		return err
	}))
	return out
}

// rehash rewrites atlas.sum of an in-memory directory, as `migrate hash` does.
func rehash(t *testing.T, dir fstest.MapFS) {
	t.Helper()
	var files []migrate.File
	for _, n := range sqlFiles(t, dir) {
		files = append(files, migrate.NewLocalFile(n, dir[n].Data))
	}
	sum, err := migrate.NewHashFile(files)
	require.NoError(t, err)
	b, err := sum.MarshalText()
	require.NoError(t, err)
	dir[migrate.HashFileName] = &fstest.MapFile{Data: b}
}

func TestTamperedMigrationIsRefused(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		dir := copyDir(t, migrationsOf(t, db))
		first := upFiles(t, dir)[0]
		dir[first].Data = append(dir[first].Data, []byte("\nCREATE TABLE sneaky (id integer);\n")...)

		_, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.ErrorIs(t, err, schema.ErrChecksum)
		_, err = schema.Status(ctx, db, dir)
		require.ErrorIs(t, err, schema.ErrChecksum)

		_, err = db.ExecContext(ctx, "SELECT 1 FROM users")
		assert.Error(t, err, "nothing was applied")
	})
}

func TestFailingMigrationLeavesNothingBehind(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		dir := copyDir(t, migrationsOf(t, db))
		dir["99990101000000_broken.sql"] = &fstest.MapFile{Data: []byte(
			"CREATE TABLE half_done (id integer);\nINSERT INTO no_such_table VALUES (1);\n")}
		rehash(t, dir)

		applied, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.Error(t, err)
		assert.Len(t, applied, len(upFiles(t, dir))-1, "the good files before it are applied")

		_, err = db.ExecContext(ctx, "SELECT 1 FROM half_done")
		assert.Error(t, err, "the broken file's first statement was rolled back")
		status, err := schema.Status(ctx, db, dir)
		require.NoError(t, err)
		last := status[len(status)-1]
		assert.Equal(t, "99990101000000", last.Version)
		assert.True(t, last.Applied.IsZero(), "the broken file is still pending")

		// Fixed, it applies on the next run.
		dir["99990101000000_broken.sql"].Data = []byte("CREATE TABLE half_done (id integer);\n")
		rehash(t, dir)
		applied, err = schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err)
		assert.Equal(t, []string{"99990101000000_broken"}, applied)
	})
}

func TestConcurrentMigratorsApplyOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, base string) {
		ctx := context.Background()
		url := testenv.ScratchURL(t, base)
		const migrators = 4
		dbs := make([]*bun.DB, migrators)
		for i := range dbs {
			dbs[i] = testenv.Open(t, url)
		}
		dir := migrationsOf(t, dbs[0])
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			total int
			errs  []error
		)
		for _, db := range dbs {
			wg.Go(func() {
				applied, err := schema.Up(ctx, db, dir, testenv.Logger())
				mu.Lock()
				defer mu.Unlock()
				total += len(applied)
				if err != nil {
					errs = append(errs, err)
				}
			})
		}
		wg.Wait()
		require.Empty(t, errs)
		assert.Equal(t, len(upFiles(t, dir)), total, "each file applied exactly once")
	})
}

func TestADatabaseWithTablesButNoHistoryIsRefused(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		_, err := db.ExecContext(ctx, "CREATE TABLE legacy (id integer)")
		require.NoError(t, err)
		_, err = schema.Up(ctx, db, migrationsOf(t, db), testenv.Logger())
		require.ErrorContains(t, err, `table "legacy" but no migration history`)
	})
}
