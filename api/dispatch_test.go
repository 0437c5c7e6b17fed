package api_test

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// dispatchLog records the order of the dispatches the API makes and passes
// them on to the real dispatch, optionally held until release is closed.
type dispatchLog struct {
	next     api.Conversations
	temporal *fakeTemporal
	release  chan struct{}
	mu       sync.Mutex
	ids      []int64
}

func (l *dispatchLog) Dispatch(ctx context.Context, m *domain.Message) error {
	if l.release != nil {
		<-l.release
	}
	l.mu.Lock()
	l.ids = append(l.ids, m.ID)
	l.mu.Unlock()
	return l.next.Dispatch(ctx, m)
}

func (l *dispatchLog) SetMode(ctx context.Context, userID int64, r workflows.ModeRequest) error {
	return l.next.SetMode(ctx, userID, r)
}

func (l *dispatchLog) DecideApproval(ctx context.Context, turnID string, d workflows.ApprovalDecision) error {
	return l.next.DecideApproval(ctx, turnID, d)
}

func (l *dispatchLog) started() []int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]int64(nil), l.ids...)
}

func dispatchHarness(t *testing.T, l *dispatchLog) *harness {
	cfg := testConfig(t, nil)
	db := testenv.Migrated(t, "sqlite:///:memory:")
	l.temporal = &fakeTemporal{}
	l.next = conversations(db, l.temporal)
	return &harness{t: t, h: newAPI(t, cfg, db, apiParts{conversations: l}), db: db, cfg: cfg}
}

func (hs *harness) ask(tk tokens, text string) int64 {
	hs.t.Helper()
	w := hs.call("POST", "/auth/conversations/"+domain.AIConversationID(tk.UserID())+"/messages",
		map[string]any{"content": text}, tk.AccessToken)
	require.Equal(hs.t, http.StatusCreated, w.Code, w.Body.String())
	return id(decode(hs.t, w))
}

// A conversation's messages reach Temporal in the order they were stored,
// however fast they come, and each exactly once; several conversations at
// once all get through.
func TestDispatchesKeepEachConversationsOrder(t *testing.T) {
	l := &dispatchLog{}
	hs := dispatchHarness(t, l)
	users := []tokens{hs.user("first"), hs.user("second"), hs.user("third")}
	posted := make([][]int64, len(users))
	var wg sync.WaitGroup
	for i, u := range users {
		wg.Go(func() {
			for n := range 60 {
				posted[i] = append(posted[i], hs.ask(u, fmt.Sprintf("message %d", n)))
			}
		})
	}
	wg.Wait()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, l.started(), 180)
	}, 30*time.Second, 10*time.Millisecond, "every message dispatched, none left in a queue")
	byConversation := map[int64]int{}
	for i, ids := range posted {
		for _, id := range ids {
			byConversation[id] = i
		}
	}
	got := make([][]int64, len(users))
	for _, id := range l.started() {
		i, ok := byConversation[id]
		require.True(t, ok, "a message dispatched that nobody posted: %d", id)
		got[i] = append(got[i], id)
	}
	assert.Equal(t, posted, got, "each conversation in order, once")
	assert.ElementsMatch(t, l.started(), l.temporal.signalled(), "each signalled to Temporal")
	for i, u := range users {
		assert.Contains(t, l.temporal.ids, workflows.ConversationWorkflowID(domain.AIConversationID(u.UserID())), "user %d", i)
	}
}

// When a conversation's queue is full (Temporal is slow or down), the API
// still stores and answers; what did not fit is left to the reconciler.
func TestAFullDispatchQueueLeavesTheRestToTheReconciler(t *testing.T) {
	l := &dispatchLog{release: make(chan struct{})}
	hs := dispatchHarness(t, l)
	u := hs.user("hasty")
	// One dispatch held in flight, a full queue behind it, two more.
	n := api.DispatchQueue + 3
	for i := range n {
		hs.ask(u, fmt.Sprintf("message %d", i))
	}
	close(l.release)
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		assert.Len(c, l.started(), api.DispatchQueue+1)
	}, 30*time.Second, 10*time.Millisecond)
	assert.Len(t, l.started(), api.DispatchQueue+1, "the two that did not fit are not dispatched")
	pending, err := hs.db.NewSelect().Model((*domain.Message)(nil)).Where("turn_status = ?", domain.TurnPending).Count(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, n, pending, "all stored, waiting for their turn")
	marked, err := hs.db.NewSelect().Model((*domain.Message)(nil)).Where("dispatched_at IS NOT NULL").Count(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, api.DispatchQueue+1, marked, "those dispatched are marked, the reconciler takes the rest")
}
