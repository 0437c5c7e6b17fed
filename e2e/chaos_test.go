package e2e_test

import (
	"context"
	"fmt"
	"maps"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/faketwilio"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// TestChaosWorkerKilledAtRandom: messages keep coming while `aimsg worker`
// is SIGKILLed at random moments, ten times, and started again; kills land
// in every step of the turns in flight (loading history, calling the LLM,
// saving, delivering). Afterwards no message waits, none is answered twice,
// and each conversation's replies follow its messages. The seed is logged
// to replay a run.
func TestChaosWorkerKilledAtRandom(t *testing.T) {
	bin := buildAimsg(t)
	urls := testenv.DatabaseURLs(t)
	llm := func(_ int, req fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "echo: " + req.Last().Text(), Delay: 30 * time.Millisecond}
	}
	s := newStackWith(t, urls[len(urls)-1], llm, stackOptions{temporal: temporalServer, noWorker: true,
		env: map[string]string{"TURN_RECONCILE_SECONDS": "2"}})
	users := make([]apitest.Tokens, 8)
	for i := range users {
		users[i] = s.User(fmt.Sprintf("chaos%d", i))
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("chaos seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	pause := func() time.Duration { return time.Duration(300+rng.IntN(1200)) * time.Millisecond }

	worker := startWorkerProcess(t, bin, s)
	kills := 0
	kill := func() {
		require.NoError(t, worker.Process.Kill())
		_, _ = worker.Process.Wait()
		kills++
		worker = startWorkerProcess(t, bin, s)
	}
	var posted []int64
	next := time.Now().Add(pause())
	for i := range 40 {
		q := s.ask(users[i%len(users)], fmt.Sprintf("message %d", i))
		posted = append(posted, apitest.ID(q))
		time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		if time.Now().After(next) {
			kill()
			next = time.Now().Add(pause())
		}
	}
	for kills < 10 {
		time.Sleep(pause())
		kill()
	}

	ctx := context.Background()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n, err := s.db.NewSelect().Model((*domain.Message)(nil)).
			Where("id IN (?) AND turn_status = ?", bun.List(posted), domain.TurnPending).Count(ctx)
		assert.NoError(c, err)
		assert.Zero(c, n, "messages still waiting for their turn")
	}, 3*time.Minute, 200*time.Millisecond)

	replies := answeredOnceInOrder(t, s, posted)
	failed, err := s.db.NewSelect().Model((*domain.Message)(nil)).
		Where("id IN (?) AND turn_status = ?", bun.List(posted), domain.TurnFailed).Count(ctx)
	require.NoError(t, err)
	assert.Zero(t, failed)
	t.Logf("%d kills, %d messages, %d replies (the rest answered together with the next message)", kills, len(posted), replies)
}

// TestChaosTemporalRestartedWhileSMSArrive: the Temporal server stops while
// SMS keep arriving and comes back later. Every webhook is answered at once
// and stored; once Temporal is back every message gets its turn, each
// reply is sent by SMS once.
func TestChaosTemporalRestartedWhileSMSArrive(t *testing.T) {
	hostPort := fmt.Sprintf("127.0.0.1:%d", reusablePort(t))
	dbFile := filepath.Join(t.TempDir(), "temporal.db")
	tp := ownTemporal(t, hostPort, dbFile)
	s := newSMSStackWith(t, "sqlite:///:memory:", fakellm.Echo, nil, stackOptions{temporal: tp,
		env: map[string]string{"TURN_RECONCILE_SECONDS": "1"}})
	for i := range 30 {
		switch i {
		case 10:
			require.NoError(t, tp.Server.Stop())
		case 20:
			tp = ownTemporal(t, hostPort, dbFile)
		}
		start := time.Now()
		w := s.webhook(inbound(fmt.Sprintf("SMchaos%027d", i), userPhone, fmt.Sprintf("text %d", i)))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Less(t, time.Since(start), 5*time.Second, "webhooks do not wait for Temporal")
		time.Sleep(50 * time.Millisecond)
	}
	defer tp.Stop()

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Zero(c, s.count((*domain.Message)(nil), "channel = ? AND turn_status = ?", domain.ChannelTwilio, domain.TurnPending))
	}, 2*time.Minute, 200*time.Millisecond, "every SMS gets its turn once Temporal is back")
	assert.EqualValues(t, 30, s.count((*domain.Message)(nil), "channel = ? AND turn_status = ?", domain.ChannelTwilio, domain.TurnReplied))
	replies := s.count((*domain.Message)(nil), "parent_id IS NOT NULL")
	assert.EqualValues(t, replies, s.count((*domain.Message)(nil), "parent_id IS NOT NULL AND id IN (SELECT min(id) FROM messages WHERE parent_id IS NOT NULL GROUP BY parent_id)"),
		"no message answered twice")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.EqualValues(c, replies, len(s.twilio.Sent()), "each reply sent by SMS once")
	}, 30*time.Second, 100*time.Millisecond)
}

