package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/freeport"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/schema"
)

var temporalServer *testenv.Temporal

func TestMain(m *testing.M) {
	testenv.MainWithTemporal(m, &temporalServer)
}

const testSecret = "test-secret-key-0123456789abcdef0123456789"

// output is a stdout that several goroutines write to and a test reads.
type output struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.Write(p)
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// testEnv is a process environment for run: a fresh database per test,
// logs in a temporary folder, the shared Temporal dev server.
func testEnv(t *testing.T, baseURL string, extra map[string]string) map[string]string {
	t.Helper()
	env := map[string]string{
		"DATABASE_URL":              testenv.ScratchURL(t, baseURL),
		"AI_MESSAGE_LOGS_FOLDER":    t.TempDir(),
		"AI_MESSAGE_HOST":           "127.0.0.1",
		"AI_MESSAGE_PORT":           "0",
		"TEMPORAL_ADDRESS":          temporalServer.HostPort,
		"BCRYPT_COST":               "10",
		"REGISTRATIONS_PER_ADDRESS": "0",
		"INBOUND_MAX_PER_MINUTE":    "0",
		"LOG_LEVEL":                 "warn",
		"WORKER_METRICS_ADDR":       "127.0.0.1:0",
		"METRICS_ADDR":              "127.0.0.1:0",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

func runWith(ctx context.Context, env map[string]string, out *output, args ...string) error {
	return run(ctx, append([]string{"aimsg"}, args...), func(k string) string { return env[k] }, out)
}

func TestUsage(t *testing.T) {
	var out output
	var u usageError
	require.ErrorAs(t, runWith(context.Background(), nil, &out), &u)
	require.ErrorAs(t, runWith(context.Background(), nil, &out, "fly"), &u)
	require.ErrorAs(t, runWith(context.Background(), nil, &out, "migrate", "sideways"), &u)
}

// noConfig is a getenv for commands that must not read the configuration.
func noConfig(t *testing.T) config.Getenv {
	return func(k string) string {
		t.Errorf("the configuration was read (%s)", k)
		return ""
	}
}

// commands is every command and subcommand, by the group that holds it.
var commands = map[string][]string{
	"": {"serve", "worker", "dev", "migrate", "health", "createsuperuser", "users", "conversations", "turns",
		"chat", "telegram", "payload-key", "knowledge", "agents", "eval", "completion", "help"},
	"migrate":       {"up", "down", "status", "diff", "downs", "hash"},
	"telegram":      {"set-webhook"},
	"turns":         {"list", "show", "retry"},
	"users":         {"list", "disable", "enable", "superuser", "usage"},
	"conversations": {"list", "takeover", "resume"},
	"knowledge":     {"import", "search", "eval"},
	"agents":        {"list", "show", "apply"},
}

func TestHelpListsEveryCommand(t *testing.T) {
	ctx := context.Background()
	for group, names := range commands {
		path := strings.Fields(group)
		for _, args := range [][]string{append([]string{"help"}, path...), append(path, "--help")} {
			var out output
			require.NoError(t, run(ctx, append([]string{"aimsg"}, args...), noConfig(t), &out), args)
			for _, name := range names {
				assert.Regexp(t, `(?m)^  `+regexp.QuoteMeta(name)+` +\S`, out.String(), "%v lists %s", args, name)
			}
		}
		for _, name := range names {
			if name == "help" {
				continue
			}
			var out output
			args := append(append([]string{"aimsg"}, path...), name, "-h")
			require.NoError(t, run(ctx, args, noConfig(t), &out), args)
			assert.Contains(t, out.String(), "Usage:\n  "+strings.Join(args[:len(args)-1], " "), args)
		}
	}
}

func TestCompletion(t *testing.T) {
	ctx := context.Background()
	for shell, marker := range map[string]string{
		"bash": "__start_aimsg", "zsh": "#compdef aimsg", "fish": "complete -c aimsg", "powershell": "Register-ArgumentCompleter",
	} {
		var out output
		require.NoError(t, run(ctx, []string{"aimsg", "completion", shell}, noConfig(t), &out), shell)
		assert.Contains(t, out.String(), marker, shell)
	}
	// What the scripts ask the binary for: subcommands, and the values of a flag.
	var out output
	require.NoError(t, run(ctx, []string{"aimsg", "__complete", "migrate", ""}, noConfig(t), &out))
	assert.Regexp(t, `(?m)^up\t`, out.String())
	out = output{}
	require.NoError(t, run(ctx, []string{"aimsg", "__complete", "conversations", "list", "--mode", ""}, noConfig(t), &out))
	assert.Equal(t, []string{"ai", "human", ":4"}, strings.Fields(out.String()))
}

// A wrong command line is a usage error carrying the command's usage,
// found before any configuration is read.
func TestUnknownCommandOrFlagIsAUsageError(t *testing.T) {
	for _, c := range []struct {
		args  []string
		usage string
	}{
		{nil, "aimsg [command]"},
		{[]string{"fly"}, "aimsg [command]"},
		{[]string{"--bogus"}, "aimsg [command]"},
		{[]string{"migrate"}, "aimsg migrate [command]"},
		{[]string{"migrate", "sideways"}, "aimsg migrate [command]"},
		{[]string{"completion", "tcsh"}, "aimsg completion [command]"},
		{[]string{"serve", "--bogus"}, "aimsg serve [flags]"},
		{[]string{"serve", "extra"}, "aimsg serve [flags]"},
		{[]string{"migrate", "down", "--to"}, "aimsg migrate down [flags]"},
		{[]string{"chat", "-user", "alice"}, "aimsg chat --user NAME"},
		{[]string{"turns", "show"}, "aimsg turns show MESSAGE_ID"},
		{[]string{"users", "superuser", "alice"}, "aimsg users superuser NAME on|off"},
	} {
		var out output
		err := run(context.Background(), append([]string{"aimsg"}, c.args...), noConfig(t), &out)
		var u usageError
		require.ErrorAs(t, err, &u, c.args)
		assert.Contains(t, err.Error(), "Usage:\n  "+c.usage, c.args)
		assert.Empty(t, out.String(), "usage errors go to stderr, through main")
	}
	var u usageError
	err := runWith(context.Background(), testEnv(t, "sqlite:///:memory:", nil), &output{}, "turns", "show", "abc")
	require.ErrorAs(t, err, &u, "a command's own check of its arguments")
	assert.Contains(t, err.Error(), "Usage:\n  aimsg turns show MESSAGE_ID")
}

func TestPayloadKeyPrintsAKeyConfigAccepts(t *testing.T) {
	var out output
	require.NoError(t, runWith(context.Background(), nil, &out, "payload-key", "2027-01"))
	key := strings.TrimSpace(out.String())
	assert.True(t, strings.HasPrefix(key, "2027-01:"), key)
	_, err := config.Load(func(k string) string {
		return map[string]string{"TEMPORAL_PAYLOAD_KEY": key + ",k2:c2hvcnQ="}[k]
	}, config.NoTokens)
	assert.ErrorContains(t, err, "TEMPORAL_PAYLOAD_KEY", "a malformed second key is refused")
	_, err = config.Load(func(k string) string { return map[string]string{"TEMPORAL_PAYLOAD_KEY": key}[k] }, config.NoTokens)
	assert.NoError(t, err)
	var u usageError
	require.ErrorAs(t, runWith(context.Background(), nil, &out, "payload-key", "a,b"), &u)
}

func TestMigrateUpAndStatus(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, base string) {
		ctx := context.Background()
		env := testEnv(t, base, nil)
		dialect, _, err := config.ParseDatabaseURL(base)
		require.NoError(t, err)
		files, err := fs.Glob(schema.Migrations(dialect), "*.sql")
		require.NoError(t, err)
		files = slices.DeleteFunc(files, func(f string) bool { return strings.HasSuffix(f, ".down.sql") })
		n := len(files)
		var out output
		require.NoError(t, runWith(ctx, env, &out, "migrate", "status"))
		assert.Contains(t, out.String(), fmt.Sprintf("0 applied, %d pending", n))

		require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
		assert.Contains(t, out.String(), "applied 20261125200800_init")

		require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
		assert.Contains(t, out.String(), "database is up to date")

		require.NoError(t, runWith(ctx, env, &out, "migrate", "status"))
		assert.Contains(t, out.String(), fmt.Sprintf("%d applied, 0 pending", n))
		last := strings.TrimSuffix(files[n-1], ".sql")
		assert.Contains(t, out.String(), "down would undo "+last)

		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "migrate", "down"))
		assert.Contains(t, out.String(), "undid "+last)
		require.NoError(t, runWith(ctx, env, &out, "migrate", "status"))
		assert.Contains(t, out.String(), fmt.Sprintf("%d applied, 1 pending", n-1))

		// Down to before the audit log, whose table holds the entry of a
		// superuser's creation: refused without --force.
		require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
		var audit string
		for i, f := range files {
			if strings.HasSuffix(f, "_audit_log.sql") {
				audit = strings.SplitN(files[i-1], "_", 2)[0]
			}
		}
		db := testenv.Open(t, env["DATABASE_URL"])
		_, err = db.NewInsert().Model(&domain.AuditEntry{At: time.Now(), Action: domain.AuditUserCreate,
			TargetType: "user", TargetID: "1", Changes: map[string]any{}}).Exec(ctx)
		require.NoError(t, err)
		err = runWith(ctx, env, &out, "migrate", "down", "--to", audit)
		require.ErrorIs(t, err, schema.ErrDataLoss)
		assert.Contains(t, err.Error(), "audit_log (1 rows)")
		out = output{}
		require.NoError(t, runWith(ctx, env, &out, "migrate", "down", "--to", audit, "--force"))
		assert.Contains(t, out.String(), "_audit_log")
		var u usageError
		require.ErrorAs(t, runWith(ctx, env, &out, "migrate", "down", "extra"), &u)
	})
}

