package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/cluster"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/freeport"
	"github.com/aimsg/aimsg/temporalclient"
)

// The fake providers' credentials, known to the stack and the load.
const (
	twilioAccount = "ACbench0000000000000000000000000000"
	twilioToken   = "benchtwiliotoken0123456789abcdef"
	twilioNumber  = "+15005550006"
	benchPassword = "bench-password-123"
)

// stack is aimsg running for the benchmark, with what the load needs to
// reach it.
type stack struct {
	dialect  string
	db       *bun.DB
	env      map[string]string
	apiURL   string
	llm      *fakellm.Server
	llmDelay atomic.Int64 // nanoseconds the fake LLM waits before answering
	twilio   *faketwilio.Server
	tc       client.Client
	api      *process
	worker   *process
	// cluster, under -cluster, is `make cluster`'s topology the stack
	// runs on; apiURLs are its APIs, which requests take in turn.
	cluster *cluster.Cluster
	apiURLs []string
	apiTurn atomic.Int64
	tokens  *auth.Tokens
	http    *http.Client
	hash    string // bcrypt of benchPassword at the configured cost
	cleanup []func()
	userSeq atomic.Int64
	// assistantID is the sender of every reply; replies finds them.
	assistantID int64
	replies     replyWatch
	closed      chan struct{}
}

// process is a child process of the stack.
type process struct {
	name     string
	pid      int
	profiles string // its /debug/pprof/
}

// memory reads the process's memory figures from /proc (VmRSS, VmHWM,
// RssAnon, RssFile...), in bytes.
func (p *process) memory() map[string]int64 {
	out := map[string]int64{}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", p.pid))
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(raw), "\n") {
		k, v, _ := strings.Cut(line, ":")
		if kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64); err == nil && strings.HasSuffix(v, " kB") {
			out[k] = kb << 10
		}
	}
	return out
}

// resetPeak starts the peak resident set (VmHWM) over from the current one.
func (p *process) resetPeak() error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", p.pid), []byte("5"), 0)
}

func startStack(ctx context.Context, o options, log *slog.Logger) (_ *stack, err error) {
	st := &stack{closed: make(chan struct{}), http: &http.Client{Transport: &http.Transport{
		MaxIdleConns: 1024, MaxIdleConnsPerHost: 1024, IdleConnTimeout: time.Minute}}}
	defer func() {
		if err != nil {
			st.close()
		}
	}()
	work, err := os.MkdirTemp("", "aimsg-bench-")
	if err != nil {
		return nil, err
	}
	st.cleanup = append(st.cleanup, func() { os.RemoveAll(work) })

	// The database: a scratch schema on PostgreSQL, or a SQLite file (under
	// -cluster, the cluster's own database).
	dbURL := "sqlite:///" + filepath.Join(work, "bench.db")
	if o.cluster {
		if o.databaseURL == "" {
			return nil, errors.New("-cluster runs on PostgreSQL: give -database-url")
		}
		dbURL = o.databaseURL
	} else if o.databaseURL != "" {
		url, drop, err := database.ScratchSchema(ctx, o.databaseURL, "bench")
		if err != nil {
			return nil, fmt.Errorf("scratch schema: %w", err)
		}
		st.cleanup = append(st.cleanup, drop)
		dbURL = url
	}
	dialect, _, err := config.ParseDatabaseURL(dbURL)
	if err != nil {
		return nil, err
	}
	st.dialect = string(dialect)

	// The fakes: an LLM that echoes after llmDelay, Twilio that takes every SMS.
	st.llm = fakellm.Start(st.echo)
	st.cleanup = append(st.cleanup, st.llm.Close)
	st.twilio = faketwilio.Start(twilioAccount, nil)
	st.cleanup = append(st.cleanup, st.twilio.Close)

	if o.cluster {
		return st, st.startCluster(ctx, o, log, work)
	}
	// Temporal: the dev server with the same flags as `aimsg dev`.
	srv, err := devserver.Start(ctx, devserver.Options{CLIPath: o.temporalBin, Namespace: "default", Logger: log})
	if err != nil {
		return nil, err
	}
	st.cleanup = append(st.cleanup, func() { _ = srv.Stop() })
	st.tc = srv.Client()

	port, err := freeport.Find(0)
	if err != nil {
		return nil, err
	}
	st.apiURL = "http://127.0.0.1:" + strconv.Itoa(port)
	st.setEnv(work)
	st.env["DATABASE_URL"] = dbURL
	st.env["TEMPORAL_ADDRESS"] = srv.FrontendHostPort()
	st.env["AI_MESSAGE_HOST"], st.env["AI_MESSAGE_PORT"] = "127.0.0.1", strconv.Itoa(port)
	if out, err := st.command(ctx, o.aimsgBin, "migrate", "up").CombinedOutput(); err != nil {
		return nil, fmt.Errorf("migrate: %w: %s", err, out)
	}
	if err := st.openDatabase(ctx); err != nil {
		return nil, err
	}

	if err := dropFromPageCache(o.aimsgBin); err != nil {
		return nil, err
	}
	// The soft heap limits of docker-compose.yml.
	if st.worker, err = st.start(ctx, o.aimsgBin, "worker", "GOMEMLIMIT=250MiB"); err != nil {
		return nil, err
	}
	if st.api, err = st.start(ctx, o.aimsgBin, "serve", "GOMEMLIMIT=90MiB"); err != nil {
		return nil, err
	}
	if err := st.waitHealthy(ctx); err != nil {
		return nil, err
	}
	log.Info("stack up", "api", st.apiURL, "database", st.dialect, "temporal", srv.FrontendHostPort(),
		"api_profiles", st.api.profiles, "worker_profiles", st.worker.profiles)
	return st, nil
}

