// Package faketwilio is a Twilio Messages API for tests: it speaks the
// wire format twilio-go uses (form posts, JSON answers, REST errors), keeps
// the messages it accepted, and can fail on script. It also signs webhook
// requests the way Twilio does.
package faketwilio

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // Twilio's signature scheme is HMAC-SHA1
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"
)

// Sent is a message the fake accepted.
type Sent struct {
	SID, To, From, Body, StatusCallback string
	At                                  time.Time
}

// Response is the script's answer to the n-th create request: zero is
// success; Status with Code is a Twilio REST error; Drop accepts the
// message and then cuts the connection without answering; Hold accepts it
// and answers only once Hold is closed (or the client has gone).
type Response struct {
	Status int
	Code   int
	Drop   bool
	Hold   <-chan struct{}
}

// Script decides the answer to the n-th create request (from 0).
type Script func(n int) Response

// Server is a running fake.
type Server struct {
	*httptest.Server
	AccountSID string
	mu         sync.Mutex
	script     Script
	creates    int
	sent       []Sent
}

// Start serves the fake; every create succeeds unless script says otherwise.
func Start(accountSID string, script Script) *Server {
	if script == nil {
		script = func(int) Response { return Response{} }
	}
	s := &Server{AccountSID: accountSID, script: script}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Sent returns the accepted messages.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// Creates counts create requests, accepted or not.
func (s *Server) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	path := "/2010-04-01/Accounts/" + s.AccountSID + "/Messages.json"
	if user, _, ok := r.BasicAuth(); !ok || user != s.AccountSID {
		restError(w, http.StatusUnauthorized, 20003, "Authenticate")
		return
	}
	switch {
	case r.URL.Path == path && r.Method == http.MethodPost:
		s.create(w, r)
	case r.URL.Path == path && r.Method == http.MethodGet:
		s.list(w, r)
	default:
		restError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	}
}

func (s *Server) create(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		restError(w, http.StatusBadRequest, 21603, "bad form")
		return
	}
	s.mu.Lock()
	n := s.creates
	s.creates++
	resp := s.script(n)
	var m Sent
	if resp.Status == 0 {
		m = Sent{SID: fmt.Sprintf("SM%032d", len(s.sent)+1), To: r.PostForm.Get("To"), From: r.PostForm.Get("From"),
			Body: r.PostForm.Get("Body"), StatusCallback: r.PostForm.Get("StatusCallback"), At: time.Now().UTC()}
		s.sent = append(s.sent, m)
	}
	s.mu.Unlock()
	if resp.Hold != nil {
		select {
		case <-resp.Hold:
		case <-r.Context().Done():
			return
		}
	}
	switch {
	case resp.Status != 0:
		restError(w, resp.Status, resp.Code, fmt.Sprintf("scripted error %d", resp.Code))
	case resp.Drop:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				_ = conn.Close()
				return
			}
		}
	default:
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusCreated)
		_ = json.NewEncoder(w).Encode(resource(s.AccountSID, m))
	}
}

func (s *Server) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var after time.Time
	if v := q.Get("DateSent>"); v != "" {
		after, _ = time.Parse(time.RFC3339, v)
	}
	s.mu.Lock()
	var out []any
	for _, m := range s.sent {
		if (q.Get("To") == "" || q.Get("To") == m.To) && (q.Get("From") == "" || q.Get("From") == m.From) &&
			!m.At.Before(after.Truncate(24*time.Hour)) {
			out = append(out, resource(s.AccountSID, m))
		}
	}
	s.mu.Unlock()
	if out == nil {
		out = []any{}
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"messages": out, "next_page_uri": nil, "page": 0,
		"page_size": 50, "uri": r.URL.RequestURI()})
}

func resource(account string, m Sent) map[string]any {
	return map[string]any{"sid": m.SID, "account_sid": account, "to": m.To, "from": m.From, "body": m.Body,
		"status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
		"date_created": m.At.Format(time.RFC1123Z), "uri": "/2010-04-01/Accounts/" + account + "/Messages/" + m.SID + ".json"}
}

func restError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"code": code, "message": msg,
		"more_info": fmt.Sprintf("https://www.twilio.com/docs/errors/%d", code), "status": status})
}

// Sign computes X-Twilio-Signature for a POST to fullURL with params, as
// Twilio does: HMAC-SHA1 over the URL followed by each parameter name and
// value, sorted by name, base64-encoded.
func Sign(authToken, fullURL string, params url.Values) string {
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	b.WriteString(fullURL)
	for _, k := range keys {
		b.WriteString(k)
		b.WriteString(strings.Join(params[k], ""))
	}
	mac := hmac.New(sha1.New, []byte(authToken))
	mac.Write([]byte(b.String()))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
