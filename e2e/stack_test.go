// Package e2e_test drives aimsg from the outside: HTTP in, against the real
// Temporal dev server, the real worker and API, a real database and a fake
// OpenAI-compatible LLM; workflow histories and stored replies out.
package e2e_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"maps"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/metrics"
	"github.com/aimsg/aimsg/schema"
	"github.com/aimsg/aimsg/temporalclient"
	"github.com/aimsg/aimsg/worker"
	"github.com/aimsg/aimsg/workflows"
)

var temporalServer *testenv.Temporal

func TestMain(m *testing.M) {
	testenv.MainWithTemporal(m, &temporalServer)
}

// stack is aimsg running for one test: API, worker and reconciler on their
// own task queue, a fresh database, a scripted LLM.
type stack struct {
	*apitest.Client
	t   testing.TB
	cfg config.Config
	db  *bun.DB
	tc  client.Client
	llm *fakellm.Server
	// vars is the environment the stack was configured from.
	vars    map[string]string
	metrics *metrics.Metrics
}

func newStack(t testing.TB, baseURL string, script fakellm.Script, env map[string]string) *stack {
	t.Helper()
	return newStackWith(t, baseURL, script, stackOptions{env: env, temporal: temporalServer})
}

// stackOptions change how a stack runs.
type stackOptions struct {
	env map[string]string
	// temporal is the server to use (the package's shared one by default).
	temporal *testenv.Temporal
	// noWorker leaves the worker out, for tests that run it as a process.
	noWorker bool
}

func newStackWith(t testing.TB, baseURL string, script fakellm.Script, o stackOptions) *stack {
	t.Helper()
	env := o.env
	llm := fakellm.Start(script)
	t.Cleanup(llm.Close)
	suffix := make([]byte, 4)
	_, _ = rand.Read(suffix)
	vars := map[string]string{
		"SECRET_KEY":          "e2e-secret-key-0123456789abcdef0123456789",
		"DATABASE_URL":        testenv.ScratchURL(t, baseURL),
		"LITELLM_BASEURL":     llm.BaseURL(),
		"TEMPORAL_ADDRESS":    o.temporal.HostPort,
		"TEMPORAL_TASK_QUEUE": "e2e-" + hex.EncodeToString(suffix),
		"BCRYPT_COST":         "10",
		// Tests register many people from one address and write to the
		// assistant in bursts; the limits have their own tests.
		"REGISTRATIONS_PER_ADDRESS": "0",
		"INBOUND_MAX_PER_MINUTE":    "0",
		"TURN_LLM_RETRY_MS":         "50",
		"TURN_LLM_ATTEMPTS":         "3",
		// Each channel message is answered at once; bursts have their test.
		"TURN_DEBOUNCE_MS":    "0",
		"WORKER_METRICS_ADDR": "127.0.0.1:0",
		// The API serves /metrics to scrape, which bears it.
		"METRICS_TOKEN": metricsToken,
		// Files people send stay with the test.
		"MEDIA_DIR": t.TempDir(),
	}
	for k, v := range env {
		vars[k] = v
	}
	cfg, err := config.Load(func(k string) string { return vars[k] }, config.Production)
	require.NoError(t, err)
	db := testenv.Open(t, cfg.DatabaseURL)
	_, err = schema.Up(context.Background(), db, schema.Migrations(database.Dialect(db)), testenv.Logger())
	require.NoError(t, err)
	testenv.SpreadIDs(t, db, "users", "messages", "webhook_deliveries")
	m := metrics.New()
	// The client the API and the worker of `aimsg serve` and `aimsg worker` make.
	opts, err := temporalclient.Options(cfg, testenv.Logger(), m)
	require.NoError(t, err)
	tc, err := client.Dial(opts)
	require.NoError(t, err)
	t.Cleanup(tc.Close)
	if !o.noWorker {
		// As separate processes do: NOTIFY on PostgreSQL, the table on SQLite.
		workerLogs, err := logs.New(os.Stderr, "", slog.LevelWarn)
		require.NoError(t, err)
		stop, err := worker.Start(context.Background(), cfg, tc, db, events.PublisherFor(cfg.DatabaseURL, db, nil), workerLogs, m)
		require.NoError(t, err)
		t.Cleanup(stop)
	}
	s := &stack{t: t, cfg: cfg, db: db, tc: tc, llm: llm, vars: vars, metrics: m}
	_, bench := t.(*testing.B) // benchmarks time the stack alone
	s.Client = &apitest.Client{T: t, H: s.newAPI(), CheckContract: !bench}
	return s
}

// newAPI is an API process of the stack: its own hub, fed by the
// stack's database, its own dispatch queue.
func (s *stack) newAPI() http.Handler {
	logSet, err := logs.New(io.Discard, "", 0)
	require.NoError(s.t, err)
	hub := events.NewHub(s.db, testenv.Logger())
	h, err := api.NewServer(s.cfg, logSet, s.db, s.tc,
		&dispatch.Conversations{Temporal: s.tc, TaskQueue: s.cfg.TemporalTaskQueue, DB: s.db, Debounce: s.cfg.TurnDebounce}, hub, s.metrics)
	require.NoError(s.t, err)
	ctx, stop := context.WithCancel(context.Background())
	fed := events.Feed(ctx, s.cfg.DatabaseURL, s.db, hub, testenv.Logger())
	s.t.Cleanup(func() { stop(); <-fed })
	return h
}

