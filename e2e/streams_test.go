package e2e_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
)

// liveStream is one event stream a test holds open.
type liveStream struct {
	resp  *http.Response
	close context.CancelFunc
	ended chan struct{}
}

// tryStream opens u's assistant conversation stream on the API at base,
// as a client at addr (loopback is a trusted proxy: X-Forwarded-For
// names the client). It returns the refusal when there is one.
func tryStream(t *testing.T, base string, u apitest.Tokens, addr string) (*liveStream, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	req, err := http.NewRequestWithContext(ctx, "GET", base+"/auth/conversations/"+domain.AIConversationID(u.UserID())+"/events", nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+u.AccessToken)
	req.Header.Set("X-Forwarded-For", addr)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	if resp.StatusCode != http.StatusOK {
		cancel()
		return nil, resp
	}
	st := &liveStream{resp: resp, close: cancel, ended: make(chan struct{})}
	go func() {
		defer close(st.ended)
		_, _ = io.Copy(io.Discard, resp.Body)
	}()
	return st, nil
}

func mustStream(t *testing.T, base string, u apitest.Tokens, addr string) *liveStream {
	t.Helper()
	st, refused := tryStream(t, base, u, addr)
	require.Nil(t, refused, "stream refused")
	return st
}

// refusedStream checks a stream is refused with 429 and a Retry-After.
func refusedStream(t *testing.T, base string, u apitest.Tokens, addr string) {
	t.Helper()
	st, refused := tryStream(t, base, u, addr)
	if st != nil {
		st.close()
		t.Fatalf("stream accepted; want 429")
	}
	defer refused.Body.Close()
	assert.Equal(t, http.StatusTooManyRequests, refused.StatusCode)
	assert.Equal(t, "30", refused.Header.Get("Retry-After"))
}

// A user's open streams are bounded across two API processes; a closed
// one frees its place, and the streams end with their session at once.
// An address's streams are bounded too, whoever opens them.
func TestEventStreamsAreBoundedAcrossAPIs(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, fakellm.Echo, map[string]string{"STREAMS_PER_ADDRESS": "12"})
		secondAPI := s.newAPI().(*api.Handler)
		first, second := httptest.NewServer(s.newAPI()), httptest.NewServer(secondAPI)
		t.Cleanup(first.Close)
		t.Cleanup(second.Close)
		u := s.User("tabby")
		const home, office = "198.51.100.70", "203.0.113.71"

		var open []*liveStream
		for i := range 8 { // the default STREAMS_PER_USER
			open = append(open, mustStream(t, []string{first.URL, second.URL}[i%2], u, home))
		}
		refusedStream(t, first.URL, u, home)
		refusedStream(t, second.URL, u, office)

		// A tab closed: its place is free again at once on its API.
		open[0].close()
		<-open[0].ended
		open[0] = mustStream(t, first.URL, u, home)
		refusedStream(t, second.URL, u, home)

		// The session ends through one API: every stream ends, on both.
		start := time.Now()
		require.Equal(t, http.StatusOK, s.Call("POST", "/auth/logout", nil, u.AccessToken).Code)
		for _, st := range open {
			select {
			case <-st.ended:
			case <-time.After(10 * time.Second):
				t.Fatal("a stream outlived its session")
			}
		}
		assert.Less(t, time.Since(start), 5*time.Second, "the streams ended with the session")
		u = s.Login("tabby", "tabby-password")
		var onSecond []*liveStream
		for i := range 8 {
			st := mustStream(t, []string{first.URL, second.URL}[i%2], u, home)
			if i%2 == 1 {
				onSecond = append(onSecond, st)
			}
		}

		// The address holds 8 streams; a neighbour there gets 4 more.
		v := s.User("neighbour")
		for range 4 {
			onSecond = append(onSecond, mustStream(t, second.URL, v, home))
		}
		refusedStream(t, first.URL, v, home)
		mustStream(t, first.URL, v, office)

		// The second API shuts down: its streams end and their places are free.
		secondAPI.CloseStreams()
		for _, st := range onSecond {
			select {
			case <-st.ended:
			case <-time.After(10 * time.Second):
				t.Fatal("a stream outlived its API's shutdown")
			}
		}
		for range 4 {
			mustStream(t, first.URL, v, home)
		}
	})
}

