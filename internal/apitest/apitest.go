// Package apitest drives aimsg's HTTP API from the outside in tests: JSON
// requests with a bearer token, decoded answers, accounts made through the
// public routes.
package apitest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/converter"
)

// Client sends requests to an API handler.
type Client struct {
	T testing.TB
	H http.Handler
	// CheckContract validates every answer against the OpenAPI document
	// (CheckResponse). The API's tests and the end-to-end tests set it;
	// benchmarks leave it off to time the API alone.
	CheckContract bool
}

// Call sends one request: a JSON body (or a raw string), a bearer token,
// and request tweaks (client address, headers).
func (c *Client) Call(method, path string, body any, token string, tweaks ...func(*http.Request)) *httptest.ResponseRecorder {
	c.T.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(c.T, err)
		rd = bytes.NewReader(raw)
	}
	req := httptest.NewRequest(method, path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for _, tw := range tweaks {
		tw(req)
	}
	w := httptest.NewRecorder()
	c.H.ServeHTTP(w, req)
	if c.CheckContract {
		checkContract(c.T, req, w.Code, w.Header(), w.Body.Bytes())
	}
	return w
}

// From makes a request come from addr ("ip:port").
func From(addr string) func(*http.Request) {
	return func(r *http.Request) { r.RemoteAddr = addr }
}

// Header sets a request header.
func Header(k, v string) func(*http.Request) {
	return func(r *http.Request) { r.Header.Set(k, v) }
}

// Decode reads a JSON object answer.
func Decode(t testing.TB, w *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var m map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &m), w.Body.String())
	return m
}

// DecodeList reads a JSON array answer.
func DecodeList(t testing.TB, w *httptest.ResponseRecorder) []map[string]any {
	t.Helper()
	var out []map[string]any
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &out), w.Body.String())
	return out
}

// Tokens is a login answer.
type Tokens struct {
	AccessToken  string         `json:"access_token"`
	RefreshToken string         `json:"refresh_token"`
	TokenType    string         `json:"token_type"`
	User         map[string]any `json:"user"`
}

// UserID is the id of the user who logged in.
func (tk Tokens) UserID() int64 { return ID(tk.User) }

// Itoa writes an id in a path or a form.
func Itoa(n int64) string { return strconv.FormatInt(n, 10) }

// ID reads the "id" of a decoded object.
func ID(m map[string]any) int64 { return int64(m["id"].(float64)) }

// Register creates an account through POST /auth/register.
func (c *Client) Register(username, password string) map[string]any {
	c.T.Helper()
	w := c.Call("POST", "/auth/register", map[string]any{
		"username": username, "email": username + "@example.com", "password": password}, "")
	require.Equal(c.T, http.StatusCreated, w.Code, w.Body.String())
	return Decode(c.T, w)
}

// Login logs in through POST /auth/login.
func (c *Client) Login(username, password string, tweaks ...func(*http.Request)) Tokens {
	c.T.Helper()
	w := c.Call("POST", "/auth/login", map[string]any{"username": username, "password": password}, "", tweaks...)
	require.Equal(c.T, http.StatusOK, w.Code, w.Body.String())
	var tk Tokens
	require.NoError(c.T, json.Unmarshal(w.Body.Bytes(), &tk))
	return tk
}

// User registers someone (password: name + "-password") and logs them in.
func (c *Client) User(username string) Tokens {
	c.T.Helper()
	c.Register(username, username+"-password")
	return c.Login(username, username+"-password")
}

// RemoteCodec is the SDK's client of the API's codec endpoint, as the
// Temporal CLI's --codec-endpoint and the Web UI use it, with a token.
func RemoteCodec(base, token string) converter.PayloadCodec {
	return converter.NewRemotePayloadCodec(converter.RemotePayloadCodecOptions{
		Endpoint: base + "/codec",
		ModifyRequest: func(r *http.Request) error {
			if token != "" {
				r.Header.Set("Authorization", "Bearer "+token)
			}
			r.Header.Set("X-Namespace", "default")
			return nil
		},
	})
}
