package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/faketwilio"
)

// scenario is one part of the benchmark.
type scenario struct {
	name string
	run  func(ctx context.Context, st *stack, o options) ([]result, error)
}

var scenarios = []scenario{
	{"memory-idle", memoryIdle},
	{"burst", burstScenario},
	{"workers", workersScenario},
	{"rest", restScenario},
	{"scale", scaleScenario},
	{"webhook", webhookScenario},
	{"turn-latency", turnLatencyScenario},
	{"ceiling", ceilingScenario},
	{"streams", streamsScenario},
	{"memory-peak", memoryPeak},
}

// call sends one request and fails unless the answer has status want.
func (st *stack) call(ctx context.Context, method, path, token string, body []byte, want int, header ...string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, method, st.nextAPI()+path, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	res, err := st.http.Do(req)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	out, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	if res.StatusCode != want {
		return out, fmt.Errorf("%s %s: %d %.200s", method, path, res.StatusCode, out)
	}
	return out, nil
}

func memoryResult(name string, p *process, peak bool, targetMB float64) result {
	m := p.memory()
	v := m["VmRSS"]
	if peak {
		v = m["VmHWM"]
	}
	mb := func(b int64) float64 { return round1(float64(b) / (1 << 20)) }
	// Code pages of the binary count in the resident set too (RssFile); the
	// heap, stacks and buffers are RssAnon.
	r := result{Name: name, Value: mb(v), Unit: "MB",
		Notes: map[string]any{"rss_anon_mb": mb(m["RssAnon"]), "rss_file_mb": mb(m["RssFile"])}}
	if targetMB > 0 {
		r.Target = fmt.Sprintf("< %.0f MB", targetMB)
		r.Met = check(r.Value < targetMB)
	}
	return r
}

func memoryIdle(_ context.Context, st *stack, _ options) ([]result, error) {
	return []result{memoryResult("api RSS idle", st.api, false, 0), memoryResult("worker RSS idle", st.worker, false, 0)}, nil
}

// memoryPeak is the peak of the whole run, whose heaviest loads are the
// flat-out ones (the targets are for the burst, measured there).
func memoryPeak(_ context.Context, st *stack, _ options) ([]result, error) {
	return []result{memoryResult("api RSS peak, whole run", st.api, true, 0),
		memoryResult("worker RSS peak, whole run", st.worker, true, 0)}, nil
}

