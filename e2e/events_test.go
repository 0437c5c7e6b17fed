package e2e_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
)

// event is one server-sent event.
type event struct {
	id, name string
	data     map[string]any
}

// readEvents parses an event stream into ch until it ends.
func readEvents(t *testing.T, resp *http.Response, ch chan<- event) {
	defer close(ch)
	sc := bufio.NewScanner(resp.Body)
	var ev event
	for sc.Scan() {
		line := sc.Text()
		switch {
		case line == "":
			if ev.name != "" {
				ch <- ev
			}
			ev = event{}
		case strings.HasPrefix(line, "id: "):
			ev.id = strings.TrimPrefix(line, "id: ")
		case strings.HasPrefix(line, "event: "):
			ev.name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			_ = json.Unmarshal([]byte(strings.TrimPrefix(line, "data: ")), &ev.data)
		}
	}
}

func TestTheReplyArrivesOnTheEventStream(t *testing.T) {
	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	srv := httptest.NewServer(s.H)
	defer srv.Close()
	u := s.User("streamer")
	conv := domain.AIConversationID(u.UserID())

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", srv.URL+"/auth/conversations/"+conv+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+u.AccessToken)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/event-stream", resp.Header.Get("Content-Type"))
	events := make(chan event, 16)
	go readEvents(t, resp, events)

	q := s.ask(u, "stream me")
	var got []event
	for ev := range events {
		got = append(got, ev)
		if ev.data["sender_id"] != float64(u.UserID()) {
			break
		}
	}
	require.Len(t, got, 2, "my message, then the reply")
	assert.Equal(t, "stream me", got[0].data["content"])
	assert.Equal(t, "echo: stream me", got[1].data["content"])
	assert.EqualValues(t, apitest.ID(q), got[1].data["parent_id"])
	assert.Equal(t, "message", got[1].name)

	// Someone else cannot listen in.
	other := s.User("eavesdropper")
	w := s.Call("GET", "/auth/conversations/"+conv+"/events", nil, other.AccessToken)
	assert.Equal(t, http.StatusNotFound, w.Code)
}
