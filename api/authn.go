package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
)

const (
	userKey    = "user"
	sessionKey = "session"
	// maxAuthHeader is far above any token we issue; longer is refused unread.
	maxAuthHeader = 4096
)

// unauthorized answers 401 with the Bearer challenge.
func unauthorized(c *gin.Context, detail string) {
	c.Header("WWW-Authenticate", "Bearer")
	abort(c, http.StatusUnauthorized, detail)
}

// requireUser admits requests with a valid access token whose session is
// live and whose user is active. The check is in the database, remembered
// for AUTH_CACHE_MS (see sessionCache): logout, session deletion and
// disabling act at once on this instance.
func (s *Server) requireUser(c *gin.Context) {
	header := c.GetHeader("Authorization")
	scheme, token, ok := strings.Cut(header, " ")
	switch {
	case header == "":
		unauthorized(c, "Not authenticated")
		return
	case len(header) > maxAuthHeader || !ok || !strings.EqualFold(scheme, "Bearer") || token == "":
		unauthorized(c, "Could not validate credentials")
		return
	}
	claims, err := s.tokens.Parse(auth.Access, token)
	if err != nil {
		s.authLog(c).Info("access token refused", "error", err)
		unauthorized(c, "Could not validate credentials")
		return
	}
	uid, _ := claims.UserID()
	session, user, cached := s.sessions.get(claims.SessionToken, uid)
	if !cached || !session.ExpiresAt.After(domain.Now()) {
		epoch := s.sessions.epoch(uid)
		session, user, err = domain.ActiveSession(c.Request.Context(), s.db, claims.SessionToken)
		if errors.Is(err, domain.ErrNotFound) {
			unauthorized(c, "Could not validate credentials")
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if uid != user.ID {
			s.authLog(c).Warn("access token subject does not own its session", "token_user_id", uid, "session_id", session.ID)
			unauthorized(c, "Could not validate credentials")
			return
		}
		s.sessions.put(claims.SessionToken, session, user, epoch)
	}
	c.Set(userKey, user)
	c.Set(sessionKey, session)
	c.Next()
}

// requireSuperuser admits superusers only. It runs after requireUser, whose
// fresh read of the user makes a demotion effective at once.
func (s *Server) requireSuperuser(c *gin.Context) {
	if !currentUser(c).IsSuperuser {
		abort(c, http.StatusForbidden, "Not enough permissions")
		return
	}
	c.Next()
}

func currentUser(c *gin.Context) *domain.User {
	return c.MustGet(userKey).(*domain.User)
}

func currentSession(c *gin.Context) *domain.Session {
	return c.MustGet(sessionKey).(*domain.Session)
}