func TestCreateSuperuserIsIdempotent(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, base string) {
		ctx := context.Background()
		env := testEnv(t, base, map[string]string{"AIMSG_SUPERUSER_PASSWORD": "first-password"})
		var out output
		require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))

		args := []string{"createsuperuser", "--username", "admin", "--email", "admin@example.com"}
		require.NoError(t, runWith(ctx, env, &out, args...))
		assert.Contains(t, out.String(), "created superuser admin")
		env["AIMSG_SUPERUSER_PASSWORD"] = "second-password"
		require.NoError(t, runWith(ctx, env, &out, args...))
		assert.Contains(t, out.String(), "updated superuser admin")

		db := testenv.Open(t, env["DATABASE_URL"])
		n, err := domain.CountUsers(ctx, db)
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		u, err := domain.UserByUsername(ctx, db, "admin")
		require.NoError(t, err)
		assert.True(t, u.IsSuperuser)
		assert.True(t, u.IsActive)
		assert.NotContains(t, u.HashedPassword, "second-password")
	})
}

func TestCreateSuperuserRefusesBadInput(t *testing.T) {
	ctx := context.Background()
	env := testEnv(t, "sqlite:///:memory:", nil)
	var out output
	require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))

	var u usageError
	require.ErrorAs(t, runWith(ctx, env, &out, "createsuperuser", "--username", "admin"), &u)

	env["AIMSG_SUPERUSER_PASSWORD"] = "long-enough"
	err := runWith(ctx, env, &out, "createsuperuser", "--username", "admin", "--email", "not-an-email")
	require.ErrorContains(t, err, "not a valid address")

	env["AIMSG_SUPERUSER_PASSWORD"] = "short"
	err = runWith(ctx, env, &out, "createsuperuser", "--username", "admin", "--email", "a@example.com")
	require.ErrorContains(t, err, "at least 8")

	env["AIMSG_SUPERUSER_PASSWORD"] = "long-enough"
	err = runWith(ctx, env, &out, "createsuperuser", "--username", "assistant", "--email", "a@example.com")
	require.ErrorIs(t, err, domain.ErrConflict, "the assistant cannot be turned into a superuser")
}

