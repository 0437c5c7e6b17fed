package api_test

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// cast is the people of the permission tests.
type cast struct {
	alice, bob, carol, root tokens
	aliceID, bobID          int64
}

func newCast(hs *harness) cast {
	c := cast{alice: hs.user("alice"), bob: hs.user("bob"), carol: hs.user("carol"), root: hs.superuser("root")}
	c.aliceID, c.bobID = userID(c.alice), userID(c.bob)
	return c
}

func userID(tk tokens) int64 { return tk.UserID() }

func (hs *harness) send(from tokens, to int64, content string) map[string]any {
	hs.t.Helper()
	w := hs.call("POST", "/messages", map[string]any{"recipient_id": to, "content": content}, from.AccessToken)
	require.Equal(hs.t, http.StatusCreated, w.Code, w.Body.String())
	return decode(hs.t, w)
}

func TestMessagePermissionMatrix(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		m := hs.send(c.alice, c.bobID, "hello bob")
		assert.Equal(t, domain.DirectConversationID(c.aliceID, c.bobID), m["conversation_id"])
		assert.Equal(t, "web", m["channel"])
		mid := "/messages/" + itoa(id(m))
		conv := "/auth/conversations/" + domain.DirectConversationID(c.aliceID, c.bobID)
		anon := tokens{}

		type who struct {
			name string
			tk   tokens
		}
		people := []who{{"sender", c.alice}, {"recipient", c.bob}, {"other user", c.carol}, {"superuser", c.root}, {"anonymous", anon}}
		for _, r := range []struct {
			method, path string
			body         any
			want         []int // sender, recipient, other, superuser, anonymous
		}{
			{"GET", mid, nil, []int{200, 200, 404, 404, 401}},
			{"PUT", mid, map[string]any{"content": "edited"}, []int{200, 403, 404, 404, 401}},
			{"PUT", mid + "/read", nil, []int{403, 200, 404, 404, 401}},
			{"GET", conv + "/messages", nil, []int{200, 200, 404, 404, 401}},
			{"PUT", conv + "/read", nil, []int{200, 200, 404, 404, 401}},
			{"POST", conv + "/messages", map[string]any{"content": "in the thread"}, []int{201, 201, 404, 404, 401}},
			{"GET", "/messages", nil, []int{200, 200, 200, 200, 401}},
			{"GET", "/messages/sent", nil, []int{200, 200, 200, 200, 401}},
			{"GET", "/messages/received", nil, []int{200, 200, 200, 200, 401}},
			{"GET", "/messages/unread/count", nil, []int{200, 200, 200, 200, 401}},
			{"PUT", "/messages/read-all", nil, []int{200, 200, 200, 200, 401}},
			{"GET", "/auth/conversations", nil, []int{200, 200, 200, 200, 401}},
			{"POST", "/messages", map[string]any{"recipient_id": c.bobID, "content": "x"}, []int{201, 422, 201, 201, 401}},
			{"DELETE", mid, nil, []int{200, 403, 404, 404, 401}},
		} {
			// The sender deletes last; the others are refused first.
			order := []int{1, 2, 3, 4, 0}
			for _, i := range order {
				p := people[i]
				w := hs.call(r.method, r.path, r.body, p.tk.AccessToken)
				assert.Equal(t, r.want[i], w.Code, "%s %s as %s: %s", r.method, r.path, p.name, w.Body.String())
			}
		}
		// Lists hold only one's own messages.
		w := hs.call("GET", "/messages", nil, c.carol.AccessToken)
		for _, msg := range decodeList(t, w) {
			assert.True(t, msg["sender_id"] == float64(userID(c.carol)) || msg["recipient_id"] == float64(userID(c.carol)))
		}
	})
}