// nextAPI is where the next request goes: the API, or under -cluster the
// cluster's APIs in turn (as a load balancer would).
func (st *stack) nextAPI() string {
	if len(st.apiURLs) == 0 {
		return st.apiURL
	}
	return st.apiURLs[int(st.apiTurn.Add(1))%len(st.apiURLs)]
}

// setEnv is the configuration every aimsg process of the stack shares.
func (st *stack) setEnv(work string) {
	st.env = map[string]string{
		"SECRET_KEY":             "bench-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36) + "-0123456789abcdef",
		"LITELLM_BASEURL":        st.llm.BaseURL(),
		"TEMPORAL_TASK_QUEUE":    "bench",
		"AI_MESSAGE_PUBLIC_URL":  st.apiURL,
		"AI_MESSAGE_LOGS_FOLDER": filepath.Join(work, "logs"),
		"TWILIO_ACCOUNT_SID":     twilioAccount,
		"TWILIO_AUTH_TOKEN":      twilioToken,
		"TWILIO_PHONE_NUMBER":    twilioNumber,
		"TWILIO_API_BASE_URL":    st.twilio.URL,
		"WORKER_METRICS_ADDR":    "127.0.0.1:0",
		"LOG_LEVEL":              "warn",
		// Every stream of the load comes from loopback; users write as fast
		// as the load asks.
		"STREAMS_PER_ADDRESS":    "0",
		"INBOUND_MAX_PER_MINUTE": "0",
	}
}

// openDatabase opens the migrated database the stack runs on and reads
// what the load needs from the configuration: the assistant, the token
// key, a password hash at the configured cost.
func (st *stack) openDatabase(ctx context.Context) (err error) {
	cfg, err := config.Load(func(k string) string { return st.env[k] }, config.Production)
	if err != nil {
		return err
	}
	if st.db, err = database.Open(ctx, cfg.DatabaseURL, nil); err != nil {
		return err
	}
	st.cleanup = append(st.cleanup, func() { close(st.closed); st.db.Close() })
	assistant, err := domain.Assistant(ctx, st.db)
	if err != nil {
		return err
	}
	st.assistantID = assistant.ID
	st.tokens = auth.NewTokens(cfg.SecretKey)
	st.hash, err = auth.HashPassword(benchPassword, cfg.BcryptCost)
	return err
}

