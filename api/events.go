package api

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/events"
)

// Timing of the event stream: how often it proves the connection alive,
// and how long one stream lasts (clients reconnect with Last-Event-ID).
const (
	eventKeepAlive = 15 * time.Second
	eventMaxStream = 30 * time.Minute
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
	ctx := c.Request.Context()
	after, err := s.resumePoint(c, conv.ID())
	if err != nil {
		s.fail(c, err)
		return
	}
	flusher, ok := c.Writer.(http.Flusher)
	if !ok {
		abort(c, http.StatusInternalServerError, "Streaming unsupported")
		return
	}
	// Subscribed before reading what was missed: nothing falls between.
	sub := s.live.Subscribe(conv.ID(), currentSession(c).ID, after)
	defer s.live.Unsubscribe(sub)
	var missed []domain.Message
	for from := after; ; {
		batch, err := domain.MessagesAfter(ctx, s.db, conv.ID(), from, 100)
		if err != nil {
			s.fail(c, err)
			return
		}
		missed = append(missed, batch...)
		if len(batch) < 100 {
			break
		}
		from = batch[len(batch)-1].ID
	}
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // no buffering at an nginx in front
	c.Status(http.StatusOK)
	fmt.Fprint(c.Writer, "retry: 2000\n\n")
	for i := range missed {
		writeMessage(c.Writer, &missed[i])
		after = missed[i].ID
	}
	flusher.Flush()

	keepAlive := time.NewTicker(eventKeepAlive)
	defer keepAlive.Stop()
	end := time.NewTimer(eventMaxStream)
	defer end.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end.C:
			return
		case <-keepAlive.C:
			fmt.Fprint(c.Writer, ": keep-alive\n\n")
		case d, open := <-sub.C:
			if !open || d.Kind == events.KindSessionEnded {
				return // the session ended, or the stream fell behind: the client reconnects
			}
			if d.Kind == events.KindMessage {
				if d.Message.ID <= after {
					continue
				}
				writeMessage(c.Writer, d.Message)
				after = d.Message.ID
			} else {
				writeLive(c.Writer, d.Event)
			}
		}
		flusher.Flush()
	}
}

// writeMessage writes a stored message as a "message" event.
func writeMessage(w io.Writer, m *domain.Message) {
	b, err := json.Marshal(m)
	if err != nil {
		return
	}
	fmt.Fprintf(w, "id: %d\nevent: message\ndata: %s\n\n", m.ID, b)
}

// liveEvent is the data of a typing, delta or reset event.
type liveEvent struct {
	ConversationID string `json:"conversation_id"`
	TurnID         string `json:"turn_id,omitempty"`
	Seq            int    `json:"seq,omitempty"`
	Text           string `json:"text,omitempty"`
	Active         *bool  `json:"active,omitempty"`
}

// writeLive writes a typing, delta or reset event (without an id: only
// messages are resumed).
func writeLive(w io.Writer, ev events.Event) {
	data := liveEvent{ConversationID: ev.ConversationID, TurnID: ev.TurnID, Seq: ev.Seq, Text: ev.Text}
	if ev.Kind == events.KindTyping {
		data.Active = &ev.Active
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
