package database_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/stretchr/testify/assert"

	"github.com/aimsg/aimsg/database"
)

func TestWaitReachableRetriesOnlyWhileTheDatabaseIsAway(t *testing.T) {
	ctx := context.Background()
	calls, beats := 0, 0
	err := database.WaitReachable(ctx, time.Minute, func() { beats++ }, func() error {
		calls++
		if calls < 3 {
			return fmt.Errorf("load user: %w", io.ErrUnexpectedEOF)
		}
		return nil
	})
	assert.NoError(t, err)
	assert.Equal(t, 3, calls)
	assert.Equal(t, 2, beats, "a heartbeat before each new try")

	calls = 0
	constraint := errors.New("duplicate key")
	err = database.WaitReachable(ctx, time.Minute, func() {}, func() error { calls++; return constraint })
	assert.ErrorIs(t, err, constraint)
	assert.Equal(t, 1, calls, "other errors are not retried")

	calls = 0
	err = database.WaitReachable(ctx, 250*time.Millisecond, func() {}, func() error { calls++; return io.ErrUnexpectedEOF })
	assert.ErrorIs(t, err, io.ErrUnexpectedEOF, "past its patience it gives up")
	assert.Less(t, calls, 5)
}

func TestUnreachableKnowsAServerGoingAwayFromAnError(t *testing.T) {
	for code, want := range map[string]bool{
		"57P01": true,  // terminating connection due to administrator command
		"57P02": true,  // crash of another server process
		"57P03": true,  // the database system is starting up
		"08006": true,  // connection failure
		"23505": false, // unique violation
		"42P01": false, // undefined table
		"57014": false, // query canceled: the caller's doing
	} {
		err := fmt.Errorf("store message: %w", &pgconn.PgError{Code: code})
		assert.Equal(t, want, database.Unreachable(err), code)
	}
	assert.True(t, database.Unreachable(fmt.Errorf("read: %w", io.ErrUnexpectedEOF)))
	assert.False(t, database.Unreachable(errors.New("no such user")))
}
