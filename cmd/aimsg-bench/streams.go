package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/sse"
)

// The live path under load: many idle event streams (what they cost when
// nothing happens), replies reaching open streams, and the first words of
// a reply reaching the client while the LLM writes.

// openStream is one open event stream of the load.
type openStream struct {
	user benchUser
	resp *http.Response
}

// sseEvent is one event read off a stream, with when it arrived.
type sseEvent struct {
	name string
	data []byte
	at   time.Time
}

// openStreams opens one event stream per user on their assistant
// conversation; each stream's events go to on (when set) as they arrive.
func (st *stack) openStreams(ctx context.Context, us []benchUser, on func(u benchUser, ev sseEvent)) ([]*openStream, error) {
	// One connection per stream: no idle pool to share.
	client := &http.Client{Transport: &http.Transport{MaxConnsPerHost: 0, DisableKeepAlives: true}}
	out := make([]*openStream, len(us))
	var wg sync.WaitGroup
	var failed atomic.Value
	sem := make(chan struct{}, 64)
	for i, u := range us {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			req, err := http.NewRequestWithContext(ctx, "GET",
				st.apiURL+"/auth/conversations/"+domain.AIConversationID(u.ID)+"/events", nil)
			if err != nil {
				failed.Store(err)
				return
			}
			req.Header.Set("Authorization", "Bearer "+u.token)
			resp, err := client.Do(req)
			if err != nil {
				failed.Store(err)
				return
			}
			if resp.StatusCode != http.StatusOK {
				resp.Body.Close()
				failed.Store(fmt.Errorf("open stream: %d", resp.StatusCode))
				return
			}
			out[i] = &openStream{user: u, resp: resp}
			go readSSE(resp, func(ev sseEvent) {
				if on != nil {
					on(u, ev)
				}
			})
		})
	}
	wg.Wait()
	if err, ok := failed.Load().(error); ok {
		closeStreams(out)
		return nil, err
	}
	return out, nil
}

func closeStreams(streams []*openStream) {
	for _, s := range streams {
		if s != nil {
			s.resp.Body.Close()
		}
	}
}

// readSSE reads events off a stream until it ends, stamped as they arrive.
func readSSE(resp *http.Response, on func(sseEvent)) {
	_ = sse.Read(resp.Body, func(e sse.Event) {
		on(sseEvent{name: e.Name, data: e.Data, at: time.Now()})
	})
}

// transactions is PostgreSQL's count of transactions in the database so
// far (0 on SQLite).
func (st *stack) transactions(ctx context.Context) int64 {
	if st.dialect != "postgres" {
		return 0
	}
	var n int64
	_ = st.db.NewRaw("SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()").Scan(ctx, &n)
	return n
}

// idleWindow measures, over d with nothing happening, the CPU of the API
// and PostgreSQL (in % of one core) and the database's transactions per
// second.
func (st *stack) idleWindow(ctx context.Context, d time.Duration) (cpu map[string]float64, xactPerSec float64) {
	before, tx := st.cpuSample(), st.transactions(ctx)
	select {
	case <-ctx.Done():
	case <-time.After(d):
	}
	after, tx2 := st.cpuSample(), st.transactions(ctx)
	cpu = map[string]float64{}
	for _, k := range []string{"aimsg serve", "postgresql", "aimsg worker"} {
		cpu[k] = round1(float64(after[k]-before[k]) / float64(d) * 100)
	}
	// The count itself is a transaction of ours, read twice.
	return cpu, float64(tx2-tx-1) / d.Seconds()
}

// streamsScenario: idle streams, replies to open streams, first delta.
func streamsScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	idle, busy := 10_000, 1_000
	if o.quick {
		idle, busy = 500, 100
	}
	out, err := st.idleStreams(ctx, idle, o)
	if err != nil {
		return nil, err
	}
	r, err := st.repliesToStreams(ctx, busy, o)
	if err != nil {
		return nil, err
	}
	out = append(out, r)
	r, err = st.firstDelta(ctx, o)
	if err != nil {
		return nil, err
	}
	return append(out, r), nil
}

// idleAfterOpen is how long the load waits after opening streams before it
// measures them idle: the API collects the garbage of opening them, and
// PostgreSQL's backends report the transactions they made (a backend
// flushes its counters once idle for 10 s).
const idleAfterOpen = 15 * time.Second

// idleStreams opens n streams and measures what they cost doing nothing,
// over a whole keep-alive period.
func (st *stack) idleStreams(ctx context.Context, n int, o options) ([]result, error) {
	window := max(o.duration, 30*time.Second)
	baseCPU, baseXact := st.idleWindow(ctx, window)
	rssBefore := st.api.memory()["VmRSS"]
	us, err := st.users(ctx, n)
	if err != nil {
		return nil, err
	}
	streams, err := st.openStreams(ctx, us, nil)
	if err != nil {
		return nil, err
	}
	defer closeStreams(streams)
	select {
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-time.After(idleAfterOpen):
	}
	settle(ctx, 30*time.Second)
	rssAfter := st.api.memory()["VmRSS"]
	cpu, xact := st.idleWindow(ctx, window)
	total := cpu["aimsg serve"] + cpu["postgresql"]
	perStream := float64(rssAfter-rssBefore) / float64(n) / 1024
	notes := map[string]any{"streams": n, "cpu_percent": cpu, "window": window.String(),
		"cpu_percent_without_streams": baseCPU, "transactions_per_s_without_streams": round1(baseXact)}
	return []result{
		{Name: fmt.Sprintf("%d idle streams: API + PostgreSQL CPU", n), Value: round1(total), Unit: "% of a core",
			Target: "<= 5%", Met: check(total <= 5), Notes: notes},
		{Name: fmt.Sprintf("%d idle streams: database transactions", n), Value: round1(xact), Unit: "per s",
			Target: "none caused by the streams", Met: check(xact <= baseXact+0.5),
			Notes: map[string]any{"without_streams": round1(baseXact)}},
		{Name: fmt.Sprintf("%d idle streams: API memory per stream", n), Value: round1(perStream), Unit: "KB",
			Target: "<= 20 KB", Met: check(perStream <= 20),
			Notes: map[string]any{"rss_before_mb": rssBefore >> 20, "rss_after_mb": rssAfter >> 20}},
	}, nil
}

