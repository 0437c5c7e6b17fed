package events_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/schema"
)

// live is an API process's live path on a scratch database: a hub fed by
// the database's transport.
type live struct {
	url string
	db  *bun.DB
	hub *events.Hub
}

func newLive(t *testing.T, baseURL string) *live {
	t.Helper()
	url, db := migrated(t, baseURL)
	return &live{url: url, db: db, hub: feed(t, url, db)}
}

// migrated is a migrated scratch database and its URL.
func migrated(t *testing.T, baseURL string) (string, *bun.DB) {
	t.Helper()
	url := testenv.ScratchURL(t, baseURL)
	db := testenv.Open(t, url)
	_, err := schema.Up(context.Background(), db, schema.Migrations(database.Dialect(db)), testenv.Logger())
	require.NoError(t, err)
	return url, db
}

// feed starts another API process's hub on the same database.
func feed(t *testing.T, url string, db *bun.DB) *events.Hub {
	hub := events.NewHub(db, testenv.Logger())
	ctx, cancel := context.WithCancel(context.Background())
	done := events.Feed(ctx, url, db, hub, testenv.Logger())
	t.Cleanup(func() { cancel(); <-done })
	return hub
}

// next waits for a delivery.
func next(t *testing.T, sub *events.Subscription) (events.Delivery, bool) {
	t.Helper()
	select {
	case d, ok := <-sub.C:
		if !ok {
			return events.Delivery{}, false
		}
		return *d, true
	case <-time.After(10 * time.Second):
		t.Fatal("no event within 10 s")
		return events.Delivery{}, false
	}
}

// session starts a session for u.
func session(t *testing.T, db *bun.DB, u *domain.User) *domain.Session {
	t.Helper()
	s, err := domain.StartSession(context.Background(), db, domain.NewSession{UserID: u.ID, SessionToken: u.Username + "-token",
		ExpiresAt: time.Now().Add(time.Hour)})
	require.NoError(t, err)
	return s
}

// A stored message reaches a stream on another process's hub (the
// database carries it), read once with its content; the stream closes
// when its session ends.
func TestAStoredMessageReachesEveryProcess(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, baseURL string) {
		l := newLive(t, baseURL)
		other := feed(t, l.url, l.db)
		u, first := testenv.AskAssistant(t, l.db, "alice", domain.ChannelWeb, "", "hello")
		conv := *first[0].ConversationID
		sess := session(t, l.db, u)
		sub := other.Subscribe(conv, sess.ID, u.ID, first[0].ID)
		defer other.Unsubscribe(sub)
		waitListening(t, other)

		_, more := askAgain(t, l.db, u, "are you there?")
		d, ok := next(t, sub)
		require.True(t, ok)
		assert.Equal(t, events.KindMessage, d.Kind)
		require.NotNil(t, d.Message)
		assert.Equal(t, more.ID, d.Message.ID)
		assert.Equal(t, "are you there?", d.Message.Content)

		require.NoError(t, domain.EndSession(context.Background(), l.db, u.ID, sess.ID))
		for {
			d, ok := next(t, sub)
			if !ok {
				break
			}
			assert.Equal(t, events.KindSessionEnded, d.Kind, "nothing but the end after the session ended")
		}
	})
}

// What a process publishes (typing, deltas) reaches streams of the other
// processes, in order.
func TestPublishedEventsReachStreams(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, baseURL string) {
		l := newLive(t, baseURL)
		u, first := testenv.AskAssistant(t, l.db, "alice", domain.ChannelWeb, "", "hello")
		conv := *first[0].ConversationID
		sub := l.hub.Subscribe(conv, session(t, l.db, u).ID, u.ID, first[0].ID)
		defer l.hub.Unsubscribe(sub)
		waitListening(t, l.hub)

		pub := events.PublisherFor(l.url, l.db, nil)
		ctx := context.Background()
		require.NoError(t, pub.Publish(ctx, events.Event{Kind: events.KindTyping, ConversationID: conv, Active: true}))
		for i, text := range []string{"Hel", "lo"} {
			require.NoError(t, pub.Publish(ctx, events.Event{Kind: events.KindDelta, ConversationID: conv,
				TurnID: "turn/1", Seq: i + 1, Text: text}))
		}
		d, _ := next(t, sub)
		assert.Equal(t, events.Event{Kind: events.KindTyping, ConversationID: conv, Active: true}, d.Event)
		d, _ = next(t, sub)
		assert.Equal(t, "Hel", d.Text)
		d, _ = next(t, sub)
		assert.Equal(t, 2, d.Seq)
		assert.Equal(t, "lo", d.Text)

		err := pub.Publish(ctx, events.Event{Kind: events.KindDelta, ConversationID: conv, Text: strings.Repeat("x", events.MaxText+1)})
		assert.Error(t, err, "a fragment over the payload limit is refused")
	})
}

