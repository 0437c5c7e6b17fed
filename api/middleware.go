package api

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/metrics"
)

const (
	requestIDKey    = "request_id"
	requestIDHeader = "X-Request-ID"
	maxRequestIDLen = 128
)

// requestID takes the caller's X-Request-ID (from a proxy) or makes one, and
// echoes it in the response so a client can quote it.
func requestID() gin.HandlerFunc {
	return func(c *gin.Context) {
		id := c.GetHeader(requestIDHeader)
		if id == "" || len(id) > maxRequestIDLen {
			b := make([]byte, 12)
			_, _ = rand.Read(b)
			id = hex.EncodeToString(b)
		}
		c.Set(requestIDKey, id)
		c.Header(requestIDHeader, id)
		c.Next()
	}
}

// requestLogger writes one structured line per request and counts it.
func requestLogger(logger *slog.Logger, m *metrics.Metrics) gin.HandlerFunc {
	return func(c *gin.Context) {
		start := time.Now()
		c.Next()
		status := c.Writer.Status()
		level := slog.LevelInfo
		if status >= http.StatusInternalServerError {
			level = slog.LevelError
		}
		route := c.FullPath()
		if route == "" {
			route = "unmatched"
		}
		elapsed := time.Since(start)
		m.HTTPRequests.WithLabelValues(route, c.Request.Method, strconv.Itoa(status)).Inc()
		m.HTTPLatency.WithLabelValues(route, c.Request.Method).Observe(elapsed.Seconds())
		logger.LogAttrs(c.Request.Context(), level, "http request",
			slog.String("request_id", c.GetString(requestIDKey)),
			slog.String("method", c.Request.Method),
			slog.String("route", route),
			slog.Int("status", status),
			slog.Duration("latency", elapsed),
			slog.String("client_ip", c.ClientIP()),
			slog.Int("bytes", c.Writer.Size()))
	}
}

// recovery turns a panic into a logged 500 with the usual error body.
func recovery(logger *slog.Logger) gin.HandlerFunc {
	return func(c *gin.Context) {
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p) // the client went away; let net/http handle it
				}
				logger.ErrorContext(c.Request.Context(), "panic in handler",
					"request_id", c.GetString(requestIDKey),
					"error", fmt.Sprint(p), "stack", string(debug.Stack()))
				abort(c, http.StatusInternalServerError, "Internal Server Error")
			}
		}()
		c.Next()
	}
}

// bodyLimit is a route's own body limit and what a larger body is told.
type bodyLimit struct {
	max    int64
	detail string
}

// limitBody refuses bodies over max bytes, or the route's own limit where
// it has one (routes: "METHOD path" to bytes): at once when
// Content-Length says so, and while reading otherwise.
func limitBody(def int64, routes map[string]bodyLimit) gin.HandlerFunc {
	return func(c *gin.Context) {
		limit := bodyLimit{max: def, detail: "Request body too large"}
		if l, ok := routes[c.Request.Method+" "+c.FullPath()]; ok {
			limit = l
		}
		max := limit.max
		if c.Request.ContentLength > max {
			abort(c, http.StatusRequestEntityTooLarge, limit.detail)
			return
		}
		c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, max)
		c.Next()
	}
}

// frameAncestorsNone is the policy directive that keeps a page out of
// every frame (clickjacking).
const frameAncestorsNone = "frame-ancestors 'none'"

// answerPolicy is the Content-Security-Policy of every answer that is not
// a page of its own: a JSON body (or an error) opened as a document loads
// nothing, runs nothing and cannot be framed.
const answerPolicy = "default-src 'none'; " + frameAncestorsNone

// securityHeaders sets, on every answer: no type sniffing (a JSON body is
// never run as a script or page), no referrer sent on, and a policy that
// lets it load nothing and keeps it out of frames, with X-Frame-Options
// for browsers that know only that. A page with a policy of its own
// replaces it, keeping frame-ancestors 'none' in it (staticSite).
func securityHeaders() gin.HandlerFunc {
	return func(c *gin.Context) {
		h := c.Writer.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Content-Security-Policy", answerPolicy)
		c.Next()
	}
}

// MetricsPath is where Prometheus reads the metrics, on the metrics
// listener (METRICS_ADDR) and, with METRICS_TOKEN, on the API's port.
const MetricsPath = "/metrics"

// requireMetricsToken admits the bearer of METRICS_TOKEN. The digests are
// compared, in constant time, so that neither the token nor its length
// leaks through the time a refusal takes.
func (s *Server) requireMetricsToken(c *gin.Context) {
	scheme, token, _ := strings.Cut(c.GetHeader("Authorization"), " ")
	got, want := sha256.Sum256([]byte(token)), sha256.Sum256([]byte(s.cfg.MetricsToken))
	if !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare(got[:], want[:]) != 1 {
		unauthorized(c, "Could not validate credentials")
		return
	}
	c.Next()
}
