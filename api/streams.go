package api

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
)

// Timing of the event streams: how often they prove the connection alive,
// how long one write may take (a client that takes no more is dropped; it
// reconnects and resumes), and how long one stream lasts (clients
// reconnect with Last-Event-ID).
const (
	eventKeepAlive     = 30 * time.Second
	streamWriteTimeout = 10 * time.Second
	eventMaxStream     = 30 * time.Minute
	// streamStale is when a stream its process stopped renewing (the
	// process died) no longer counts against its user's bound.
	streamStale = 3 * eventKeepAlive
)

// stream is one open event stream: its subscription, the newest message
// it sent, and where it writes. Writes are serialised by mu: the stream's
// own goroutine writes events, the keep-alive sweep comments.
type stream struct {
	hub   *events.Hub
	sub   *events.Subscription
	after int64
	// id is the stream's row in event_streams; userID and address what it
	// counts against.
	id      int64
	userID  int64
	address string
	// seesStaff is false for a support inbox stream of someone who is
	// not a superuser: staff conversations are left out of it.
	seesStaff bool
	// conn is the connection of a detached stream, nil otherwise.
	conn net.Conn

	mu    sync.Mutex
	w     io.Writer
	flush func()
	buf   bytes.Buffer
	done  bool
}

// write sends b; after a failure (or once the stream is done) it does
// nothing and says so.
func (st *stream) write(b []byte) bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return false
	}
	if c, ok := st.w.(net.Conn); ok {
		_ = c.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	}
	if _, err := st.w.Write(b); err != nil {
		st.done = true
		return false
	}
	st.flush()
	return true
}

// push writes the subscription's events until the session ends, the
// stream falls behind, a write fails, ctx ends or eventMaxStream passes.
func (st *stream) push(ctx context.Context) {
	end := time.NewTimer(eventMaxStream)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case d, open := <-st.sub.C:
			if !open || d.Kind == events.KindSessionEnded || d.Kind == events.KindUserChanged {
				// The session ended, what the user may do changed (the client
				// reconnects and is authorised again), the stream fell behind
				// or a keep-alive failed.
				return
			}
			if d.Staff && !st.seesStaff {
				continue
			}
			st.buf.Reset()
			if d.Kind == events.KindMessage {
				if d.Message.ID <= st.after {
					continue
				}
				writeMessage(&st.buf, d.Message)
				st.after = d.Message.ID
			} else {
				writeLive(&st.buf, d.Event)
			}
			if !st.write(st.buf.Bytes()) {
				return
			}
		}
	}
}

// streamSet holds a process's open streams, for one keep-alive sweep over
// all of them: an idle stream then costs no wake-up of its own, only its
// comment on the wire every eventKeepAlive. Each open stream is written
// down in the database under the process's name, renewed by the sweep,
// so that every process counts a user's streams.
type streamSet struct {
	db      *bun.DB
	log     *slog.Logger
	limits  domain.StreamLimits
	process string

	mu      sync.Mutex
	open    map[*stream]struct{}
	running bool
	closed  bool
	// live counts the streams admitted and not yet released (their row
	// forgotten): closeAll waits for it. It is only added to while the
	// set is open, under mu.
	live sync.WaitGroup
}

// errStopping refuses a stream to a process that stops (503): the client
// reconnects, to another one.
var errStopping = errors.New("the process is stopping: no new event streams")

// admit writes down a new stream of userID from address, or returns
// *domain.Throttled when the user or the address has its bound of open
// streams, or errStopping once closeAll began. A stream admitted is
// released once, whatever happens to it next.
func (ss *streamSet) admit(ctx context.Context, userID int64, address string) (int64, error) {
	ss.mu.Lock()
	if ss.closed {
		ss.mu.Unlock()
		return 0, errStopping
	}
	ss.live.Add(1)
	ss.mu.Unlock()
	id, err := ss.writeDown(ctx, userID, address)
	if err != nil {
		ss.live.Done()
	}
	return id, err
}

// writeDown writes the stream's row. Before refusing it looks for streams
// of this process whose client went away unnoticed (a closed tab): those
// end and free their place.
func (ss *streamSet) writeDown(ctx context.Context, userID int64, address string) (int64, error) {
	id, err := domain.OpenStream(ctx, ss.db, ss.limits, userID, address, ss.process)
	var throttled *domain.Throttled
	if !errors.As(err, &throttled) {
		return id, err
	}
	if ss.endGone(ctx, func(st *stream) bool { return st.userID == userID || st.address == address }) == 0 {
		return 0, err
	}
	return domain.OpenStream(ctx, ss.db, ss.limits, userID, address, ss.process)
}

