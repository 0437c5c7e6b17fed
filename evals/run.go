package evals

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Options say where a suite runs and how.
type Options struct {
	// API is the base URL of the aimsg API (http://localhost:8000).
	API string
	// Admin, when set, is a superuser who creates a throwaway user for
	// each case (POST /auth/users) and deletes it afterwards. Otherwise
	// each case's user registers itself (POST /auth/register), which the
	// API limits per client address (REGISTRATIONS_PER_ADDRESS).
	Admin *Credentials
	// Prefix starts the throwaway users' names: <prefix>-<run>-<case>.
	Prefix string
	// KeepUsers leaves the throwaway users in place, to read their
	// conversations and turns after the run.
	KeepUsers bool
	// Parallel bounds the cases that run at once (default 4).
	Parallel int
	// Timeout bounds each case, all its messages included (default 2m).
	Timeout time.Duration
	// Settle is how long `hands_off: false` watches the conversation stay
	// with the AI after the last reply (default 3s): the handoff is
	// applied just after the reply that announces it is saved.
	Settle time.Duration
	// Poll is how often a case reads its conversation while it waits for
	// a reply, in case the event stream misses it (default 2s).
	Poll time.Duration
	// HTTP is the client for the API (default: a plain one; every
	// request is bounded by its case's timeout).
	HTTP *http.Client
	// Log tells the progress of the run (default: nowhere).
	Log *slog.Logger
}

// Credentials are a username and its password.
type Credentials struct {
	Username, Password string
}

// DefaultPrefix starts the names of throwaway users when Options.Prefix
// is empty.
const DefaultPrefix = "eval"

// runner is one run of a suite.
type runner struct {
	opts  Options
	api   *apiClient
	admin *session
	// id tells this run's users from another's.
	id string
}

// Run plays every case of the suite against the API, at most
// opts.Parallel at a time, each in a fresh conversation of a throwaway
// user, and reports how each went. A case that fails, times out or meets
// an API error is a failed case with its reason; Run itself fails only
// when the run cannot happen (the API unreachable, the admin refused).
func Run(ctx context.Context, suite *Suite, opts Options) (*Report, error) {
	r, err := newRunner(ctx, opts)
	if err != nil {
		return nil, err
	}
	started := time.Now()
	results := make([]CaseResult, len(suite.Cases))
	sem := make(chan struct{}, r.opts.Parallel)
	var wg sync.WaitGroup
	for i, c := range suite.Cases {
		// Cases start in the suite's order.
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			results[i] = CaseResult{Name: c.Name, Failures: []string{"not run: " + ctx.Err().Error()}}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			results[i] = r.runCase(ctx, i, c)
			r.opts.Log.Info("case done", "case", c.Name, "passed", results[i].Passed,
				"latency_ms", results[i].LatencyMS, "failures", strings.Join(results[i].Failures, "; "))
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("run interrupted: %w", err)
	}
	return newReport(opts.API, started, time.Since(started), results), nil
}

