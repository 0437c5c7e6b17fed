package auth_test

import (
	"strings"
	"testing"
	"time"

	"github.com/aimsg/aimsg/auth"
)

// FuzzParseToken: whatever arrives as a bearer or refresh token, Parse
// never panics, and only a token this key signed gets through, carrying
// the claims it was issued with.
func FuzzParseToken(f *testing.F) {
	tokens := auth.NewTokens("fuzz-secret-key-0123456789abcdef0123456789")
	exp := time.Now().Add(time.Hour)
	access, err := tokens.Issue(auth.Access, 42, "session-42", exp)
	if err != nil {
		f.Fatal(err)
	}
	refresh, err := tokens.Issue(auth.Refresh, 42, "session-42", exp)
	if err != nil {
		f.Fatal(err)
	}
	other, err := auth.NewTokens("another-key-0123456789abcdef0123456789ab").Issue(auth.Access, 1, "s", exp)
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{access, refresh, other, "", "a.b.c", "eyJhbGciOiJub25lIn0.e30.",
		strings.Replace(access, ".", "..", 1), access + "x", strings.ToUpper(access)} {
		f.Add(seed, true)
		f.Add(seed, false)
	}
	f.Fuzz(func(t *testing.T, token string, asAccess bool) {
		kind := auth.Refresh
		if asAccess {
			kind = auth.Access
		}
		claims, err := tokens.Parse(kind, token)
		if err != nil {
			return
		}
		uid, err := claims.UserID()
		if err != nil || uid != 42 || claims.SessionToken != "session-42" || claims.Kind != kind {
			t.Fatalf("accepted a token with claims it was not issued with: %+v", claims)
		}
	})
}
