package e2e_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/sse"
	"github.com/aimsg/aimsg/internal/testenv"
)

// event is one server-sent event.
type event struct {
	id, name string
	data     map[string]any
}

// readEvents parses an event stream into ch until it ends.
func readEvents(_ *testing.T, resp *http.Response, ch chan<- event) {
	defer close(ch)
	_ = sse.Read(resp.Body, func(e sse.Event) {
		ev := event{id: e.ID, name: e.Name}
		_ = json.Unmarshal(e.Data, &ev.data)
		ch <- ev
	})
}

// openEvents opens a conversation's event stream on the API at base.
func openEvents(t *testing.T, base, token, conv string) <-chan event {
	t.Helper()
	return openStream(t, base, token, "/auth/conversations/"+conv+"/events")
}

// openStream opens the event stream at path on the API at base.
func openStream(t *testing.T, base, token, path string) <-chan event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", base+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan event, 256)
	go readEvents(t, resp, events)
	return events
}

// until collects events until one satisfies done (included).
func until(t *testing.T, events <-chan event, done func(event) bool) []event {
	t.Helper()
	var got []event
	for {
		select {
		case ev, ok := <-events:
			require.True(t, ok, "the stream ended; got %v", got)
			got = append(got, ev)
			if done(ev) {
				return got
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("no such event within 30 s; got %v", got)
		}
	}
}

// replyFrom is true for the message event of the assistant's reply.
func replyFrom(userID int64) func(event) bool {
	return func(ev event) bool {
		return ev.name == "message" && ev.data["sender_id"] != float64(userID)
	}
}

// named keeps the events of one name.
func named(evs []event, name string) []event {
	var out []event
	for _, ev := range evs {
		if ev.name == name {
			out = append(out, ev)
		}
	}
	return out
}

func TestTheReplyArrivesOnTheEventStream(t *testing.T) {
	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	srv := httptest.NewServer(s.H)
	t.Cleanup(srv.Close) // after the stream's own cleanup
	u := s.User("streamer")
	conv := domain.AIConversationID(u.UserID())
	events := openEvents(t, srv.URL, u.AccessToken, conv)

	q := s.ask(u, "stream me")
	got := named(until(t, events, replyFrom(u.UserID())), "message")
	require.Len(t, got, 2, "my message, then the reply")
	assert.Equal(t, "stream me", got[0].data["content"])
	assert.Equal(t, "echo: stream me", got[1].data["content"])
	assert.EqualValues(t, apitest.ID(q), got[1].data["parent_id"])

	// Someone else cannot listen in.
	other := s.User("eavesdropper")
	w := s.Call("GET", "/auth/conversations/"+conv+"/events", nil, other.AccessToken)
	assert.Equal(t, http.StatusNotFound, w.Code)
}

// slowWriter streams its answer in eight pieces, 60 ms apart.
func slowWriter(_ int, req fakellm.Request) fakellm.Response {
	return fakellm.Response{Content: "Here is my slow answer to: " + req.Last().Text(),
		Chunks:     []string{"Here ", "is ", "my ", "slow ", "answer ", "to: ", req.Last().Text()[:3], req.Last().Text()[3:]},
		ChunkDelay: 60 * time.Millisecond}
}

// The reply is written live: typing, then its text in deltas before the
// message is saved, the same text in the message, then typing ends.
func TestTheReplyIsStreamedAsItIsWritten(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, slowWriter, nil)
		srv := httptest.NewServer(s.H)
		t.Cleanup(srv.Close) // after the stream's own cleanup
		u := s.User("watcher")
		events := openEvents(t, srv.URL, u.AccessToken, domain.AIConversationID(u.UserID()))

		q := s.ask(u, "hello there")
		got := until(t, events, replyFrom(u.UserID()))
		deltas := named(got, "delta")
		require.GreaterOrEqual(t, len(deltas), 3, "several deltas: %v", got)
		text := ""
		for i, d := range deltas {
			assert.EqualValues(t, i+1, d.data["seq"], "in order")
			assert.Equal(t, "turn/"+itoa(apitest.ID(q)), d.data["turn_id"])
			text += d.data["text"].(string)
		}
		reply := got[len(got)-1]
		assert.Equal(t, reply.data["content"], text, "the deltas add up to the saved reply")
		typing := named(got, "typing")
		require.NotEmpty(t, typing)
		assert.Equal(t, true, typing[0].data["active"])
		assert.Less(t, indexOf(got, typing[0]), indexOf(got, deltas[0]), "typing before the text")

		after := until(t, events, func(ev event) bool { return ev.name == "typing" && ev.data["active"] == false })
		assert.Empty(t, named(after, "delta"), "nothing streamed after the reply")
	})
}

