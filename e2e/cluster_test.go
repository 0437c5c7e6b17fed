package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/cluster"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/temporalclient"
)

// startCluster runs `make cluster`'s topology for a test: the Temporal
// server built by `make temporal-server`, two APIs and two workers on
// databases of the test's own, dropped when it ends.
func startCluster(t *testing.T, env ...string) *cluster.Cluster {
	t.Helper()
	admin := os.Getenv("TEST_DATABASE_URL")
	if admin == "" {
		testenv.DatabaseURLs(t) // fails under CI
		t.Skip("the cluster runs on PostgreSQL: set TEST_DATABASE_URL")
	}
	root, err := testenv.RepoRoot()
	require.NoError(t, err)
	bin := filepath.Join(root, "bin")
	if _, err := os.Stat(filepath.Join(bin, cluster.ServerBinary)); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the cluster tests need `make temporal-server`: %v", err)
		}
		t.Skipf("the cluster tests need `make temporal-server`: %v", err)
	}
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	o := cluster.Defaults()
	o.Bin, o.Aimsg, o.DatabaseURL = bin, buildAimsg(t), admin
	o.Prefix = "aimsg_ct_" + hex.EncodeToString(suffix)
	o.Dir = t.TempDir()
	require.NoError(t, o.PickFreePorts())
	o.APIPorts = []int{reusablePort(t), reusablePort(t)}
	o.Env = append([]string{"LOG_LEVEL=warn", "TURN_RECONCILE_SECONDS=1",
		"REGISTRATIONS_PER_ADDRESS=1000", "INBOUND_MAX_PER_MINUTE=1000", "LOGIN_MAX_FAILURES_PER_ADDRESS=1000"}, env...)
	o.Logger = testenv.Logger()
	t.Cleanup(func() {
		if err := cluster.DropDatabases(context.Background(), admin, o.Prefix); err != nil {
			t.Logf("drop the cluster's databases: %v", err)
		}
	})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c, err := cluster.Start(ctx, o)
	require.NoError(t, err)
	t.Cleanup(c.Stop)
	return c
}

// remote is a reverse proxy to an API process, so apitest's helpers drive
// a cluster as they drive a handler. A refused connection (the process is
// down) answers 502.
func remote(base string) http.Handler {
	u, err := url.Parse(base)
	if err != nil {
		panic(err)
	}
	p := httputil.NewSingleHostReverseProxy(u)
	p.ErrorLog = log.New(io.Discard, "", 0) // a killed API is expected here
	return p
}

// apis are the cluster's APIs as apitest clients (the contract is
// checked elsewhere: a killed API answers 502 here).
func apis(t *testing.T, c *cluster.Cluster) []*apitest.Client {
	return []*apitest.Client{
		{T: t, H: remote(c.APIURL(0)), CheckContract: false},
		{T: t, H: remote(c.APIURL(1)), CheckContract: false},
	}
}

