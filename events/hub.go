package events

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// Delivery is what a stream receives: an event and, for a message event,
// the message, read once for all the process's streams (which share it and
// must not change it).
type Delivery struct {
	Event
	Message *domain.Message
	// Staff marks a delivery to the support inbox from a staff member's
	// conversation, which only superusers' inbox streams show
	// (domain.StaffConversation).
	Staff bool
}

// subscriptionBuffer is how many deliveries wait for a slow stream; one
// that falls further behind is closed (its client reconnects and resumes
// from its last message).
const subscriptionBuffer = 16

// Subscription is one stream's view of one conversation, for one session.
type Subscription struct {
	// C receives the deliveries; it is closed when the session ends or the
	// stream fell behind.
	C              <-chan *Delivery
	c              chan *Delivery
	conversationID string
	sessionID      int64
	userID         int64
	// after is the newest message the stream has: older ones are skipped.
	after  int64
	closed bool
}

// Hub fans events out to the streams of one API process. Sources (a
// PostgreSQL listener, a SQLite poller, publishers in the same process)
// call Dispatch; streams Subscribe.
type Hub struct {
	db  bun.IDB
	log *slog.Logger

	live     chan struct{}
	liveOnce sync.Once
	// connected is whether the source runs now (false while a dropped
	// connection is made again).
	connected atomic.Bool

	mu          sync.Mutex
	byConv      map[string]map[*Subscription]struct{}
	bySession   map[int64]map[*Subscription]struct{}
	byUser      map[int64]map[*Subscription]struct{}
	lastMessage map[string]int64
	// userChanged are told of every KindUserChanged (the API's session
	// cache forgets the user).
	userChanged []func(userID int64)
}

// NewHub is a hub reading the messages it announces from db.
func NewHub(db bun.IDB, log *slog.Logger) *Hub {
	return &Hub{db: db, log: log, live: make(chan struct{}), byConv: map[string]map[*Subscription]struct{}{},
		bySession: map[int64]map[*Subscription]struct{}{}, byUser: map[int64]map[*Subscription]struct{}{},
		lastMessage: map[string]int64{}}
}

// OnUserChanged registers f to be told, on this process, that what a user
// may do changed (whichever process changed it). Register before the
// hub's source starts.
func (h *Hub) OnUserChanged(f func(userID int64)) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.userChanged = append(h.userChanged, f)
}

// Live is closed once the hub's source listens (or polls): from then on
// nothing published is missed.
func (h *Hub) Live() <-chan struct{} { return h.live }

func (h *Hub) markLive() {
	h.connected.Store(true)
	h.liveOnce.Do(func() { close(h.live) })
}

// Connected says whether the hub's source listens (or polls) now: false
// before it first does, and while a dropped connection is made again
// (aimsg_events_listener_connected).
func (h *Hub) Connected() bool { return h.connected.Load() }

// Subscribe opens a stream's subscription to a conversation, for a
// session of userID; it ends with the session, or when what the user may
// do changes. after is the newest message the stream has (or is about to
// read itself): a catch-up starts after it.
func (h *Hub) Subscribe(conversationID string, sessionID, userID, after int64) *Subscription {
	c := make(chan *Delivery, subscriptionBuffer)
	s := &Subscription{C: c, c: c, conversationID: conversationID, sessionID: sessionID, userID: userID, after: after}
	h.mu.Lock()
	defer h.mu.Unlock()
	add(h.byConv, conversationID, s)
	add(h.bySession, sessionID, s)
	add(h.byUser, userID, s)
	h.lastMessage[conversationID] = max(h.lastMessage[conversationID], after)
	return s
}

// Unsubscribe ends a subscription (idempotent).
func (h *Hub) Unsubscribe(s *Subscription) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.closeLocked(s)
}

func (h *Hub) closeLocked(s *Subscription) {
	if s.closed {
		return
	}
	s.closed = true
	close(s.c)
	remove(h.byConv, s.conversationID, s)
	remove(h.bySession, s.sessionID, s)
	remove(h.byUser, s.userID, s)
	if _, ok := h.byConv[s.conversationID]; !ok {
		delete(h.lastMessage, s.conversationID)
	}
}

// Publish dispatches an event in this process: the publisher of `aimsg
// dev`, where API and worker share the hub.
func (h *Hub) Publish(ctx context.Context, ev Event) error {
	if _, err := encode(ev); err != nil {
		return err
	}
	h.Dispatch(ctx, ev)
	return nil
}

// Inbox is the subscription key of the support inbox: it gets the
// messages and mode changes of every conversation with the assistant.
const Inbox = "support:inbox"

// forInbox says whether the inbox wants an event.
func forInbox(ev Event) bool {
	return strings.HasPrefix(ev.ConversationID, "ai:") && (ev.Kind == KindMessage || ev.Kind == KindMode || ev.Kind == KindApproval ||
		ev.Kind == KindDelivery)
}

