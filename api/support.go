package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/workflows"
)

// The support side: people with the support permission (the agent role,
// superusers) see the conversations with the assistant, take one over,
// answer as the assistant and give it back. Superusers see every
// conversation; agents those of people who are not staff
// (domain.SupportReaches): a staff conversation is not found for them. Who answers a conversation is
// its workflow's to decide: these handlers signal it, and the inbox shows
// the mode the workflow recorded.

// errWorkflowsUnavailable: Temporal did not take a signal; nothing was
// changed, the client may try again.
var errWorkflowsUnavailable = errors.New("conversation workflows unavailable")

// requirePermission admits users whose roles grant perm (superusers hold
// every permission). It runs after requireUser.
func (s *Server) requirePermission(perm domain.Permission) gin.HandlerFunc {
	return func(c *gin.Context) {
		ok, err := domain.Can(c.Request.Context(), s.db, currentUser(c), perm)
		if err != nil {
			s.fail(c, err)
			return
		}
		if !ok {
			abort(c, http.StatusForbidden, "Not enough permissions")
			return
		}
		c.Next()
	}
}

// supportLog is the support area's logger, tagged with the request and
// the person acting.
func (s *Server) supportLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Support).With("agent_id", currentUser(c).ID)
}

// supportConversation reads the :id path parameter: the conversation of an
// existing user with the assistant, which the person asking may reach.
func (s *Server) supportConversation(c *gin.Context) (domain.Conversation, bool) {
	conv, err := domain.ParseConversationID(c.Param("id"))
	if err != nil {
		invalidInput(c, fieldError{Loc: []any{"path", "id"}, Msg: domain.Reason(err), Type: "value_error"})
		return conv, false
	}
	if !conv.AI {
		abort(c, http.StatusNotFound, "Conversation not found")
		return conv, false
	}
	owner, err := domain.UserByID(c.Request.Context(), s.db, conv.UserA)
	if errors.Is(err, domain.ErrNotFound) {
		abort(c, http.StatusNotFound, "Conversation not found")
		return conv, false
	}
	if err != nil {
		s.fail(c, err)
		return conv, false
	}
	reaches, err := domain.SupportReaches(c.Request.Context(), s.db, currentUser(c), owner)
	if err != nil {
		s.fail(c, err)
		return conv, false
	}
	if !reaches {
		abort(c, http.StatusNotFound, "Conversation not found")
		return conv, false
	}
	return conv, true
}

func (s *Server) supportInbox(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := domain.InboxFilter{Page: p, WithoutStaff: !currentUser(c).IsSuperuser}
	if raw, ok := c.GetQuery("mode"); ok {
		m, err := domain.ParseMode(raw)
		if err != nil {
			invalidInput(c, fieldError{Loc: []any{"query", "mode"}, Msg: domain.Reason(err), Type: "value_error"})
			return
		}
		f.Mode = &m
	}
	list, total, err := domain.SupportInbox(c.Request.Context(), s.db, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, list)
}

// supportMessages lists a conversation, newest first, and marks it read by
// the support team as far as the newest message shown.
func (s *Server) supportMessages(c *gin.Context) {
	conv, ok := s.supportConversation(c)
	if !ok {
		return
	}
	p, ok := page(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	msgs, total, err := domain.ListMessages(ctx, s.db, conv.UserA, domain.MessageFilter{ConversationID: conv.ID(), Page: p})
	if err != nil {
		s.fail(c, err)
		return
	}
	if len(msgs) > 0 && p.Offset == 0 {
		if err := domain.MarkAgentRead(ctx, s.db, conv.ID(), conv.UserA, msgs[0].ID); err != nil {
			s.fail(c, err)
			return
		}
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, msgs)
}

type agentReplyRequest struct {
	Content string `json:"content" binding:"required,max=10000"`
}

// agentReply stores a person's answer in the user's conversation with the
// assistant, for the channel they last wrote from, and dispatches it to the
// conversation's workflow, which delivers it (and takes the conversation
// from the AI if it had it).
func (s *Server) agentReply(c *gin.Context) {
	conv, ok := s.supportConversation(c)
	if !ok {
		return
	}
	var in agentReplyRequest
	if !s.bind(c, &in) {
		return
	}
	m, err := domain.SaveOutbound(c.Request.Context(), s.db,
		domain.Outbound{UserID: conv.UserA, Content: in.Content, AgentID: currentUser(c).ID})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.supportLog(c).Info("agent message", "conversation_id", conv.ID(), "message_id", m.ID, "channel", m.Channel)
	// Dispatched before the answer, not queued: a resume the person asks
	// for next must reach the workflow after this message, or the message
	// would take the conversation from the AI again.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(c.Request.Context()), dispatchTimeout)
	defer cancel()
	if err := s.conversations.Dispatch(ctx, m); err != nil {
		s.log(c).Warn("agent message not dispatched; the reconciler will", "message_id", m.ID, "error", err)
	}
	c.JSON(http.StatusCreated, m)
}

type modeRequest struct {
	Reason *string `json:"reason" binding:"omitempty,max=500"`
}

// modeAccepted is the answer to a takeover or a resume: the workflow
// applies it (in order with the conversation's messages).
type modeAccepted struct {
	ConversationID string      `json:"conversation_id"`
	Mode           domain.Mode `json:"mode"`
	AgentID        int64       `json:"agent_id"`
}

// takeover hands the conversation to the person asking.
func (s *Server) takeover(c *gin.Context) {
	s.setMode(c, domain.ModeHuman, "taken over by a person")
}

// resume gives the conversation back to the AI.
func (s *Server) resume(c *gin.Context) {
	s.setMode(c, domain.ModeAI, "handed back by a person")
}

func (s *Server) setMode(c *gin.Context, mode domain.Mode, defaultReason string) {
	conv, ok := s.supportConversation(c)
	if !ok {
		return
	}
	var in modeRequest
	if c.Request.ContentLength != 0 && !s.bind(c, &in) {
		return
	}
	reason := defaultReason
	if in.Reason != nil && *in.Reason != "" {
		reason = *in.Reason
	}
	me := currentUser(c)
	if err := s.conversations.SetMode(c.Request.Context(), conv.UserA,
		workflows.ModeRequest{Mode: mode, Reason: reason, AgentID: me.ID}); err != nil {
		s.fail(c, fmt.Errorf("%w: %w", errWorkflowsUnavailable, err))
		return
	}
	s.supportLog(c).Info("mode requested", "conversation_id", conv.ID(), "mode", mode, "reason", reason)
	action := domain.AuditTakeover
	if mode == domain.ModeAI {
		action = domain.AuditResume
	}
	s.audit(c, action, "conversation", conv.ID(), map[string]any{"mode": mode, "reason": reason})
	c.JSON(http.StatusAccepted, modeAccepted{ConversationID: conv.ID(), Mode: mode, AgentID: me.ID})
}

// supportEvents streams one conversation to the support team, as its user
// sees it.
func (s *Server) supportEvents(c *gin.Context) {
	conv, ok := s.supportConversation(c)
	if !ok {
		return
	}
	s.streamEvents(c, conv.ID())
}

// inboxEvents streams the messages and mode changes of every conversation
// with the assistant, for a live inbox. It starts now: a client reads the
// inbox once, then follows this.
func (s *Server) inboxEvents(c *gin.Context) {
	c.Request.Header.Del("Last-Event-ID")
	s.streamEvents(c, events.Inbox)
}
