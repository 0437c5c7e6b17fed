package api

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/metrics"
)

// authResponse is the login answer the web client expects.
type authResponse struct {
	AccessToken  string       `json:"access_token"`
	RefreshToken string       `json:"refresh_token"`
	TokenType    string       `json:"token_type"`
	User         *domain.User `json:"user"`
}

type messageResponse struct {
	Message string `json:"message"`
}

// newAccount is the body of register and of the admin's create user.
type newAccount struct {
	Username    string  `json:"username" binding:"required,min=3,max=100"`
	Email       string  `json:"email" binding:"required,email,max=255"`
	Password    string  `json:"password" binding:"required"`
	FullName    *string `json:"full_name" binding:"omitempty,max=255"`
	Bio         *string `json:"bio" binding:"omitempty,max=5000"`
	PhoneNumber *string `json:"phone_number"`
	IsSuperuser bool    `json:"is_superuser"`
}

// toNewUser applies the rules the tags cannot say (the naming rules of
// domain/names.go among them) and hashes the password; on failure it has
// answered 422. The username is normalised before it is checked, so a
// fullwidth spelling meets the rules, and the uniqueness, of its ASCII.
func (s *Server) toNewUser(c *gin.Context, in newAccount) (domain.NewUser, bool) {
	var errs []fieldError
	username := domain.NormalizeUsername(in.Username)
	if err := domain.CheckUsername(username); err != nil {
		errs = append(errs, bodyError("username", domain.Reason(err), "value_error"))
	}
	if in.FullName != nil {
		if err := domain.CheckDisplayName(*in.FullName); err != nil {
			errs = append(errs, bodyError("full_name", domain.Reason(err), "value_error"))
		}
	}
	var phone *string
	if in.PhoneNumber != nil && *in.PhoneNumber != "" {
		p, err := domain.NormalizePhone(*in.PhoneNumber)
		if err != nil {
			errs = append(errs, bodyError("phone_number", domain.Reason(err), "value_error"))
		}
		phone = &p
	}
	if err := auth.CheckPassword(in.Password); err != nil {
		errs = append(errs, bodyError("password", err.Error(), "value_error"))
	}
	if len(errs) > 0 {
		invalidInput(c, errs...)
		return domain.NewUser{}, false
	}
	hash, err := s.passwords.Hash(in.Password)
	if err != nil {
		s.fail(c, err)
		return domain.NewUser{}, false
	}
	return domain.NewUser{Username: username, Email: in.Email, HashedPassword: hash,
		FullName: in.FullName, Bio: in.Bio, PhoneNumber: phone}, true
}

// register creates an account for anyone; superuser rights are never taken
// from this body.
func (s *Server) register(c *gin.Context) {
	var in newAccount
	if !s.bind(c, &in) {
		return
	}
	in.IsSuperuser = false
	if !s.admitRegistration(c) {
		return
	}
	nu, ok := s.toNewUser(c, in)
	if !ok {
		return
	}
	u, err := domain.CreateUser(c.Request.Context(), s.db, nu)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("user registered", "user_id", u.ID)
	c.JSON(http.StatusCreated, u)
}

// admitRegistration counts a registration from the client's address, or
// answers 429 once the address has registered RegistrationsPerAddress
// times in RegistrationWindow. Refused and conflicting attempts count too:
// trying names one after another is what the limit slows.
func (s *Server) admitRegistration(c *gin.Context) bool {
	lim := domain.Limit{Key: "register:address:" + c.ClientIP(),
		Max: s.cfg.RegistrationsPerAddress, Window: s.cfg.RegistrationWindow}
	if err := domain.Take(c.Request.Context(), s.db, lim, "Too many registrations from this address; try again later"); err != nil {
		s.authLog(c).Warn("registration throttled", "error", err)
		s.fail(c, err)
		return false
	}
	return true
}

type loginRequest struct {
	Username string `json:"username" form:"username" binding:"required,max=255"`
	Password string `json:"password" form:"password" binding:"required"`
}

const badCredentials = "Incorrect username or password"

