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
