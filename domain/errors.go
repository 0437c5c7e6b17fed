package domain

import "errors"

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