// ended drains a stream until it ends, within 5 s of start, and returns
// the ids of the messages it sent meanwhile.
func ended(t *testing.T, events <-chan event, start time.Time, what string) []int64 {
	t.Helper()
	var ids []int64
	for {
		select {
		case ev, open := <-events:
			if !open {
				assert.Less(t, time.Since(start), 5*time.Second, "%s ended at once", what)
				return ids
			}
			if ev.name == "message" {
				ids = append(ids, int64(ev.data["id"].(float64)))
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s outlived the change", what)
		}
	}
}

// What a person may do, taken away through one API, ends what it granted
// on another at once: an agent whose role is removed loses the support
// inbox and a customer's conversation, a superuser demoted loses the
// inbox and is refused at once (though sessions are cached for a
// minute here), a disabled user loses their own stream; an agent's inbox
// never shows a staff conversation; none of them is
// sent a message stored after the change, and their streams, opened
// again, are refused.
func TestAPermissionTakenAwayEndsItsStreamsOnEveryAPI(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, fakellm.Echo, map[string]string{"AUTH_CACHE_MS": "60000"})
		second := httptest.NewServer(s.newAPI())
		t.Cleanup(second.Close)
		root := s.superuser("root")
		agnes, sue, carl := s.agent("agnes"), s.superuser("sue"), s.User("carl")
		conv := domain.AIConversationID(carl.UserID())
		// on answers a GET on the second API.
		on := func(tk apitest.Tokens, path string) int {
			req, err := http.NewRequest("GET", second.URL+path, nil)
			require.NoError(t, err)
			req.Header.Set("Authorization", "Bearer "+tk.AccessToken)
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			return resp.StatusCode
		}

		agnesInbox := openStream(t, second.URL, agnes.AccessToken, "/support/events")
		agnesConv := openStream(t, second.URL, agnes.AccessToken, "/support/conversations/"+conv+"/events")
		sueInbox := openStream(t, second.URL, sue.AccessToken, "/support/events")
		carlOwn := openEvents(t, second.URL, carl.AccessToken, conv)
		first := apitest.ID(s.ask(carl, "before the change"))
		for _, st := range []<-chan event{agnesInbox, agnesConv, sueInbox, carlOwn} {
			until(t, st, func(ev event) bool { return ev.name == "message" && ev.data["id"] == float64(first) })
		}
		require.Equal(t, http.StatusOK, on(sue, "/support/conversations"), "sue's session is cached on the second API")
		// A staff conversation reaches a superuser's inbox, never an agent's.
		staff := apitest.ID(s.ask(root, "among staff"))
		until(t, sueInbox, func(ev event) bool { return ev.name == "message" && ev.data["id"] == float64(staff) })

		start := time.Now()
		require.Equal(t, http.StatusOK, s.Call("PUT", "/auth/users/"+apitest.Itoa(agnes.UserID())+"/roles",
			map[string]any{"role_ids": []int64{}}, root.AccessToken).Code)
		require.Equal(t, http.StatusOK, s.Call("PUT", "/auth/users/"+apitest.Itoa(sue.UserID())+"/superuser",
			map[string]any{"is_superuser": false}, root.AccessToken).Code)
		after := apitest.ID(s.ask(carl, "after the change"))
		for what, st := range map[string]<-chan event{"agnes's inbox": agnesInbox, "agnes's view of carl": agnesConv, "sue's inbox": sueInbox} {
			for _, id := range ended(t, st, start, what) {
				assert.Less(t, id, after, "%s was sent a message stored after the change", what)
				if st != sueInbox {
					assert.NotEqual(t, staff, id, "%s was sent a staff conversation", what)
				}
			}
		}
		assert.Equal(t, http.StatusForbidden, on(sue, "/support/conversations"), "no cached superuser")
		for _, tk := range []apitest.Tokens{agnes, sue} {
			assert.Equal(t, http.StatusForbidden, on(tk, "/support/events"))
			assert.Equal(t, http.StatusForbidden, on(tk, "/support/conversations/"+conv+"/events"))
		}

		// carl is disabled; an answer written to him afterwards is not streamed.
		until(t, carlOwn, replyFrom(carl.UserID()))
		start = time.Now()
		require.Equal(t, http.StatusOK, s.Call("PUT", "/auth/users/"+apitest.Itoa(carl.UserID())+"/disable", nil, root.AccessToken).Code)
		w := s.Call("POST", "/support/conversations/"+conv+"/messages", map[string]any{"content": "written after"}, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		for _, id := range ended(t, carlOwn, start, "carl's stream") {
			assert.Less(t, id, apitest.ID(apitest.Decode(t, w)), "carl was sent a message stored after he was disabled")
		}
		assert.Equal(t, http.StatusUnauthorized, on(carl, "/auth/conversations/"+conv+"/events"))
	})
}