// The production topology under faults. Twenty users talk to the
// assistant, each message to the other API than the one before (a client
// whose API is down sends to the other), while one worker is killed and
// restarted, one API is killed and restarted, and the Temporal server is
// killed and started again 5 s later. Every message is answered exactly
// once, in order; no turn is left running or ran twice though both
// workers' reconcilers look for turns to start.
func TestTheClusterSurvivesFaults(t *testing.T) {
	llm := fakellm.Start(func(n int, req fakellm.Request) fakellm.Response {
		time.Sleep(150 * time.Millisecond) // an LLM that takes a while: faults land mid-turn
		return fakellm.Echo(n, req)
	})
	t.Cleanup(llm.Close)
	c := startCluster(t, "LITELLM_BASEURL="+llm.BaseURL(), "AUTH_CACHE_MS=1000")
	clients := apis(t, c)

	const users = 20
	tokens := make([]apitest.Tokens, users)
	for i := range tokens {
		tokens[i] = clients[i%2].User(fmt.Sprintf("cluster%02d", i))
	}

	var faultsDone atomic.Bool
	var wg sync.WaitGroup
	asked := make([][]string, users)
	for i := range users {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk := tokens[i]
			conv := "/auth/conversations/" + domain.AIConversationID(tk.UserID()) + "/messages"
			for n := 0; n < 3 || !faultsDone.Load(); n++ {
				text := fmt.Sprintf("user %d message %d", i, n)
				var id int64
				require.EventuallyWithT(t, func(ct *assert.CollectT) {
					// This message's API, or the other one while it is down.
					for _, api := range []*apitest.Client{clients[n%2], clients[(n+1)%2]} {
						w := api.Call("POST", conv, map[string]any{"content": text}, tk.AccessToken)
						if w.Code == http.StatusCreated {
							id = apitest.ID(apitest.Decode(t, w))
							return
						}
					}
					ct.Errorf("neither API took the message")
				}, 30*time.Second, 100*time.Millisecond)
				asked[i] = append(asked[i], text)
				awaitReply(t, clients, tk, id, 90*time.Second, 50*time.Millisecond)
			}
		}()
	}

	time.Sleep(time.Second)
	t.Log("SIGKILL worker1; restart it 2 s later")
	require.NoError(t, c.Workers[0].Kill())
	time.Sleep(2 * time.Second)
	require.NoError(t, c.Workers[0].Start())
	time.Sleep(2 * time.Second)

	t.Log("SIGKILL api1; restart it 3 s later")
	require.NoError(t, c.APIs[0].Kill())
	time.Sleep(3 * time.Second)
	require.NoError(t, c.APIs[0].Start())
	require.NoError(t, c.WaitAPI(context.Background(), 0))
	time.Sleep(2 * time.Second)

	t.Log("SIGKILL the Temporal server; start it 5 s later")
	require.NoError(t, c.Temporal.Kill())
	time.Sleep(5 * time.Second)
	require.NoError(t, c.StartTemporal(context.Background()))
	time.Sleep(2 * time.Second)
	faultsDone.Store(true)
	wg.Wait()
	if t.Failed() {
		return
	}

	// Exactly one reply to every message, right after it, the echo of it.
	for i, tk := range tokens {
		w := clients[1].Call("GET", "/auth/conversations/"+domain.AIConversationID(tk.UserID())+"/messages?limit=100", nil, tk.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		msgs := apitest.DecodeList(t, w)
		sort.Slice(msgs, func(a, b int) bool { return apitest.ID(msgs[a]) < apitest.ID(msgs[b]) })
		require.Len(t, msgs, 2*len(asked[i]), "user %d: every message and one reply each", i)
		for n, text := range asked[i] {
			q, a := msgs[2*n], msgs[2*n+1]
			assert.Equal(t, text, q["content"])
			assert.Equal(t, "echo: "+text, a["content"], "user %d message %d", i, n)
			assert.Equal(t, q["id"], a["parent_id"], "user %d: the reply answers its message", i)
		}
	}

	// No turn still running, none started twice.
	tc, err := client.Dial(temporalclient.Admin(c.TemporalAddress(), "default", testenv.Logger()))
	require.NoError(t, err)
	defer tc.Close()
	runs := map[string]int{}
	var token []byte
	for {
		res, err := tc.ListWorkflow(context.Background(), &workflowservice.ListWorkflowExecutionsRequest{
			Query: "WorkflowType = 'TurnWorkflow'", NextPageToken: token})
		require.NoError(t, err)
		for _, ex := range res.Executions {
			runs[ex.Execution.WorkflowId]++
			assert.NotEqual(t, "Running", ex.Status.String(), "turn %s is still running", ex.Execution.WorkflowId)
		}
		if token = res.NextPageToken; len(token) == 0 {
			break
		}
	}
	total := 0
	for _, a := range asked {
		total += len(a)
	}
	assert.Len(t, runs, total, "one turn per message")
	for id, n := range runs {
		assert.Equal(t, 1, n, "turn %s ran %d times", id, n)
	}
	t.Logf("%d messages from %d users answered once each through the faults", total, users)
}

// Two APIs share what a user does: a session ended through one is refused
// by the other within AUTH_CACHE_MS, and a client following a conversation
// on one sees the reply to a message posted on the other, as it is
// written.
func TestTheClusterIsOneService(t *testing.T) {
	llm := fakellm.Start(fakellm.Echo)
	t.Cleanup(llm.Close)
	const cacheMS = 1000
	c := startCluster(t, "LITELLM_BASEURL="+llm.BaseURL(), fmt.Sprintf("AUTH_CACHE_MS=%d", cacheMS))
	clients := apis(t, c)

	tk := clients[0].User("roamer")
	conv := domain.AIConversationID(tk.UserID())
	events := openEvents(t, c.APIURL(1), tk.AccessToken, conv)
	w := clients[0].Call("POST", "/auth/conversations/"+conv+"/messages", map[string]any{"content": "hello over there"}, tk.AccessToken)
	require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
	got := until(t, events, replyFrom(tk.UserID()))
	assert.Equal(t, "echo: hello over there", got[len(got)-1].data["content"])
	assert.NotEmpty(t, named(got, "typing"), "API 2 relays the worker's live events too")

	// API 2 has the session cached; API 1 ends it.
	require.Equal(t, http.StatusOK, clients[1].Call("GET", "/auth/me", nil, tk.AccessToken).Code)
	require.Equal(t, http.StatusOK, clients[0].Call("POST", "/auth/logout", nil, tk.AccessToken).Code)
	ended := time.Now()
	for clients[1].Call("GET", "/auth/me", nil, tk.AccessToken).Code == http.StatusOK {
		// The cache's bound, and a second for a loaded machine's requests.
		require.Less(t, time.Since(ended), cacheMS*time.Millisecond+time.Second,
			"API 2 still takes a session API 1 ended")
		time.Sleep(20 * time.Millisecond)
	}
	t.Logf("API 2 refused the session %v after API 1 ended it (AUTH_CACHE_MS %d)", time.Since(ended).Round(time.Millisecond), cacheMS)
}