func TestDotEnvFillsInButEnvironmentWins(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Chdir(dir)
	fromFile := "sqlite:///" + filepath.Join(dir, "from-dotenv.db")
	require.NoError(t, os.WriteFile(".env", []byte("DATABASE_URL="+fromFile+"\nLOG_LEVEL=warn\n"), 0o600))

	var out output
	env := map[string]string{"AI_MESSAGE_LOGS_FOLDER": t.TempDir()}
	require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
	assert.FileExists(t, filepath.Join(dir, "from-dotenv.db"))

	env["DATABASE_URL"] = "sqlite:///" + filepath.Join(dir, "from-env.db")
	require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
	assert.FileExists(t, filepath.Join(dir, "from-env.db"))
}

var listening = regexp.MustCompile(`"msg":"API listening","address":"([^"]+)"`)

// startCmd runs a long-running command until the test ends and returns
// the API's base URL once it listens, and a function that stops it and
// returns its error.
func startCmd(t *testing.T, env map[string]string, out *output, args ...string) (string, func() error) {
	t.Helper()
	env["LOG_LEVEL"] = "info"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, env, out, args...) }()
	var base string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		select {
		case err := <-done:
			require.FailNow(t, "command ended early", "error: %v\noutput:\n%s", err, out.String())
		default:
		}
		m := listening.FindStringSubmatch(out.String())
		require.Len(c, m, 2)
		base = "http://" + m[1]
	}, 60*time.Second, 50*time.Millisecond)
	stopped := false
	stop := func() error {
		if stopped {
			return nil
		}
		stopped = true
		cancel()
		select {
		case err := <-done:
			return err
		case <-time.After(30 * time.Second):
			return errors.New("command did not stop within 30 s")
		}
	}
	t.Cleanup(func() { _ = stop() })
	return base, stop
}

func getHealth(t *testing.T, base string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Get(base + "/health")
	require.NoError(t, err)
	defer resp.Body.Close()
	var body map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&body))
	return resp.StatusCode, body
}

