//go:build !linux

package main

import (
	"context"
	"os"
)

// readSecret would echo the password here: ask for --password-env instead.
func readSecret(context.Context, *os.File) (string, error) {
	return "", usageError("typing the password is supported on Linux only: set --password-env, or pipe it in")
}