// login checks a password and starts a session. Unknown user and wrong
// password look the same (status, body, time, throttling); failures are
// throttled per account and address, per address, and per account with
// growing delays (domain.LoginLimits).
func (s *Server) login(c *gin.Context) {
	var in loginRequest
	if !s.bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	// Every spelling of a username that finds the account counts against it.
	login := domain.LoginName(in.Username)
	attempt, err := domain.BeginLogin(ctx, s.db, s.loginLimits, login, c.ClientIP())
	if err != nil {
		var throttled *domain.Throttled
		if errors.As(err, &throttled) {
			s.metrics.LoginThrottled.WithLabelValues(metrics.LoginAttempt).Inc()
		}
		s.authLog(c).Warn("login throttled", "username", clip(in.Username), "error", err)
		s.fail(c, err)
		return
	}
	u, err := domain.UserByLogin(ctx, s.db, login)
	if err != nil && !errors.Is(err, domain.ErrNotFound) {
		s.fail(c, err)
		return
	}
	if u == nil {
		s.passwords.Burn(in.Password)
	}
	if u == nil || !s.passwords.Verify(u.HashedPassword, in.Password) {
		s.authLog(c).Warn("login failed", "username", clip(in.Username))
		unauthorized(c, badCredentials)
		return
	}
	if !u.IsActive {
		s.authLog(c).Warn("login refused: user disabled", "user_id", u.ID)
		abort(c, http.StatusForbidden, "Account disabled")
		return
	}
	if err := attempt.Succeeded(ctx, s.db); err != nil {
		s.fail(c, err)
		return
	}
	resp, session, err := s.startSession(c, u)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("login succeeded", "user_id", u.ID, "session_id", session.ID)
	c.JSON(http.StatusOK, resp)
}

// tooManyWrongPasswords is the reason a password confirmation is throttled.
const tooManyWrongPasswords = "Too many wrong passwords; try again later"

// confirmPassword checks the password a signed-in person gives to confirm
// a change (what the change is, for the logs and the audit) under the
// login throttle, keyed by their username and address: a stolen access
// token cannot be used to guess the password any faster than the login
// form allows. Each wrong password is audited. On a wrong password it
// answers 400 with wrong, when throttled 429, and returns false.
func (s *Server) confirmPassword(c *gin.Context, u *domain.User, password, what, wrong string) bool {
	ctx := c.Request.Context()
	attempt, err := domain.BeginLogin(ctx, s.db, s.loginLimits, u.Username, c.ClientIP())
	var throttled *domain.Throttled
	if errors.As(err, &throttled) {
		s.metrics.LoginThrottled.WithLabelValues(metrics.PasswordConfirmation).Inc()
		s.authLog(c).Warn(what+" throttled", "user_id", u.ID, "retry_after", throttled.RetryAfter)
		s.fail(c, &domain.Throttled{Reason: tooManyWrongPasswords, RetryAfter: throttled.RetryAfter})
		return false
	}
	if err != nil {
		s.fail(c, err)
		return false
	}
	if !s.passwords.Verify(u.HashedPassword, password) {
		s.authLog(c).Warn(what+" refused: wrong password", "user_id", u.ID)
		s.audit(c, domain.AuditPasswordRefused, "user", u.ID, map[string]any{"for": what})
		abort(c, http.StatusBadRequest, wrong)
		return false
	}
	if err := attempt.Succeeded(ctx, s.db); err != nil {
		s.fail(c, err)
		return false
	}
	return true
}

