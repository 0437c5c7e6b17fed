package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/auth"
)

func TestPasswordRules(t *testing.T) {
	assert.ErrorIs(t, auth.CheckPassword("1234567"), auth.ErrPasswordTooShort)
	assert.NoError(t, auth.CheckPassword("12345678"))
	assert.NoError(t, auth.CheckPassword(strings.Repeat("x", 72)))
	assert.ErrorIs(t, auth.CheckPassword(strings.Repeat("x", 73)), auth.ErrPasswordTooLong)
	assert.NoError(t, auth.CheckPassword("päßwörd!"), "eight characters, more bytes")

	_, err := auth.HashPassword("long enough", 9)
	assert.Error(t, err, "cost below 10 is refused")
	h, err := auth.HashPassword("long enough", 10)
	require.NoError(t, err)
	assert.True(t, auth.VerifyPassword(h, "long enough"))
	assert.False(t, auth.VerifyPassword(h, "long enougH"))
}

func TestTokenKindsDoNotMix(t *testing.T) {
	tk := auth.NewTokens("a-secret-key-of-thirty-two-bytes-or-more")
	exp := time.Now().Add(time.Hour)
	access, err := tk.Issue(auth.Access, 7, "sess", exp)
	require.NoError(t, err)
	refresh, err := tk.Issue(auth.Refresh, 7, "sess", exp)
	require.NoError(t, err)

	c, err := tk.Parse(auth.Access, access)
	require.NoError(t, err)
	uid, err := c.UserID()
	require.NoError(t, err)
	assert.EqualValues(t, 7, uid)
	assert.Equal(t, "sess", c.SessionToken)

	_, err = tk.Parse(auth.Refresh, access)
	assert.ErrorIs(t, err, auth.ErrInvalidToken)
	_, err = tk.Parse(auth.Access, refresh)
	assert.ErrorIs(t, err, auth.ErrInvalidToken)

	other := auth.NewTokens("another-secret-key-of-thirty-two-bytes")
	_, err = other.Parse(auth.Access, access)
	assert.ErrorIs(t, err, auth.ErrInvalidToken)

	again, err := tk.Issue(auth.Access, 7, "sess", exp)
	require.NoError(t, err)
	assert.NotEqual(t, access, again, "every token has its own id")
}

func TestHashTokenIsStable(t *testing.T) {
	assert.Equal(t, auth.HashToken("x"), auth.HashToken("x"))
	assert.NotEqual(t, auth.HashToken("x"), auth.HashToken("y"))
	assert.Len(t, auth.HashToken("x"), 64)
}
