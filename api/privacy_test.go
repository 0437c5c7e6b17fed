package api_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The export holds everything stored about the person and nothing about
// anyone else, and no secret.
func TestExportHoldsEverythingAboutTheUser(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		me := hs.user("exporter")
		myID := id(me.User)
		hs.login("exporter", "exporter-password") // a second session
		other := hs.user("neighbour")
		otherID := id(other.User)
		assistant, err := domain.Assistant(ctx, hs.db)
		require.NoError(t, err)

		require.Equal(t, http.StatusOK, hs.call("PUT", "/auth/me/phone", map[string]any{"phone_number": "+14155552671"}, me.AccessToken).Code)
		ai, sms := domain.AIConversationID(myID), "+14155552671"
		msgs := []domain.Message{
			{SenderID: myID, RecipientID: otherID, Content: "to the neighbour", Channel: domain.ChannelWeb},
			{SenderID: otherID, RecipientID: myID, Content: "from the neighbour", Channel: domain.ChannelWeb},
			{SenderID: myID, RecipientID: assistant.ID, Content: "by sms", Channel: domain.ChannelTwilio, ConversationID: &ai, Address: &sms},
			{SenderID: otherID, RecipientID: id(root.User), Content: "not mine", Channel: domain.ChannelWeb},
		}
		_, err = hs.db.NewInsert().Model(&msgs).Exec(ctx)
		require.NoError(t, err)
		w := hs.call("POST", "/reports", map[string]any{"title": "broken", "content": "it broke"}, me.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		rid := "/reports/" + itoa(id(decode(t, w)))
		require.Equal(t, http.StatusOK, hs.call("POST", rid+"/comment", map[string]any{"comment": "on it"}, root.AccessToken).Code)
		_, err = hs.db.NewInsert().Model(&domain.TelegramLink{UserID: myID, ChatID: 4242}).Exec(ctx)
		require.NoError(t, err)
		require.NoError(t, domain.RecordLLMCall(ctx, hs.db, &domain.LLMCall{UserID: myID, ConversationID: ai,
			TurnID: "turn-1", Purpose: domain.PurposeReply, Provider: "fake", Model: "m", TotalTokens: 42, Outcome: domain.LLMOK}))
		require.NoError(t, domain.SaveMemory(ctx, hs.db, &domain.Memory{ConversationID: ai, UserID: myID,
			UpTo: msgs[2].ID, Content: "they like sms", Model: "m"}))
		_, err = domain.RequestApproval(ctx, hs.db, &domain.ToolApproval{ConversationID: ai, UserID: myID, TurnID: "turn-1",
			CallID: "call-1", Agent: "desk", Tool: "billing__refund", Arguments: `{"order":"A-7"}`, ExpiresAt: domain.Now()})
		require.NoError(t, err)
		_, _, err = domain.RecordEpisode(ctx, hs.db, nil, domain.EpisodeEnd{Key: ai + ":1", ConversationID: ai, UserID: myID,
			Channel: domain.ChannelWeb, Start: domain.Now().Add(-time.Minute), End: domain.Now(), Ending: domain.EndQuiet, Turns: 1})
		require.NoError(t, err)

		w = hs.call("GET", "/auth/me/export", nil, me.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Contains(t, w.Header().Get("Content-Disposition"), "attachment")
		for _, secret := range []string{"hashed_password", "session_token", `"token"`, "$2a$"} {
			assert.NotContains(t, w.Body.String(), secret)
		}
		export := decode(t, w)
		user := export["user"].(map[string]any)
		assert.Equal(t, "exporter", user["username"])
		assert.Equal(t, "+14155552671", user["phone_number"])
		assert.Len(t, export["sessions"], 2)

		var contents []any
		for _, m := range export["messages"].([]any) {
			contents = append(contents, m.(map[string]any)["content"])
		}
		assert.Equal(t, []any{"to the neighbour", "from the neighbour", "by sms"}, contents)
		assert.Equal(t, sms, export["messages"].([]any)[2].(map[string]any)["address"])

		reports := export["reports"].([]any)
		require.Len(t, reports, 1)
		assert.Equal(t, "on it", reports[0].(map[string]any)["comment"])
		assert.EqualValues(t, 4242, export["telegram"].(map[string]any)["chat_id"])
		summaries := export["conversation_summaries"].([]any)
		require.Len(t, summaries, 1)
		assert.Equal(t, "they like sms", summaries[0].(map[string]any)["content"])
		calls := export["llm_calls"].([]any)
		require.Len(t, calls, 1)
		assert.EqualValues(t, 42, calls[0].(map[string]any)["total_tokens"])
		approvals := export["tool_approvals"].([]any)
		require.Len(t, approvals, 1, "a tool call made for them, with its arguments")
		assert.Equal(t, `{"order":"A-7"}`, approvals[0].(map[string]any)["arguments"])
		episodes := export["episodes"].([]any)
		require.Len(t, episodes, 1, "their request, with its outcome")
		assert.Equal(t, "resolved_by_ai", episodes[0].(map[string]any)["outcome"])

		// The neighbour's export has the messages they share, not the rest.
		w = hs.call("GET", "/auth/me/export", nil, other.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		theirs := decode(t, w)
		assert.Len(t, theirs["messages"], 3)
		assert.Empty(t, theirs["reports"])
		assert.Nil(t, theirs["telegram"])
		assert.Empty(t, theirs["tool_approvals"])
		assert.Empty(t, theirs["episodes"])

		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me/export", nil, "").Code)
	})
}

// Erasing one's own account needs the password, takes what is theirs,
// ends every session at once and leaves an entry in the audit log.
func TestDeletingOwnAccount(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		me := hs.user("leaver")
		myID := id(me.User)
		second := hs.login("leaver", "leaver-password")
		stays := hs.user("stayer")
		_, err := hs.db.NewInsert().Model(&[]domain.Message{
			{SenderID: myID, RecipientID: id(stays.User), Content: "bye", Channel: domain.ChannelWeb},
			{SenderID: id(stays.User), RecipientID: id(root.User), Content: "kept", Channel: domain.ChannelWeb},
		}).Exec(ctx)
		require.NoError(t, err)

		w := hs.call("DELETE", "/auth/me", map[string]any{"password": "wrong-password"}, me.AccessToken)
		assert.Equal(t, http.StatusBadRequest, w.Code)
		assert.Equal(t, "Password is incorrect", decode(t, w)["detail"])
		assert.Equal(t, http.StatusUnprocessableEntity, hs.call("DELETE", "/auth/me", map[string]any{}, me.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("DELETE", "/auth/me", map[string]any{"password": "leaver-password"}, "").Code)
		assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, second.AccessToken).Code, "a refused delete changes nothing")

		w = hs.call("DELETE", "/auth/me", map[string]any{"password": "leaver-password"}, me.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		for _, tk := range []tokens{me, second} {
			assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, tk.AccessToken).Code)
			assert.Equal(t, http.StatusUnauthorized, hs.call("POST", "/auth/refresh", map[string]any{"refresh_token": tk.RefreshToken}, "").Code)
		}
		w = hs.call("POST", "/auth/login", map[string]any{"username": "leaver", "password": "leaver-password"}, "")
		assert.Equal(t, http.StatusUnauthorized, w.Code)
		var left []domain.Message
		require.NoError(t, hs.db.NewSelect().Model(&left).Scan(ctx))
		require.Len(t, left, 1)
		assert.Equal(t, "kept", left[0].Content)

		w = hs.call("GET", "/auth/audit?action=user.self_delete", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		entries := decodeList(t, w)
		require.Len(t, entries, 1)
		assert.Nil(t, entries[0]["actor_id"], "the actor is gone with the account")
		assert.Equal(t, itoa(myID), entries[0]["target_id"])

		// The last active superuser may not leave.
		w = hs.call("DELETE", "/auth/me", map[string]any{"password": "root-password"}, root.AccessToken)
		assert.Equal(t, http.StatusForbidden, w.Code)
		assert.Contains(t, decode(t, w)["detail"], "last active superuser")
		assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/me", nil, root.AccessToken).Code)
	})
}
