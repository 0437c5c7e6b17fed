package api

import (
	"log/slog"
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// listMessages builds the handlers of /messages, /messages/sent and
// /messages/received: newest first, paginated, optionally one conversation.
func (s *Server) listMessages(box domain.Box) gin.HandlerFunc {
	return func(c *gin.Context) {
		p, ok := page(c)
		if !ok {
			return
		}
		f := domain.MessageFilter{Box: box, Page: p}
		if conv, ok := c.GetQuery("conversation_id"); ok {
			if _, err := domain.ParseConversationID(conv); err != nil {
				invalidInput(c, fieldError{Loc: []any{"query", "conversation_id"}, Msg: domain.Reason(err), Type: "value_error"})
				return
			}
			f.ConversationID = conv
		}
		msgs, total, err := domain.ListMessages(c.Request.Context(), s.db, currentUser(c).ID, f)
		if err != nil {
			s.fail(c, err)
			return
		}
		setTotal(c, total)
		c.JSON(http.StatusOK, msgs)
	}
}

func (s *Server) getMessage(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	m, err := domain.MessageFor(c.Request.Context(), s.db, currentUser(c).ID, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

type sendRequest struct {
	RecipientID    int64   `json:"recipient_id" binding:"required,min=1"`
	Content        string  `json:"content" binding:"required,max=10000"`
	ParentID       *int64  `json:"parent_id" binding:"omitempty,min=1"`
	ConversationID *string `json:"conversation_id" binding:"omitempty,max=100"`
}

// sendMessage stores a message to another user, or to the assistant, in
// which case it is an inbound turn for the AI.
func (s *Server) sendMessage(c *gin.Context) {
	var in sendRequest
	if !s.bind(c, &in) {
		return
	}
	me := currentUser(c)
	if in.ConversationID != nil && *in.ConversationID != "" {
		expected := domain.DirectConversationID(me.ID, in.RecipientID)
		if aid, err := s.assistantID(c); err == nil && aid == in.RecipientID {
			expected = domain.AIConversationID(me.ID)
		}
		if *in.ConversationID != expected {
			invalidInput(c, bodyError("conversation_id", "conversation_id must be "+expected+" for this recipient", "value_error"))
			return
		}
	}
	s.send(c, domain.NewMessage{SenderID: me.ID, RecipientID: in.RecipientID, Content: in.Content, ParentID: in.ParentID})
}

// send stores a new message from the web and answers 201 with it. A
// message to the assistant past INBOUND_MAX_PER_MINUTE is refused (429)
// and not stored.
func (s *Server) send(c *gin.Context, in domain.NewMessage) {
	in.Channel = domain.ChannelWeb
	aid, err := s.assistantID(c)
	if err == nil && in.RecipientID == aid {
		err = s.admitInbound(c, in.SenderID)
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	m, err := domain.SendMessage(c.Request.Context(), s.db, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.messagesLog(c).Info("message sent", "message_id", m.ID, "sender_id", m.SenderID,
		"recipient_id", m.RecipientID, "conversation_id", *m.ConversationID, "awaits_ai", m.TurnStatus != nil)
	if m.TurnStatus != nil {
		s.queueDispatch(c, m)
	}
	c.JSON(http.StatusCreated, m)
}

type editRequest struct {
	Content string `json:"content" binding:"required,max=10000"`
}

func (s *Server) editMessage(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in editRequest
	if !s.bind(c, &in) {
		return
	}
	m, err := domain.EditMessage(c.Request.Context(), s.db, currentUser(c).ID, id, in.Content)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.messagesLog(c).Info("message edited", "message_id", m.ID, "sender_id", m.SenderID)
	c.JSON(http.StatusOK, m)
}

func (s *Server) markRead(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	m, err := domain.MarkRead(c.Request.Context(), s.db, currentUser(c).ID, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, m)
}

func (s *Server) deleteMessage(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	me := currentUser(c)
	if err := domain.DeleteMessage(c.Request.Context(), s.db, me.ID, id); err != nil {
		s.fail(c, err)
		return
	}
	s.removeMedia(c, id)
	s.messagesLog(c).Info("message deleted", "message_id", id, "sender_id", me.ID)
	c.JSON(http.StatusOK, messageResponse{Message: "Message deleted"})
}

func (s *Server) unreadCount(c *gin.Context) {
	n, err := domain.UnreadCount(c.Request.Context(), s.db, currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, unreadCountResponse{UnreadCount: n})
}

// markAllRead marks read what the user received: everything, or one
// conversation's messages when conversationID is set.
func (s *Server) markAllRead(c *gin.Context, conversationID string) {
	me := currentUser(c)
	n, err := domain.MarkAllRead(c.Request.Context(), s.db, me.ID, conversationID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.messagesLog(c).Info("messages marked read", "user_id", me.ID, "conversation_id", conversationID, "count", n)
	c.JSON(http.StatusOK, readAllResponse{Message: "Messages marked as read", UpdatedCount: n})
}

func (s *Server) readAll(c *gin.Context) { s.markAllRead(c, "") }

func (s *Server) messagesLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Messages)
}

type unreadCountResponse struct {
	UnreadCount int `json:"unread_count"`
}

type readAllResponse struct {
	Message      string `json:"message"`
	UpdatedCount int64  `json:"updated_count"`
}

// admitInbound counts a message to the assistant against the sender's
// inbound limit.
func (s *Server) admitInbound(c *gin.Context, userID int64) error {
	return domain.Take(c.Request.Context(), s.db, domain.InboundLimit{PerMinute: s.cfg.InboundMaxPerMinute}.For(userID),
		domain.TooManyInbound)
}
