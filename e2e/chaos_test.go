package e2e_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
)

// TestChaosWorkerKilledAtRandom: messages keep coming while `aimsg worker`
// is SIGKILLed at random moments, ten times, and started again; kills land
// in every step of the turns in flight (loading history, calling the LLM,
// saving, delivering). Afterwards no message waits, none is answered twice,
// and each conversation's replies follow its messages. The seed is logged
// to replay a run.
func TestChaosWorkerKilledAtRandom(t *testing.T) {
	bin := buildAimsg(t)
	urls := testenv.DatabaseURLs(t)
	llm := func(_ int, req fakellm.Request) fakellm.Response {
		return fakellm.Response{Content: "echo: " + req.Last().Text(), Delay: 30 * time.Millisecond}
	}
	s := newStackWith(t, urls[len(urls)-1], llm, stackOptions{temporal: temporalServer, noWorker: true,
		env: map[string]string{"TURN_RECONCILE_SECONDS": "2"}})
	users := make([]apitest.Tokens, 8)
	for i := range users {
		users[i] = s.User(fmt.Sprintf("chaos%d", i))
	}
	seed := uint64(time.Now().UnixNano())
	t.Logf("chaos seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	pause := func() time.Duration { return time.Duration(300+rng.IntN(1200)) * time.Millisecond }

	worker := startWorkerProcess(t, bin, s)
	kills := 0
	kill := func() {
		require.NoError(t, worker.Process.Kill())
		_, _ = worker.Process.Wait()
		kills++
		worker = startWorkerProcess(t, bin, s)
	}
	var posted []int64
	next := time.Now().Add(pause())
	for i := range 40 {
		q := s.ask(users[i%len(users)], fmt.Sprintf("message %d", i))
		posted = append(posted, apitest.ID(q))
		time.Sleep(time.Duration(20+rng.IntN(60)) * time.Millisecond)
		if time.Now().After(next) {
			kill()
			next = time.Now().Add(pause())
		}
	}
	for kills < 10 {
		time.Sleep(pause())
		kill()
	}

	ctx := context.Background()
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		n, err := s.db.NewSelect().Model((*domain.Message)(nil)).
			Where("id IN (?) AND turn_status = ?", bun.In(posted), domain.TurnPending).Count(ctx)
		assert.NoError(c, err)
		assert.Zero(c, n, "messages still waiting for their turn")
	}, 3*time.Minute, 200*time.Millisecond)

	var replies []struct {
		Parent int64  `bun:"parent_id"`
		Conv   string `bun:"conversation_id"`
	}
	require.NoError(t, s.db.NewSelect().Model((*domain.Message)(nil)).Column("parent_id", "conversation_id").
		Where("parent_id IN (?)", bun.In(posted)).Order("id").Scan(ctx, &replies))
	seen, last := map[int64]bool{}, map[string]int64{}
	for _, r := range replies {
		assert.False(t, seen[r.Parent], "message %d answered twice", r.Parent)
		assert.Greater(t, r.Parent, last[r.Conv], "replies of %s out of order", r.Conv)
		seen[r.Parent], last[r.Conv] = true, r.Parent
	}
	failed, err := s.db.NewSelect().Model((*domain.Message)(nil)).
		Where("id IN (?) AND turn_status = ?", bun.In(posted), domain.TurnFailed).Count(ctx)
	require.NoError(t, err)
	assert.Zero(t, failed)
	t.Logf("%d kills, %d messages, %d replies (the rest answered together with the next message)", kills, len(posted), len(replies))
}
