package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httputil"
	"net/url"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/testenv"
)

// get reads url and returns its status and body.
func get(t *testing.T, url, authorization string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	require.NoError(t, err)
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(body)
}

// loggedAddress is the address a side listener logged under msg.
func loggedAddress(t *testing.T, out *output, msg string) string {
	t.Helper()
	m := regexp.MustCompile(`"msg":"` + msg + `","address":"([^"]+)"`).FindStringSubmatch(out.String())
	require.Len(t, m, 2, "%q is logged with its address:\n%s", msg, out.String())
	return m[1]
}

// The API's metrics are served on METRICS_ADDR, a listener of its own;
// its public port answers 404 there, and serves them only with
// METRICS_TOKEN, to its bearer.
func TestServeKeepsMetricsOffThePublicPort(t *testing.T) {
	env := testEnv(t, "sqlite:///:memory:", map[string]string{"SECRET_KEY": testSecret})
	var out output
	require.NoError(t, runWith(context.Background(), env, &out, "migrate", "up"))
	base, stop := startCmd(t, env, &out, "serve")
	status, _ := getHealth(t, base)
	require.Equal(t, http.StatusOK, status)

	metricsURL := "http://" + loggedAddress(t, &out, "API metrics") + "/metrics"
	status, body := get(t, metricsURL, "")
	require.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, `aimsg_http_requests_total{method="GET",route="/health",status="200"} 1`,
		"the API's own series, there without a token")
	status, body = get(t, base+"/metrics", "")
	assert.Equal(t, http.StatusNotFound, status, "not on the public port")
	assert.NotContains(t, body, "aimsg_")
	require.NoError(t, stop())
	_, err := http.Get(metricsURL)
	assert.Error(t, err, "the metrics listener stops with the API")

	const token = "metrics-token-0123456789abcdef"
	env["METRICS_ADDR"], env["METRICS_TOKEN"] = "off", token
	out = output{}
	base, stop = startCmd(t, env, &out, "serve")
	assert.NotContains(t, out.String(), `"msg":"API metrics"`, "off: no listener of its own")
	status, _ = get(t, base+"/metrics", "Bearer wrong-token-0123456789abcdef")
	assert.Equal(t, http.StatusUnauthorized, status)
	status, body = get(t, base+"/metrics", "Bearer "+token)
	assert.Equal(t, http.StatusOK, status)
	assert.Contains(t, body, "aimsg_http_requests_total")
	require.NoError(t, stop())
}

// A stopping API ends its event streams and forgets their rows before it
// closes the database: no row is left to go stale, and nothing fails on a
// closed database.
func TestServeEndsStreamsBeforeClosingTheDatabase(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, baseURL string) {
		env := testEnv(t, baseURL, map[string]string{"SECRET_KEY": testSecret})
		var out output
		require.NoError(t, runWith(context.Background(), env, &out, "migrate", "up"))
		base, stop := startCmd(t, env, &out, "serve")
		u, err := url.Parse(base)
		require.NoError(t, err)
		c := &apitest.Client{T: t, H: httputil.NewSingleHostReverseProxy(u)}
		tk := c.User("streamer")

		db := testenv.Open(t, env["DATABASE_URL"])
		rows := func() int64 {
			n, err := db.NewSelect().Model((*domain.EventStream)(nil)).Count(context.Background())
			require.NoError(t, err)
			return n
		}
		var ended []chan struct{}
		for range 3 {
			req, err := http.NewRequest("GET", base+"/auth/conversations/"+domain.AIConversationID(tk.UserID())+"/events", nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			require.Equal(t, http.StatusOK, resp.StatusCode)
			t.Cleanup(func() { resp.Body.Close() })
			r := bufio.NewReader(resp.Body)
			first, err := r.ReadString('\n')
			require.NoError(t, err)
			require.Equal(t, "retry: 2000\n", first, "the stream is open")
			done := make(chan struct{})
			go func() {
				_, _ = io.Copy(io.Discard, r)
				close(done)
			}()
			ended = append(ended, done)
		}
		require.EqualValues(t, 3, rows(), "each open stream is written down")

		require.NoError(t, stop())
		for _, done := range ended {
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				t.Fatal("a stream outlived its API")
			}
		}
		assert.Zero(t, rows(), "the stopping API forgot its streams")
		assert.NotContains(t, out.String(), "event stream not forgotten")
		assert.NotContains(t, out.String(), "database is closed")
		assert.NotContains(t, out.String(), "event streams still open at shutdown")
	})
}
