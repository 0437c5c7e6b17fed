// Package testenv gives tests the real things they run against: scratch
// databases of both dialects (SQLite always, PostgreSQL when
// TEST_DATABASE_URL is set) and a Temporal dev server from ./bin/temporal.
package testenv

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/testsuite"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/schema"
	"github.com/aimsg/aimsg/temporalclient"
)

// Logger discards everything below warnings, so test output stays readable.
func Logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
}

// DatabaseURLs are the databases every store test runs on. Under CI the
// PostgreSQL one is required, so its tests can never be skipped silently.
func DatabaseURLs(t testing.TB) []string {
	urls := []string{"sqlite:///:memory:"}
	pg := os.Getenv("TEST_DATABASE_URL")
	if pg == "" && os.Getenv("CI") != "" {
		t.Fatal("CI is set but TEST_DATABASE_URL is not: the PostgreSQL tests would not run")
	}
	if pg != "" {
		urls = append(urls, pg)
	}
	return urls
}

// EachDatabase runs fn as a subtest per dialect.
func EachDatabase(t *testing.T, fn func(t *testing.T, baseURL string)) {
	for _, u := range DatabaseURLs(t) {
		d, _, err := config.ParseDatabaseURL(u)
		require.NoError(t, err)
		t.Run(string(d), func(t *testing.T) { fn(t, u) })
	}
}

// ScratchURL is the URL of an empty database like baseURL's, removed when
// the test ends: a new schema on PostgreSQL, a new file on SQLite. On
// PostgreSQL its pool is small (scratchPool) unless baseURL sizes it:
// test packages run side by side, and every stack is an API and a worker,
// so pools of the production default would pass the server's
// max_connections.
func ScratchURL(t testing.TB, baseURL string) string {
	t.Helper()
	d, _, err := config.ParseDatabaseURL(baseURL)
	require.NoError(t, err)
	if d == config.SQLite {
		return "sqlite:///" + filepath.Join(t.TempDir(), "test.db")
	}
	u, drop, err := database.ScratchSchema(context.Background(), baseURL, "test")
	require.NoError(t, err)
	t.Cleanup(drop)
	parsed, err := url.Parse(u)
	require.NoError(t, err)
	if q := parsed.Query(); !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", strconv.Itoa(scratchPool))
		parsed.RawQuery = q.Encode()
	}
	return parsed.String()
}

// scratchPool is the pool size of a scratch PostgreSQL database's
// processes.
const scratchPool = 8

// Open opens url for the test's duration.
func Open(t testing.TB, url string) *bun.DB {
	t.Helper()
	db, err := database.Open(context.Background(), url, Logger())
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// Scratch is an empty database like baseURL's, removed when the test ends.
func Scratch(t testing.TB, baseURL string) *bun.DB {
	t.Helper()
	return Open(t, ScratchURL(t, baseURL))
}

// Migrated is a scratch database with every migration applied.
func Migrated(t testing.TB, baseURL string) *bun.DB {
	t.Helper()
	db := Scratch(t, baseURL)
	_, err := schema.Up(context.Background(), db, schema.Migrations(database.Dialect(db)), Logger())
	require.NoError(t, err)
	return db
}

// RepoRoot is the folder holding go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// Temporal is a running dev server for a test package.
type Temporal struct {
	Server   *testsuite.DevServer
	HostPort string
}

// StartTemporal starts a dev server on a free port from ./bin/temporal (built
// by `make temporal`), with aimsg's flags and search attributes. Call it from
// TestMain and Stop it there.
func StartTemporal() (*Temporal, error) {
	root, err := RepoRoot()
	if err != nil {
		return nil, err
	}
	srv, err := devserver.Start(context.Background(), devserver.Options{
		CLIPath:   filepath.Join(root, "bin", "temporal"),
		Namespace: "default",
		Output:    io.Discard,
		Logger:    Logger(),
	})
	if err != nil {
		return nil, err
	}
	return &Temporal{Server: srv, HostPort: srv.FrontendHostPort()}, nil
}

// Client is a client of the dev server, closed when the test ends.
func (tp *Temporal) Client(t testing.TB) client.Client {
	t.Helper()
	c, err := client.Dial(temporalclient.Admin(tp.HostPort, "default", Logger()))
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// Stop ends the dev server.
func (tp *Temporal) Stop() {
	_ = tp.Server.Stop()
}

// MainWithTemporal is a TestMain for packages whose tests need Temporal: it
// starts a dev server into *tp, runs the tests, stops the server and exits.
func MainWithTemporal(m *testing.M, tp **Temporal) {
	srv, err := StartTemporal()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	*tp = srv
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// SpreadIDs starts the id sequences of tables at a random point. Tests that
// share one Temporal server name workflows after rows (conversation/ai:<user
// id>, turn/<message id>); fresh databases would otherwise hand out the same
// ids, and so the same workflow ids, in every test.
func SpreadIDs(t testing.TB, db *bun.DB, tables ...string) {
	t.Helper()
	ctx := context.Background()
	for _, table := range tables {
		n, err := rand.Int(rand.Reader, big.NewInt(1<<40))
		require.NoError(t, err)
		start := n.Int64() + 1_000_000
		if database.Dialect(db) == config.Postgres {
			_, err = db.ExecContext(ctx, "SELECT setval(pg_get_serial_sequence(?, 'id'), ?)", table, start)
			require.NoError(t, err)
			continue
		}
		res, err := db.ExecContext(ctx, "UPDATE sqlite_sequence SET seq = ? WHERE name = ?", start, table)
		require.NoError(t, err)
		if k, _ := res.RowsAffected(); k == 0 {
			_, err = db.ExecContext(ctx, "INSERT INTO sqlite_sequence (name, seq) VALUES (?, ?)", table, start)
			require.NoError(t, err)
		}
	}
}
