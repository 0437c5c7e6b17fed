package e2e_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// approvalsAgent files a report when asked (a tool that acts, so it waits
// for approval) and answers with what the tool said.
func approvalsAgent(_ int, req fakellm.Request) fakellm.Response {
	last := req.Last()
	if last.Role == "tool" {
		return fakellm.Response{Content: "Done: " + last.Text()}
	}
	if title, ok := strings.CutPrefix(last.Text(), "file "); ok {
		return fakellm.Response{ToolCalls: []fakellm.ToolCall{fakellm.Call("call_"+strings.ReplaceAll(title, " ", "_"),
			"create_report", `{"title":"`+title+`","content":"as asked"}`)}}
	}
	return fakellm.Response{Content: "ok"}
}

// approvalAgents is an entry agent whose create_report waits for a person.
func approvalAgents(t *testing.T, s *stack) {
	t.Helper()
	_, err := domain.ApplyAgents(context.Background(), s.db, []domain.AgentSpec{{Name: "desk", Instructions: "You file reports.",
		Entry: true, Tools: domain.AgentTools{{Name: "create_report", Approval: domain.ApprovalRequired}, {Name: "list_reports"}}}},
		s.knownTool, nil)
	require.NoError(t, err)
}

// waitPending waits until the support inbox shows a call of the user's
// conversation waiting, and returns it.
func (s *stack) waitPending(staff apitest.Tokens, callID string) map[string]any {
	s.t.Helper()
	var found map[string]any
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		w := s.Call("GET", "/support/conversations", nil, staff.AccessToken)
		require.Equal(c, http.StatusOK, w.Code)
		for _, e := range apitest.DecodeList(s.t, w) {
			for _, p := range e["pending_approvals"].([]any) {
				if p.(map[string]any)["call_id"] == callID {
					found = p.(map[string]any)
				}
			}
		}
		require.NotNil(c, found)
	}, 30*time.Second, 20*time.Millisecond)
	return found
}

func (s *stack) decide(staff apitest.Tokens, user apitest.Tokens, callID, decision, reason string) *httptest.ResponseRecorder {
	return s.Call("POST", "/support/conversations/"+domain.AIConversationID(user.UserID())+"/approvals/"+callID,
		map[string]any{"decision": decision, "reason": reason}, staff.AccessToken)
}

// lastMessage is the newest message of the user's conversation with the
// assistant, once there is one from the assistant's side.
func (s *stack) lastMessage(user apitest.Tokens) map[string]any {
	s.t.Helper()
	var last map[string]any
	require.EventuallyWithT(s.t, func(c *assert.CollectT) {
		w := s.Call("GET", "/auth/conversations/"+domain.AIConversationID(user.UserID())+"/messages?limit=1", nil, user.AccessToken)
		require.Equal(c, http.StatusOK, w.Code)
		list := apitest.DecodeList(s.t, w)
		require.NotEmpty(c, list)
		last = list[0]
		require.NotEqual(c, float64(user.UserID()), last["sender_id"])
	}, 30*time.Second, 20*time.Millisecond)
	return last
}

