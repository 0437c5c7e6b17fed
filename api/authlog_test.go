package api_test

import (
	"io"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/logs"
)

func TestEventsGoToTheirAreaLogs(t *testing.T) {
	dir := t.TempDir()
	logSet, err := logs.New(io.Discard, dir, 0)
	require.NoError(t, err)
	cfg := testConfig(t, nil)
	db := testenv.Migrated(t, "sqlite:///:memory:")
	hs := &harness{t: t, h: newAPI(t, cfg, db, apiParts{logs: logSet}), db: db, cfg: cfg}

	root := hs.superuser("root")
	tk := hs.user("logged")
	hs.call("POST", "/auth/login", map[string]any{"username": "logged", "password": "nope-nope"}, "")
	w := hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": tk.RefreshToken}, "")
	require.Equal(t, http.StatusOK, w.Code)
	hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": tk.RefreshToken}, "")
	hs.call("POST", "/auth/logout", nil, root.AccessToken)
	root = hs.login("root", "root-password")
	hs.call("POST", "/auth/roles", map[string]any{"name": "audited"}, root.AccessToken)
	tk = hs.login("logged", "logged-password") // the reuse above ended the first session
	m := hs.send(tk, userID(root), "logged message")
	hs.call("DELETE", "/messages/"+itoa(id(m)), nil, tk.AccessToken)
	r := hs.report(tk, "logged report")
	hs.call("PUT", "/reports/"+itoa(id(r))+"/resolve", nil, root.AccessToken)
	require.NoError(t, logSet.Close())

	read := func(name string) string {
		b, err := os.ReadFile(filepath.Join(dir, name))
		require.NoError(t, err)
		return string(b)
	}
	assert.Contains(t, read("messages.log"), "message sent")
	assert.Contains(t, read("messages.log"), "message deleted")
	assert.NotContains(t, read("messages.log"), "logged message", "message text stays out of the logs")
	assert.Contains(t, read("reports.log"), "report created")
	assert.Contains(t, read("reports.log"), "report resolved")
	assert.Contains(t, read("audit.log"), `"msg":"role.create"`)
	assert.Contains(t, read("audit.log"), `"msg":"report.resolve"`)

	b, err := os.ReadFile(filepath.Join(dir, "auth.log"))
	require.NoError(t, err)
	for _, event := range []string{"user registered", "login succeeded", "login failed", "token refreshed",
		"refresh token reuse detected", "logout", "admin: role.create"} {
		assert.Contains(t, string(b), event)
	}
	assert.NotContains(t, string(b), "nope-nope", "passwords are never logged")
}