func TestMessageListsPaginateNewestFirst(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		for i := range 7 {
			hs.send(c.alice, c.bobID, "a"+itoa(int64(i)))
		}
		for i := range 3 {
			hs.send(c.bob, c.aliceID, "b"+itoa(int64(i)))
		}
		hs.send(c.carol, c.aliceID, "from carol")

		list := func(path string, tk tokens) ([]map[string]any, string) {
			w := hs.call("GET", path, nil, tk.AccessToken)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			return decodeList(t, w), w.Header().Get("X-Total-Count")
		}
		all, total := list("/messages?limit=4", c.alice)
		assert.Equal(t, "11", total)
		require.Len(t, all, 4)
		assert.Equal(t, "from carol", all[0]["content"], "newest first")
		assert.Greater(t, all[0]["id"], all[1]["id"])

		tail, _ := list("/messages?limit=4&offset=8", c.alice)
		assert.Len(t, tail, 3)
		past, total := list("/messages?offset=100", c.alice)
		assert.Empty(t, past)
		assert.Equal(t, "11", total)

		sent, total := list("/messages/sent", c.alice)
		assert.Equal(t, "7", total)
		assert.Len(t, sent, 7)
		received, total := list("/messages/received", c.alice)
		assert.Equal(t, "4", total)
		assert.Len(t, received, 4)
		one, total := list("/messages?conversation_id="+domain.DirectConversationID(c.aliceID, c.bobID), c.alice)
		assert.Equal(t, "10", total)
		assert.Len(t, one, 10)
		conv, total := list("/auth/conversations/"+domain.DirectConversationID(c.aliceID, c.bobID)+"/messages?limit=2", c.bob)
		assert.Equal(t, "10", total)
		assert.Equal(t, "b2", conv[0]["content"])

		for _, bad := range []string{"limit=0", "limit=201", "limit=x", "offset=-1", "conversation_id=nope", "conversation_id=dm:2:1"} {
			w := hs.call("GET", "/messages?"+bad, nil, c.alice.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, bad)
			assert.IsType(t, []any{}, decode(t, w)["detail"], bad)
		}
	})
}

func TestSendValidation(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		other := hs.send(c.carol, c.bobID, "not yours")
		for name, tc := range map[string]struct {
			body   map[string]any
			status int
		}{
			"empty content":      {map[string]any{"recipient_id": c.bobID, "content": ""}, 422},
			"blank content":      {map[string]any{"recipient_id": c.bobID, "content": "   "}, 422},
			"too long":           {map[string]any{"recipient_id": c.bobID, "content": strings.Repeat("x", 10001)}, 422},
			"no recipient":       {map[string]any{"content": "hi"}, 422},
			"unknown recipient":  {map[string]any{"recipient_id": 987654, "content": "hi"}, 404},
			"to myself":          {map[string]any{"recipient_id": c.aliceID, "content": "hi"}, 422},
			"foreign parent":     {map[string]any{"recipient_id": c.bobID, "content": "hi", "parent_id": id(other)}, 422},
			"wrong conversation": {map[string]any{"recipient_id": c.bobID, "content": "hi", "conversation_id": "dm:1:2"}, 422},
			"matching conversation": {map[string]any{"recipient_id": c.bobID, "content": "hi",
				"conversation_id": domain.DirectConversationID(c.aliceID, c.bobID)}, 201},
		} {
			w := hs.call("POST", "/messages", tc.body, c.alice.AccessToken)
			assert.Equal(t, tc.status, w.Code, "%s: %s", name, w.Body.String())
		}
		w := hs.call("PUT", "/messages/"+itoa(id(other)), map[string]any{"content": ""}, c.carol.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	})
}

func TestReadStateAndUnreadCount(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		m1 := hs.send(c.alice, c.bobID, "one")
		hs.send(c.alice, c.bobID, "two")
		hs.send(c.carol, c.bobID, "three")
		unread := func() float64 {
			w := hs.call("GET", "/messages/unread/count", nil, c.bob.AccessToken)
			require.Equal(t, http.StatusOK, w.Code)
			return decode(t, w)["unread_count"].(float64)
		}
		assert.EqualValues(t, 3, unread())
		w := hs.call("PUT", "/messages/"+itoa(id(m1))+"/read", nil, c.bob.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, true, decode(t, w)["is_read"])
		assert.EqualValues(t, 2, unread())

		w = hs.call("PUT", "/auth/conversations/"+domain.DirectConversationID(c.aliceID, c.bobID)+"/read", nil, c.bob.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.EqualValues(t, 1, decode(t, w)["updated_count"])
		assert.EqualValues(t, 1, unread(), "carol's message is another conversation")

		w = hs.call("PUT", "/messages/read-all", nil, c.bob.AccessToken)
		assert.EqualValues(t, 1, decode(t, w)["updated_count"])
		assert.EqualValues(t, 0, unread())
	})
}