func reportsNamed(t *testing.T, s *stack, title string) int {
	t.Helper()
	n, err := s.db.NewSelect().Model((*domain.Report)(nil)).Where("title = ?", title).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

// A tool marked approval: required waits for a person: the user is told,
// the inbox shows the call and a live event says so; approved, it runs
// and the turn goes on; rejected, or not decided in time, it does not,
// and the model says so; a second decision is a 409; each decision is
// audited.
func TestAToolThatActsWaitsForAPersonsApproval(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		s := newStack(t, url, approvalsAgent, map[string]string{"TOOL_APPROVAL_TIMEOUT_MINUTES": "0.1"})
		approvalAgents(t, s)
		srv := httptest.NewServer(s.H)
		t.Cleanup(srv.Close)
		staff, user := s.agent("stan"), s.User("uli")
		inbox := openStream(t, srv.URL, staff.AccessToken, "/support/events")

		q := s.ask(user, "file broken login")
		pending := s.waitPending(staff, "call_broken_login")
		assert.Equal(t, "create_report", pending["tool"])
		assert.Equal(t, "desk", pending["agent"])
		assert.JSONEq(t, `{"title":"broken login","content":"as asked"}`, pending["arguments"].(string))
		for ev := range inbox {
			if ev.name == "approval" && ev.data["call_id"] == "call_broken_login" {
				break
			}
		}
		assert.Equal(t, s.cfg.ToolApprovalMessage, s.lastMessage(user)["content"], "the user is told it waits")
		assert.Zero(t, reportsNamed(t, s, "broken login"), "nothing done before the decision")

		w := s.decide(staff, user, "call_broken_login", "approve", "")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "approved", apitest.Decode(t, w)["status"])
		res := s.turnOutcome(apitest.ID(q))
		assert.Equal(t, workflows.OutcomeReplied, res.Outcome)
		assert.Equal(t, 1, reportsNamed(t, s, "broken login"))
		assert.Equal(t, http.StatusConflict, s.decide(staff, user, "call_broken_login", "reject", "").Code, "decided already")
		assert.Equal(t, []string{"local:TurnPolicy", "local:LoadHistory", "CallLLM", "local:RequestApproval", "Deliver",
			"local:SettleApproval", "tool.create_report", "CallLLM", "local:SaveReply", "upsert:AimsgOutcome"},
			s.history(workflows.TurnWorkflowID(apitest.ID(q))))
		s.saveHistories(workflows.TurnWorkflowID(apitest.ID(q)))

		// Rejected: not run, and the model is told why.
		q = s.ask(user, "file refund everything")
		s.waitPending(staff, "call_refund_everything")
		w = s.decide(staff, user, "call_refund_everything", "reject", "not without a manager")
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)
		assert.Contains(t, s.lastMessage(user)["content"], "rejected this action: not without a manager")
		assert.Zero(t, reportsNamed(t, s, "refund everything"))

		// Not decided in time: not run; a late decision is a 409.
		q = s.ask(user, "file late one")
		s.waitPending(staff, "call_late_one")
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)
		assert.Contains(t, s.lastMessage(user)["content"], "nobody on the support team decided within 6s")
		assert.Equal(t, http.StatusConflict, s.decide(staff, user, "call_late_one", "approve", "").Code)
		assert.Zero(t, reportsNamed(t, s, "late one"))
		ap, err := domain.ApprovalOf(context.Background(), s.db, domain.AIConversationID(user.UserID()), "call_late_one")
		require.NoError(t, err)
		assert.Equal(t, domain.ApprovalExpired, ap.Status)

		// Refusals: users may not decide; an unknown call is 404.
		assert.Equal(t, http.StatusForbidden, s.decide(user, user, "call_late_one", "approve", "").Code)
		assert.Equal(t, http.StatusNotFound, s.decide(staff, user, "call_nobody_made", "approve", "").Code)
		assert.Equal(t, http.StatusUnprocessableEntity, s.decide(staff, user, "call_late_one", "maybe", "").Code)

		entries, _, err := domain.ListAudit(context.Background(), s.db, domain.AuditFilter{Page: domain.Page{Limit: 50}})
		require.NoError(t, err)
		var decisions []string
		for _, e := range entries {
			if e.TargetType == "tool_call" {
				decisions = append(decisions, string(e.Action)+" "+e.TargetID)
				assert.Equal(t, staff.UserID(), *e.ActorID)
				assert.True(t, strings.HasPrefix(e.Changes["arguments"].(string), "sha256:"), "a digest, not the arguments")
			}
		}
		assert.ElementsMatch(t, []string{"tool.approve call_broken_login", "tool.reject call_refund_everything"}, decisions)
	})
}

// A worker killed while a call waits loses nothing: the next worker
// carries the wait, and the decision runs the tool.
func TestAnApprovalOutlivesItsWorker(t *testing.T) {
	bin := buildAimsg(t)
	s := newStackWith(t, "sqlite:///:memory:", approvalsAgent, stackOptions{temporal: temporalServer, noWorker: true})
	approvalAgents(t, s)
	staff, user := s.agent("stan"), s.User("uli")
	first := startWorkerProcess(t, bin, s)
	q := s.ask(user, "file survives restarts")
	s.waitPending(staff, "call_survives_restarts")
	require.NoError(t, first.Process.Kill())
	_, _ = first.Process.Wait()

	startWorkerProcess(t, bin, s)
	w := s.decide(staff, user, "call_survives_restarts", "approve", "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(apitest.ID(q)).Outcome)
	assert.Equal(t, 1, reportsNamed(t, s, "survives restarts"))
}
