package database

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// openPostgres opens PostgreSQL through pgx, passing each statement bun
// wrote with the protocol that suits it. bun writes every value into the
// SQL text, so:
//
//   - a read repeats its text (one user's list, session or history, asked
//     again and again) and is worth preparing once per connection, as pgx
//     does by default: the server then skips parsing and planning;
//   - a write carries new values every time; preparing it would cost a
//     round trip more and a server-side statement never used again, so it
//     goes by the simple protocol, one round trip.
//
// A default_query_exec_mode in DATABASE_URL applies to every statement.
//
// Sessions plan with random_page_cost 1.1 (the value PostgreSQL's manual
// suggests when data is cached or on SSD) unless DATABASE_URL sets one:
// with the default 4, a list read while the table's statistics are stale
// (a table just grown, not yet analyzed) is planned as a bitmap scan of
// every row of the user plus a sort, 293 buffers and 2.4 ms for a user
// with 10,000 messages, instead of a backward index scan of the 50 asked
// for, 11 buffers and 0.03 ms (docs/benchmarks.md, run 8).
func openPostgres(dsn string) (*sql.DB, error) {
	cfg, maxConns, err := PostgresConfig(dsn)
	if err != nil {
		return nil, err
	}
	if _, set := cfg.RuntimeParams["random_page_cost"]; !set {
		cfg.RuntimeParams["random_page_cost"] = "1.1"
	}
	connector := stdlib.GetConnector(*cfg)
	var sqldb *sql.DB
	if strings.Contains(dsn, "default_query_exec_mode") {
		sqldb = sql.OpenDB(connector)
	} else {
		sqldb = sql.OpenDB(statementConnector{connector})
	}
	sqldb.SetMaxOpenConns(maxConns)
	sqldb.SetMaxIdleConns(maxConns)
	sqldb.SetConnMaxIdleTime(5 * time.Minute)
	return sqldb, nil
}

// PostgresConfig is a connection's configuration from DATABASE_URL's
// PostgreSQL DSN, and the size of the process's pool: pool_max_conns
// (pgx's name for it; default 25), so that every process of a deployment
// fits in the server's max_connections. It is the client's setting, never
// sent to the server.
func PostgresConfig(dsn string) (*pgx.ConnConfig, int, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, 0, fmt.Errorf("open postgres: %w", err)
	}
	maxConns := 25
	if raw, set := cfg.RuntimeParams["pool_max_conns"]; set {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 {
			return nil, 0, fmt.Errorf("open postgres: pool_max_conns must be a positive number, not %q", raw)
		}
		maxConns = n
		delete(cfg.RuntimeParams, "pool_max_conns")
	}
	return cfg, maxConns, nil
}

type statementConnector struct{ driver.Connector }

func (c statementConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return statementConn{conn.(*stdlib.Conn)}, nil
}

// statementConn is pgx's connection with the choice above made per query
// (Exec already runs a statement without arguments by the simple protocol).
type statementConn struct{ *stdlib.Conn }

func (c statementConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	if len(args) == 0 {
		if strings.HasPrefix(query, "SELECT ") {
			// pgx keeps the text as the prepared statement's key, and bun's
			// text is a view of a 4 KB buffer: keep only the text.
			query = strings.Clone(query)
		} else {
			args = []driver.NamedValue{{Ordinal: 1, Value: pgx.QueryExecModeSimpleProtocol}}
		}
	}
	return c.Conn.QueryContext(ctx, query, args)
}