// TestLLMHangingIsCutAndRetried: the LLM accepts the request and never
// answers; the call is cut at LLM_TIMEOUT_SECONDS and tried again.
func TestLLMHangingIsCutAndRetried(t *testing.T) {
	script := func(n int, _ fakellm.Request) fakellm.Response {
		if n == 0 {
			return fakellm.Response{Content: "too late", Delay: 10 * time.Minute}
		}
		return fakellm.Response{Content: "awake"}
	}
	s := newStack(t, "sqlite:///:memory:", script, map[string]string{"LLM_TIMEOUT_SECONDS": "1"})
	u := s.User("waiter")
	start := time.Now()
	q := s.ask(u, "hello?")
	reply := s.replyTo(u, apitest.ID(q), 60*time.Second)
	assert.Equal(t, "awake", reply["content"])
	assert.Less(t, time.Since(start), 30*time.Second)
	assert.Len(t, s.llm.Requests(), 2)
}

// TestChaosDatabaseOutageUnderLoad: the network to PostgreSQL goes away
// for two seconds (every connection broken, new ones refused) while
// messages are posted. A message the API did not store is refused with a
// 503 (the client keeps it and tries again); every message it stored gets
// its turn once the database is back, answered once, in order.
func TestChaosDatabaseOutageUnderLoad(t *testing.T) {
	pg := postgresURL(t)
	dbURL, err := url.Parse(testenv.ScratchURL(t, pg))
	require.NoError(t, err)
	proxy := testenv.StartProxy(t, dbURL.Host)
	dbURL.Host = proxy.Addr()
	databaseFaultUnderLoad(t, pg, map[string]string{"DATABASE_URL": dbURL.String()},
		func() { proxy.Outage(2 * time.Second) })
}

// TestChaosPostgresRestartedUnderLoad: the same with the server itself
// crashed (immediate shutdown, so it recovers from its log) and started
// again two seconds later: a server of the test's own, the shared one
// serves the other tests.
func TestChaosPostgresRestartedUnderLoad(t *testing.T) {
	postgresURL(t) // skipped with the other PostgreSQL tests
	pg := testenv.StartPostgres(t)
	databaseFaultUnderLoad(t, pg.URL, nil, func() { pg.Restart(2 * time.Second) })
}

// databaseFaultUnderLoad posts messages to six users' AI conversations
// every 30 ms, brings fault on a second in, and once it is over checks
// that only 503s were refused and that every stored message was answered
// once, in order.
func databaseFaultUnderLoad(t *testing.T, pg string, env map[string]string, fault func()) {
	llm := func(_ int, req fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "echo: " + req.Last().Text(), Delay: 20 * time.Millisecond}
	}
	if env == nil {
		env = map[string]string{}
	}
	env["TURN_RECONCILE_SECONDS"] = "1"
	s := newStackWith(t, pg, llm, stackOptions{temporal: temporalServer, env: env})
	users := make([]apitest.Tokens, 6)
	for i := range users {
		users[i] = s.User(fmt.Sprintf("outage%d", i))
	}

	over := make(chan struct{})
	go func() {
		time.Sleep(time.Second)
		fault()
		close(over)
	}()
	var accepted []int64
	refused := map[int]int{}
