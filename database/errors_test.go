package database_test

import (
	"errors"
	"fmt"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/aimsg/aimsg/database"
)

func TestUniqueViolationIsReadInBothDialects(t *testing.T) {
	assert.True(t, database.UniqueViolation(fmt.Errorf("create user: %w", &pgconn.PgError{Code: "23505"})))
	assert.False(t, database.UniqueViolation(&pgconn.PgError{Code: "23503"}), "a foreign key is another constraint")
	assert.True(t, database.UniqueViolation(errors.New("constraint failed: UNIQUE constraint failed: users.username (2067)")))
	assert.False(t, database.UniqueViolation(errors.New("constraint failed: FOREIGN KEY constraint failed (787)")))
	assert.False(t, database.UniqueViolation(nil))
}
