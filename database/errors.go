package database

import (
	"database/sql/driver"
	"errors"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// The drivers' errors, read the same way in both dialects: the one place
// that knows PostgreSQL's error codes and SQLite's messages.

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

// UniqueViolation reports whether err is a unique constraint failing
// (PostgreSQL's 23505, SQLite's "UNIQUE constraint failed").
func UniqueViolation(err error) bool {
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return pgErr.Code == "23505"
	}
	return err != nil && strings.Contains(err.Error(), "UNIQUE constraint failed")
}
