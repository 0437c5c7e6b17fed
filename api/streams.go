package api

import (
	"bytes"
	"context"
	"io"
	"net"
	"sync"
	"time"

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
)

// stream is one open event stream: its subscription, the newest message
// it sent, and where it writes. Writes are serialised by mu: the stream's
// own goroutine writes events, the keep-alive sweep comments.
type stream struct {
	hub   *events.Hub
	sub   *events.Subscription
	after int64

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
			if !open || d.Kind == events.KindSessionEnded {
				return // the session ended, the stream fell behind or a keep-alive failed
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
// comment on the wire every eventKeepAlive.
type streamSet struct {
	mu      sync.Mutex
	open    map[*stream]struct{}
	running bool
}

// run pushes a stream's events until it ends, with keep-alives meanwhile.
func (ss *streamSet) run(ctx context.Context, st *stream) {
	ss.add(st)
	defer func() {
		ss.remove(st)
		st.hub.Unsubscribe(st.sub)
		st.mu.Lock()
		st.done = true // the writer is not ours after this returns
		st.mu.Unlock()
	}()
	st.push(ctx)
}

func (ss *streamSet) add(st *stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.open == nil {
		ss.open = map[*stream]struct{}{}
	}
	ss.open[st] = struct{}{}
	if !ss.running {
		ss.running = true
		go ss.sweep()
	}
}

func (ss *streamSet) remove(st *stream) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.open, st)
}

var keepAliveComment = []byte(": keep-alive\n\n")

// sweep writes a keep-alive to every open stream each eventKeepAlive; a
// stream whose write fails is ended. It stops when no stream is left.
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
	}
}