// restScenario: authenticated reads and writes and login, flat out.
func restScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	us, err := st.users(ctx, 65)
	if err != nil {
		return nil, err
	}
	reader, others := us[0], us[1:]
	const conns = 64
	var out []result

	me, meCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration, func(ctx context.Context, w, _ int) error {
			_, err := st.call(ctx, "GET", "/auth/me", others[w%len(others)].token, nil, http.StatusOK)
			return err
		})
	})
	out = append(out, result{Name: "GET /auth/me (64 conns)", Load: &me, CPU: meCPU, Target: ">= 20000/s",
		Met: check(me.Rate >= 20000)})

	// The list right after its 10,000 messages were written, as a user
	// meets it after a busy period: no VACUUM, no ANALYZE (autovacuum may
	// be a minute away, or off). Then the same once vacuumed, labelled.
	if err := st.seedMessages(ctx, reader, others[0], 10000); err != nil {
		return nil, err
	}
	listLoad := func() (loadResult, map[string]float64) {
		return st.withCPU(func() loadResult {
			return closedLoop(ctx, conns, o.duration, func(ctx context.Context, _, _ int) error {
				_, err := st.call(ctx, "GET", "/messages?limit=50", reader.token, nil, http.StatusOK)
				return err
			})
		})
	}
	list, listCPU := listLoad()
	out = append(out, result{Name: "GET /messages?limit=50 of 10,000, right after the writes (64 conns)", Load: &list, CPU: listCPU,
		Target: ">= 5000/s, p99 <= 50 ms", Met: check(list.Rate >= 5000 && list.P99 <= 50)})
	if err := st.vacuum(ctx); err != nil {
		return nil, err
	}
	vacuumed, vacuumedCPU := listLoad()
	out = append(out, result{Name: "GET /messages?limit=50 of 10,000, after VACUUM ANALYZE (64 conns)", Load: &vacuumed, CPU: vacuumedCPU})

	// The first page of the conversation list of a user with 1,000
	// conversations (three messages each), right after the writes.
	crowd, err := st.users(ctx, 1001)
	if err != nil {
		return nil, err
	}
	if err := st.seedConversations(ctx, crowd[0], crowd[1:], 3); err != nil {
		return nil, err
	}
	convs, convsCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration, func(ctx context.Context, _, _ int) error {
			_, err := st.call(ctx, "GET", "/auth/conversations?limit=50", crowd[0].token, nil, http.StatusOK)
			return err
		})
	})
	out = append(out, result{Name: "GET /auth/conversations?limit=50 of 1,000, right after the writes (64 conns)", Load: &convs,
		CPU: convsCPU, Target: ">= 2000/s", Met: check(convs.Rate >= 2000)})

	post, postCPU := st.withCPU(func() loadResult {
		return closedLoop(ctx, conns, o.duration, func(ctx context.Context, w, i int) error {
			from, to := others[w%len(others)], others[(w+1)%len(others)]
			body, _ := json.Marshal(map[string]any{"recipient_id": to.ID, "content": "bench message " + strconv.Itoa(i)})
			_, err := st.call(ctx, "POST", "/messages", from.token, body, http.StatusCreated)
			return err
		})
	})
	out = append(out, result{Name: "POST /messages (64 conns)", Load: &post, CPU: postCPU, Target: ">= 2750/s, p99 <= 60 ms",
		Met: check(post.Rate >= 2750 && post.P99 <= 60)})

	// Login: the bound is one bcrypt hash per core at a time. The rows
	// written above are vacuumed first, or autovacuum would do it during
	// the logins (a minute later) and be counted against them.
	if err := st.vacuum(ctx); err != nil {
		return nil, err
	}
	settle(ctx, time.Minute)
	hashTime := timeHash(st.hash)
	bound := float64(runtime.NumCPU()) / hashTime.Seconds()
	loginConns := 2 * runtime.NumCPU()
	baseline := openLoop(ctx, 50, o.duration, func(ctx context.Context, i int) error {
		_, err := st.call(ctx, "GET", "/auth/me", others[i%len(others)].token, nil, http.StatusOK)
		return err
	})
	var (
		login, during loadResult
		wg            sync.WaitGroup
	)
	wg.Go(func() {
		login = closedLoop(ctx, loginConns, o.duration, func(ctx context.Context, w, _ int) error {
			body, _ := json.Marshal(map[string]string{"username": others[w].Username, "password": benchPassword})
			_, err := st.call(ctx, "POST", "/auth/login", "", body, http.StatusOK)
			return err
		})
	})
	wg.Go(func() {
		during = openLoop(ctx, 50, o.duration, func(ctx context.Context, i int) error {
			_, err := st.call(ctx, "GET", "/auth/me", others[i%len(others)].token, nil, http.StatusOK)
			return err
		})
	})
	wg.Wait()
	out = append(out,
		result{Name: fmt.Sprintf("POST /auth/login (%d conns)", loginConns), Load: &login,
			Value: login.Rate / bound * 100, Unit: "% of bcrypt bound", Target: ">= 95% of bound",
			Met:   check(login.Rate >= 0.95*bound),
			Notes: map[string]any{"hash_ms": ms(hashTime), "bound_per_second": bound}},
		result{Name: "GET /auth/me at 50/s, alone", Load: &baseline},
		result{Name: "GET /auth/me at 50/s, during logins", Load: &during, Target: "p99 <= 2x alone",
			Met: check(during.P99 <= 2*baseline.P99)})
	return out, nil
}

// timeHash is how long one password check takes at the stack's cost.
func timeHash(hash string) time.Duration {
	p := &auth.Passwords{}
	start := time.Now()
	const n = 5
	for range n {
		p.Verify(hash, benchPassword)
	}
	return time.Since(start) / n
}

