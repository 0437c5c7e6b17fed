// Package faketwilio is a Twilio Messages API for tests: it speaks the
// wire format twilio-go uses (form posts, JSON answers, REST errors), keeps
// the messages it accepted, and can fail on script or be down for a while.
// It keeps WhatsApp's 24-hour window as Twilio does: a free-form message
// to a whatsapp: address that has not written within 24 hours (SawInbound)
// is refused with error 63016; a template (ContentSid) goes out. It also
// signs webhook requests the way Twilio does.
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

// Sent is a message the fake accepted. A template message has its
// ContentSID and ContentVariables (JSON), and the Body the fake renders
// from them (the template's id, then each variable's value).
type Sent struct {
	SID, To, From, Body, StatusCallback string
	ContentSID, ContentVariables        string
	At                                  time.Time
}

// WhatsAppWindow is how long after a person's last message WhatsApp takes
// free-form messages to them.
const WhatsAppWindow = 24 * time.Hour

// CodeOutsideWindow is Twilio's error code for a free-form WhatsApp message
// outside the 24-hour window.
const CodeOutsideWindow = 63016

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
	down       bool
	inbound    map[string]time.Time
	// media are the files AddMedia serves (media.go).
	media mediaFiles
}

// Start serves the fake; every create succeeds unless script says otherwise.
func Start(accountSID string, script Script) *Server {
	if script == nil {
		script = func(int) Response { return Response{} }
	}
	s := &Server{AccountSID: accountSID, script: script, inbound: map[string]time.Time{}}
	s.Server = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// Sent returns the accepted messages.
func (s *Server) Sent() []Sent {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Sent(nil), s.sent...)
}

// SawInbound records that the person at address (whatsapp:+...) last
// wrote at t, as Twilio sees the messages it carries to the webhook: it
// opens WhatsApp's window for free-form messages to them until t+24h.
func (s *Server) SawInbound(address string, t time.Time) {
	if !strings.HasPrefix(address, "whatsapp:") {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.inbound[address] = t
}

// SetDown makes every create request answer 503 while down (Twilio
// unreachable for a while), and lets the script answer again after.
func (s *Server) SetDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

// Creates counts create requests, accepted or not.
func (s *Server) Creates() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.creates
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	if s.media.serve(w, r, s.AccountSID) {
		return
	}
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
	to, content := r.PostForm.Get("To"), r.PostForm.Get("ContentSid")
	switch {
	case s.down:
		resp = Response{Status: http.StatusServiceUnavailable, Code: 20503}
	case resp.Status == 0 && strings.HasPrefix(to, "whatsapp:") && content == "" &&
		time.Since(s.inbound[to]) > WhatsAppWindow:
		resp = Response{Status: http.StatusBadRequest, Code: CodeOutsideWindow}
	}
	var m Sent
	if resp.Status == 0 {
		m = Sent{SID: fmt.Sprintf("SM%032d", len(s.sent)+1), To: to, From: r.PostForm.Get("From"),
			Body: r.PostForm.Get("Body"), StatusCallback: r.PostForm.Get("StatusCallback"),
			ContentSID: content, ContentVariables: r.PostForm.Get("ContentVariables"), At: time.Now().UTC()}
		if content != "" {
			m.Body = render(content, m.ContentVariables)
		}
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
		restError(w, resp.Status, resp.Code, errorMessage(resp.Code))
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

// render is the body of a template message: its id, then its variables'
// values in the order of their names.
func render(contentSID, variables string) string {
	var vars map[string]string
	_ = json.Unmarshal([]byte(variables), &vars)
	keys := make([]string, 0, len(vars))
	for k := range vars {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := []string{"[" + contentSID + "]"}
	for _, k := range keys {
		out = append(out, vars[k])
	}
	return strings.Join(out, " ")
}

func resource(account string, m Sent) map[string]any {
	return map[string]any{"sid": m.SID, "account_sid": account, "to": m.To, "from": m.From, "body": m.Body,
		"status": "queued", "num_segments": "1", "direction": "outbound-api", "api_version": "2010-04-01",
		"date_created": m.At.Format(time.RFC1123Z), "uri": "/2010-04-01/Accounts/" + account + "/Messages/" + m.SID + ".json"}
}

// errorMessage is Twilio's message for the errors the fake answers by
// itself, or a scripted error's.
func errorMessage(code int) string {
	switch code {
	case CodeOutsideWindow:
		return "Twilio could not deliver the message: outside the allowed window. Use a Template."
	case 20503:
		return "Service Unavailable"
	}
	return fmt.Sprintf("scripted error %d", code)
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
