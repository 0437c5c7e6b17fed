package database_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/internal/testenv"
)

// typed is one value of each kind the models use.
type typed struct {
	N    int64     `bun:"n"`
	S    string    `bun:"s"`
	B    bool      `bun:"b"`
	At   time.Time `bun:"at"`
	Raw  []byte    `bun:"raw"`
	None *string   `bun:"none"`
}

// bun writes values into the SQL text: a read is prepared once per
// connection and reused, a write (new values every time) is never
// prepared, and every type comes back as it went in either way.
func TestPostgresPreparesReadsOnlyAndKeepsTypes(t *testing.T) {
	for _, u := range testenv.DatabaseURLs(t) {
		if d, _, _ := config.ParseDatabaseURL(u); d != config.Postgres {
			continue
		}
		ctx := context.Background()
		conn, err := testenv.Open(t, u).Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		prepared := func() int {
			var n int
			require.NoError(t, conn.NewRaw("SELECT count(*) FROM pg_prepared_statements").Scan(ctx, &n))
			return n
		}
		at := time.Date(2026, 11, 26, 4, 5, 6, 789000000, time.UTC)
		want := typed{N: 1 << 40, S: "it's \"quoted\" ünïcode ✓", B: true, At: at, Raw: []byte{0, 1, 254, 255}}
		check := func(got typed) {
			t.Helper()
			assert.Equal(t, want.N, got.N)
			assert.Equal(t, want.S, got.S)
			assert.True(t, got.B)
			assert.True(t, at.Equal(got.At), "got %v", got.At)
			assert.Equal(t, want.Raw, got.Raw)
			assert.Nil(t, got.None)
		}
		columns := "?::bigint AS n, ?::text AS s, ?::boolean AS b, ?::timestamptz AS at, ?::bytea AS raw, NULL::text AS none"
		args := []any{want.N, want.S, want.B, want.At, want.Raw}

		before := prepared()
		for range 3 {
			var got typed
			require.NoError(t, conn.NewRaw("SELECT "+columns, args...).Scan(ctx, &got))
			check(got)
		}
		assert.Equal(t, before+1, prepared(), "a read repeated is prepared once")

		_, err = conn.ExecContext(ctx, "CREATE TEMP TABLE typed (n bigint, s text, b boolean, at timestamptz, raw bytea, none text)")
		require.NoError(t, err)
		before = prepared()
		for i := range 3 {
			var got typed
			require.NoError(t, conn.NewRaw("INSERT INTO typed SELECT "+columns+" WHERE ?::int > 0 RETURNING *",
				append(args, i+1)...).Scan(ctx, &got))
			check(got)
		}
		assert.Equal(t, before, prepared(), "writes are not prepared")
	}
}

// A default_query_exec_mode in the URL is pgx's, for every statement (a
// pooler that cannot keep prepared statements needs simple_protocol).
func TestPostgresExecModeFromTheURLWins(t *testing.T) {
	for _, u := range testenv.DatabaseURLs(t) {
		if d, _, _ := config.ParseDatabaseURL(u); d != config.Postgres {
			continue
		}
		ctx := context.Background()
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		conn, err := testenv.Open(t, u+sep+"default_query_exec_mode=simple_protocol").Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		for i := range 3 {
			var n int
			require.NoError(t, conn.NewRaw("SELECT ?::int", i).Scan(ctx, &n))
			assert.Equal(t, i, n)
		}
		var prepared int
		require.NoError(t, conn.NewRaw("SELECT count(*) FROM pg_prepared_statements").Scan(ctx, &prepared))
		assert.Zero(t, prepared)
	}
}

// pool_max_conns in DATABASE_URL sizes the process's pool (so a deployment
// of many processes fits in max_connections); it is never sent to the
// server, and a bad value is refused.
func TestPostgresPoolSizeFromTheURL(t *testing.T) {
	for _, u := range testenv.DatabaseURLs(t) {
		if d, _, _ := config.ParseDatabaseURL(u); d != config.Postgres {
			continue
		}
		sep := "?"
		if strings.Contains(u, "?") {
			sep = "&"
		}
		assert.Equal(t, 25, testenv.Open(t, u).DB.Stats().MaxOpenConnections, "the default")
		db := testenv.Open(t, u+sep+"pool_max_conns=3")
		assert.Equal(t, 3, db.DB.Stats().MaxOpenConnections)
		var n int
		require.NoError(t, db.NewRaw("SELECT 1").Scan(context.Background(), &n), "the server never sees the setting")
		_, err := database.Open(context.Background(), u+sep+"pool_max_conns=lots", nil)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "pool_max_conns")
	}
}