// ask writes into the user's AI conversation and returns the stored message.
func (s *stack) ask(tk apitest.Tokens, text string) map[string]any {
	s.t.Helper()
	w := s.Call("POST", "/auth/conversations/"+domain.AIConversationID(tk.UserID())+"/messages",
		map[string]any{"content": text}, tk.AccessToken)
	require.Equal(s.t, http.StatusCreated, w.Code, w.Body.String())
	return apitest.Decode(s.t, w)
}

// replyTo waits for the assistant's reply to a message, read through the API.
func (s *stack) replyTo(tk apitest.Tokens, messageID int64, within time.Duration) map[string]any {
	s.t.Helper()
	return awaitReply(s.t, []*apitest.Client{s.Client}, tk, messageID, within, 20*time.Millisecond)
}

// awaitReply waits until the assistant's reply to messageID (or to a later
// message its turn took in) shows in tk's conversation, as the user reads
// it from any of apis, polling every poll, and returns it. It is the one
// way the tests and benchmarks here wait for a reply.
func awaitReply(t testing.TB, apis []*apitest.Client, tk apitest.Tokens, messageID int64, within, poll time.Duration) map[string]any {
	t.Helper()
	path := "/auth/conversations/" + domain.AIConversationID(tk.UserID()) + "/messages?limit=10"
	var reply map[string]any
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		for _, api := range apis {
			w := api.Call("GET", path, nil, tk.AccessToken)
			if w.Code != http.StatusOK {
				continue // that API is down: ask the next
			}
			for _, m := range apitest.DecodeList(t, w) {
				if p, ok := m["parent_id"].(float64); ok && int64(p) >= messageID && m["sender_id"] != float64(tk.UserID()) {
					reply = m
				}
			}
			break
		}
		require.NotNil(c, reply, "no reply to %d yet", messageID)
	}, within, poll)
	return reply
}

// history lists the steps of a workflow, in order: activities by type,
// local ones as "local:<type>", version markers as "version:<change>",
// search-attribute upserts as "upsert:<keys>".
func (s *stack) history(workflowID string) []string {
	s.t.Helper()
	var activities []string
	for _, ev := range s.fullHistory(workflowID).Events {
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			activities = append(activities, a.GetActivityType().GetName())
		}
		if name, ok := workflows.LocalStep(ev, converter.GetDefaultDataConverter()); ok {
			activities = append(activities, "local:"+name)
		}
		if m := ev.GetMarkerRecordedEventAttributes(); m != nil && m.GetMarkerName() == "Version" {
			var change string
			require.NoError(s.t, converter.GetDefaultDataConverter().FromPayload(m.GetDetails()["change-id"].GetPayloads()[0], &change))
			activities = append(activities, "version:"+change)
		}
		if u := ev.GetUpsertWorkflowSearchAttributesEventAttributes(); u != nil {
			keys := slices.Sorted(maps.Keys(u.GetSearchAttributes().GetIndexedFields()))
			activities = append(activities, "upsert:"+strings.Join(keys, ","))
		}
	}
	return activities
}

// fullHistory reads a workflow's whole history.
func (s *stack) fullHistory(workflowID string) *historypb.History {
	s.t.Helper()
	iter := s.tc.GetWorkflowHistory(context.Background(), workflowID, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		ev, err := iter.Next()
		require.NoError(s.t, err)
		h.Events = append(h.Events, ev)
	}
	return h
}

// turnOutcome waits for a turn to exist and finish, and returns its result.
func (s *stack) turnOutcome(messageID int64) workflows.TurnResult {
	s.t.Helper()
	var res workflows.TurnResult
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		run := s.tc.GetWorkflow(ctx, workflows.TurnWorkflowID(messageID), "")
		require.NoError(c, run.Get(ctx, &res))
	}, time.Minute, 50*time.Millisecond)
	return res
}

var itoa = apitest.Itoa

func listRequest(query string) *workflowservice.ListWorkflowExecutionsRequest {
	return &workflowservice.ListWorkflowExecutionsRequest{Namespace: "default", Query: query}
}

// saveHistories writes workflow histories for the replay tests when
// AIMSG_SAVE_HISTORIES names a folder: run it after changing a workflow's
// shape on purpose (behind a TurnRevision or workflow.GetVersion), and commit the files next
// to the older ones under a new name: turns of every version may be
// running.
func (s *stack) saveHistories(ids ...string) {
	dir := os.Getenv("AIMSG_SAVE_HISTORIES")
	if dir == "" {
		return
	}
	for _, id := range ids {
		b, err := protojson.MarshalOptions{Indent: "  "}.Marshal(s.fullHistory(id))
		require.NoError(s.t, err)
		name := strings.SplitN(id, "/", 2)[0] + ".json"
		require.NoError(s.t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
}
