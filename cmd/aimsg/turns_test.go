package main

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestTurnsCommands(t *testing.T) {
	ctx := context.Background()
	llm := fakellm.Start(fakellm.Echo)
	defer llm.Close()
	env := testEnv(t, "sqlite:///:memory:", map[string]string{
		"LITELLM_BASEURL": llm.BaseURL(), "TEMPORAL_TASK_QUEUE": fmt.Sprintf("cli-%d", time.Now().UnixNano()),
		"LLM_USER_DAILY_TOKENS": "1000000",
		// Sealed payloads: `turns show` reads the local steps' markers through the key.
		"TEMPORAL_PAYLOAD_KEY": codec.NewKey("cli"),
	})
	var out output
	require.NoError(t, runWith(ctx, env, &out, "migrate", "up"))
	wctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- runWith(wctx, env, &output{}, "worker") }()
	defer func() { stop(); <-done }()

	db := testenv.Open(t, env["DATABASE_URL"])
	testenv.SpreadIDs(t, db, "users", "messages")
	u, err := domain.CreateUser(ctx, db, domain.NewUser{Username: "cli", Email: "cli@example.com", HashedPassword: "x"})
	require.NoError(t, err)
	a, err := domain.Assistant(ctx, db)
	require.NoError(t, err)
	_, err = domain.ApplyAgents(ctx, db, []domain.AgentSpec{{Name: "general", Instructions: "You help.", Entry: true}},
		func(string) bool { return true }, nil)
	require.NoError(t, err)
	// A message whose turn was never handed over.
	m, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "hello from the cli"})
	require.NoError(t, err)
	id := fmt.Sprint(m.ID)

	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "turns", "retry", id))
	assert.Contains(t, out.String(), "started again")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		got, err := domain.MessageByID(ctx, db, m.ID)
		require.NoError(c, err)
		assert.Equal(c, domain.TurnReplied, *got.TurnStatus)
	}, 30*time.Second, 50*time.Millisecond)

	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "turns", "retry", id))
	assert.Contains(t, out.String(), "already ran", "a completed turn is not run twice")

	// The reply is saved before the turn's last steps end: wait for them.
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out = output{}
		require.NoError(c, runWith(ctx, env, &out, "turns", "show", id))
		for _, want := range []string{"turn/" + id, "Completed", "outcome   replied", "agent     general (0 transfers)",
			"LoadHistory (local)", "CallLLM", "SaveReply (local)"} {
			assert.Contains(c, out.String(), want)
		}
	}, 10*time.Second, 100*time.Millisecond)

	require.EventuallyWithT(t, func(c *assert.CollectT) {
		out = output{}
		require.NoError(c, runWith(ctx, env, &out, "turns", "list", "--user", "cli"))
		assert.Contains(c, out.String(), "turn/"+id)
		assert.Contains(c, out.String(), "replied")
	}, 10*time.Second, 200*time.Millisecond, "visible by search attribute")

	// Talking from the terminal goes through the same pipeline.
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "chat", "--user", "cli", "--message", "from the terminal"))
	assert.Contains(t, out.String(), "assistant: echo: from the terminal")

	// The admin tasks, with the API's rules.
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "users", "list"))
	assert.Contains(t, out.String(), "cli@example.com")
	assert.NotContains(t, out.String(), "assistant@", "system users are not listed")
	require.NoError(t, runWith(ctx, env, &out, "users", "superuser", "cli", "on"))
	require.ErrorIs(t, runWith(ctx, env, &out, "users", "superuser", "cli", "off"), domain.ErrConflict, "the last superuser stays")
	audited, _, err := domain.ListAudit(ctx, db, domain.AuditFilter{Page: domain.Page{Limit: 10}})
	require.NoError(t, err)
	require.Len(t, audited, 1, "the refused change leaves no entry")
	assert.Equal(t, domain.AuditUserSuperuser, audited[0].Action)
	assert.Equal(t, fmt.Sprint(u.ID), audited[0].TargetID)
	assert.Equal(t, "cli", audited[0].IP)
	assert.Nil(t, audited[0].ActorID)
	assert.Equal(t, map[string]any{"is_superuser": true}, audited[0].Changes)
	require.ErrorIs(t, runWith(ctx, env, &out, "users", "disable", "nobody"), domain.ErrNotFound)

	// What the turns above cost, as the LLM reported it.
	usage, err := domain.UsageByDay(ctx, db, u.ID, domain.Now(), 1, nil)
	require.NoError(t, err)
	today := usage[0]
	require.Positive(t, today.TotalTokens)
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "users", "usage", "cli", "3"))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 5, out.String())
	assert.Equal(t, []string{today.Date, fmt.Sprint(today.Calls), fmt.Sprint(today.PromptTokens),
		fmt.Sprint(today.CompletionTokens), fmt.Sprint(today.TotalTokens), "0.000000"}, strings.Fields(lines[3]), "no LLM_PRICES: no cost")
	assert.Equal(t, fmt.Sprintf("daily limit 1000000, %d left today", 1000000-today.TotalTokens), lines[4])

	var u2 usageError
	require.ErrorAs(t, runWith(ctx, env, &out, "turns", "show"), &u2)
	require.Error(t, runWith(ctx, env, &out, "turns", "list", "--user", "nobody"))
}
