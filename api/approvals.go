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
	err = s.decideWhileRecorded(dctx, ap, d)
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

// replayGrace bounds how long a decision waits for a turn to reach its
// call again.
const replayGrace = 20 * time.Second

// decideWhileRecorded gives the decision to the turn, again while the
// call stays pending in the database but the turn does not wait on it
// yet: a worker that replaced a killed one replays the turn up to the
// request, and a decision that comes before it gets there is refused.
// Once the call is settled (expired), the refusal stands.
func (s *Server) decideWhileRecorded(ctx context.Context, ap *domain.ToolApproval, d workflows.ApprovalDecision) error {
	// A turn a handoff cancelled leaves its call pending: not for long.
	giveUp := time.Now().Add(replayGrace)
	for {
		err := s.conversations.DecideApproval(ctx, ap.TurnID, d)
		if !errors.Is(err, dispatch.ErrNotWaiting) || time.Now().After(giveUp) {
			return err
		}
		now, lookErr := domain.ApprovalOf(ctx, s.db, ap.ConversationID, ap.CallID)
		if lookErr != nil || now.Status != domain.ApprovalPending {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(250 * time.Millisecond):
		}
	}
}
