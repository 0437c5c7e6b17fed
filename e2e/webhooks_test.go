package e2e_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/workflows"
)

// receiver is a webhook endpoint as a customer writes one: it checks the
// signature and keeps each event once, by id; down, it answers 503.
type receiver struct {
	*httptest.Server
	secret   atomic.Value
	down     atomic.Bool
	attempts atomic.Int64
	mu       sync.Mutex
	events   map[string]map[string]any
	order    []string
	badSigs  int
}

func newReceiver(t *testing.T) *receiver {
	r := &receiver{events: map[string]map[string]any{}}
	r.secret.Store("")
	r.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		r.attempts.Add(1)
		if r.down.Load() {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		body, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		if !verify(r.secret.Load().(string), req.Header.Get(activities.SignatureHeader), body, time.Now()) {
			r.badSigs++
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		var ev map[string]any
		_ = json.Unmarshal(body, &ev)
		id, _ := ev["id"].(string)
		if id != req.Header.Get(activities.EventIDHeader) || ev["type"] != req.Header.Get(activities.EventHeader) {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		if _, seen := r.events[id]; !seen {
			r.events[id] = ev
			r.order = append(r.order, id)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(r.Close)
	return r
}

// verify checks X-Aimsg-Signature the way docs/webhooks.md tells receivers to:
// recompute the HMAC of "t.body", compare in constant time, refuse a
// timestamp more than five minutes off.
func verify(secret, header string, body []byte, now time.Time) bool {
	var ts, sig string
	for _, part := range strings.Split(header, ",") {
		k, v, _ := strings.Cut(part, "=")
		switch k {
		case "t":
			ts = v
		case "v1":
			sig = v
		}
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || now.Sub(time.Unix(unix, 0)).Abs() > 5*time.Minute {
		return false
	}
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts + "." + string(body)))
	want, _ := hex.DecodeString(sig)
	return hmac.Equal(mac.Sum(nil), want)
}

func (r *receiver) received() map[string]map[string]any {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]map[string]any, len(r.events))
	for k, v := range r.events {
		out[k] = v
	}
	return out
}

func webhookStack(t *testing.T, env map[string]string) (*stack, apitest.Tokens) {
	vars := map[string]string{"WEBHOOK_ALLOW_PRIVATE": "true", "WEBHOOK_RETRY_MS": "100", "WEBHOOK_DISPATCH_MS": "50"}
	for k, v := range env {
		vars[k] = v
	}
	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, vars)
	hash, err := auth.HashPassword("ops-password", 10)
	require.NoError(t, err)
	_, _, err = domain.EnsureSuperuser(context.Background(), s.db, domain.SuperuserInput{
		Username: "ops", Email: "ops@example.com", HashedPassword: hash})
	require.NoError(t, err)
	return s, s.Login("ops", "ops-password")
}

func (s *stack) subscribe(ops apitest.Tokens, url string, events ...string) (id int64, secret string) {
	s.t.Helper()
	w := s.Call("POST", "/auth/webhooks", map[string]any{"url": url, "events": events}, ops.AccessToken)
	require.Equal(s.t, http.StatusCreated, w.Code, w.Body.String())
	sub := apitest.Decode(s.t, w)
	return apitest.ID(sub), sub["secret"].(string)
}