func TestTheAssistantConversationIsAlwaysFirst(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		convs := func(tk tokens) []map[string]any {
			w := hs.call("GET", "/auth/conversations", nil, tk.AccessToken)
			require.Equal(t, http.StatusOK, w.Code)
			return decodeList(t, w)
		}
		fresh := convs(c.alice)
		require.Len(t, fresh, 1, "before any message")
		ai := fresh[0]
		assert.Equal(t, true, ai["is_assistant"])
		assert.Equal(t, domain.AIConversationID(c.aliceID), ai["conversation_id"])
		assert.Nil(t, ai["last_message"])
		assistant := ai["other_user"].(map[string]any)
		assert.Equal(t, "assistant", assistant["username"])

		hs.send(c.bob, c.aliceID, "newer than nothing")
		hs.send(c.carol, c.aliceID, "newest")
		list := convs(c.alice)
		require.Len(t, list, 3)
		assert.Equal(t, true, list[0]["is_assistant"], "first even when other threads are newer")
		assert.Equal(t, "carol", list[1]["other_user"].(map[string]any)["username"])
		assert.EqualValues(t, 1, list[1]["unread_count"])
		assert.Equal(t, "newest", list[1]["last_message"].(map[string]any)["content"])
		assert.Equal(t, false, list[1]["is_assistant"])

		// Writing to the assistant, by id or through the thread, is an inbound AI turn.
		aid := int64(assistant["id"].(float64))
		m := hs.send(c.alice, aid, "hello AI")
		assert.Equal(t, domain.AIConversationID(c.aliceID), m["conversation_id"])
		assert.Equal(t, "pending", m["turn_status"])
		w := hs.call("POST", "/auth/conversations/"+domain.AIConversationID(c.aliceID)+"/messages",
			map[string]any{"content": "are you there?"}, c.alice.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		assert.Equal(t, "pending", decode(t, w)["turn_status"])
		assert.EqualValues(t, aid, decode(t, w)["recipient_id"])

		list = convs(c.alice)
		assert.Equal(t, "are you there?", list[0]["last_message"].(map[string]any)["content"])
		assert.Equal(t, http.StatusNotFound,
			hs.call("GET", "/auth/conversations/"+domain.AIConversationID(c.aliceID)+"/messages", nil, c.bob.AccessToken).Code,
			"someone else's AI thread does not exist for you")
		assert.Len(t, convs(c.bob), 2, "bob: his AI thread and alice")
	})
}

func TestConversationIDsAreValidated(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	c := newCast(hs)
	for _, bad := range []string{"nope", "ai:", "ai:x", "ai:0", "dm:2:2", "dm:3:1", "dm:1", "dm:01:2", "ai:1:2"} {
		w := hs.call("GET", "/auth/conversations/"+bad+"/messages", nil, c.alice.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, bad)
	}
}

