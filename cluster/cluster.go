// Package cluster runs aimsg's production topology on one machine, each
// part its own process: a Temporal server built from go.temporal.io/server
// (its four services in one process) with persistence and visibility on
// PostgreSQL, APIs (`aimsg serve`) and workers (`aimsg worker`) on one
// aimsg database, migrated once before they start. `make cluster` runs it
// in the foreground; the fault tests kill and restart its processes.
package cluster

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/devserver"
	"github.com/aimsg/aimsg/webui"
)

const (
	// ServerBinary and SQLToolBinary are the names `make temporal-server`
	// installs Temporal's server and its SQL schema tool under.
	ServerBinary  = "temporal-server"
	SQLToolBinary = "temporal-sql-tool"
	// HistoryShards is fixed for a cluster's life (Temporal cannot change
	// it later); 4 suits one machine.
	HistoryShards = 4
	// TemporalConns and AimsgConns share PostgreSQL's default 100
	// connections: each of the server's four services has its own pool
	// (10 to its database, 3 to visibility), each aimsg process one of
	// AimsgConns (pool_max_conns) and an API one more to listen.
	TemporalConns = 10
	AimsgConns    = 8
)

// Options say what to run and where.
type Options struct {
	// Bin holds temporal-server, temporal-sql-tool and (unless Aimsg
	// says otherwise) aimsg.
	Bin   string
	Aimsg string
	// DatabaseURL is a PostgreSQL database to connect to; the cluster's
	// databases are created beside it: <Prefix>_temporal and
	// <Prefix>_visibility for Temporal, <Prefix> for aimsg.
	DatabaseURL string
	Prefix      string
	// Dir keeps the server's config, the secrets made for the cluster
	// and each process's log.
	Dir string
	// TemporalPort is the frontend's gRPC port; the server uses the eight
	// after it too (three more services, four membership ports, HTTP).
	TemporalPort int
	Namespace    string
	// APIPorts: one `aimsg serve` per port.
	APIPorts []int
	// Workers is how many `aimsg worker` run; worker i (from 1) serves its
	// metrics on MetricsPort+i-1, API i on MetricsPort+Workers+i-1.
	Workers     int
	MetricsPort int
	// UIPort serves Temporal's Web UI (Bin/temporal-ui-server, started
	// when it is there), which decodes payloads through API 1's codec
	// endpoint; 0: no UI.
	UIPort int
	// Env is added to every aimsg process's environment, after the
	// cluster's own settings (it wins).
	Env    []string
	Logger *slog.Logger
}

// Defaults are `make cluster`'s.
func Defaults() Options {
	return Options{
		Bin: "bin", Prefix: "aimsg_cluster", Dir: ".cluster",
		DatabaseURL:  "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable",
		TemporalPort: 7233, Namespace: "default", APIPorts: []int{8001, 8002},
		Workers: 2, MetricsPort: 9091, UIPort: 8233,
	}
}

// Cluster is the running topology.
type Cluster struct {
	opts Options
	pg   pgTarget
	// DatabaseURL is aimsg's database.
	DatabaseURL string
	// Env is what every aimsg process runs with (after os.Environ).
	Env      []string
	Temporal *Process
	APIs     []*Process
	Workers  []*Process
	// UI is Temporal's Web UI, nil when the cluster runs without.
	UI *Process
}

// Start prepares the databases, starts the Temporal server, registers the
// namespace, migrates aimsg's database once, then starts the workers and
// the APIs and waits until every API's /health answers.
func Start(ctx context.Context, opts Options) (_ *Cluster, err error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	dir, err := filepath.Abs(opts.Dir)
	if err != nil {
		return nil, fmt.Errorf("cluster dir: %w", err)
	}
	opts.Dir = dir
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create %s: %w", dir, err)
	}
	pg, err := parsePG(opts.DatabaseURL)
	if err != nil {
		return nil, err
	}
	c := &Cluster{opts: opts, pg: pg}
	if c.DatabaseURL, err = databaseURL(opts.DatabaseURL, opts.Prefix); err != nil {
		return nil, err
	}
	if err := c.prepareTemporal(ctx); err != nil {
		return nil, err
	}
	cfgDir, err := c.writeTemporalConfig()
	if err != nil {
		return nil, err
	}
	c.Temporal = newProcess(dir, "temporal", filepath.Join(opts.Bin, ServerBinary),
		[]string{"--root", cfgDir, "--config", ".", "--env", "cluster", "--allow-no-auth", "start"}, os.Environ())
	opts.Logger.Info("starting the Temporal server", "address", c.TemporalAddress(), "log", c.Temporal.Log())
	if err := c.StartTemporal(ctx); err != nil {
		return nil, err
	}
	// From here a failure stops what was started.
	defer func() {
		if err != nil {
			c.Stop()
		}
	}()
	if err := c.registerNamespace(ctx); err != nil {
		return nil, err
	}
	if err := c.prepareAimsg(ctx); err != nil {
		return nil, err
	}
	for _, p := range append(append([]*Process{}, c.Workers...), c.APIs...) {
		if err := p.Start(); err != nil {
			return nil, err
		}
	}
	for i := range c.APIs {
		if err := c.WaitAPI(ctx, i); err != nil {
			return nil, err
		}
	}
	for _, w := range c.Workers {
		if !w.Running() {
			return nil, fmt.Errorf("%s exited:\n%s", w.Name, w.tail())
		}
	}
	if c.UI != nil {
		if err := c.UI.Start(); err != nil {
			return nil, err
		}
		if err := webui.Wait(ctx, c.UIURL(), nil); err != nil {
			return nil, fmt.Errorf("%w:\n%s", err, c.UI.tail())
		}
	}
	return c, nil
}

