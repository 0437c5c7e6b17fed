package schema_test

import (
	"context"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/schema"
)

// triggers are what atlas does not compare: the database's own triggers.
func triggers(t *testing.T, db *bun.DB) []string {
	t.Helper()
	q := "SELECT name FROM sqlite_master WHERE type = 'trigger'"
	if database.Dialect(db) == config.Postgres {
		q = `SELECT tgname || ':' || p.proname FROM pg_trigger tr
			JOIN pg_class c ON c.oid = tr.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
			JOIN pg_proc p ON p.oid = tr.tgfoid
			WHERE NOT tr.tgisinternal AND n.nspname = current_schema()`
	}
	var names []string
	require.NoError(t, db.NewRaw(q).Scan(context.Background(), &names))
	sort.Strings(names)
	return names
}

func versionOf(name string) string { v, _, _ := strings.Cut(name, "_"); return v }

// Undoing the migrations one by one leaves, after each step, the schema
// (tables, columns, indexes, keys and triggers) that migrating a fresh
// database up to the previous version builds; undone to nothing and
// migrated again, the database is what the models describe.
func TestDownUndoesEachMigration(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		dir := migrationsOf(t, db)
		_, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err)
		ups := upFiles(t, dir)

		for i := len(ups) - 1; i > 0; i-- {
			undone, err := schema.Down(ctx, db, dir, "", false, testenv.Logger())
			require.NoError(t, err, ups[i])
			require.Equal(t, []string{strings.TrimSuffix(ups[i], ".sql")}, undone)

			ref := testenv.Scratch(t, url)
			_, err = schema.UpTo(ctx, ref, dir, versionOf(ups[i-1]), testenv.Logger())
			require.NoError(t, err)
			changes, err := schema.Compare(ctx, db, ref)
			require.NoError(t, err)
			assert.Empty(t, changes, "after undoing %s", ups[i])
			assert.Equal(t, triggers(t, ref), triggers(t, db), "triggers after undoing %s", ups[i])
		}

		undone, err := schema.Down(ctx, db, dir, schema.Everything, false, testenv.Logger())
		require.NoError(t, err)
		assert.Len(t, undone, 1)
		var tables []string
		q := "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
		if database.Dialect(db) == config.Postgres {
			q = "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()"
		}
		require.NoError(t, db.NewRaw(q).Scan(ctx, &tables))
		assert.Equal(t, []string{"atlas_schema_revisions"}, tables)

		applied, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err)
		assert.Len(t, applied, len(ups))
		desired := testenv.Scratch(t, url)
		changes, err := schema.Drift(ctx, testenv.Scratch(t, url), desired, dir, testenv.Logger())
		require.NoError(t, err)
		require.Empty(t, changes)
		changes, err = schema.Compare(ctx, db, desired)
		require.NoError(t, err)
		assert.Empty(t, changes, "up, down to nothing and up again gives the models' schema")
		_, err = domain.Assistant(ctx, db)
		assert.NoError(t, err)
	})
}

// A down that would drop a table holding rows refuses, changing nothing,
// unless forced; the plan says what it would drop.
func TestDownKeepsRowsUnlessForced(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		dir := migrationsOf(t, db)
		_, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err)
		ups := upFiles(t, dir)
		root, err := domain.CreateUser(ctx, db, domain.NewUser{Username: "root", Email: "r@example.com", HashedPassword: "x"})
		require.NoError(t, err)
		_, err = domain.CreateWebhook(ctx, db, "https://example.com", domain.EventList{domain.EventReportCreated}, "s", root.ID)
		require.NoError(t, err)

		webhooks := slices.IndexFunc(ups, func(n string) bool { return strings.HasSuffix(n, "_webhooks.sql") })
		require.Positive(t, webhooks)
		before := versionOf(ups[webhooks-1])
		plan, err := schema.DownPlan(ctx, db, dir, before)
		require.NoError(t, err)
		require.Len(t, plan, len(ups)-webhooks)
		last := plan[len(plan)-1]
		assert.Equal(t, versionOf(ups[webhooks]), last.Version)
		assert.True(t, last.Loses())
		assert.Contains(t, last.Dropped(), "webhook_subscriptions (1 rows)")

		_, err = schema.Down(ctx, db, dir, before, false, testenv.Logger())
		require.ErrorIs(t, err, schema.ErrDataLoss)
		status, err := schema.Status(ctx, db, dir)
		require.NoError(t, err)
		assert.False(t, status[len(status)-1].Applied.IsZero(), "nothing was undone")
		subs, err := domain.ListWebhooks(ctx, db)
		require.NoError(t, err)
		assert.Len(t, subs, 1)

		undone, err := schema.Down(ctx, db, dir, before, true, testenv.Logger())
		require.NoError(t, err)
		assert.Len(t, undone, len(plan))
		_, err = domain.ListWebhooks(ctx, db)
		assert.Error(t, err, "the table is gone")

		_, err = schema.Down(ctx, db, dir, "20000101000000", false, testenv.Logger())
		assert.ErrorContains(t, err, "no migration has version")
	})
}