func newRunner(ctx context.Context, opts Options) (*runner, error) {
	if opts.API == "" {
		return nil, errors.New("no API URL")
	}
	opts.API = strings.TrimSuffix(opts.API, "/")
	if opts.Prefix == "" {
		opts.Prefix = DefaultPrefix
	}
	if opts.Parallel <= 0 {
		opts.Parallel = 4
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Minute
	}
	if opts.Settle <= 0 {
		opts.Settle = 3 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = 2 * time.Second
	}
	if opts.HTTP == nil {
		opts.HTTP = &http.Client{}
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	id := make([]byte, 3)
	_, _ = rand.Read(id)
	r := &runner{opts: opts, api: &apiClient{base: opts.API, hc: opts.HTTP}, id: hex.EncodeToString(id)}
	// Not there, every case would fail alike: that is no run.
	if err := r.api.call(ctx, "", http.MethodGet, "/", nil, "", nil, http.StatusOK); err != nil {
		return nil, fmt.Errorf("the API at %s does not answer: %w", opts.API, err)
	}
	if opts.Admin != nil {
		admin, err := r.api.login(ctx, opts.Admin.Username, opts.Admin.Password)
		if err != nil {
			return nil, err
		}
		var me struct {
			IsSuperuser bool `json:"is_superuser"`
		}
		if err := admin.do(ctx, http.MethodGet, "/auth/me", nil, &me, http.StatusOK); err != nil {
			return nil, err
		}
		if !me.IsSuperuser {
			return nil, fmt.Errorf("%s is not a superuser, so it cannot create a user for each case; "+
				"sign in as a superuser, or let each case's user register itself", opts.Admin.Username)
		}
		r.admin = admin
	}
	return r, nil
}

// runCase plays one case in a conversation of its own.
func (r *runner) runCase(ctx context.Context, i int, c Case) CaseResult {
	res := CaseResult{Name: c.Name}
	fail := func(format string, a ...any) CaseResult {
		res.Failures = append(res.Failures, fmt.Sprintf(format, a...))
		return res
	}
	ctx, cancel := context.WithTimeout(ctx, r.opts.Timeout)
	defer cancel()
	user, err := r.newUser(ctx, i)
	if err != nil {
		return fail("no user for the case: %v", err)
	}
	res.User = user.username
	defer r.dropUser(user)

	w := &waiter{user: user, poll: r.opts.Poll, timeout: r.opts.Timeout}
	streamCtx, stopStream := context.WithCancel(ctx)
	defer stopStream()
	if w.stream, err = user.follow(streamCtx); err != nil {
		// Polling alone still finds the reply, later.
		r.opts.Log.Warn("no event stream; polling", "case", c.Name, "error", err)
	}
	for n, text := range c.Messages {
		turn, err := w.exchange(ctx, text)
		if err != nil {
			return fail("message %d: %v", n+1, err)
		}
		res.Turns = append(res.Turns, turn)
	}
	if err := r.costs(ctx, user, res.Turns); err != nil {
		return fail("%v", err)
	}
	last := res.Turns[len(res.Turns)-1]
	res.LatencyMS, res.Tokens = last.LatencyMS, last.Tokens
	if want := c.Expect.HandsOff; want != nil {
		handed, err := r.handedOff(ctx, user, *want)
		if err != nil {
			return fail("%v", err)
		}
		res.HandedOff = &handed
	}
	res.Failures = judge(c.Expect, last, res.HandedOff)
	res.Passed = len(res.Failures) == 0
	return res
}

// newUser makes the case's throwaway user and signs it in.
func (r *runner) newUser(ctx context.Context, i int) (*session, error) {
	secret := make([]byte, 18)
	_, _ = rand.Read(secret)
	name := fmt.Sprintf("%s-%s-%d", r.opts.Prefix, r.id, i+1)
	acc := account{Username: name, Email: name + "@eval.example.com", Password: hex.EncodeToString(secret)}
	var err error
	if r.admin != nil {
		_, err = r.admin.createUser(ctx, acc)
	} else {
		_, err = r.api.register(ctx, acc)
		var e *apiError
		if errors.As(err, &e) && e.status == http.StatusTooManyRequests {
			err = fmt.Errorf("%w (the API limits registrations per address: REGISTRATIONS_PER_ADDRESS; "+
				"sign in as a superuser to create users instead)", err)
		}
	}
	if err != nil {
		return nil, err
	}
	return r.api.login(ctx, acc.Username, acc.Password)
}

// dropUser erases a case's user, with what it wrote and what it cost,
// unless the run keeps them.
func (r *runner) dropUser(user *session) {
	if r.opts.KeepUsers {
		return
	}
	// The case may have run out of time: the cleanup has its own.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var err error
	if r.admin != nil {
		err = r.admin.deleteUser(ctx, user.userID)
	} else {
		err = user.deleteSelf(ctx)
	}
	if err != nil {
		r.opts.Log.Warn("throwaway user not deleted", "user", user.username, "error", err)
	}
}

// costs fills in each turn's tokens and agents from the user's LLM calls,
// found by the turn's id (turn/<the message's id>).
func (r *runner) costs(ctx context.Context, user *session, turns []Turn) error {
	calls, err := user.llmCalls(ctx)
	if err != nil {
		return fmt.Errorf("read the turns' LLM calls: %w", err)
	}
	byTurn := map[string]*Turn{}
	for i := range turns {
		byTurn["turn/"+strconv.FormatInt(turns[i].MessageID, 10)] = &turns[i]
	}
	for _, c := range calls { // in the order they were made
		if t := byTurn[c.TurnID]; t != nil {
			t.Tokens += c.TotalTokens
			t.Agents = append(t.Agents, c.Agent)
		}
	}
	return nil
}

// handedOff watches who answers the conversation after the last reply:
// when a handoff is wanted, until it shows or the case's time is up; when
// it is not, for Settle, long enough for one that was coming to show.
func (r *runner) handedOff(ctx context.Context, user *session, want bool) (bool, error) {
	start := time.Now()
	for {
		mode, err := user.mode(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return false, nil
			}
			return false, fmt.Errorf("read the conversation's mode: %w", err)
		}
		if mode == "human" {
			return true, nil
		}
		if !want && time.Since(start) >= r.opts.Settle {
			return false, nil
		}
		select {
		case <-ctx.Done():
			return false, nil
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waiter sends a case's messages and waits for each reply, on the event
// stream and by reading the conversation every poll.
type waiter struct {
	user   *session
	stream <-chan message // nil without a stream, or once it ended
	poll   time.Duration
	// timeout is the case's, for the reason a reply did not come.
	timeout time.Duration
}

// exchange sends text and waits for the assistant's reply to it.
func (w *waiter) exchange(ctx context.Context, text string) (Turn, error) {
	start := time.Now()
	sent, err := w.user.send(ctx, text)
	if err != nil {
		return Turn{}, err
	}
	isReply := func(m message) bool {
		return m.SenderID != w.user.userID && m.ParentID != nil && *m.ParentID >= sent.ID
	}
	got := func(m message) Turn {
		return Turn{MessageID: sent.ID, ReplyID: m.ID, Reply: m.Content, Citations: m.Citations,
			LatencyMS: time.Since(start).Milliseconds()}
	}
	tick := time.NewTicker(w.poll)
	defer tick.Stop()
	for {
		select {
		case m, ok := <-w.stream:
			if !ok {
				w.stream = nil
				continue
			}
			if isReply(m) {
				return got(m), nil
			}
		case <-tick.C:
			list, err := w.user.recent(ctx)
			if err != nil {
				if ctx.Err() != nil {
					continue // said below
				}
				return Turn{}, err
			}
			for i := len(list) - 1; i >= 0; i-- { // oldest first: the first reply
				if isReply(list[i]) {
					return got(list[i]), nil
				}
			}
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return Turn{}, fmt.Errorf("no reply within the case's timeout (%v)", w.timeout)
			}
			return Turn{}, ctx.Err()
		}
	}
}