// TestListQueriesUseIndexes runs the list endpoints on PostgreSQL, captures
// their queries and asks the planner, with sequential scans priced out, how
// it would run them: each must find an index.
func TestListQueriesUseIndexes(t *testing.T) {
	var pg string
	for _, u := range testenv.DatabaseURLs(t) {
		if strings.HasPrefix(u, "postgres") {
			pg = u
		}
	}
	if pg == "" {
		t.Skip("needs TEST_DATABASE_URL (CI sets it)")
	}
	hs := newHarness(t, pg, nil)
	c := newCast(hs)
	hs.send(c.alice, c.bobID, "indexed")
	w := hs.call("POST", "/reports", map[string]any{"title": "t", "content": "c"}, c.alice.AccessToken)
	require.Equal(t, http.StatusCreated, w.Code)

	rec := &recorder{}
	//lint:ignore SA1019 the handler holds this *bun.DB: only a hook added in place reaches its queries
	hs.db.AddQueryHook(rec)
	conv := domain.DirectConversationID(c.aliceID, c.bobID)
	for _, path := range []string{"/messages", "/messages/sent", "/messages/received", "/messages?conversation_id=" + conv,
		"/auth/conversations/" + conv + "/messages", "/messages/unread/count", "/auth/conversations", "/reports",
		"/reports?status=open"} {
		require.Equal(t, http.StatusOK, hs.call("GET", path, nil, c.alice.AccessToken).Code, path)
	}
	require.Equal(t, http.StatusOK, hs.call("GET", "/reports/admin/all?status=open", nil, c.root.AccessToken).Code)

	ctx := context.Background()
	checked := 0
	for _, q := range rec.selects() {
		if !strings.Contains(q, `"messages"`) && !strings.Contains(q, `"reports"`) {
			continue
		}
		tx, err := hs.db.BeginTx(ctx, nil)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, "SET LOCAL enable_seqscan = off")
		require.NoError(t, err)
		var plan []string
		require.NoError(t, tx.NewRaw("EXPLAIN "+q).Scan(ctx, &plan))
		require.NoError(t, tx.Rollback())
		joined := strings.Join(plan, "\n")
		assert.NotContains(t, joined, "Seq Scan on messages", q)
		assert.NotContains(t, joined, "Seq Scan on reports", q)
		checked++
	}
	assert.GreaterOrEqual(t, checked, 10)
}

// recorder keeps the SQL of every query run.
type recorder struct {
	mu  sync.Mutex
	all []string
}

func (r *recorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (r *recorder) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.all = append(r.all, e.Query)
}

func (r *recorder) selects() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	for _, q := range r.all {
		if strings.HasPrefix(q, "SELECT") {
			out = append(out, q)
		}
	}
	return out
}

// The conversation list pages like the message lists: the assistant's
// conversation first on the first page and in the total, the others by
// latest message across pages, none twice.
func TestConversationsArePaged(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		hs := newHarness(t, url, nil)
		alice := hs.user("alice")
		aliceID := userID(alice)
		var msgs []domain.Message
		for i := range 7 {
			u, err := domain.CreateUser(ctx, hs.db, domain.NewUser{Username: "peer" + itoa(int64(i)),
				Email: "peer" + itoa(int64(i)) + "@example.com", HashedPassword: "x"})
			require.NoError(t, err)
			conv := domain.DirectConversationID(aliceID, u.ID)
			msgs = append(msgs, domain.Message{SenderID: u.ID, RecipientID: aliceID, Content: "from " + u.Username,
				ConversationID: &conv, Channel: domain.ChannelWeb})
		}
		_, err := hs.db.NewInsert().Model(&msgs).Exec(ctx)
		require.NoError(t, err)

		var seen []string
		for offset := 0; offset < 10; offset += 3 {
			w := hs.call("GET", "/auth/conversations?limit=3&offset="+itoa(int64(offset)), nil, alice.AccessToken)
			require.Equal(t, http.StatusOK, w.Code, w.Body.String())
			assert.Equal(t, "8", w.Header().Get("X-Total-Count"))
			page := decodeList(t, w)
			assert.LessOrEqual(t, len(page), 3)
			for i, c := range page {
				assert.Equal(t, offset == 0 && i == 0, c["is_assistant"], "offset %d entry %d", offset, i)
				if c["is_assistant"] == true {
					seen = append(seen, "assistant")
					continue
				}
				seen = append(seen, c["other_user"].(map[string]any)["username"].(string))
			}
		}
		assert.Equal(t, []string{"assistant", "peer6", "peer5", "peer4", "peer3", "peer2", "peer1", "peer0"}, seen)

		w := hs.call("GET", "/auth/conversations?limit=0", nil, alice.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
	})
}
