package api_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/metrics"
)

func testConfig(t testing.TB, extra map[string]string) config.Config {
	t.Helper()
	// Tests register many people from one address and write to the
	// assistant in bursts; the limits have their own tests.
	env := map[string]string{"SECRET_KEY": "test-secret-key-0123456789abcdef0123456789",
		"REGISTRATIONS_PER_ADDRESS": "0", "INBOUND_MAX_PER_MINUTE": "0"}
	for k, v := range extra {
		env[k] = v
	}
	cfg, err := config.Load(func(k string) string { return env[k] }, config.Production)
	require.NoError(t, err)
	// Config refuses a cost a deployment should not run at; a test hashes
	// at testBcryptCost, set past that check, unless it names its own.
	if _, named := extra["BCRYPT_COST"]; !named {
		cfg.BcryptCost = testBcryptCost
	}
	return cfg
}

// apiParts are what an API under test is built from; the zero value of
// each takes its default.
type apiParts struct {
	// temporal answers health checks; default a fakeTemporal that is up.
	temporal api.TemporalHealth
	// conversations take dispatches and mode requests; default the real
	// dispatch, into a fakeTemporal.
	conversations api.Conversations
	// logs default to nowhere.
	logs *logs.Set
}

// newAPI is the one way the tests here build the API.
func newAPI(t testing.TB, cfg config.Config, db *bun.DB, p apiParts) http.Handler {
	t.Helper()
	if p.temporal == nil {
		p.temporal = &fakeTemporal{}
	}
	if p.conversations == nil {
		tp, ok := p.temporal.(*fakeTemporal)
		if !ok {
			tp = &fakeTemporal{}
		}
		p.conversations = conversations(db, tp)
	}
	if p.logs == nil {
		var err error
		p.logs, err = logs.New(io.Discard, "", -8)
		require.NoError(t, err)
	}
	h, err := api.NewServer(cfg, p.logs, db, p.temporal, p.conversations, events.NewHub(db, testenv.Logger()), metrics.New())
	require.NoError(t, err)
	return h
}

func do(h http.Handler, method, path string, body io.Reader) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest(method, path, body))
	return w
}

func TestRootSaysHelloWorld(t *testing.T) {
	h := newAPI(t, testConfig(t, nil), testenv.Migrated(t, "sqlite:///:memory:"), apiParts{})
	w := do(h, http.MethodGet, "/", nil)
	assert.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "Hello World", decode(t, w)["message"])
}

func TestHealthReportsDatabaseAndTemporal(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		db := testenv.Migrated(t, url)
		h := newAPI(t, testConfig(t, nil), db, apiParts{})
		w := do(h, http.MethodGet, "/health", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, map[string]any{"status": "ok", "database": "ok", "temporal": "ok"}, decode(t, w))

		w = do(h, http.MethodGet, "/db-test", nil)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, map[string]any{"status": "ok", "message": "Database connection successful"}, decode(t, w),
			"the database's type is not told to anyone who asks")
		for _, word := range []string{"dialect", "sqlite", "postgres", "pg"} {
			assert.NotContains(t, strings.ToLower(w.Body.String()), word)
		}
	})
}

func TestHealthIs503WhenTemporalIsDown(t *testing.T) {
	// Nothing listens on port 1; a lazy client fails on first use, as the API's does.
	dead, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1"})
	require.NoError(t, err)
	defer dead.Close()
	h := newAPI(t, testConfig(t, nil), testenv.Migrated(t, "sqlite:///:memory:"), apiParts{temporal: dead})
	w := do(h, http.MethodGet, "/health", nil)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, map[string]any{"status": "degraded", "database": "ok", "temporal": "unavailable"}, decode(t, w))
}

func TestHealthIs503WhenDatabaseIsDown(t *testing.T) {
	db := testenv.Migrated(t, "sqlite:///:memory:")
	h := newAPI(t, testConfig(t, nil), db, apiParts{})
	require.NoError(t, db.Close())
	w := do(h, http.MethodGet, "/health", nil)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, map[string]any{"status": "degraded", "database": "unavailable", "temporal": "ok"}, decode(t, w))
	w = do(h, http.MethodGet, "/db-test", nil)
	assert.Equal(t, http.StatusServiceUnavailable, w.Code)
	assert.Equal(t, "Database connection failed", decode(t, w)["detail"])
}

func TestErrorsAreJSON(t *testing.T) {
	h := newAPI(t, testConfig(t, map[string]string{"AI_MESSAGE_MAX_BODY_BYTES": "2048"}),
		testenv.Migrated(t, "sqlite:///:memory:"), apiParts{})

	w := do(h, http.MethodGet, "/no/such/route", nil)
	assert.Equal(t, http.StatusNotFound, w.Code)
	assert.Equal(t, "Not Found", decode(t, w)["detail"])

	w = do(h, http.MethodDelete, "/health", nil)
	assert.Equal(t, http.StatusMethodNotAllowed, w.Code)
	assert.Equal(t, "Method Not Allowed", decode(t, w)["detail"])

	w = do(h, http.MethodPost, "/health", strings.NewReader(strings.Repeat("x", 4096)))
	assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code)
	assert.Equal(t, "Request body too large", decode(t, w)["detail"])
}

func TestRequestIDIsEchoedOrMade(t *testing.T) {
	h := newAPI(t, testConfig(t, nil), testenv.Migrated(t, "sqlite:///:memory:"), apiParts{})
	req := httptest.NewRequest(http.MethodGet, "/", nil).WithContext(context.Background())
	req.Header.Set("X-Request-ID", "abc-123")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	assert.Equal(t, "abc-123", w.Header().Get("X-Request-ID"))

	w = do(h, http.MethodGet, "/", nil)
	assert.Len(t, w.Header().Get("X-Request-ID"), 24)
}
