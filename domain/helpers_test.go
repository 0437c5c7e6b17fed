package domain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// newUser stores an account named name (a superuser when super).
func newUser(t testing.TB, db *bun.DB, name string, super bool) *domain.User {
	t.Helper()
	u, err := domain.CreateUser(context.Background(), db, domain.NewUser{Username: name, Email: name + "@example.com",
		HashedPassword: "x", IsSuperuser: super})
	require.NoError(t, err)
	return u
}

// assistant is the AI's system user.
func assistant(t *testing.T, db *bun.DB) *domain.User {
	t.Helper()
	a, err := domain.Assistant(context.Background(), db)
	require.NoError(t, err)
	return a
}