// The listening connection killed while messages are stored: the listener
// connects again and the stream gets every message once, in order.
func TestAKilledListenerCatchesUp(t *testing.T) {
	urls := testenv.DatabaseURLs(t)
	if d, _, _ := config.ParseDatabaseURL(urls[len(urls)-1]); d != config.Postgres {
		t.Skip("LISTEN/NOTIFY is PostgreSQL's; TEST_DATABASE_URL is not set (CI sets it)")
	}
	url, db := migrated(t, urls[len(urls)-1])
	_, dsn, err := config.ParseDatabaseURL(url)
	require.NoError(t, err)
	hub := events.NewHub(db, testenv.Logger())
	listener := &events.Listener{DSN: dsn, Hub: hub, Log: testenv.Logger()}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); listener.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })

	u, first := testenv.AskAssistant(t, db, "alice", domain.ChannelWeb, "", "hello")
	sub := hub.Subscribe(*first[0].ConversationID, session(t, db, u).ID, u.ID, first[0].ID)
	defer hub.Unsubscribe(sub)
	require.Eventually(t, func() bool { return listener.Connects() == 1 }, 10*time.Second, 10*time.Millisecond)

	pid := listener.PID()
	_, err = db.ExecContext(context.Background(), "SELECT pg_terminate_backend(?)", pid)
	require.NoError(t, err)
	require.Eventually(t, func() bool {
		n, err := db.NewSelect().TableExpr("pg_stat_activity").Where("pid = ?", pid).Count(context.Background())
		return err == nil && n == 0
	}, 10*time.Second, 5*time.Millisecond, "the listening connection is gone")
	var want []int64
	for i := range 5 {
		_, m := askAgain(t, db, u, "while nobody listens "+string(rune('a'+i)))
		want = append(want, m.ID)
	}
	var got []int64
	for len(got) < len(want) {
		d, ok := next(t, sub)
		require.True(t, ok)
		got = append(got, d.Message.ID)
	}
	assert.Equal(t, want, got, "each message once, in order")
	require.Eventually(t, func() bool { return listener.Connects() == 2 }, 10*time.Second, 10*time.Millisecond, "connected again")
	_, m := askAgain(t, db, u, "and after")
	d, ok := next(t, sub)
	require.True(t, ok)
	assert.Equal(t, m.ID, d.Message.ID, "listening again")
}

// A stream that does not read is closed instead of holding the others up.
func TestASlowStreamIsClosed(t *testing.T) {
	db := testenv.Migrated(t, "sqlite:///:memory:")
	hub := events.NewHub(db, testenv.Logger())
	slow := hub.Subscribe("ai:1", 1, 1, 0)
	fast := hub.Subscribe("ai:1", 2, 1, 0)
	defer hub.Unsubscribe(fast)
	for i := range 100 {
		hub.Dispatch(context.Background(), events.Event{Kind: events.KindDelta, ConversationID: "ai:1", Seq: i + 1, Text: "x"})
		<-fast.C
	}
	n := 0
	for range slow.C {
		n++
	}
	assert.Less(t, n, 100, "the slow stream was closed")
	hub.Unsubscribe(slow) // after the hub closed it: no panic
}

// waitListening waits for a hub's transport to listen.
func waitListening(t *testing.T, hub *events.Hub) {
	t.Helper()
	require.True(t, hub.Subscribed())
	select {
	case <-hub.Live():
	case <-time.After(10 * time.Second):
		t.Fatal("the hub's source does not listen")
	}
}

func askAgain(t *testing.T, db *bun.DB, u *domain.User, text string) (*domain.User, *domain.Message) {
	t.Helper()
	a, err := domain.Assistant(context.Background(), db)
	require.NoError(t, err)
	m, err := domain.SendMessage(context.Background(), db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID,
		Content: text, Channel: domain.ChannelWeb})
	require.NoError(t, err)
	return u, m
}