posting:
	for i := 0; ; i++ {
		select {
		case <-over:
			break posting
		default:
		}
		u := users[i%len(users)]
		w := s.Call("POST", "/auth/conversations/"+domain.AIConversationID(u.UserID())+"/messages",
			map[string]any{"content": fmt.Sprintf("message %d", i)}, u.AccessToken)
		switch {
		case w.Code == http.StatusCreated:
			accepted = append(accepted, apitest.ID(apitest.Decode(t, w)))
		case w.Code >= 500:
			refused[w.Code]++
		default:
			t.Fatalf("answer %d during the fault: %s", w.Code, w.Body.String())
		}
		time.Sleep(30 * time.Millisecond)
		if i > 400 {
			t.Fatal("the fault never ended")
		}
	}
	require.NotEmpty(t, refused, "the fault was seen")
	assert.Equal(t, []int{http.StatusServiceUnavailable}, slices.Collect(maps.Keys(refused)),
		"an unreachable database is 503, for the client to try again")
	// A few more after the database is back.
	for i := range users {
		q := s.ask(users[i], "after the fault")
		accepted = append(accepted, apitest.ID(q))
	}
	ctx := context.Background()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n, err := s.db.NewSelect().Model((*domain.Message)(nil)).
			Where("id IN (?) AND turn_status <> ?", bun.List(accepted), domain.TurnReplied).Count(ctx)
		assert.NoError(c, err)
		assert.Zero(c, n, "stored messages still without their reply")
	}, 2*time.Minute, 200*time.Millisecond)
	replies := answeredOnceInOrder(t, s, accepted)
	t.Logf("%d messages stored, refused during the fault: %v, %d replies", len(accepted), refused, replies)
}

// answeredOnceInOrder checks that no message of ids was answered twice and
// that each conversation's replies follow the order of its messages; it
// returns how many replies there are.
func answeredOnceInOrder(t *testing.T, s *stack, ids []int64) int {
	t.Helper()
	var replies []struct {
		Parent int64  `bun:"parent_id"`
		Conv   string `bun:"conversation_id"`
	}
	require.NoError(t, s.db.NewSelect().Model((*domain.Message)(nil)).Column("parent_id", "conversation_id").
		Where("parent_id IN (?)", bun.List(ids)).Order("id").Scan(context.Background(), &replies))
	seen, last := map[int64]bool{}, map[string]int64{}
	for _, r := range replies {
		assert.False(t, seen[r.Parent], "message %d answered twice", r.Parent)
		assert.Greater(t, r.Parent, last[r.Conv], "replies of %s out of order", r.Conv)
		seen[r.Parent], last[r.Conv] = true, r.Parent
	}
	return len(replies)
}

