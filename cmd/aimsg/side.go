package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"time"
)

// serveSide serves an operator endpoint (metrics, profiles) on an address
// of its own, off the public API, and returns the address it listens on;
// stop closes it. An empty address serves nothing.
func serveSide(e *env, name, addr string, h http.Handler) (bound string, stop func(), err error) {
	if addr == "" {
		return "", func() {}, nil
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, fmt.Errorf("%s endpoint: %w", name, err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			e.logs.Root.Warn(name+" endpoint", "error", err)
		}
	}()
	e.logs.Root.Info(name, "address", ln.Addr().String())
	return ln.Addr().String(), func() { _ = srv.Close() }, nil
}

// profiles is Go's pprof under /debug/pprof/, for PPROF_ADDR.
func profiles() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	return mux
}
