package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
)

// SecretFile is a secret made once for a machine's local runs (`aimsg dev`,
// `make cluster`) and kept in a file only its owner reads: the first call
// writes fresh(), every later one reads it back, so restarts keep what was
// signed or encrypted with it readable.
func SecretFile(path string, fresh func() string) (string, error) {
	b, err := os.ReadFile(path)
	if err == nil {
		return strings.TrimSpace(string(b)), nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	secret := fresh()
	if err := os.WriteFile(path, []byte(secret+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write %s: %w", path, err)
	}
	return secret, nil
}