// TestChaosWorkerKilledInsideEachActivity: for each step of a turn in turn
// (load history, call the LLM, run a tool, save the reply, deliver the SMS),
// `aimsg worker` is held inside that step and SIGKILLed there, then started
// again. Every time the message is answered once, the SMS is sent once and
// the turn ends replied. The database steps are held by a table lock the
// worker's statement waits on (seen in pg_stat_activity), the LLM and
// Twilio by fakes that do not answer.
func TestChaosWorkerKilledInsideEachActivity(t *testing.T) {
	pg := postgresURL(t)
	bin := buildAimsg(t)
	steps := []struct {
		step string
		// hold keeps the worker inside the step once it gets there; inside
		// says it is; release lets the step go on (for whoever runs it next).
		hold func(t *testing.T, s *smsStack, h *holds) (inside func() bool, release func())
	}{
		{"LoadHistory", lockedTable("messages", `ORDER BY "id" DESC`)},
		{"CallLLM", func(t *testing.T, s *smsStack, h *holds) (func() bool, func()) {
			h.llm.Store(true)
			return func() bool { return len(s.llm.Requests()) == 1 }, func() {}
		}},
		{"RunTool", lockedTable("reports", `"reports"`)},
		{"SaveReply", lockedTable("message_counts", `INSERT INTO "messages"`)},
		{"Deliver", func(t *testing.T, s *smsStack, h *holds) (func() bool, func()) {
			h.twilio = make(chan struct{})
			return func() bool { return s.twilio.Creates() == 1 }, func() { close(h.twilio) }
		}},
	}
	for _, st := range steps {
		t.Run(st.step, func(t *testing.T) {
			t.Parallel()
			h := &holds{app: "aimsg-chaos-" + strings.ToLower(st.step)}
			llm := func(n int, req fakellm.Request) fakellm.Response {
				r := reportsAgent(n, req)
				if h.llm.CompareAndSwap(true, false) {
					r.Delay = time.Hour // answered by nobody: the worker dies waiting
				}
				return r
			}
			sms := func(n int) faketwilio.Response {
				if n == 0 && h.twilio != nil {
					return faketwilio.Response{Hold: h.twilio}
				}
				return faketwilio.Response{}
			}
			s := newSMSStackWith(t, pg, llm, sms, stackOptions{temporal: temporalServer, noWorker: true})
			w := s.Call("POST", "/reports", map[string]any{"title": "Broken login", "content": "It shows a 500."}, s.user.AccessToken)
			require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
			sid := "SMkill" + strings.Repeat("0", 28)
			w = s.webhook(inbound(sid, userPhone, "how are my reports?"))
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			var msg domain.Message
			require.NoError(t, s.db.NewSelect().Model(&msg).Where("external_id = ?", sid).Scan(context.Background()))

			inside, release := st.hold(t, s, h)
			dbURL, err := url.Parse(s.vars["DATABASE_URL"])
			require.NoError(t, err)
			q := dbURL.Query()
			q.Set("application_name", h.app)
			dbURL.RawQuery = q.Encode()
			doomed := startWorkerProcess(t, bin, s.stack, "DATABASE_URL="+dbURL.String())
			require.Eventually(t, inside, 30*time.Second, 10*time.Millisecond, "the worker reaches %s", st.step)
			killed := time.Now()
			require.NoError(t, doomed.Process.Kill())
			_, _ = doomed.Process.Wait()
			release()

			startWorkerProcess(t, bin, s.stack)
			assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(msg.ID).Outcome, "the turn ends replied")
			t.Logf("killed inside %s: the turn ended %s later", st.step, time.Since(killed).Round(100*time.Millisecond))
			assert.EqualValues(t, 1, s.count((*domain.Message)(nil), "parent_id = ?", msg.ID), "one reply saved")
			sent := s.twilio.Sent()
			require.Len(t, sent, 1, "one SMS sent")
			assert.Equal(t, `Your report "Broken login" is open.`, sent[0].Body)
			assert.EqualValues(t, 1, s.count((*domain.Message)(nil), "id = ? AND turn_status = ?", msg.ID, domain.TurnReplied))
		})
	}
}

// holds are what keeps one doomed worker inside a step: its database
// connections' application name, an LLM call nobody answers, an SMS Twilio
// takes and does not acknowledge.
type holds struct {
	app    string
	llm    atomic.Bool
	twilio chan struct{}
}

// lockedTable holds a table under an exclusive lock until release; the
// worker is inside the step once a statement of its containing match waits
// for that lock.
func lockedTable(table, match string) func(t *testing.T, s *smsStack, h *holds) (func() bool, func()) {
	return func(t *testing.T, s *smsStack, h *holds) (func() bool, func()) {
		ctx := context.Background()
		tx, err := s.db.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, "LOCK TABLE "+table+" IN ACCESS EXCLUSIVE MODE")
		require.NoError(t, err)
		inside := func() bool {
			var waiting []string
			err := s.db.NewRaw(`SELECT query FROM pg_stat_activity WHERE application_name = ? AND wait_event_type = 'Lock'`,
				h.app).Scan(ctx, &waiting)
			require.NoError(t, err)
			return slices.ContainsFunc(waiting, func(q string) bool { return strings.Contains(q, match) })
		}
		return inside, func() { require.NoError(t, tx.Rollback()) }
	}
}

// postgresURL is the PostgreSQL test database; the test is skipped without
// one (CI always has it).
func postgresURL(t *testing.T) string {
	for _, u := range testenv.DatabaseURLs(t) {
		if strings.HasPrefix(u, "postgres") {
			return u
		}
	}
	t.Skip("needs PostgreSQL (TEST_DATABASE_URL); CI sets it")
	return ""
}