// UIURL is the Web UI's address ("" without one).
func (c *Cluster) UIURL() string {
	if c.UI == nil {
		return ""
	}
	return c.ui().URL()
}

// ui says how the Web UI runs: on 127.0.0.1 like the APIs, so that the
// codec cookie a superuser's browser gets from API 1 (SameSite=Strict)
// is sent by the UI's pages.
func (c *Cluster) ui() webui.Options {
	return webui.Options{
		Path: filepath.Join(c.opts.Bin, webui.Binary), Dir: filepath.Join(c.opts.Dir, "ui"),
		Frontend: c.TemporalAddress(), Namespace: c.opts.Namespace, Host: "127.0.0.1", Port: c.opts.UIPort,
		CodecEndpoint: c.APIURL(0) + "/codec",
	}
}

// prepareUI sets up the Web UI's process when the cluster has one and
// its binary is built; it returns the UI's origin for the APIs' codec
// CORS rule ("" without).
func (c *Cluster) prepareUI() (string, error) {
	if c.opts.UIPort == 0 || len(c.opts.APIPorts) == 0 {
		return "", nil
	}
	ui := c.ui()
	if _, err := os.Stat(ui.Path); err != nil {
		c.opts.Logger.Warn("no Temporal Web UI: run `make temporal-ui`", "path", ui.Path)
		return "", nil
	}
	args, err := webui.Command(ui)
	if err != nil {
		return "", err
	}
	c.UI = newProcess(c.opts.Dir, "ui", ui.Path, args, os.Environ())
	return ui.URL(), nil
}

// prepareAimsg creates and migrates aimsg's database and sets up its
// processes: every one shares the database, the token key and the
// payload key (made once and kept in Dir unless the environment has them).
func (c *Cluster) prepareAimsg(ctx context.Context) error {
	if _, err := createDatabase(ctx, c.opts.DatabaseURL, c.opts.Prefix); err != nil {
		return err
	}
	env := os.Environ()
	for _, k := range []struct {
		name, file string
		fresh      func() string
	}{
		{"SECRET_KEY", "secret.key", randomHex},
		{"TEMPORAL_PAYLOAD_KEY", "payload.key", func() string { return codec.NewKey("cluster") }},
	} {
		if os.Getenv(k.name) != "" {
			continue
		}
		v, err := config.SecretFile(filepath.Join(c.opts.Dir, k.file), k.fresh)
		if err != nil {
			return err
		}
		env = append(env, k.name+"="+v)
	}
	uiOrigin, err := c.prepareUI()
	if err != nil {
		return err
	}
	if uiOrigin != "" {
		env = append(env, "TEMPORAL_CODEC_CORS_ORIGINS="+uiOrigin)
	}
	env = append(env, c.opts.Env...)
	env = append(env, "DATABASE_URL="+c.DatabaseURL, "TEMPORAL_ADDRESS="+c.TemporalAddress(),
		"TEMPORAL_NAMESPACE="+c.opts.Namespace)
	c.Env = env
	aimsg := c.opts.Aimsg
	if aimsg == "" {
		aimsg = filepath.Join(c.opts.Bin, "aimsg")
	}
	migrate := exec.CommandContext(ctx, aimsg, "migrate", "up")
	migrate.Env = env
	if out, err := migrate.CombinedOutput(); err != nil {
		return fmt.Errorf("aimsg migrate up: %w\n%s", err, out)
	}
	own := func(name string, extra ...string) []string {
		logs := filepath.Join(c.opts.Dir, name+"-logs")
		return append(append(append([]string{}, env...), "AI_MESSAGE_LOGS_FOLDER="+logs), extra...)
	}
	for i := range c.opts.Workers {
		name := fmt.Sprintf("worker%d", i+1)
		c.Workers = append(c.Workers, newProcess(c.opts.Dir, name, aimsg, []string{"worker"},
			own(name, "WORKER_METRICS_ADDR="+net.JoinHostPort("127.0.0.1", strconv.Itoa(c.opts.MetricsPort+i)))))
	}
	for i, port := range c.opts.APIPorts {
		name := fmt.Sprintf("api%d", i+1)
		c.APIs = append(c.APIs, newProcess(c.opts.Dir, name, aimsg, []string{"serve"},
			own(name, "AI_MESSAGE_HOST=127.0.0.1", "AI_MESSAGE_PORT="+strconv.Itoa(port),
				"METRICS_ADDR="+net.JoinHostPort("127.0.0.1", strconv.Itoa(c.apiMetricsPort(i))))))
	}
	return nil
}

