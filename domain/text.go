package domain

import (
	"strings"
	"unicode/utf8"
)

// StorableText reports whether every database keeps s as given:
// PostgreSQL refuses NUL characters and invalid UTF-8 in text, SQLite cuts
// text at a NUL.
func StorableText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// checkStorable refuses text no database keeps, naming the field.
func checkStorable(field, s string) error {
	if !StorableText(s) {
		return invalid(field + " must be valid UTF-8 without NUL characters")
	}
	return nil
}
