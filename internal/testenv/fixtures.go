package testenv

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// AskAssistant stores a user named username who wrote texts to the
// assistant on a channel (from address, when the channel has one), and
// returns the user and the stored messages, oldest first.
func AskAssistant(t testing.TB, db *bun.DB, username string, ch domain.Channel, address string, texts ...string) (*domain.User, []*domain.Message) {
	t.Helper()
	ctx := context.Background()
	u, err := domain.CreateUser(ctx, db, domain.NewUser{Username: username, Email: username + "@example.com", HashedPassword: "x"})
	require.NoError(t, err)
	assistant, err := domain.Assistant(ctx, db)
	require.NoError(t, err)
	var addr *string
	if address != "" {
		addr = &address
	}
	msgs := make([]*domain.Message, 0, len(texts))
	for _, text := range texts {
		m, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: assistant.ID,
			Content: text, Channel: ch, Address: addr})
		require.NoError(t, err)
		msgs = append(msgs, m)
	}
	return u, msgs
}

// MakeAgent gives a user the built-in agent role (support staff).
func MakeAgent(t testing.TB, db *bun.DB, userID int64) {
	t.Helper()
	ctx := context.Background()
	roles, err := domain.ListRoles(ctx, db)
	require.NoError(t, err)
	for _, r := range roles {
		if r.Name == domain.AgentRole {
			_, err := domain.SetUserRoles(ctx, db, userID, []int64{r.ID})
			require.NoError(t, err)
			return
		}
	}
	t.Fatal("the migrations made no agent role")
}
