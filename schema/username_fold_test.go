package schema_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/schema"
)

// The migration that makes usernames unique whatever their case meets a
// database where they were not: it does not fail, the oldest of each group
// keeps its name and the later ones get their id appended.
func TestUsernameFoldRenamesCaseVariants(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Scratch(t, url)
		dir := migrationsOf(t, db)
		ups := upFiles(t, dir)
		fold := slices.IndexFunc(ups, func(n string) bool { return strings.HasSuffix(n, "_username_fold.sql") })
		require.Positive(t, fold)
		_, err := schema.UpTo(ctx, db, dir, versionOf(ups[fold-1]), testenv.Logger())
		require.NoError(t, err)

		// Written with the columns of the first migration, as the old
		// versions of the app wrote them.
		ids := map[string]int64{}
		for i, name := range []string{"boss", "Boss", "carol", "BOSS", "Assistant", strings.Repeat("x", 99) + "Y", strings.Repeat("X", 99) + "y"} {
			var id int64
			require.NoError(t, db.NewRaw(`INSERT INTO users (username, email, hashed_password, is_active, is_superuser, is_system, created_at, updated_at)
				VALUES (?, ?, 'x', ?, ?, ?, ?, ?) RETURNING id`, name, "user"+strconv.Itoa(i)+"@example.com",
				true, false, false, domain.Now(), domain.Now()).Scan(ctx, &id), name)
			ids[name] = id
		}

		applied, err := schema.Up(ctx, db, dir, testenv.Logger())
		require.NoError(t, err, "case variants do not stop the migration")
		assert.Contains(t, applied, strings.TrimSuffix(ups[fold], ".sql"))

		var rows []struct {
			ID       int64  `bun:"id"`
			Username string `bun:"username"`
		}
		require.NoError(t, db.NewSelect().Table("users").Column("id", "username").Order("id").Scan(ctx, &rows))
		got := map[int64]string{}
		for _, r := range rows {
			got[r.ID] = r.Username
		}
		id := func(name string) string { return strconv.FormatInt(ids[name], 10) }
		long := strings.Repeat("X", 99) + "y"
		assert.Equal(t, "boss", got[ids["boss"]], "the oldest keeps its name")
		assert.Equal(t, "Boss-"+id("Boss"), got[ids["Boss"]])
		assert.Equal(t, "BOSS-"+id("BOSS"), got[ids["BOSS"]])
		assert.Equal(t, "carol", got[ids["carol"]], "a name without variants stays")
		assert.Equal(t, "Assistant-"+id("Assistant"), got[ids["Assistant"]], "the assistant is older than anyone")
		assert.Equal(t, long[:99-len(id(long))]+"-"+id(long), got[ids[long]], "cut to fit 100 characters")
		assert.Len(t, got[ids[long]], 100)
		a, err := domain.Assistant(ctx, db)
		require.NoError(t, err)
		assert.Equal(t, domain.AssistantUsername, a.Username)

		// From now on the database refuses another spelling.
		_, err = domain.CreateUser(ctx, db, domain.NewUser{Username: "bOSS", Email: "b@example.com", HashedPassword: "x"})
		assert.ErrorIs(t, err, domain.ErrConflict)
		u, err := domain.UserByLogin(ctx, db, "Boss-"+id("Boss"))
		require.NoError(t, err, "a renamed account signs in with its new name")
		assert.Equal(t, ids["Boss"], u.ID)
	})
}
