package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestAnswersAreRatedByThePersonTheyWereFor(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		ann, bob := hs.user("ann"), hs.user("bob")
		ctx := context.Background()
		a, err := domain.Assistant(ctx, hs.db)
		require.NoError(t, err)
		q, err := domain.SendMessage(ctx, hs.db, domain.NewMessage{SenderID: ann.UserID(), RecipientID: a.ID, Content: "hi"})
		require.NoError(t, err)
		answer, err := domain.SaveReply(ctx, hs.db, domain.Reply{ConversationID: *q.ConversationID, UserID: ann.UserID(),
			AnswersUpTo: q.ID, Content: "hello ann"})
		require.NoError(t, err)
		path := "/messages/" + itoa(answer.ID) + "/feedback"

		w := hs.call("POST", path, map[string]any{"rating": "up"}, ann.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "up", decode(t, w)["rating"])
		w = hs.call("POST", path, map[string]any{"rating": "down", "comment": "not what I asked"}, ann.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		m := decode(t, hs.call("GET", "/messages/"+itoa(answer.ID), nil, ann.AccessToken))
		fb := m["feedback"].(map[string]any)
		assert.Equal(t, "down", fb["rating"], "the second rating replaced the first")
		assert.Equal(t, "not what I asked", fb["comment"])

		assert.Equal(t, http.StatusNotFound, hs.call("POST", path, map[string]any{"rating": "up"}, bob.AccessToken).Code)
		assert.Equal(t, http.StatusUnprocessableEntity,
			hs.call("POST", "/messages/"+itoa(q.ID)+"/feedback", map[string]any{"rating": "up"}, ann.AccessToken).Code, "her own message")
		for _, bad := range []map[string]any{{"rating": "meh"}, {}, {"rating": "up", "comment": string(make([]byte, 2001))}} {
			assert.Equal(t, http.StatusUnprocessableEntity, hs.call("POST", path, bad, ann.AccessToken).Code, "%v", bad["rating"])
		}
		assert.Equal(t, http.StatusUnauthorized, hs.call("POST", path, map[string]any{"rating": "up"}, "").Code)

		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", path, nil, bob.AccessToken).Code)
		require.Equal(t, http.StatusOK, hs.call("DELETE", path, nil, ann.AccessToken).Code)
		assert.Nil(t, decode(t, hs.call("GET", "/messages/"+itoa(answer.ID), nil, ann.AccessToken))["feedback"])
		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", path, nil, ann.AccessToken).Code, "nothing to take back")
	})
}