// run pushes a stream's events until it ends, with keep-alives meanwhile,
// then forgets it.
func (ss *streamSet) run(ctx context.Context, st *stream) {
	if !ss.add(st) {
		ss.release(st)
		return
	}
	defer ss.release(st)
	st.push(ctx)
}

// release ends a stream's subscription and forgets its row.
func (ss *streamSet) release(st *stream) {
	defer ss.live.Done()
	ss.remove(st)
	st.hub.Unsubscribe(st.sub)
	st.mu.Lock()
	st.done = true // the writer is not ours after this returns
	st.mu.Unlock()
	ss.forget(st.id)
}

// forget deletes a stream's row; a failure leaves it to go stale.
func (ss *streamSet) forget(id int64) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := domain.CloseStream(ctx, ss.db, id); err != nil {
		ss.log.Warn("event stream not forgotten", "stream_id", id, "error", err)
	}
}

// endGone ends the open detached streams matching which whose client
// closed the connection, and returns how many it ended.
func (ss *streamSet) endGone(ctx context.Context, which func(*stream) bool) int {
	ss.mu.Lock()
	var candidates []*stream
	for st := range ss.open {
		if st.conn != nil && which(st) {
			candidates = append(candidates, st)
		}
	}
	ss.mu.Unlock()
	ended := 0
	for _, st := range candidates {
		if ctx.Err() != nil || st.alive() {
			continue
		}
		st.hub.Unsubscribe(st.sub) // its goroutine ends it
		ss.forget(st.id)           // now, so that its place is free at once
		ended++
	}
	return ended
}

// alive reads the detached connection for a moment: a client that closed
// it gives end of file at once, one still reading gives nothing (a
// client sends nothing on an event stream).
func (st *stream) alive() bool {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.done {
		return false
	}
	_ = st.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	var one [1]byte
	_, err := st.conn.Read(one[:])
	_ = st.conn.SetReadDeadline(time.Time{})
	return err == nil || errors.Is(err, os.ErrDeadlineExceeded)
}

// streamsCloseWait bounds how long closeAll waits for the streams to end:
// a stream ends at once, unless a write to a client that reads nothing
// holds it (streamWriteTimeout), then forgets its row (5 s at most).
const streamsCloseWait = streamWriteTimeout + 5*time.Second

// closeAll ends every open stream, and admits no more, for a process that
// stops: their clients reconnect to another one. It returns once each has
// forgotten its row, so the database can be closed after it; or, past
// streamsCloseWait, logs those still open. Calling it again waits again.
func (ss *streamSet) closeAll() {
	ss.mu.Lock()
	ss.closed = true
	all := make([]*stream, 0, len(ss.open))
	for st := range ss.open {
		all = append(all, st)
	}
	ss.mu.Unlock()
	for _, st := range all {
		st.hub.Unsubscribe(st.sub)
	}
	ended := make(chan struct{})
	go func() {
		ss.live.Wait() // nothing is admitted once closed: no Add races it
		close(ended)
	}()
	select {
	case <-ended:
	case <-time.After(streamsCloseWait):
		ss.mu.Lock()
		left := len(ss.open)
		ss.mu.Unlock()
		ss.log.Warn("event streams still open at shutdown", "streams", left)
	}
}

func (ss *streamSet) add(st *stream) bool {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.closed {
		return false
	}
	if ss.open == nil {
		ss.open = map[*stream]struct{}{}
	}
	ss.open[st] = struct{}{}
	if !ss.running {
		ss.running = true
		go ss.sweep()
	}
	return true
}

func (ss *streamSet) remove(st *stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.open, st)
}

var keepAliveComment = []byte(": keep-alive\n\n")

// sweep writes a keep-alive to every open stream each eventKeepAlive; a
// stream whose write fails is ended. It renews the rows of the streams
// left. It stops when no stream is left.
func (ss *streamSet) sweep() {
	t := time.NewTicker(eventKeepAlive)
	defer t.Stop()
	for range t.C {
		ss.mu.Lock()
		if len(ss.open) == 0 {
			ss.running = false
			ss.mu.Unlock()
			return
		}
		all := make([]*stream, 0, len(ss.open))
		for st := range ss.open {
			all = append(all, st)
		}
		ss.mu.Unlock()
		for _, st := range all {
			if !st.write(keepAliveComment) {
				st.hub.Unsubscribe(st.sub) // wakes its goroutine, which ends it
			}
		}
		ss.renew()
	}
}

func (ss *streamSet) renew() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := domain.RenewStreams(ctx, ss.db, ss.process, ss.limits.Stale); err != nil {
		ss.log.Warn("event streams not renewed", "error", err)
	}
}
