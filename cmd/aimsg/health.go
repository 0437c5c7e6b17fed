package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/config"
)

func newHealthCmd(p *program) *cobra.Command {
	return &cobra.Command{
		Use:     "health",
		Short:   "Exit 0 if the local API answers /health with 200 (container probes)",
		GroupID: groupRun,
		Args:    positional(cobra.NoArgs),
		RunE:    p.needs(config.NoTokens, runHealth),
	}
}

// runHealth probes the local API's /health, for container health checks in
// an image without a shell or curl. It fails unless the API answers 200.
func runHealth(ctx context.Context, e *env, _ []string) error {
	cfg := e.cfg
	scheme := "http"
	if cfg.TLSFiles() {
		scheme = "https"
	}
	url := scheme + "://" + net.JoinHostPort("127.0.0.1", strconv.Itoa(cfg.Port)) + "/health"
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	// The probe talks to this host's own API over loopback: the certificate
	// names the public domain, not 127.0.0.1, and nothing secret is sent.
	hc := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}} //nolint:gosec // loopback probe
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("health: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("health: %s answered %d", url, resp.StatusCode)
	}
	fmt.Fprintln(e.stdout, "ok")
	return nil
}
