package database

import (
	"context"
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
)

// Unreachable reports an error of a database that could not be reached or
// dropped the connection (a restart, a failover): worth trying again,
// unlike a bug or a constraint.
func Unreachable(err error) bool {
	var netErr net.Error
	var pgErr *pgconn.PgError
	return errors.As(err, &netErr) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.As(err, &pgErr) && serverGoingAway(pgErr.Code)
}

// serverGoingAway is a PostgreSQL error of a server shutting down,
// restarting or recovering: "terminating connection due to administrator
// command" (57P01), a crash of another backend (57P02), "the database
// system is starting up" or "not yet accepting connections" (57P03), or a
// connection exception (class 08).
func serverGoingAway(code string) bool {
	switch code {
	case "57P01", "57P02", "57P03":
		return true
	}
	return strings.HasPrefix(code, "08")
}

// WaitReachable runs read, and again with growing pauses while the
// database is unreachable, for up to patience; beat is called before each
// new try (an activity heartbeats there).
func WaitReachable(ctx context.Context, patience time.Duration, beat func(), read func() error) error {
	deadline := time.Now().Add(patience)
	pause := 100 * time.Millisecond
	for {
		err := read()
		if err == nil || !Unreachable(err) || time.Now().Add(pause).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		beat()
		pause = min(2*pause, 5*time.Second)
	}
}
