package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

// A tool call an agent marks approval: required waits in its turn for a
// person on the support team; this is where they decide.

// decisionTimeout bounds the wait for the turn to take a decision: a
// worker that just died leaves the turn to another after the sticky
// queue's five seconds; a person waits this long at most for the answer.
const decisionTimeout = 30 * time.Second

type approvalRequest struct {
	Decision string  `json:"decision" binding:"required,oneof=approve reject"`
	Reason   *string `json:"reason" binding:"omitempty,max=500"`
}

// approvalDecided is the answer to a decision the turn took.
type approvalDecided struct {
	ConversationID string                `json:"conversation_id"`
	CallID         string                `json:"call_id"`
	Tool           string                `json:"tool"`
	Status         domain.ApprovalStatus `json:"status"`
}

func (s *Server) decideApproval(c *gin.Context) {
	conv, ok := s.supportConversation(c)
	if !ok {
		return
	}
	var in approvalRequest
	if !s.bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	ap, err := domain.ApprovalOf(ctx, s.db, conv.ID(), c.Param("call_id"))
	if errors.Is(err, domain.ErrNotFound) {
		abort(c, http.StatusNotFound, "No such tool call in this conversation")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	if ap.Status != domain.ApprovalPending {
		abort(c, http.StatusConflict, "The call was "+string(ap.Status)+" already")
		return
	}
	d := workflows.ApprovalDecision{CallID: ap.CallID, Approve: in.Decision == "approve", By: currentUser(c).ID}
	if in.Reason != nil {
		d.Reason = *in.Reason
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), decisionTimeout)
	defer cancel()
	err = s.conversations.DecideApproval(dctx, ap.TurnID, d)
	if errors.Is(err, dispatch.ErrNotWaiting) {
		abort(c, http.StatusConflict, "The call is not waiting for a decision any more")
		return
	}
	if err != nil {
		s.log(c).Warn("approval not delivered to its turn", "call_id", ap.CallID, "error", err)
		s.fail(c, errWorkflowsUnavailable)
		return
	}
	action, status := domain.AuditToolApprove, domain.ApprovalApproved
	if !d.Approve {
		action, status = domain.AuditToolReject, domain.ApprovalRejected
	}
	s.audit(c, action, "tool_call", ap.CallID, map[string]any{"conversation_id": ap.ConversationID, "tool": ap.Tool,
		"agent": ap.Agent, "arguments": ap.ArgumentsDigest(), "reason": d.Reason})
	c.JSON(http.StatusOK, approvalDecided{ConversationID: ap.ConversationID, CallID: ap.CallID, Tool: ap.Tool, Status: status})
}
