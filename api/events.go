package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// Timing of the event stream: how often it looks for new messages, how
// often it proves the connection alive, how often it re-checks the session,
// and how long one stream lasts (clients reconnect with Last-Event-ID).
const (
	eventPoll         = 200 * time.Millisecond
	eventKeepAlive    = 15 * time.Second
	eventSessionCheck = 15 * time.Second
	eventMaxStream    = 30 * time.Minute
)

// conversationEvents streams a conversation's new messages as server-sent
// events (event "message", id = message id, data = the message as JSON), so
// a client sees the AI's reply as soon as it is saved. Last-Event-ID (or
// ?after=) resumes after a message; without either the stream starts now.
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
	h := c.Writer.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // no buffering at an nginx in front
	c.Status(http.StatusOK)
	fmt.Fprint(c.Writer, "retry: 2000\n\n")
	flusher.Flush()

	session := currentSession(c)
	poll := time.NewTicker(eventPoll)
	defer poll.Stop()
	end := time.After(eventMaxStream)
	lastWrite, lastCheck := time.Now(), time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case <-end:
			return
		case now := <-poll.C:
			if now.Sub(lastCheck) >= eventSessionCheck {
				if _, _, err := domain.ActiveSession(ctx, s.db, session.SessionToken); err != nil {
					return // logged out meanwhile: the stream ends with the session
				}
				lastCheck = now
			}
			msgs, err := domain.MessagesAfter(ctx, s.db, conv.ID(), after, 100)
			if err != nil {
				s.log(c).Warn("event stream", "error", err)
				return
			}
			for _, m := range msgs {
				b, err := json.Marshal(m)
				if err != nil {
					return
				}
				fmt.Fprintf(c.Writer, "id: %d\nevent: message\ndata: %s\n\n", m.ID, b)
				after, lastWrite = m.ID, now
			}
			if len(msgs) == 0 && now.Sub(lastWrite) >= eventKeepAlive {
				fmt.Fprint(c.Writer, ": keep-alive\n\n")
				lastWrite = now
			}
			flusher.Flush()
		}
	}
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
