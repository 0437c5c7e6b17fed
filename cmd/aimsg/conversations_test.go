package main

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestConversationsCommands(t *testing.T) {
	ctx := context.Background()
	llm := fakellm.Start(fakellm.Echo)
	defer llm.Close()
	env := testEnv(t, "sqlite:///:memory:", map[string]string{
		"LITELLM_BASEURL": llm.BaseURL(), "TEMPORAL_TASK_QUEUE": fmt.Sprintf("cli-%d", time.Now().UnixNano()),
	})
	var out output
	require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runWith(wctx, env, &output{}, "worker") }()
	defer func() { stop(); <-done }()

	db := testenv.Open(t, env["DATABASE_URL"])
	u, err := domain.CreateUser(ctx, db, domain.NewUser{Username: "inboxed", Email: "inboxed@example.com", HashedPassword: "x"})
	require.NoError(t, err)
	a, err := domain.Assistant(ctx, db)
	require.NoError(t, err)
	_, err = domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "hello", NoTurn: true})
	require.NoError(t, err)
	conv := domain.AIConversationID(u.ID)
	waitMode := func(want domain.Mode) {
		require.EventuallyWithT(t, func(c *assert.CollectT) {
			st, err := domain.StateOf(ctx, db, conv)
			require.NoError(c, err)
			assert.Equal(c, want, st.Mode)
		}, 30*time.Second, 50*time.Millisecond)
	}

	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "conversations", "takeover", "inboxed", "checking an account"))
	assert.Contains(t, out.String(), conv+": human requested")
	waitMode(domain.ModeHuman)
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "conversations", "list", "--mode", "human"))
	assert.Regexp(t, conv+` +inboxed +human +\S+ \S+ +checking an account +1`, out.String())

	require.NoError(t, runWith(ctx, env, &output{}, "conversations", "resume", "inboxed"))
	waitMode(domain.ModeAI)
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "conversations", "list", "--mode", "human"))
	assert.NotContains(t, out.String(), conv)

	assert.Error(t, runWith(ctx, env, &output{}, "conversations", "list", "--mode", "robot"))
	assert.ErrorIs(t, runWith(ctx, env, &output{}, "conversations", "resume", "nobody"), domain.ErrNotFound)
}