// startCluster runs the stack on `make cluster`'s topology: the Temporal
// server on PostgreSQL, two APIs (requests take them in turn) and two
// workers, in databases of its own next to -database-url's.
func (st *stack) startCluster(ctx context.Context, o options, log *slog.Logger, work string) error {
	opts := cluster.Defaults()
	opts.Bin, opts.Aimsg, opts.DatabaseURL = filepath.Dir(o.temporalBin), o.aimsgBin, o.databaseURL
	opts.Prefix = "aimsg_bench_" + strconv.FormatInt(time.Now().Unix(), 36)
	opts.Dir = filepath.Join(work, "cluster")
	opts.Logger = log
	opts.UIPort = 0 // nobody looks
	if err := opts.PickFreePorts(); err != nil {
		return err
	}
	first, err := freeport.Find(0, 1)
	if err != nil {
		return err
	}
	opts.APIPorts = nil
	for _, port := range []int{first, first + 1} {
		opts.APIPorts = append(opts.APIPorts, port)
		st.apiURLs = append(st.apiURLs, "http://127.0.0.1:"+strconv.Itoa(port))
	}
	st.apiURL = st.apiURLs[0] // the public URL Twilio signs
	st.setEnv(work)
	delete(st.env, "WORKER_METRICS_ADDR")
	for k, v := range st.env {
		opts.Env = append(opts.Env, k+"="+v)
	}
	st.cleanup = append(st.cleanup, func() {
		if err := cluster.DropDatabases(context.Background(), o.databaseURL, opts.Prefix); err != nil {
			log.Warn("drop the cluster's databases", "error", err)
		}
	})
	c, err := cluster.Start(ctx, opts)
	if err != nil {
		return err
	}
	st.cleanup = append(st.cleanup, c.Stop)
	st.cluster = c
	st.env["DATABASE_URL"] = c.DatabaseURL
	if st.tc, err = client.Dial(temporalclient.Admin(c.TemporalAddress(), opts.Namespace, log)); err != nil {
		return err
	}
	st.cleanup = append(st.cleanup, st.tc.Close)
	if err := st.openDatabase(ctx); err != nil {
		return err
	}
	st.api = &process{name: "serve", pid: c.APIs[0].Pid()}
	st.worker = &process{name: "worker", pid: c.Workers[0].Pid()}
	log.Info("cluster up", "apis", st.apiURLs, "database", c.DatabaseURL, "temporal", c.TemporalAddress())
	return nil
}

// echo is the fake LLM's usual answer: the last message back, after llmDelay.
func (st *stack) echo(_ int, req fakellm.Request) fakellm.Response {
	return fakellm.Response{Content: "echo: " + req.Last().Text(), Delay: time.Duration(st.llmDelay.Load())}
}

func (st *stack) command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = os.Environ()
	for k, v := range st.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	return cmd
}

func (st *stack) start(ctx context.Context, bin, sub string, env ...string) (*process, error) {
	cmd := st.command(ctx, bin, sub)
	cmd.Env = append(cmd.Env, env...)
	// Each process serves its profiles on a port of its own.
	port, err := freeport.Find(0)
	if err != nil {
		return nil, err
	}
	cmd.Env = append(cmd.Env, "PPROF_ADDR=127.0.0.1:"+strconv.Itoa(port))
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start aimsg %s: %w", sub, err)
	}
	p := &process{name: sub, pid: cmd.Process.Pid, profiles: "http://127.0.0.1:" + strconv.Itoa(port) + "/debug/pprof/"}
	st.cleanup = append(st.cleanup, func() {
		_ = cmd.Process.Signal(os.Interrupt)
		_ = cmd.Wait()
	})
	return p, nil
}

func (st *stack) waitHealthy(ctx context.Context) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		if res, err := st.http.Get(st.apiURL + "/health"); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return errors.New("the API did not become healthy within a minute")
}

func (st *stack) close() {
	for i := len(st.cleanup) - 1; i >= 0; i-- {
		st.cleanup[i]()
	}
}

// benchUser is an account of the load with a live session.
type benchUser struct {
	*domain.User
	token string
	phone string
}

// users makes n accounts with phone numbers and sessions, straight in the
// database (registration and login are measured on their own).
func (st *stack) users(ctx context.Context, n int) ([]benchUser, error) {
	out := make([]benchUser, 0, n)
	for range n {
		i := st.userSeq.Add(1)
		phone := fmt.Sprintf("+1415%03d%04d", 200+i/10000, i%10000) // valid NANP numbers
		name := fmt.Sprintf("bench%d", i)
		u, err := domain.CreateUser(ctx, st.db, domain.NewUser{Username: name, Email: name + "@example.com",
			HashedPassword: st.hash, PhoneNumber: &phone})
		if err != nil {
			return nil, fmt.Errorf("create user: %w", err)
		}
		sessionToken := auth.RandomToken(32)
		expires := time.Now().Add(24 * time.Hour)
		if _, err := domain.StartSession(ctx, st.db, domain.NewSession{UserID: u.ID, SessionToken: sessionToken,
			DeviceInfo: "aimsg-bench", IPAddress: "127.0.0.1", ExpiresAt: expires,
			RefreshHash: auth.HashToken(auth.RandomToken(32))}); err != nil {
			return nil, fmt.Errorf("start session: %w", err)
		}
		token, err := st.tokens.Issue(auth.Access, u.ID, sessionToken, expires)
		if err != nil {
			return nil, err
		}
		out = append(out, benchUser{User: u, token: token, phone: phone})
	}
	return out, nil
}