func randomHex() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return hex.EncodeToString(b)
}

// databaseURL is adminURL with its database replaced by name.
func databaseURL(adminURL, name string) (string, error) {
	u, err := url.Parse(adminURL)
	if err != nil {
		return "", fmt.Errorf("database url: %w", err)
	}
	u.Path = "/" + name
	q := u.Query()
	if !q.Has("pool_max_conns") {
		q.Set("pool_max_conns", strconv.Itoa(AimsgConns))
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// StartTemporal starts the server and waits until its frontend accepts
// connections.
func (c *Cluster) StartTemporal(ctx context.Context) error {
	if err := c.Temporal.Start(); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := retry(ctx, func() error {
		if !c.Temporal.Running() {
			return permanent(fmt.Errorf("the Temporal server exited:\n%s", c.Temporal.tail()))
		}
		if !devserver.Listening(c.TemporalAddress()) {
			return fmt.Errorf("not listening on %s yet", c.TemporalAddress())
		}
		return nil
	})
	if err != nil {
		_ = c.Temporal.Kill()
		return fmt.Errorf("start the temporal server: %w", err)
	}
	return nil
}

// APIURL is API i's base URL (i from 0).
func (c *Cluster) APIURL(i int) string {
	return "http://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(c.opts.APIPorts[i]))
}

// WaitAPI waits until API i answers /health with 200.
func (c *Cluster) WaitAPI(ctx context.Context, i int) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	err := retry(ctx, func() error {
		if !c.APIs[i].Running() {
			return permanent(fmt.Errorf("%s exited:\n%s", c.APIs[i].Name, c.APIs[i].tail()))
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, c.APIURL(i)+"/health", nil)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			return fmt.Errorf("/health: %s", res.Status)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("wait for %s: %w", c.APIs[i].Name, err)
	}
	return nil
}

// Stop stops the Web UI and the APIs, then the workers (letting them finish what they
// run), then the server.
func (c *Cluster) Stop() {
	if c.UI != nil {
		_ = c.UI.Stop(5 * time.Second)
	}
	for _, p := range c.APIs {
		_ = p.Stop(10 * time.Second)
	}
	for _, p := range c.Workers {
		_ = p.Stop(30 * time.Second)
	}
	if c.Temporal != nil {
		_ = c.Temporal.Stop(10 * time.Second)
	}
}

// apiMetricsPort is where API i serves its metrics (METRICS_ADDR): after
// the workers'.
func (c *Cluster) apiMetricsPort(i int) int {
	return c.opts.MetricsPort + c.opts.Workers + i
}

// Summary tells the person at the terminal where everything is.
func (c *Cluster) Summary() string {
	var b strings.Builder
	fmt.Fprintf(&b, "\naimsg cluster is running (Ctrl-C stops everything)\n")
	for i, p := range c.APIs {
		fmt.Fprintf(&b, "  %s:  %s  (web app %s/app, metrics http://127.0.0.1:%d/metrics, log %s)\n",
			p.Name, c.APIURL(i), c.APIURL(i), c.apiMetricsPort(i), p.Log())
	}
	for i, p := range c.Workers {
		fmt.Fprintf(&b, "  %s: metrics http://127.0.0.1:%d/metrics  (log %s)\n", p.Name, c.opts.MetricsPort+i, p.Log())
	}
	fmt.Fprintf(&b, "  Temporal: %s, namespace %s  (log %s)\n", c.TemporalAddress(), c.opts.Namespace, c.Temporal.Log())
	if c.UI != nil {
		fmt.Fprintf(&b, "  Temporal Web UI: %s  (decodes through %s/codec; log %s)\n", c.UIURL(), c.APIURL(0), c.UI.Log())
	}
	fmt.Fprintf(&b, "  databases: %s (aimsg), %s_temporal, %s_visibility\n\n", c.opts.Prefix, c.opts.Prefix, c.opts.Prefix)
	return b.String()
}
