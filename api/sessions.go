package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// sessionResponse is a session as its owner sees it.
type sessionResponse struct {
	domain.Session
	IsCurrent bool `json:"is_current"`
}

func (s *Server) listSessions(c *gin.Context) {
	u, current := currentUser(c), currentSession(c)
	sessions, err := domain.ListSessions(c.Request.Context(), s.db, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	out := make([]sessionResponse, 0, len(sessions))
	for _, sess := range sessions {
		out = append(out, sessionResponse{Session: sess, IsCurrent: sess.ID == current.ID})
	}
	c.JSON(http.StatusOK, out)
}

// deleteSession ends one of the user's own sessions; anyone else's is 404.
func (s *Server) deleteSession(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	u := currentUser(c)
	err := domain.EndSession(c.Request.Context(), s.db, u.ID, id)
	s.sessions.forget(u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("session ended", "user_id", u.ID, "session_id", id)
	c.JSON(http.StatusOK, messageResponse{Message: "Session ended"})
}
