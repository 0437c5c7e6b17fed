package api

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
)

// conversationEvents streams a conversation as server-sent events, pushed
// by the process's hub (no query per open stream): "message" (id = message
// id, data = the stored message), "typing", "delta" and "reset" (the
// reply as it is written; a preview, the message stays the truth). The
// stream ends with the session. Last-Event-ID (or ?after=) resumes after
// a message; without either the stream starts now.
func (s *Server) conversationEvents(c *gin.Context) {
	conv, ok := s.conversation(c)
	if !ok {
		return
	}
	s.streamEvents(c, conv.ID())
}

// streamEvents streams what the hub has under key (a conversation, or the
// support inbox) to the client, after what it missed. A user holds at
// most STREAMS_PER_USER streams across the API processes (and an address
// STREAMS_PER_ADDRESS): one more is refused with 429.
func (s *Server) streamEvents(c *gin.Context, key string) {
	ctx := c.Request.Context()
	after, err := s.resumePoint(c, key)
	if err != nil {
		s.fail(c, err)
		return
	}
	me := currentUser(c)
	st := &stream{hub: s.live, userID: me.ID, address: c.ClientIP(), seesStaff: key != events.Inbox || me.IsSuperuser}
	if st.id, err = s.streams.admit(ctx, st.userID, st.address); err != nil {
		s.fail(c, err)
		return
	}
	// Subscribed before reading what was missed: nothing falls between.
	st.sub = s.live.Subscribe(key, currentSession(c).ID, st.userID, after)
	var missed []domain.Message
	for from := after; ; {
		batch, err := domain.MessagesAfter(ctx, s.db, key, from, 100)
		if err != nil {
			s.streams.release(st)
			s.fail(c, err)
			return
		}
		missed = append(missed, batch...)
		if len(batch) < 100 {
			break
		}
		from = batch[len(batch)-1].ID
	}
	var head bytes.Buffer
	head.WriteString("retry: 2000\n\n")
	for i := range missed {
		writeMessage(&head, &missed[i])
		after = missed[i].ID
	}
	st.after = after
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // no buffering at an nginx in front
	if conn, detached := detach(c, head.Bytes()); detached {
		if conn == nil {
			s.streams.release(st) // the client went away
			return
		}
		// The request's goroutine and net/http's buffers go; one shallow
		// goroutine pushes the events.
		st.conn, st.w, st.flush = conn, conn, func() {}
		go func() {
			defer conn.Close()
			s.streams.run(context.Background(), st)
		}()
		return
	}
	flusher, ok := c.Writer.(http.Flusher)
	if !ok {
		s.streams.release(st)
		abort(c, http.StatusInternalServerError, "Streaming unsupported")
		return
	}
	c.Status(http.StatusOK)
	_, _ = c.Writer.Write(head.Bytes())
	flusher.Flush()
	st.w, st.flush = c.Writer, flusher.Flush
	s.streams.run(ctx, st)
}

// detach takes the connection over from net/http (HTTP/1.1 only) and
// writes the response head and first bytes itself; the body runs until
// the connection closes. Under HTTP/2, or a test recorder, it does
// nothing and says so (false). When that first write fails it closes the
// connection and returns none: the stream is over.
func detach(c *gin.Context, first []byte) (net.Conn, bool) {
	if c.Request.ProtoMajor != 1 {
		return nil, false
	}
	// What net/http buffered for the connection goes: a client does not
	// send more requests on a stream it keeps reading.
	conn, _, err := http.NewResponseController(c.Writer).Hijack()
	if err != nil {
		return nil, false
	}
	var head bytes.Buffer
	head.WriteString("HTTP/1.1 200 OK\r\n")
	c.Writer.Header().Set("Connection", "close")
	_ = c.Writer.Header().Write(&head)
	head.WriteString("\r\n")
	head.Write(first)
	_ = conn.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
	if _, err := conn.Write(head.Bytes()); err != nil {
		conn.Close()
		return nil, true
	}
	return conn, true
}

// writeMessage writes a stored message as a "message" event.
func writeMessage(w io.Writer, m *domain.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, b)
}

// liveEvent is the data of a typing, delta, reset or mode event.
type liveEvent struct {
	ConversationID string `json:"conversation_id"`
	TurnID         string `json:"turn_id,omitempty"`
	Seq            int    `json:"seq,omitempty"`
	Text           string `json:"text,omitempty"`
	Active         *bool  `json:"active,omitempty"`
	Mode           string `json:"mode,omitempty"`
	// CallID, on an approval event, is the tool call whose wait for a
	// decision started or ended (GET /support/conversations shows which).
	CallID string `json:"call_id,omitempty"`
	// MessageID and DeliveryError, on a delivery event, are the message
	// recorded not delivered and why.
	MessageID     int64  `json:"message_id,omitempty"`
	DeliveryError string `json:"delivery_error,omitempty"`
}

// writeLive writes a typing, delta, reset or mode event (without an id:
// only messages are resumed).
func writeLive(w io.Writer, ev events.Event) {
	data := liveEvent{ConversationID: ev.ConversationID, TurnID: ev.TurnID, Seq: ev.Seq, Text: ev.Text}
	switch ev.Kind {
	case events.KindTyping:
		data.Active = &ev.Active
	case events.KindMode:
		data.Mode, data.Text = ev.Text, ""
	case events.KindApproval:
		data.CallID, data.Text = ev.Text, ""
	case events.KindDelivery:
		data.MessageID, data.DeliveryError, data.Text = ev.MessageID, ev.Text, ""
	}
	b, err := json.Marshal(data)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "event: %s\ndata: %s\n\n", ev.Kind, b)
}

// resumePoint is the message id the stream starts after.
func (s *Server) resumePoint(c *gin.Context, conversationID string) (int64, error) {
	for _, raw := range []string{c.GetHeader("Last-Event-ID"), c.Query("after")} {
		if raw == "" {
			continue
		}
		if id, err := strconv.ParseInt(raw, 10, 64); err == nil && id >= 0 {
			return id, nil
		}
		return 0, fmt.Errorf("the Last-Event-ID header or the after parameter must be a message id: %w", domain.ErrInvalid)
	}
	return domain.LatestMessageID(c.Request.Context(), s.db, conversationID)
}
