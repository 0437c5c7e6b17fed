package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// harness is the API on a fresh migrated database, driven over HTTP.
type harness struct {
	t   testing.TB
	h   http.Handler
	db  *bun.DB
	cfg config.Config
}

func newHarness(t testing.TB, baseURL string, env map[string]string) *harness {
	t.Helper()
	merged := map[string]string{"BCRYPT_COST": "10"}
	for k, v := range env {
		merged[k] = v
	}
	cfg := testConfig(t, merged)
	db := testenv.Migrated(t, baseURL)
	return &harness{t: t, h: newHandler(t, cfg, db, temporalServer.Client(t)), db: db, cfg: cfg}
}

// call is one request: a JSON body (or a raw string), a bearer token, and
// request tweaks (client address, headers).
func (hs *harness) call(method, path string, body any, token string, tweaks ...func(*http.Request)) *httptest.ResponseRecorder {
	hs.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(hs.t, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, tw := range tweaks {
		tw(req)
	}
	w := httptest.NewRecorder()
	hs.h.ServeHTTP(w, req)
	return w
}

func from(addr string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = addr }
}

func header(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

type tokens struct {
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token"`
	TokenType    string         `json:"token_type"`
	User         map[string]any `json:"user"`
}

func (hs *harness) register(username, password string) map[string]any {
	hs.t.Helper()
	w := hs.call("POST", "/auth/register", map[string]any{
		"username": username, "email": username + "@example.com", "password": password}, "")
	require.Equal(hs.t, http.StatusCreated, w.Code, w.Body.String())
	return decode(hs.t, w)
}

func (hs *harness) login(username, password string, tweaks ...func(*http.Request)) tokens {
	hs.t.Helper()
	w := hs.call("POST", "/auth/login", map[string]any{"username": username, "password": password}, "", tweaks...)
	require.Equal(hs.t, http.StatusOK, w.Code, w.Body.String())
	var tk tokens
	require.NoError(hs.t, json.Unmarshal(w.Body.Bytes(), &tk))
	return tk
}

// user registers someone and logs them in.
func (hs *harness) user(username string) tokens {
	hs.t.Helper()
	hs.register(username, username+"-password")
	return hs.login(username, username+"-password")
}

// superuser creates a superuser the way createsuperuser does and logs in.
func (hs *harness) superuser(username string) tokens {
	hs.t.Helper()
	hash, err := auth.HashPassword(username+"-password", 10)
	require.NoError(hs.t, err)
	_, _, err = domain.EnsureSuperuser(context.Background(), hs.db, domain.SuperuserInput{
		Username: username, Email: username + "@example.com", HashedPassword: hash})
	require.NoError(hs.t, err)
	return hs.login(username, username+"-password")
}

func id(m map[string]any) int64 {
	return int64(m["id"].(float64))
}

func decodeList(t *testing.T, w *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	var out []map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return out
}

// serveOnLoopback serves the harness's API on loopback with the real
// server's limits, for what only a real connection shows.
func serveOnLoopback(hs *harness) string {
	srv := httptest.NewUnstartedServer(hs.h)
	srv.Config = api.NewHTTPServer(hs.h)
	srv.Start()
	hs.t.Cleanup(srv.Close)
	return srv.URL
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