// An attempt that streamed text and failed is reset before the retry.
func TestAnAbandonedAttemptIsReset(t *testing.T) {
	script := func(n int, req fakellm.Request) fakellm.Response {
		if n == 0 {
			return fakellm.Response{Content: "this will be lost", Chunks: []string{"this ", "will ", "be ", "lost"},
				ChunkDelay: 60 * time.Millisecond, Cut: 3}
		}
		return fakellm.Response{Content: "the real answer"}
	}
	s := newStack(t, "sqlite:///:memory:", script, nil)
	srv := httptest.NewServer(s.H)
	t.Cleanup(srv.Close) // after the stream's own cleanup
	u := s.User("retried")
	events := openEvents(t, srv.URL, u.AccessToken, domain.AIConversationID(u.UserID()))

	s.ask(u, "hello")
	got := until(t, events, replyFrom(u.UserID()))
	resets := named(got, "reset")
	require.NotEmpty(t, resets, "the abandoned text is reset: %v", got)
	last := indexOf(got, resets[len(resets)-1])
	text := ""
	for _, d := range named(got[last:], "delta") {
		text += d.data["text"].(string)
	}
	assert.Equal(t, "the real answer", text, "after the reset, only the retry's text")
	assert.Equal(t, "the real answer", got[len(got)-1].data["content"])
	assert.Greater(t, len(named(got[:last], "delta")), 0, "the first attempt streamed before it broke")
}

func indexOf(evs []event, ev event) int {
	for i, e := range evs {
		if e.name == ev.name && e.id == ev.id && fmt.Sprint(e.data) == fmt.Sprint(ev.data) {
			return i
		}
	}
	return -1
}

// Two API processes on one PostgreSQL: a stream on the second gets the
// turn of a message posted on the first, live; a logout through the first
// ends the second's stream at once.
func TestEventsCrossAPIProcesses(t *testing.T) {
	urls := testenv.DatabaseURLs(t)
	pg := urls[len(urls)-1]
	if d, _, _ := config.ParseDatabaseURL(pg); d != config.Postgres {
		t.Skip("two API processes share events through PostgreSQL; TEST_DATABASE_URL is not set (CI sets it)")
	}
	s := newStack(t, pg, slowWriter, nil)
	second := httptest.NewServer(s.newAPI())
	t.Cleanup(second.Close)
	u := s.User("traveller")
	events := openEvents(t, second.URL, u.AccessToken, domain.AIConversationID(u.UserID()))

	s.ask(u, "hello from the first")
	got := until(t, events, replyFrom(u.UserID()))
	assert.NotEmpty(t, named(got, "typing"))
	assert.NotEmpty(t, named(got, "delta"))
	messages := named(got, "message")
	require.Len(t, messages, 2)
	assert.Equal(t, "hello from the first", messages[0].data["content"])

	start := time.Now()
	require.Equal(t, http.StatusOK, s.Call("POST", "/auth/logout", nil, u.AccessToken).Code)
	for ev := range events {
		assert.NotEqual(t, "message", ev.name, "nothing after the session ended")
	}
	assert.Less(t, time.Since(start), 5*time.Second, "the stream ended with the session")
}

// The API's listening connection killed mid-stream: the stream goes on and
// no message is missed.
func TestAStreamOutlivesItsListenerBeingKilled(t *testing.T) {
	urls := testenv.DatabaseURLs(t)
	pg := urls[len(urls)-1]
	if d, _, _ := config.ParseDatabaseURL(pg); d != config.Postgres {
		t.Skip("LISTEN/NOTIFY is PostgreSQL's; TEST_DATABASE_URL is not set (CI sets it)")
	}
	s := newStack(t, pg, fakellm.Echo, nil)
	srv := httptest.NewServer(s.H)
	t.Cleanup(srv.Close) // after the stream's own cleanup
	u := s.User("survivor")
	events := openEvents(t, srv.URL, u.AccessToken, domain.AIConversationID(u.UserID()))
	ctx := context.Background()
	var schema string
	require.NoError(t, s.db.NewRaw("SELECT current_schema()").Scan(ctx, &schema))
	listener := func() (pid int) {
		_ = s.db.NewRaw("SELECT pid FROM pg_stat_activity WHERE query = ?", `LISTEN "aimsg_`+schema+`"`).Scan(ctx, &pid)
		return pid
	}
	require.Eventually(t, func() bool { return listener() != 0 }, 10*time.Second, 10*time.Millisecond)

	before := listener()
	_, err := s.db.ExecContext(ctx, "SELECT pg_terminate_backend(?)", before)
	require.NoError(t, err)
	// One turn while the listener is down or coming back, one after.
	for i := range 2 {
		text := fmt.Sprintf("while the listener was killed %d", i)
		s.ask(u, text)
		got := named(until(t, events, replyFrom(u.UserID())), "message")
		require.Len(t, got, 2, "my message and the reply, once each: %v", got)
		assert.Equal(t, text, got[0].data["content"])
		assert.Equal(t, "echo: "+text, got[1].data["content"])
	}
	assert.NotEqual(t, before, listener(), "listening again, on a new connection")
}
