package domain

import (
	"errors"
	"fmt"
	"strings"

	"github.com/aimsg/aimsg/database"
)

// Sentinel errors that callers map to their own vocabulary (HTTP status,
// non-retryable activity errors, tool results for the LLM).
var (
	// ErrNotFound: the thing does not exist, or the caller may not know it does.
	ErrNotFound = errors.New("not found")
	// ErrForbidden: the caller is known but not allowed to do this.
	ErrForbidden = errors.New("forbidden")
	// ErrConflict: the request clashes with the current state (duplicate, wrong status).
	ErrConflict = errors.New("conflict")
	// ErrInvalid: the input breaks a rule of the domain.
	ErrInvalid = errors.New("invalid")
)

// conflict wraps ErrConflict with a message meant for the user.
func conflict(msg string) error {
	return fmt.Errorf("%s: %w", msg, ErrConflict)
}

// invalid wraps ErrInvalid with a message meant for the user.
func invalid(msg string) error {
	return fmt.Errorf("%s: %w", msg, ErrInvalid)
}

// Reason is the part of an error from domain/ meant for the person who
// caused it: "report is already resolved", without the sentinel's words.
func Reason(err error) string {
	msg := err.Error()
	for _, kind := range []error{ErrInvalid, ErrConflict, ErrForbidden, ErrNotFound} {
		msg = strings.TrimSuffix(msg, ": "+kind.Error())
	}
	return msg
}

// isUniqueViolation reports whether err is a unique constraint failing, in
// either database (database.UniqueViolation).
func isUniqueViolation(err error) bool { return database.UniqueViolation(err) }