// repliesToStreams: n users with a stream open each, replies at 50/s;
// the time from a reply's commit to its arrival on the stream.
func (st *stack) repliesToStreams(ctx context.Context, n int, o options) (result, error) {
	const rate = 50
	us, err := st.users(ctx, n)
	if err != nil {
		return result{}, err
	}
	var lat latencies
	var got atomic.Int64
	streams, err := st.openStreams(ctx, us, func(u benchUser, ev sseEvent) {
		if ev.name != "message" {
			return
		}
		var m struct {
			SenderID  int64     `json:"sender_id"`
			CreatedAt time.Time `json:"created_at"`
		}
		if json.Unmarshal(ev.data, &m) != nil || m.SenderID != st.assistantID {
			return
		}
		lat.add(ev.at.Sub(m.CreatedAt))
		got.Add(1)
	})
	if err != nil {
		return result{}, err
	}
	defer closeStreams(streams)
	settle(ctx, 30*time.Second)
	body, _ := json.Marshal(map[string]string{"content": "to the stream"})
	load := openLoop(ctx, rate, o.duration, func(ctx context.Context, i int) error {
		u := us[i%len(us)]
		_, err := st.call(ctx, "POST", "/auth/conversations/"+domain.AIConversationID(u.ID)+"/messages",
			u.token, body, http.StatusCreated)
		return err
	})
	sent := int64(load.Count)
	deadline := time.Now().Add(2 * time.Minute)
	for got.Load() < sent && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	s := lat.summary()
	l := loadResult{summary: s, Seconds: load.Seconds, Rate: load.Rate}
	return result{Name: fmt.Sprintf("reply commit -> stream, %d open streams, %d replies/s", n, rate), Load: &l,
		Target: "p99 <= 100 ms", Met: check(s.Count > 0 && s.P99 <= 100 && got.Load() >= sent),
		Notes: map[string]any{"posted": sent, "replies_on_streams": got.Load()}}, nil
}

// firstDelta: the fake LLM writes its answer in pieces, the first after
// firstChunk; the time from the LLM sending that piece to the client
// reading it as a delta.
func (st *stack) firstDelta(ctx context.Context, o options) (result, error) {
	const firstChunk = 300 * time.Millisecond
	turns := 40
	if o.quick {
		turns = 5
	}
	var mu sync.Mutex
	sentAt := map[string]time.Time{}
	st.llm.OnChunk(func(req fakellm.Request, i int) {
		if i == 0 {
			mu.Lock()
			sentAt[req.Last().Text()] = time.Now()
			mu.Unlock()
		}
	})
	st.llm.SetScript(func(_ int, req fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "one two three", Chunks: []string{"one ", "two ", "three"}, ChunkDelay: firstChunk}
	})
	defer func() {
		st.llm.OnChunk(nil)
		st.llm.SetScript(st.echo)
	}()
	us, err := st.users(ctx, 1)
	if err != nil {
		return result{}, err
	}
	deltas := make(chan time.Time, 64)
	streams, err := st.openStreams(ctx, us, func(_ benchUser, ev sseEvent) {
		if ev.name == "delta" && strings.Contains(string(ev.data), `"seq":1,`) {
			deltas <- ev.at
		}
	})
	if err != nil {
		return result{}, err
	}
	defer closeStreams(streams)
	var lat latencies
	path := "/auth/conversations/" + domain.AIConversationID(us[0].ID) + "/messages"
	for i := range turns {
		text := fmt.Sprintf("first delta %d", i)
		body, _ := json.Marshal(map[string]string{"content": text})
		raw, err := st.call(ctx, "POST", path, us[0].token, body, http.StatusCreated)
		if err != nil {
			return result{}, err
		}
		var m struct{ ID int64 }
		if err := json.Unmarshal(raw, &m); err != nil {
			return result{}, err
		}
		var at time.Time
		select {
		case at = <-deltas:
		case <-time.After(time.Minute):
			return result{}, errors.New("no delta within a minute")
		}
		mu.Lock()
		sent, ok := sentAt[text]
		mu.Unlock()
		if !ok {
			return result{}, errors.New("the fake LLM did not record its first piece")
		}
		lat.add(at.Sub(sent))
		if _, err := st.replyTo(ctx, m.ID, time.Minute); err != nil {
			return result{}, err
		}
	}
	s := lat.summary()
	return result{Name: fmt.Sprintf("LLM's first piece -> first delta at the client (piece after %s)", firstChunk),
		Load: &loadResult{summary: s}, Target: "p50 <= 50 ms", Met: check(s.P50 <= 50)}, nil
}