// exchange is n messages between a and b, taking turns, a first.
func exchange(a, b int64, n int) []domain.Message {
	conv := domain.DirectConversationID(a, b)
	msgs := make([]domain.Message, 0, n)
	for i := range n {
		from, to := a, b
		if i%2 == 1 {
			from, to = to, from
		}
		msgs = append(msgs, domain.Message{SenderID: from, RecipientID: to, Content: "seeded " + strconv.Itoa(i),
			ConversationID: &conv, Channel: domain.ChannelWeb})
	}
	return msgs
}

// seedMessages stores n messages between a and b, straight in the
// database, 1,000 a statement.
func (st *stack) seedMessages(ctx context.Context, a, b benchUser, n int) error {
	msgs := exchange(a.ID, b.ID, n)
	for i := 0; i < len(msgs); i += 1000 {
		batch := msgs[i:min(i+1000, len(msgs))]
		if _, err := st.db.NewInsert().Model(&batch).Exec(ctx); err != nil {
			return fmt.Errorf("seed messages: %w", err)
		}
	}
	return nil
}

// seedConversations gives user a conversation of n messages with each of
// peers (the peer writes first), straight in the database.
func (st *stack) seedConversations(ctx context.Context, user benchUser, peers []benchUser, n int) error {
	batch := make([]domain.Message, 0, n*len(peers))
	for _, p := range peers {
		batch = append(batch, exchange(p.ID, user.ID, n)...)
	}
	if _, err := st.db.NewInsert().Model(&batch).Exec(ctx); err != nil {
		return fmt.Errorf("seed conversations: %w", err)
	}
	return nil
}

// vacuum does at once what autovacuum would do a minute after many
// writes, so that work does not land in the middle of the next
// measurement.
func (st *stack) vacuum(ctx context.Context) error {
	q := "ANALYZE"
	if st.dialect == string(config.Postgres) {
		q = "VACUUM (ANALYZE)"
	}
	if _, err := st.db.ExecContext(ctx, q); err != nil {
		return fmt.Errorf("%s: %w", q, err)
	}
	return nil
}

// webhook posts one signed inbound SMS.
func (st *stack) webhook(ctx context.Context, from, body, sid string) error {
	form := url.Values{"From": {from}, "To": {twilioNumber}, "Body": {body}, "MessageSid": {sid}, "AccountSid": {twilioAccount}}
	sig := faketwilio.Sign(twilioToken, st.apiURL+"/twilio_webhook", form)
	req, err := http.NewRequestWithContext(ctx, "POST", st.nextAPI()+"/twilio_webhook", strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("X-Twilio-Signature", sig)
	res, err := st.http.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, res.Body)
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("webhook: %d", res.StatusCode)
	}
	return nil
}

// turnState counts the turns of inbound messages with ids above after.
type turnState struct {
	Inbound, Pending, Replied, Failed int
}

func (st *stack) turnState(ctx context.Context, channel domain.Channel, after int64) (turnState, error) {
	var rows []struct {
		TurnStatus *string `bun:"turn_status"`
		N          int     `bun:"n"`
	}
	err := st.db.NewSelect().Table("messages").ColumnExpr("turn_status, count(*) AS n").
		Where("channel = ? AND id > ? AND turn_status IS NOT NULL", channel, after).
		Group("turn_status").Scan(ctx, &rows)
	var s turnState
	for _, r := range rows {
		s.Inbound += r.N
		switch domain.TurnStatus(*r.TurnStatus) {
		case domain.TurnPending:
			s.Pending += r.N
		case domain.TurnReplied:
			s.Replied += r.N
		case domain.TurnFailed:
			s.Failed += r.N
		}
	}
	return s, err
}

