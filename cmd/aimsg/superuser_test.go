package main

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// createsuperuser follows the API's username rules: normalised (a
// fullwidth name is its ASCII), one account whatever the case, the API's
// characters only, the assistant's name taken in any spelling.
func TestCreateSuperuserFoldsTheUsername(t *testing.T) {
	ctx := context.Background()
	env := testEnv(t, "sqlite:///:memory:", map[string]string{"AIMSG_SUPERUSER_PASSWORD": "long-enough"})
	var out output
	require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))

	require.NoError(t, runWith(ctx, env, &out, "createsuperuser", "--username", "Ｒｏｏｔ", "--email", "root@example.com"))
	assert.Contains(t, out.String(), "created superuser Root")
	require.NoError(t, runWith(ctx, env, &out, "createsuperuser", "--username", "ROOT", "--email", "root@example.com"))
	assert.Contains(t, out.String(), "updated superuser Root", "the same account, in another case")
	db := testenv.Open(t, env["DATABASE_URL"])
	n, err := domain.CountUsers(ctx, db)
	require.NoError(t, err)
	assert.EqualValues(t, 1, n)

	err = runWith(ctx, env, &out, "createsuperuser", "--username", "bad name", "--email", "b@example.com")
	require.ErrorContains(t, err, "letters, digits")
	err = runWith(ctx, env, &out, "createsuperuser", "--username", "ＡＳＳＩＳＴＡＮＴ", "--email", "a@example.com")
	require.ErrorIs(t, err, domain.ErrConflict, "the assistant cannot be turned into a superuser")
}