// Dispatch hands an event to the streams it concerns. A message is read
// once, and only when a stream here wants it.
func (h *Hub) Dispatch(ctx context.Context, ev Event) {
	switch ev.Kind {
	case KindSessionEnded:
		h.endSession(ev)
		return
	case KindUserChanged:
		h.endUser(ev)
		return
	}
	inbox := forInbox(ev)
	h.mu.Lock()
	_, wanted := h.byConv[ev.ConversationID]
	if _, ok := h.byConv[Inbox]; !ok {
		inbox = false
	}
	h.mu.Unlock()
	if !wanted && !inbox {
		return
	}
	d := &Delivery{Event: ev} // shared by the streams: read only
	if ev.Kind == KindMessage {
		m, err := domain.MessageShown(ctx, h.db, ev.MessageID)
		if err != nil {
			h.log.Warn("live path: read a stored message", "message_id", ev.MessageID, "error", err)
			return
		}
		d.Message = m
	}
	if inbox {
		staff, err := domain.StaffConversation(ctx, h.db, ev.ConversationID)
		if err != nil {
			h.log.Warn("live path: whose conversation", "conversation_id", ev.ConversationID, "error", err)
			staff = true // shown to fewer rather than to more
		}
		d.Staff = staff
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if ev.Kind == KindMessage {
		h.lastMessage[ev.ConversationID] = max(h.lastMessage[ev.ConversationID], ev.MessageID)
	}
	h.deliverLocked(ev.ConversationID, d)
	if inbox {
		h.deliverLocked(Inbox, d)
	}
}

// deliverLocked gives d to the streams subscribed under key.
func (h *Hub) deliverLocked(key string, d *Delivery) {
	ev := d.Event
	for s := range h.byConv[key] {
		if ev.Kind == KindMessage {
			if ev.MessageID <= s.after {
				continue
			}
			s.after = ev.MessageID
		}
		select {
		case s.c <- d:
		default:
			h.log.Warn("live path: a stream fell behind; closed", "conversation_id", key)
			h.closeLocked(s)
		}
	}
}

func (h *Hub) endSession(ev Event) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endLocked(h.bySession[ev.SessionID], ev)
}

// endUser has the registered functions forget the user, then ends the
// streams of the user's sessions and the streams others (support staff)
// hold on the user's conversation with the assistant: each is authorised
// again when its client reconnects.
func (h *Hub) endUser(ev Event) {
	h.mu.Lock()
	forget := h.userChanged
	h.mu.Unlock()
	// Forgotten first: a client whose stream ended is authorised afresh.
	for _, f := range forget {
		f(ev.UserID)
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.endLocked(h.byUser[ev.UserID], ev)
	h.endLocked(h.byConv[domain.AIConversationID(ev.UserID)], ev)
}

// endLocked tells each subscription of set why it ends, then ends it.
func (h *Hub) endLocked(set map[*Subscription]struct{}, ev Event) {
	for s := range set {
		select {
		case s.c <- &Delivery{Event: ev}:
		default:
		}
		h.closeLocked(s)
	}
}

// watched is what the hub's streams wait for: their conversations, with
// the newest message each was sent (0 when none yet), and their sessions.
func (h *Hub) watched() (map[string]int64, []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	convs := make(map[string]int64, len(h.byConv))
	for c := range h.byConv {
		convs[c] = h.lastMessage[c]
	}
	sessions := make([]int64, 0, len(h.bySession))
	for s := range h.bySession {
		sessions = append(sessions, s)
	}
	return convs, sessions
}

// Subscribed says whether any stream is open here.
func (h *Hub) Subscribed() bool {
	h.mu.Lock()
	defer h.mu.Unlock()
	return len(h.bySession) > 0
}

// CatchUp re-reads, once, what a source may have missed (its connection
// dropped): the messages stored in the watched conversations since the
// last one each was sent, and the sessions that ended. No stream gets a
// message twice.
func (h *Hub) CatchUp(ctx context.Context) error {
	convs, sessions := h.watched()
	if len(convs) == 0 {
		return nil
	}
	from := int64(-1)
	names := make([]string, 0, len(convs))
	for c, last := range convs {
		names = append(names, c)
		if from < 0 || last < from {
			from = last
		}
	}
	for {
		refs, err := domain.MessagesSince(ctx, h.db, from, names, 500)
		if err != nil {
			return err
		}
		for _, r := range refs {
			if r.ID > convs[r.ConversationID] {
				h.Dispatch(ctx, Event{Kind: KindMessage, ConversationID: r.ConversationID, MessageID: r.ID})
			}
			from = r.ID
		}
		if len(refs) < 500 {
			break
		}
	}
	return h.checkSessions(ctx, sessions)
}

// checkSessions ends the streams of the sessions that are no longer live.
func (h *Hub) checkSessions(ctx context.Context, sessions []int64) error {
	live, err := domain.LiveSessions(ctx, h.db, sessions)
	if err != nil {
		return err
	}
	for _, id := range sessions {
		if !live[id] {
			h.endSession(Event{Kind: KindSessionEnded, SessionID: id})
		}
	}
	return nil
}

func add[K comparable](m map[K]map[*Subscription]struct{}, k K, s *Subscription) {
	set, ok := m[k]
	if !ok {
		set = map[*Subscription]struct{}{}
		m[k] = set
	}
	set[s] = struct{}{}
}

func remove[K comparable](m map[K]map[*Subscription]struct{}, k K, s *Subscription) {
	if set, ok := m[k]; ok {
		delete(set, s)
		if len(set) == 0 {
			delete(m, k)
		}
	}
}
