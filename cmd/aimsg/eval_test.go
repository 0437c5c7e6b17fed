package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// eval refuses a command line it cannot run honestly before it calls
// anything, and says why.
func TestEvalRefusesAWrongCommandLine(t *testing.T) {
	dir := t.TempDir()
	suite := filepath.Join(dir, "suite.yaml")
	require.NoError(t, os.WriteFile(suite, []byte("- {name: a, messages: [hi]}\n"), 0o644))
	tools := filepath.Join(dir, "tools.yaml")
	require.NoError(t, os.WriteFile(tools, []byte("- {name: a, messages: [hi], expect: {calls_tool: search_knowledge}}\n"), 0o644))
	api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("the API was called: %s %s", r.Method, r.URL)
	}))
	t.Cleanup(api.Close)
	env := map[string]string{}
	for _, tc := range []struct {
		args  []string
		usage bool
		want  string
	}{
		{[]string{suite}, true, "eval needs --user NAME (a superuser) or --register, not both"},
		{[]string{suite, "--user", "x", "--register"}, true, "not both"},
		{[]string{suite, "--register", "--min-pass", "1.5"}, true, "--min-pass is a rate from 0 to 1"},
		{[]string{suite, "--register", "--parallel", "0"}, true, "--parallel must be at least 1"},
		{[]string{suite, "--register", "--password-env", "PW"}, true, "--password-env is --user's password"},
		{[]string{suite, "--user", "x", "--password-env", "EVAL_PW"}, true, "--password-env: EVAL_PW is not set"},
		{[]string{tools, "--register"}, false, "calls_tool is not checkable through the API"},
		{[]string{filepath.Join(dir, "missing.yaml"), "--register"}, false, "read suite"},
	} {
		t.Run(strings.Join(tc.args[1:], " "), func(t *testing.T) {
			var out output
			args := append([]string{"eval", "--api", api.URL}, tc.args...)
			err := runWith(context.Background(), env, &out, args...)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.want)
			var u usageError
			assert.Equal(t, tc.usage, errors.As(err, &u), "a usage error: %v", err)
		})
	}
}

// A password piped in is its first line; none at all is refused.
func TestEvalReadsAPipedPassword(t *testing.T) {
	pw, err := firstLine(strings.NewReader("s3cret-pass\r\nrest\n"))
	require.NoError(t, err)
	assert.Equal(t, "s3cret-pass", pw)
	_, err = firstLine(strings.NewReader(""))
	assert.ErrorContains(t, err, "no password")
}
