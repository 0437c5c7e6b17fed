// Package webui runs Temporal's Web UI server (`make temporal-ui` builds it
// into ./bin) against a Temporal frontend, with aimsg's codec endpoint and
// cross-origin credentials on: the UI then sends the codec cookie a
// superuser's browser got from the web app, and encrypted payloads read in
// clear. The Temporal CLI's own UI cannot include credentials, so `aimsg
// dev` and the cluster both start this one.
package webui

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// Binary is the name `make temporal-ui` installs the UI server under.
const Binary = "temporal-ui-server"

// Options say which frontend the UI shows and where it listens.
type Options struct {
	// Path is the UI server binary.
	Path string
	// Dir receives the UI server's config file.
	Dir string
	// Frontend is the Temporal frontend's gRPC host:port.
	Frontend  string
	Namespace string
	// Host and Port are where the UI listens; open it at URL().
	Host string
	Port int
	// CodecEndpoint is aimsg's /codec (an API's base URL + "/codec"). The
	// UI's origin must be in that API's TEMPORAL_CODEC_CORS_ORIGINS, and
	// on the same site as the web app the superuser allowed decoding in:
	// the codec cookie is SameSite=Strict.
	CodecEndpoint string
}

// URL is the address to open the UI at.
func (o Options) URL() string {
	return "http://" + net.JoinHostPort(o.Host, strconv.Itoa(o.Port))
}

// config is the part of the UI server's config file aimsg sets
// (github.com/temporalio/ui-server/v2/server/config).
type config struct {
	TemporalGRPCAddress string `yaml:"temporalGrpcAddress"`
	Host                string `yaml:"host"`
	Port                int    `yaml:"port"`
	EnableUI            bool   `yaml:"enableUi"`
	DefaultNamespace    string `yaml:"defaultNamespace"`
	HideLogs            bool   `yaml:"hideLogs"`
	CORS                struct {
		// The UI is served over plain http on this machine.
		CookieInsecure bool `yaml:"cookieInsecure"`
	} `yaml:"cors"`
	Codec struct {
		Endpoint           string `yaml:"endpoint"`
		IncludeCredentials bool   `yaml:"includeCredentials"`
	} `yaml:"codec"`
}

// Command writes the UI server's config into o.Dir and returns the
// arguments that start the server with it.
func Command(o Options) ([]string, error) {
	var c config
	c.TemporalGRPCAddress, c.Host, c.Port, c.EnableUI = o.Frontend, o.Host, o.Port, true
	c.DefaultNamespace, c.HideLogs = o.Namespace, true
	c.CORS.CookieInsecure = true
	c.Codec.Endpoint, c.Codec.IncludeCredentials = o.CodecEndpoint, o.CodecEndpoint != ""
	b, err := yaml.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("web ui config: %w", err)
	}
	if err := os.MkdirAll(o.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create %s: %w", o.Dir, err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir, "aimsg.yaml"), b, 0o640); err != nil {
		return nil, fmt.Errorf("write web ui config: %w", err)
	}
	return []string{"--root", o.Dir, "--config", ".", "--env", "aimsg", "start"}, nil
}

// Start runs the UI server until ctx ends or stop is called, and waits
// until it answers.
func Start(ctx context.Context, o Options, out io.Writer) (stop func() error, err error) {
	if _, err := os.Stat(o.Path); err != nil {
		return nil, fmt.Errorf("temporal web ui not found at %s (run `make temporal-ui`): %w", o.Path, err)
	}
	args, err := Command(o)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(o.Path, args...)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start temporal web ui: %w", err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	stop = func() error {
		_ = cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		return nil
	}
	if err := Wait(ctx, o.URL(), exited); err != nil {
		_ = stop()
		return nil, err
	}
	return stop, nil
}

// Wait polls the UI server's health route until it answers; exited
// (may be nil) reports the server's end.
func Wait(ctx context.Context, base string, exited <-chan error) error {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	u, _ := url.JoinPath(base, "healthz")
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return nil
			}
		}
		select {
		case err := <-exited:
			return fmt.Errorf("temporal web ui exited: %v", err)
		case <-ctx.Done():
			return fmt.Errorf("temporal web ui at %s: %w", base, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}
