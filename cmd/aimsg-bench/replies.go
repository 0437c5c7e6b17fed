package main

import (
	"context"
	"sync"
	"time"
)

// replyWatch finds the assistant's new replies with one query for every
// waiter at once. Fifty conversations each polling the database every few
// milliseconds would cost thousands of queries a second, and the benchmark
// would count that load against aimsg.
type replyWatch struct {
	once    sync.Once
	mu      sync.Mutex
	saved   map[int64]time.Duration // inbound message id -> its reply was saved after
	waiting map[int64]chan time.Duration
}

// replyPoll is how often the watcher looks: short, since it bounds how soon
// a closed-loop load sends its next message.
const replyPoll = 5 * time.Millisecond

// wait returns a channel that receives how long after inbound its reply was
// saved, once it is.
func (w *replyWatch) wait(ctx context.Context, st *stack, inbound int64) <-chan time.Duration {
	w.once.Do(func() {
		w.saved, w.waiting = map[int64]time.Duration{}, map[int64]chan time.Duration{}
		go w.run(context.WithoutCancel(ctx), st)
	})
	ch := make(chan time.Duration, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	if d, ok := w.saved[inbound]; ok {
		delete(w.saved, inbound)
		ch <- d
		return ch
	}
	w.waiting[inbound] = ch
	return ch
}

func (w *replyWatch) run(ctx context.Context, st *stack) {
	var after int64
	tick := time.NewTicker(replyPoll)
	defer tick.Stop()
	for {
		select {
		case <-st.closed:
			return
		case <-tick.C:
		}
		var rows []struct {
			ID     int64     `bun:"id"`
			Parent int64     `bun:"parent_id"`
			In     time.Time `bun:"in_at"`
			Reply  time.Time `bun:"reply_at"`
		}
		err := st.db.NewSelect().TableExpr("messages AS r").Join("JOIN messages AS i ON i.id = r.parent_id").
			ColumnExpr("r.id, r.parent_id, i.created_at AS in_at, r.created_at AS reply_at").
			Where("r.id > ?", after).Where("r.sender_id = ?", st.assistantID).OrderExpr("r.id").Limit(1000).
			Scan(ctx, &rows)
		if err != nil {
			continue // the database is busy or restarting: look again
		}
		w.mu.Lock()
		for _, r := range rows {
			after = r.ID
			d := r.Reply.Sub(r.In)
			if ch, ok := w.waiting[r.Parent]; ok {
				delete(w.waiting, r.Parent)
				ch <- d
			} else {
				w.saved[r.Parent] = d
			}
		}
		w.mu.Unlock()
	}
}
