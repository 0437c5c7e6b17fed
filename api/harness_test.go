package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/testenv"
)

// harness is the API on a fresh migrated database, driven over HTTP.
type harness struct {
	t   testing.TB
	h   http.Handler
	db  *bun.DB
	cfg config.Config
	// loopback is the URL the harness is served at over a real
	// connection, once a test needs one.
	loopback string
}

func newHarness(t testing.TB, baseURL string, env map[string]string) *harness {
	t.Helper()
	cfg := testConfig(t, env)
	db := testenv.Migrated(t, baseURL)
	return &harness{t: t, h: newAPI(t, cfg, db, apiParts{}), db: db, cfg: cfg}
}

type tokens = apitest.Tokens

// client checks every answer against the OpenAPI document, except in
// benchmarks, which time the API alone.
func (hs *harness) client() *apitest.Client {
	_, bench := hs.t.(*testing.B)
	return &apitest.Client{T: hs.t, H: hs.h, CheckContract: !bench}
}

func (hs *harness) call(method, path string, body any, token string, tweaks ...func(*http.Request)) *httptest.ResponseRecorder {
	hs.t.Helper()
	return hs.client().Call(method, path, body, token, tweaks...)
}

func (hs *harness) register(username, password string) map[string]any {
	hs.t.Helper()
	return hs.client().Register(username, password)
}

func (hs *harness) login(username, password string, tweaks ...func(*http.Request)) tokens {
	hs.t.Helper()
	return hs.client().Login(username, password, tweaks...)
}

func (hs *harness) user(username string) tokens {
	hs.t.Helper()
	return hs.client().User(username)
}

var (
	from       = apitest.From
	header     = apitest.Header
	id         = apitest.ID
	decodeList = apitest.DecodeList
	decode     = apitest.Decode
	itoa       = apitest.Itoa
)

// superuser creates a superuser the way createsuperuser does, at the
// harness's cost, and logs in.
func (hs *harness) superuser(username string) tokens {
	hs.t.Helper()
	hash, err := (&auth.Passwords{Cost: hs.cfg.BcryptCost}).Hash(username + "-password")
	require.NoError(hs.t, err)
	_, _, err = domain.EnsureSuperuser(context.Background(), hs.db, domain.SuperuserInput{
		Username: username, Email: username + "@example.com", HashedPassword: hash})
	require.NoError(hs.t, err)
	return hs.login(username, username+"-password")
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