// Every event reaches a receiver, signed, once it is back from being
// down, and each delivery is a workflow that finished.
func TestWebhooksReachTheReceiverOnceItIsBack(t *testing.T) {
	s, ops := webhookStack(t, nil)
	rcv := newReceiver(t)
	rcv.down.Store(true)
	subID, secret := s.subscribe(ops, rcv.URL+"/hooks", "message.received", "message.replied", "report.created", "report.status_changed")
	rcv.secret.Store(secret)

	alice := s.User("alice")
	var questions []int64
	for _, text := range []string{"first", "second", "third"} {
		q := s.ask(alice, text)
		s.replyTo(alice, apitest.ID(q), 30*time.Second)
		questions = append(questions, apitest.ID(q))
	}
	w := s.Call("POST", "/reports", map[string]any{"title": "broken", "content": "it broke"}, alice.AccessToken)
	require.Equal(t, http.StatusCreated, w.Code)
	rid := apitest.ID(apitest.Decode(t, w))
	w = s.Call("POST", "/reports/"+itoa(rid)+"/comment", map[string]any{"comment": "on it", "status": "in_progress"}, ops.AccessToken)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())

	// While the receiver is down, deliveries wait, retried.
	deliveries := func() []map[string]any {
		w := s.Call("GET", "/auth/webhooks/"+itoa(subID)+"/deliveries?limit=50", nil, ops.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		return apitest.DecodeList(t, w)
	}
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		ds := deliveries()
		require.Len(c, ds, 8)
		for _, d := range ds {
			assert.Equal(c, "pending", d["state"])
			assert.GreaterOrEqual(c, d["attempts"], 2.0)
			assert.EqualValues(c, 503, d["response_status"])
		}
	}, 20*time.Second, 100*time.Millisecond)

	rcv.down.Store(false)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, rcv.received(), 8)
	}, 30*time.Second, 100*time.Millisecond)
	assert.Zero(t, rcv.badSigs, "every signature verifies")

	count := map[string]int{}
	var answered []int64
	for _, ev := range rcv.received() {
		count[ev["type"].(string)]++
		data := ev["data"].(map[string]any)
		if ev["type"] == "message.replied" {
			answered = append(answered, int64(data["parent_id"].(float64)))
		}
		if ev["type"] == "report.status_changed" {
			assert.Equal(t, "open", data["previous_status"])
			assert.Equal(t, "in_progress", data["status"])
		}
	}
	assert.Equal(t, map[string]int{"message.received": 3, "message.replied": 3, "report.created": 1, "report.status_changed": 1}, count)
	assert.ElementsMatch(t, questions, answered)

	for _, d := range deliveries() {
		assert.Equal(t, "delivered", d["state"])
		var state domain.DeliveryState
		run := s.tc.GetWorkflow(context.Background(), workflows.WebhookWorkflowID(apitest.ID(d)), "")
		require.NoError(t, run.Get(context.Background(), &state))
		assert.Equal(t, domain.WebhookDelivered, state)
	}
}

// A receiver that never accepts is given up after WEBHOOK_GIVE_UP_MINUTES:
// the delivery fails, the subscription is disabled and gets no more events.
func TestAWebhookFailingTooLongIsDisabled(t *testing.T) {
	s, ops := webhookStack(t, map[string]string{"WEBHOOK_GIVE_UP_MINUTES": "0.05"})
	rcv := newReceiver(t)
	rcv.down.Store(true)
	subID, _ := s.subscribe(ops, rcv.URL, "report.created")
	alice := s.User("alice")
	require.Equal(t, http.StatusCreated, s.Call("POST", "/reports", map[string]any{"title": "a", "content": "b"}, alice.AccessToken).Code)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		w := s.Call("GET", "/auth/webhooks/"+itoa(subID), nil, ops.AccessToken)
		require.Equal(c, http.StatusOK, w.Code)
		sub := apitest.Decode(t, w)
		assert.Equal(c, false, sub["is_active"])
		assert.Contains(c, sub["disabled_reason"], "503")
	}, 30*time.Second, 100*time.Millisecond)
	w := s.Call("GET", "/auth/webhooks/"+itoa(subID)+"/deliveries", nil, ops.AccessToken)
	ds := apitest.DecodeList(t, w)
	require.Len(t, ds, 1)
	assert.Equal(t, "failed", ds[0]["state"])
	err := s.tc.GetWorkflow(context.Background(), workflows.WebhookWorkflowID(apitest.ID(ds[0])), "").Get(context.Background(), nil)
	assert.ErrorContains(t, err, "given up", "the given-up delivery shows as a failed workflow")

	tried := rcv.attempts.Load()
	require.Equal(t, http.StatusCreated, s.Call("POST", "/reports", map[string]any{"title": "c", "content": "d"}, alice.AccessToken).Code)
	time.Sleep(500 * time.Millisecond)
	assert.Equal(t, tried, rcv.attempts.Load(), "a disabled subscription is not called")
	w = s.Call("GET", "/auth/webhooks/"+itoa(subID)+"/deliveries", nil, ops.AccessToken)
	assert.Len(t, apitest.DecodeList(t, w), 1)
}
