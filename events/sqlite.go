package events

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// liveEventsKept is how long written-down events stay in live_events.
const liveEventsKept = time.Minute

// TablePublisher writes events down in live_events, for API processes in
// other processes on SQLite to read (Poller), and now and then deletes the
// old ones.
type TablePublisher struct {
	DB bun.IDB

	mu     sync.Mutex
	pruned time.Time
}

// Publish writes the event down.
func (p *TablePublisher) Publish(ctx context.Context, ev Event) error {
	payload, err := encode(ev)
	if err != nil {
		return err
	}
	if err := domain.AppendLiveEvent(ctx, p.DB, payload); err != nil {
		return err
	}
	p.mu.Lock()
	due := time.Since(p.pruned) > liveEventsKept
	if due {
		p.pruned = time.Now()
	}
	p.mu.Unlock()
	if due {
		return domain.PruneLiveEvents(ctx, p.DB, domain.Now().Add(-liveEventsKept))
	}
	return nil
}

// Poller is the one reader of an API process on SQLite: while streams are
// open, it looks for new messages and written-down events every Interval,
// and for ended sessions every SessionCheck, and hands them to the hub.
type Poller struct {
	DB           bun.IDB
	Hub          *Hub
	Interval     time.Duration
	SessionCheck time.Duration
	Log          *slog.Logger
}

// Run polls until ctx ends.
func (p *Poller) Run(ctx context.Context) {
	lastMessage, err := domain.LatestMessage(ctx, p.DB)
	if err != nil {
		p.Log.Warn("live path: poller start", "error", err)
	}
	lastEvent, err := domain.LatestLiveEventID(ctx, p.DB)
	if err != nil {
		p.Log.Warn("live path: poller start", "error", err)
	}
	p.Hub.markLive()
	tick := time.NewTicker(p.Interval)
	defer tick.Stop()
	checked := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if !p.Hub.Subscribed() {
			continue
		}
		if err := p.poll(ctx, &lastMessage, &lastEvent); err != nil && ctx.Err() == nil {
			p.Log.Warn("live path: poll", "error", err)
		}
		if time.Since(checked) >= p.SessionCheck {
			checked = time.Now()
			_, sessions := p.Hub.watched()
			if err := p.Hub.checkSessions(ctx, sessions); err != nil && ctx.Err() == nil {
				p.Log.Warn("live path: session check", "error", err)
			}
		}
	}
}

// poll reads the new messages and the new written-down events, and
// dispatches them in the order they were written: a reply's last delta
// before the reply, its "typing stopped" after. Messages are read first:
// whatever message a poll sees, the events written before it are seen too.
func (p *Poller) poll(ctx context.Context, lastMessage, lastEvent *int64) error {
	refs, err := domain.MessagesSince(ctx, p.DB, *lastMessage, nil, 500)
	if err != nil {
		return err
	}
	evs, err := domain.LiveEventsAfter(ctx, p.DB, *lastEvent, 500)
	if err != nil {
		return err
	}
	for len(refs) > 0 || len(evs) > 0 {
		if len(evs) == 0 || (len(refs) > 0 && refs[0].CreatedAt.Before(evs[0].CreatedAt)) {
			r := refs[0]
			refs = refs[1:]
			*lastMessage = r.ID
			p.Hub.Dispatch(ctx, Event{Kind: KindMessage, ConversationID: r.ConversationID, MessageID: r.ID})
			continue
		}
		e := evs[0]
		evs = evs[1:]
		*lastEvent = e.ID
		ev, err := decode(e.Payload)
		if err != nil {
			p.Log.Warn("live path: written-down event not understood", "error", err)
			continue
		}
		p.Hub.Dispatch(ctx, ev)
	}
	return nil
}
