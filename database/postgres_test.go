package database_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/internal/testenv"
)

// bun writes values into the SQL text, so a statement prepared per query
// text would never be reused: queries must leave no prepared statement on
// the server, and every type must still come back as it went in.
func TestPostgresQueriesPrepareNothingAndKeepTheirTypes(t *testing.T) {
	for _, u := range testenv.DatabaseURLs(t) {
		if d, _, _ := config.ParseDatabaseURL(u); d != config.Postgres {
			continue
		}
		ctx := context.Background()
		db := testenv.Open(t, u)
		conn, err := db.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()

		at := time.Date(2026, 11, 26, 4, 5, 6, 789000000, time.UTC)
		var got struct {
			N    int64     `bun:"n"`
			S    string    `bun:"s"`
			B    bool      `bun:"b"`
			At   time.Time `bun:"at"`
			Raw  []byte    `bun:"raw"`
			Null *string   `bun:"null"`
		}
		for i := range 3 { // three different texts: each would be a new statement
			err = conn.NewSelect().
				ColumnExpr("?::bigint AS n", int64(1)<<40+int64(i)).
				ColumnExpr("? AS s", "it's \"quoted\" ünïcode ✓").
				ColumnExpr("? AS b", true).
				ColumnExpr("?::timestamptz AS at", at).
				ColumnExpr("?::bytea AS raw", []byte{0, 1, 254, 255}).
				ColumnExpr("NULL::text AS null").
				Scan(ctx, &got)
			require.NoError(t, err)
		}
		assert.Equal(t, int64(1)<<40+2, got.N)
		assert.Equal(t, "it's \"quoted\" ünïcode ✓", got.S)
		assert.True(t, got.B)
		assert.True(t, at.Equal(got.At), "got %v", got.At)
		assert.Equal(t, []byte{0, 1, 254, 255}, got.Raw)
		assert.Nil(t, got.Null)

		var prepared int
		require.NoError(t, conn.QueryRowContext(ctx, "SELECT count(*) FROM pg_prepared_statements").Scan(&prepared))
		assert.Zero(t, prepared, "statements left prepared on the server")
	}
}