func TestServeAnswersAndStopsCleanly(t *testing.T) {
	env := testEnv(t, "sqlite:///:memory:", map[string]string{"SECRET_KEY": testSecret})
	var out output
	require.NoError(t, runWith(context.Background(), env, &out, "migrate", "up"))

	base, stop := startCmd(t, env, &out, "serve")
	status, body := getHealth(t, base)
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, "ok", body["temporal"])
	assert.Equal(t, "ok", body["database"])

	require.NoError(t, stop())
	assert.Contains(t, out.String(), "API shutting down")
	_, err := http.Get(base + "/health")
	assert.Error(t, err, "nothing listens after the stop")
}

func TestServeRefusesToStartWrongly(t *testing.T) {
	ctx := context.Background()
	var out output
	env := testEnv(t, "sqlite:///:memory:", nil)
	require.ErrorContains(t, runWith(ctx, env, &out, "serve"), "SECRET_KEY is required")

	env["SECRET_KEY"] = testSecret
	require.ErrorContains(t, runWith(ctx, env, &out, "serve"), "pending migrations")
	require.ErrorContains(t, runWith(ctx, env, &out, "worker"), "pending migrations")
}

func TestWorkerPollsAndStops(t *testing.T) {
	env := testEnv(t, "sqlite:///:memory:", nil)
	var out output
	require.NoError(t, runWith(context.Background(), env, &out, "migrate", "up"))
	env["LOG_LEVEL"] = "info"
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- runWith(ctx, env, &out, "worker") }()
	var metricsAddr string
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, out.String(), "worker polling")
		m := regexp.MustCompile(`"msg":"worker metrics","address":"([^"]+)"`).FindStringSubmatch(out.String())
		require.Len(c, m, 2)
		metricsAddr = m[1]
	}, 30*time.Second, 50*time.Millisecond)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		resp, err := http.Get("http://" + metricsAddr + "/metrics")
		require.NoError(c, err)
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		assert.Contains(c, string(body), "temporal_", "the worker serves the SDK's metrics")
	}, 10*time.Second, 100*time.Millisecond)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, out.String(), "Stopped Worker")
}

// TestDevRunsTheWholeStack is `make run`: no Temporal server answers, so dev
// starts one from bin/temporal, with its Web UI, migrates SQLite and serves.
func TestDevRunsTheWholeStack(t *testing.T) {
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	// A port nobody listens on, with a free one 1000 above it for the Web UI.
	port, err := freeport.Find(0, 1000)
	require.NoError(t, err)
	dataDir := t.TempDir()
	dbPath := filepath.Join(t.TempDir(), "dev.db")
	env := testEnv(t, "sqlite:///:memory:", map[string]string{
		"DATABASE_URL":      "sqlite:///" + dbPath,
		"TEMPORAL_ADDRESS":  fmt.Sprintf("127.0.0.1:%d", port),
		"TEMPORAL_CLI_PATH": filepath.Join(root, "bin", "temporal"),
		"TEMPORAL_DATA_DIR": dataDir,
	})
	var out output
	base, stop := startCmd(t, env, &out, "dev")

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Contains(c, out.String(), "Temporal Web UI: http://127.0.0.1:")
	}, 10*time.Second, 50*time.Millisecond)
	status, body := getHealth(t, base)
	assert.Equal(t, http.StatusOK, status, body)
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port+1000))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode, "the Web UI answers")
	metricsURL := regexp.MustCompile(`Metrics: +(http://127\.0\.0\.1:\d+/metrics)\n`).FindStringSubmatch(out.String())
	require.Len(t, metricsURL, 2, "dev prints where its metrics are:\n%s", out.String())
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		status, body := get(t, metricsURL[1], "")
		assert.Equal(c, http.StatusOK, status)
		assert.Contains(c, body, `route="/health"`, "the API's series")
		assert.Contains(c, body, "temporal_", "and the worker's, from the same process")
	}, 10*time.Second, 100*time.Millisecond)
	assert.FileExists(t, filepath.Join(dataDir, "temporal.db"), "the dev server keeps its state in a file")
	key, err := os.Stat(filepath.Join(dataDir, "payload.key"))
	require.NoError(t, err, "dev encrypts Temporal payloads with a key of its own")
	assert.Equal(t, os.FileMode(0o600), key.Mode().Perm())

	require.NoError(t, stop())
	assert.False(t, devListening(port), "the dev server stopped with aimsg")

	db, err := database.Open(context.Background(), "sqlite:///"+dbPath, nil)
	require.NoError(t, err)
	defer db.Close()
	_, err = domain.Assistant(context.Background(), db)
	assert.NoError(t, err, "dev migrated the database")
	assert.True(t, strings.Contains(out.String(), "API:"))
}

func devListening(port int) bool {
	c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), 200*time.Millisecond)
	if err != nil {
		return false
	}
	c.Close()
	return true
}