// startSession records a new session and issues its first tokens.
func (s *Server) startSession(c *gin.Context, u *domain.User) (authResponse, *domain.Session, error) {
	now := time.Now()
	sessionToken := auth.RandomToken(32)
	expires := now.Add(s.cfg.RefreshTokenTTL)
	refresh, err := s.tokens.Issue(auth.Refresh, u.ID, sessionToken, expires)
	if err != nil {
		return authResponse{}, nil, err
	}
	session, err := domain.StartSession(c.Request.Context(), s.db, domain.NewSession{
		UserID: u.ID, SessionToken: sessionToken, DeviceInfo: c.Request.UserAgent(),
		IPAddress: c.ClientIP(), ExpiresAt: expires, RefreshHash: auth.HashToken(refresh),
	})
	if err != nil {
		return authResponse{}, nil, err
	}
	access, err := s.issueAccess(u.ID, sessionToken, expires)
	if err != nil {
		return authResponse{}, nil, err
	}
	return authResponse{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", User: u}, session, nil
}

// issueAccess signs an access token that outlives neither its TTL nor its session.
func (s *Server) issueAccess(userID int64, sessionToken string, sessionExpires time.Time) (string, error) {
	exp := time.Now().Add(s.cfg.AccessTokenTTL)
	if sessionExpires.Before(exp) {
		exp = sessionExpires
	}
	return s.tokens.Issue(auth.Access, userID, sessionToken, exp)
}

type refreshRequest struct {
	RefreshToken string `json:"refresh_token" binding:"required,max=4096"`
}

// refresh rotates a refresh token: the presented one is spent, a new pair
// is issued for the same session. A spent token presented again revokes
// the session.
func (s *Server) refresh(c *gin.Context) {
	var in refreshRequest
	if !s.bind(c, &in) {
		return
	}
	claims, err := s.tokens.Parse(auth.Refresh, in.RefreshToken)
	if err != nil {
		s.authLog(c).Info("refresh token refused", "error", err)
		unauthorized(c, "Invalid refresh token")
		return
	}
	uid, _ := claims.UserID()
	next, err := s.tokens.Issue(auth.Refresh, uid, claims.SessionToken, claims.ExpiresAt.Time)
	if err != nil {
		s.fail(c, err)
		return
	}
	session, user, err := domain.RotateRefresh(c.Request.Context(), s.db, auth.HashToken(in.RefreshToken), auth.HashToken(next))
	switch {
	case errors.Is(err, domain.ErrRefreshReused):
		s.sessions.forget(uid)
		s.authLog(c).Warn("refresh token reuse detected: session revoked", "user_id", uid)
		unauthorized(c, "Invalid refresh token")
		return
	case errors.Is(err, domain.ErrRefreshInvalid):
		unauthorized(c, "Invalid refresh token")
		return
	case err != nil:
		s.fail(c, err)
		return
	}
	if user.ID != uid || session.SessionToken != claims.SessionToken {
		s.authLog(c).Warn("refresh token does not match its session", "user_id", uid, "session_id", session.ID)
		unauthorized(c, "Invalid refresh token")
		return
	}
	access, err := s.issueAccess(user.ID, session.SessionToken, session.ExpiresAt)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("token refreshed", "user_id", user.ID, "session_id", session.ID)
	c.JSON(http.StatusOK, authResponse{AccessToken: access, RefreshToken: next, TokenType: "bearer", User: user})
}

// logout ends the session of the access token.
func (s *Server) logout(c *gin.Context) {
	u, session := currentUser(c), currentSession(c)
	err := domain.EndSession(c.Request.Context(), s.db, u.ID, session.ID)
	s.sessions.forget(u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("logout", "user_id", u.ID, "session_id", session.ID)
	c.JSON(http.StatusOK, messageResponse{Message: "Successfully logged out"})
}

// logoutAll ends every session of the user, this one included.
func (s *Server) logoutAll(c *gin.Context) {
	u := currentUser(c)
	n, err := domain.EndSessions(c.Request.Context(), s.db, u.ID, 0)
	s.sessions.forget(u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("logout from all devices", "user_id", u.ID, "sessions_ended", n)
	c.JSON(http.StatusOK, logoutAllResponse{Message: "Logged out from all devices", SessionsEnded: n})
}

type logoutAllResponse struct {
	Message       string `json:"message"`
	SessionsEnded int64  `json:"sessions_ended"`
}

// clip keeps what a client typed short enough for a log line.
func clip(s string) string {
	if r := []rune(s); len(r) > 100 {
		return string(r[:100])
	}
	return s
}
