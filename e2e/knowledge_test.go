package e2e_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// The help centre of these tests: an HTML page (with what a real page
// carries around its text), a markdown file and a zip with a text file.
const (
	lockersPage = `<!doctype html><html><head><title>Parcel lockers | Help</title>
<link rel="canonical" href="https://help.example.com/lockers">
<script>window.dataLayer = ["parcel tracking pixel"];</script><style>main{max-width:40em}</style></head>
<body><header><nav><a href="/">Help home</a> <a href="/lockers">Lockers</a></nav></header>
<main><h1>Parcel lockers</h1><p>Lockers stand in train stations and supermarkets.</p>
<h2>How long a parcel stays</h2><p>A locker keeps your parcel for 72 hours. After that it goes back to the depot.</p></main>
<footer>Example Parcels</footer></body></html>`
	returnsFile = "---\nurl: https://help.example.com/returns\n---\n# Returns\n\nSend anything back within 30 days.\n\n" +
		"## Refunds\n\nThe refund reaches your card within 5 working days of the return arriving.\n"
	hoursFile = "Opening hours\nThe support line is open from 8:00 to 20:00, Monday to Saturday."
)

// importHelpCentre imports the help centre as staff and returns the
// lockers article.
func importHelpCentre(t *testing.T, s *stack) *domain.Article {
	t.Helper()
	staff := s.agent("kai")
	body, ct := apitest.Upload(t, []apitest.File{{Name: "lockers.html", Content: lockersPage}, {Name: "returns.md", Content: returnsFile},
		{Name: "more.zip", Content: apitest.Zip(t, apitest.File{Name: "hours.txt", Content: hoursFile})}})
	w := s.Call("POST", "/knowledge/import", body, staff.AccessToken, ct)
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	require.Len(t, apitest.Decode(t, w)["created"], 3, w.Body.String())
	lockers, err := domain.ArticleByURL(t.Context(), s.db, "https://help.example.com/lockers")
	require.NoError(t, err)
	assert.NotContains(t, lockers.Body, "tracking")
	assert.NotContains(t, lockers.Body, "Help home")
	return lockers
}

// A question on the web and by SMS is answered from the imported help
// centre: the assistant searches it, the reply cites the right article in
// the API, its history and the event stream, and the SMS ends with the
// source. With KNOWLEDGE_REQUIRED, an answer that cites nothing becomes the
// no-answer message.
func TestTheAssistantAnswersFromTheKnowledgeBaseAndCites(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newSMSStackWith(t, url, browserAgent, nil, stackOptions{temporal: temporalServer,
			env: map[string]string{"KNOWLEDGE_REQUIRED": "true"}})
		lockers := importHelpCentre(t, s.stack)
		srv := httptest.NewServer(s.H)
		t.Cleanup(srv.Close)

		user := s.User("lena")
		conv := domain.AIConversationID(user.UserID())
		stream := openEvents(t, srv.URL, user.AccessToken, conv)
		q := s.ask(user, "How long does a locker keep my parcel?")
		reply := s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, "A locker keeps your parcel for 72 hours [1].", reply["content"])
		cites, _ := reply["citations"].([]any)
		require.Len(t, cites, 1, "the reply as the conversation lists it: %v", reply)
		cite := cites[0].(map[string]any)
		assert.EqualValues(t, lockers.ID, cite["article_id"])
		assert.Equal(t, "Parcel lockers", cite["title"])
		assert.Equal(t, "https://help.example.com/lockers", cite["url"])
		assert.Equal(t, "How long a parcel stays", cite["heading"])
		assert.EqualValues(t, 1, cite["n"])
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)
		assert.Equal(t, []string{"local:TurnPolicy", "local:LoadHistory", "CallLLM", "tool.search_knowledge", "CallLLM",
			"local:SaveReply", "upsert:AimsgOutcome"}, s.history(workflows.TurnWorkflowID(apitest.ID(q))))
		s.saveHistories(workflows.TurnWorkflowID(apitest.ID(q)))

		w := s.Call("GET", "/messages/"+apitest.Itoa(apitest.ID(reply)), nil, user.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, cites, apitest.Decode(t, w)["citations"], "one message read alone")
		for ev := range stream {
			if ev.name == "message" && ev.data["id"] == reply["id"] {
				assert.Equal(t, cites, ev.data["citations"], "the live event")
				break
			}
		}

		// Required: an answer that cites nothing is not sent.
		q = s.ask(user, "Tell me a joke about trains")
		reply = s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, s.cfg.KnowledgeNoAnswerMessage, reply["content"])
		assert.Nil(t, reply["citations"])
		assert.Equal(t, workflows.OutcomeNoAnswer, s.turnOutcome(apitest.ID(q)).Outcome)

		// The same question by SMS ends with its source, inside the budget.
		require.Equal(t, http.StatusOK, s.webhook(inbound("SM00000000000000000000000000000042", userPhone,
			"how long does a locker keep my parcel?")).Code)
		sent := s.waitSMS(1)
		assert.Equal(t, "A locker keeps your parcel for 72 hours [1].\n\nSources: [1] Parcel lockers help.example.com/lockers", sent[0].Body)
	})
}

// With KNOWLEDGE_NO_ANSWER=handoff, a question the help centre does not
// answer goes to a person: the user is told so, and the support inbox
// shows the conversation with the reason.
func TestAQuestionTheKnowledgeBaseCannotAnswerGoesToAPerson(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, browserAgent, map[string]string{"KNOWLEDGE_REQUIRED": "true", "KNOWLEDGE_NO_ANSWER": "handoff"})
		importHelpCentre(t, s)
		user := s.User("olga")
		q := s.ask(user, "Can I pay with bitcoin?") // answered from nowhere: no source cited
		reply := s.replyTo(user, apitest.ID(q), 30*time.Second)
		assert.Equal(t, s.cfg.HandoffMessage, reply["content"])
		s.waitMode(user, "human")

		staff := s.agent("sam")
		w := s.Call("GET", "/support/conversations?mode=human", nil, staff.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		inbox := apitest.DecodeList(t, w)
		require.Len(t, inbox, 1)
		assert.Equal(t, domain.AIConversationID(user.UserID()), inbox[0]["conversation_id"])
		assert.Equal(t, workflows.HandoffReasonNoAnswer, inbox[0]["reason"])
	})
}