// drain waits until no inbound message above after waits for its turn.
func (st *stack) drain(ctx context.Context, channel domain.Channel, after int64, limit time.Duration) (turnState, time.Duration, error) {
	start := time.Now()
	for {
		s, err := st.turnState(ctx, channel, after)
		if err != nil || s.Pending == 0 {
			return s, time.Since(start), err
		}
		if time.Since(start) > limit {
			return s, time.Since(start), fmt.Errorf("%d of %d turns still pending after %s", s.Pending, s.Inbound, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (st *stack) lastMessageID(ctx context.Context) (int64, error) {
	var id int64
	err := st.db.NewSelect().Table("messages").ColumnExpr("coalesce(max(id), 0)").Scan(ctx, &id)
	return id, err
}

// duplicateReplies counts inbound messages answered more than once and
// SMS sent more than once for one reply.
func (st *stack) duplicateReplies(ctx context.Context, after int64) (int, error) {
	var n int
	err := st.db.NewSelect().TableExpr("(?) AS d", st.db.NewSelect().Table("messages").Column("parent_id").
		Where("id > ? AND parent_id IS NOT NULL", after).Group("parent_id").Having("count(*) > 1")).
		ColumnExpr("count(*)").Scan(ctx, &n)
	return n, err
}

// webhookScenario: signed inbound SMS at fixed rates and flat out; every
// accepted message must get its turn, once.
func webhookScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	us, err := st.users(ctx, 500)
	if err != nil {
		return nil, err
	}
	rates := []int{100, 200, 500}
	if o.quick {
		rates = []int{100}
	}
	var out []result
	var seq atomic.Int64
	phase := func(name string, load func(send func(ctx context.Context, i int) error) loadResult, target string, met func(loadResult, time.Duration) bool) error {
		after, err := st.lastMessageID(ctx)
		if err != nil {
			return err
		}
		sentBefore := len(st.twilio.Sent())
		res := load(func(ctx context.Context, i int) error {
			n := int(seq.Add(1))
			u := us[n%len(us)]
			return st.webhook(ctx, u.phone, "question "+strconv.Itoa(n), fmt.Sprintf("SM%032d", n))
		})
		// Past the limit the scenario goes on and reports what is left.
		state, drainTime, err := st.drain(ctx, domain.ChannelTwilio, after, 15*time.Minute)
		if err != nil && state.Inbound == 0 {
			return err
		}
		dups, err := st.duplicateReplies(ctx, after)
		if err != nil {
			return err
		}
		r := result{Name: name, Load: &res, Value: ms(drainTime), Unit: "ms to drain", Target: target,
			Notes: map[string]any{"accepted": res.Count, "stored": state.Inbound, "replied": state.Replied,
				"pending": state.Pending, "failed": state.Failed, "duplicate_replies": dups,
				"sms_sent":                  len(st.twilio.Sent()) - sentBefore,
				"turns_per_second_draining": float64(state.Replied) / (res.Seconds + drainTime.Seconds())}}
		ok := state.Inbound == res.Count && state.Replied == res.Count && dups == 0
		if met != nil {
			ok = ok && met(res, drainTime)
		}
		r.Met = check(ok)
		out = append(out, r)
		return nil
	}
	for _, rate := range rates {
		target := "every message one turn"
		var met func(loadResult, time.Duration) bool
		if rate == 100 {
			target = "p50 <= 10 ms, p99 <= 40 ms, no backlog"
			met = func(r loadResult, drain time.Duration) bool {
				return r.P50 <= 10 && r.P99 <= 40 && drain < 5*time.Second
			}
		}
		err := phase(fmt.Sprintf("twilio webhook ack at %d/s", rate), func(send func(ctx context.Context, i int) error) loadResult {
			return openLoop(ctx, rate, o.duration, send)
		}, target, met)
		if err != nil {
			return nil, err
		}
	}
	err = phase("twilio webhook ack flat out (64 conns)", func(send func(ctx context.Context, i int) error) loadResult {
		return closedLoop(ctx, 64, o.duration, func(ctx context.Context, _, i int) error { return send(ctx, i) })
	}, "every message one turn", nil)
	return out, err
}

// replyTo waits for the assistant's reply to an inbound message and returns
// how long after the inbound message it was saved (both server clocks).
func (st *stack) replyTo(ctx context.Context, inbound int64, limit time.Duration) (time.Duration, error) {
	ch, done := st.replies.wait(ctx, st, inbound)
	defer done()
	select {
	case d := <-ch:
		return d, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	case <-time.After(limit):
		return 0, errors.New("no reply in time")
	}
}

// turnLatencyScenario: inbound -> reply saved (web) and -> SMS at the fake
// Twilio, with an LLM that answers at once and one that takes 200 ms, one
// conversation and 50 at once.
func turnLatencyScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	defer st.llmDelay.Store(0)
	var out []result
	turns := map[int]int{1: 100, 50: 4}
	if o.quick {
		turns = map[int]int{1: 10, 50: 1}
	}
	for _, delay := range []time.Duration{0, 200 * time.Millisecond} {
		st.llmDelay.Store(int64(delay))
		for _, conc := range []int{1, 50} {
			us, err := st.users(ctx, conc)
			if err != nil {
				return nil, err
			}
			var web, sms latencies
			var wg sync.WaitGroup
			errs := make(chan error, conc)
			start := time.Now()
			for _, u := range us {
				wg.Go(func() {
					if err := st.turnsOf(ctx, u, turns[conc], &web, &sms); err != nil {
						errs <- err
					}
				})
			}
			wg.Wait()
			took := time.Since(start)
			close(errs)
			if err := <-errs; err != nil {
				return nil, err
			}
			w, s := web.summary(), sms.summary()
			wl := loadResult{summary: w, Seconds: took.Seconds(), Rate: float64(w.Count) / took.Seconds()}
			sl := loadResult{summary: s, Seconds: took.Seconds(), Rate: float64(s.Count) / took.Seconds()}
			name := fmt.Sprintf("LLM %s, %d conversation(s)", delay, conc)
			r := result{Name: "web: inbound -> reply saved, " + name, Load: &wl,
				Value: w.P50 - ms(delay), Unit: "ms p50 above LLM"}
			if delay == 0 && conc == 1 {
				r.Target, r.Met = "p50 <= 100 ms, p99 <= 250 ms", check(w.P50 <= 100 && w.P99 <= 250)
			}
			out = append(out, r, result{Name: "sms: webhook -> SMS sent, " + name, Load: &sl,
				Value: s.P50 - ms(delay), Unit: "ms p50 above LLM"})
		}
	}
	return out, nil
}

// webTurn posts one message to the assistant and waits for the reply.
func (st *stack) webTurn(ctx context.Context, u benchUser, web *latencies) error {
	conv := "/auth/conversations/" + domain.AIConversationID(u.ID) + "/messages"
	body, _ := json.Marshal(map[string]string{"content": "latency"})
	raw, err := st.call(ctx, "POST", conv, u.token, body, http.StatusCreated)
	if err != nil {
		return err
	}
	var m struct{ ID int64 }
	if err := json.Unmarshal(raw, &m); err != nil {
		return err
	}
	d, err := st.replyTo(ctx, m.ID, time.Minute)
	if err != nil {
		return err
	}
	web.add(d)
	return nil
}

// turnsOf has one user take n turns by web and n by SMS, one after another.
func (st *stack) turnsOf(ctx context.Context, u benchUser, n int, web, sms *latencies) error {
	for range n {
		if err := st.webTurn(ctx, u, web); err != nil {
			return err
		}
	}
	for i := range n {
		sid := fmt.Sprintf("SMlat%d%025d", u.ID, i)
		sent := time.Now()
		if err := st.webhook(ctx, u.phone, "sms latency "+strconv.Itoa(i), sid); err != nil {
			return err
		}
		at, err := st.smsTo(ctx, u.phone, "echo: sms latency "+strconv.Itoa(i), time.Minute)
		if err != nil {
			return err
		}
		sms.add(at.Sub(sent))
	}
	return nil
}

// smsTo waits until the fake Twilio took an SMS with body to a number.
func (st *stack) smsTo(ctx context.Context, to, body string, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		for _, s := range st.twilio.Sent() {
			if s.To == to && s.Body == body {
				return s.At, nil
			}
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
	var last string
	for _, s := range st.twilio.Sent() {
		if s.To == to {
			last = s.Body
		}
	}
	return time.Time{}, fmt.Errorf("no SMS %q to %s in time (last one: %q)", body, to, last)
}

// burstScenario: 500 conversations, 4 quick messages each: every turn
// completes, in order, once.
func burstScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	return burst(ctx, st, o, "")
}

// workersScenario (under -cluster) is the burst with one worker, then
// with two: what a second worker adds.
func workersScenario(ctx context.Context, st *stack, o options) ([]result, error) {
	if st.cluster == nil {
		return nil, nil
	}
	second := st.cluster.Workers[1]
	if err := second.Stop(time.Minute); err != nil {
		return nil, err
	}
	one, err := burst(ctx, st, o, ", 1 worker")
	if err != nil {
		return nil, err
	}
	if err := second.Start(); err != nil {
		return nil, err
	}
	time.Sleep(5 * time.Second) // polling
	two, err := burst(ctx, st, o, ", 2 workers")
	return append(one[:1], two[:1]...), err
}

// burst posts quick messages from many conversations at once and times
// until all are answered; label names the setup.
func burst(ctx context.Context, st *stack, o options, label string) ([]result, error) {
	convs, per := 500, 4
	if o.quick {
		convs = 50
	}
	us, err := st.users(ctx, convs)
	if err != nil {
		return nil, err
	}
	after, err := st.lastMessageID(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range []*process{st.api, st.worker} {
		if err := p.resetPeak(); err != nil {
			return nil, fmt.Errorf("reset the peak RSS of %s: %w", p.name, err)
		}
	}
	var lat latencies
	cpuBefore := st.cpuSample()
	sem := make(chan struct{}, 64)
	var wg sync.WaitGroup
	var failed error
	var mu sync.Mutex
	start := time.Now()
	for _, u := range us {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			conv := "/auth/conversations/" + domain.AIConversationID(u.ID) + "/messages"
			for i := range per {
				body, _ := json.Marshal(map[string]string{"content": fmt.Sprintf("burst %d of %d", i+1, per)})
				t := time.Now()
				if _, err := st.call(ctx, "POST", conv, u.token, body, http.StatusCreated); err != nil {
					mu.Lock()
					failed = err
					mu.Unlock()
					return
				}
				lat.add(time.Since(t))
			}
		})
	}
	wg.Wait()
	if failed != nil {
		return nil, failed
	}
	state, drainTime, err := st.drain(ctx, domain.ChannelWeb, after, 10*time.Minute)
	if err != nil {
		return nil, err
	}
	total := time.Since(start)
	cpu := perUnit(cpuBefore, st.cpuSample(), state.Replied)
	dups, err := st.duplicateReplies(ctx, after)
	if err != nil {
		return nil, err
	}
	outOfOrder, err := st.outOfOrder(ctx, after)
	if err != nil {
		return nil, err
	}
	posts := lat.summary()
	load := loadResult{summary: posts, Seconds: total.Seconds(), Rate: float64(state.Inbound) / total.Seconds()}
	return []result{{Name: fmt.Sprintf("%d conversations x %d quick messages%s", convs, per, label), Load: &load,
		Value: total.Seconds(), Unit: "s until all answered",
		Target: "all complete, in order, no duplicates",
		Met:    check(state.Inbound == convs*per && state.Replied == state.Inbound && dups == 0 && outOfOrder == 0),
		Notes: map[string]any{"inbound": state.Inbound, "replied": state.Replied, "failed": state.Failed,
			"duplicate_replies": dups, "conversations_out_of_order": outOfOrder, "drain_ms": ms(drainTime),
			"turns_per_second": round1(float64(state.Replied) / total.Seconds()), "cpu_ms_per_turn": cpu}},
		memoryResult("api RSS peak during the burst", st.api, true, 100),
		memoryResult("worker RSS peak during the burst", st.worker, true, 300)}, nil
}

// outOfOrder counts conversations whose replies do not follow the order of
// the messages they answer.
func (st *stack) outOfOrder(ctx context.Context, after int64) (int, error) {
	var rows []struct {
		Conv   string `bun:"conversation_id"`
		Parent int64  `bun:"parent_id"`
	}
	err := st.db.NewSelect().Table("messages").Column("conversation_id", "parent_id").
		Where("id > ? AND parent_id IS NOT NULL", after).Order("id").Scan(ctx, &rows)
	if err != nil {
		return 0, err
	}
	last := map[string]int64{}
	bad := map[string]bool{}
	for _, r := range rows {
		if r.Parent <= last[r.Conv] {
			bad[r.Conv] = true
		}
		last[r.Conv] = r.Parent
	}
	return len(bad), nil
}
