package main

import (
	"context"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/uptrace/bun"
)

// replyWatch finds the assistant's replies with one query for every waiter
// at once. Fifty conversations each polling the database every few
// milliseconds would cost thousands of queries a second, and the benchmark
// would count that load against aimsg.
type replyWatch struct {
	once    sync.Once
	mu      sync.Mutex
	waiting map[int64]chan time.Duration // inbound message id -> its waiter
}

// replyPoll is how often the watcher looks: short, since it bounds how soon
// a closed-loop load sends its next message.
const replyPoll = 25 * time.Millisecond

// wait returns a channel that receives how long after inbound its reply was
// saved, once it is.
func (w *replyWatch) wait(ctx context.Context, st *stack, inbound int64) (<-chan time.Duration, func()) {
	w.once.Do(func() {
		w.waiting = map[int64]chan time.Duration{}
		go w.run(context.WithoutCancel(ctx), st)
	})
	ch := make(chan time.Duration, 1)
	w.mu.Lock()
	defer w.mu.Unlock()
	w.waiting[inbound] = ch
	return ch, func() {
		w.mu.Lock()
		defer w.mu.Unlock()
		delete(w.waiting, inbound)
	}
}

func (w *replyWatch) run(ctx context.Context, st *stack) {
	tick := time.NewTicker(replyPoll)
	defer tick.Stop()
	for {
		select {
		case <-st.closed:
			return
		case <-tick.C:
		}
		w.mu.Lock()
		ids := slices.Collect(maps.Keys(w.waiting))
		w.mu.Unlock()
		if len(ids) == 0 {
			continue
		}
		// Asked by the ids waited for, not by "newer than the last reply
		// seen": replies commit out of the order of their ids.
		var rows []struct {
			Parent int64     `bun:"parent_id"`
			In     time.Time `bun:"in_at"`
			Reply  time.Time `bun:"reply_at"`
		}
		err := st.db.NewSelect().TableExpr("messages AS r").Join("JOIN messages AS i ON i.id = r.parent_id").
			ColumnExpr("r.parent_id, i.created_at AS in_at, r.created_at AS reply_at").
			Where("r.parent_id IN (?)", bun.List(ids)).Where("r.sender_id = ?", st.assistantID).
			Scan(ctx, &rows)
		if err != nil {
			continue // the database is busy or restarting: look again
		}
		w.mu.Lock()
		for _, r := range rows {
			if ch, ok := w.waiting[r.Parent]; ok {
				delete(w.waiting, r.Parent)
				ch <- r.Reply.Sub(r.In)
			}
		}
		w.mu.Unlock()
	}
}
