package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// listConversations is one page of the user's conversations, the
// assistant's first; X-Total-Count says how many there are.
func (s *Server) listConversations(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	list, total, err := domain.Conversations(c.Request.Context(), s.db, currentUser(c).ID, p)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, list)
}

// conversation reads the :id path parameter: a valid id of a conversation
// the user takes part in. Anyone else's conversation does not exist.
func (s *Server) conversation(c *gin.Context) (domain.Conversation, bool) {
	conv, err := domain.ParseConversationID(c.Param("id"))
	if err != nil {
		invalidInput(c, fieldError{Loc: []any{"path", "id"}, Msg: domain.Reason(err), Type: "value_error"})
		return conv, false
	}
	if !conv.Has(currentUser(c).ID) {
		abort(c, http.StatusNotFound, "Conversation not found")
		return conv, false
	}
	return conv, true
}

func (s *Server) conversationMessages(c *gin.Context) {
	conv, ok := s.conversation(c)
	if !ok {
		return
	}
	p, ok := page(c)
	if !ok {
		return
	}
	msgs, total, err := domain.ListMessages(c.Request.Context(), s.db, currentUser(c).ID,
		domain.MessageFilter{ConversationID: conv.ID(), Page: p})
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, msgs)
}

type conversationSendRequest struct {
	Content  string `json:"content" binding:"required,max=10000"`
	ParentID *int64 `json:"parent_id" binding:"omitempty,min=1"`
}

// sendToConversation writes to the other participant: in the AI
// conversation, the assistant.
func (s *Server) sendToConversation(c *gin.Context) {
	conv, ok := s.conversation(c)
	if !ok {
		return
	}
	var in conversationSendRequest
	if !s.bind(c, &in) {
		return
	}
	aid, err := s.assistantID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	me := currentUser(c)
	s.send(c, domain.NewMessage{SenderID: me.ID, RecipientID: conv.Other(me.ID, aid),
		Content: in.Content, ParentID: in.ParentID})
}

func (s *Server) readConversation(c *gin.Context) {
	conv, ok := s.conversation(c)
	if !ok {
		return
	}
	s.markAllRead(c, conv.ID())
}
