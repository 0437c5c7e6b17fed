package api

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
)

func (s *Server) getMe(c *gin.Context) {
	c.JSON(http.StatusOK, currentUser(c))
}

// permissionsResponse is what the user's roles let them do.
type permissionsResponse struct {
	Permissions []domain.Permission `json:"permissions"`
}

// getPermissions tells a client which parts of the app to show.
func (s *Server) getPermissions(c *gin.Context) {
	p, err := domain.PermissionsOf(c.Request.Context(), s.db, currentUser(c))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, permissionsResponse{Permissions: p.List()})
}

type profileRequest struct {
	Email    *string `json:"email" binding:"omitempty,email,max=255"`
	FullName *string `json:"full_name" binding:"omitempty,max=255"`
	Bio      *string `json:"bio" binding:"omitempty,max=5000"`
}

// updateMe changes the user's email, full name and bio; a full name must
// pass the naming rules (domain.CheckDisplayName), the bio is free text.
func (s *Server) updateMe(c *gin.Context) {
	var in profileRequest
	if !s.bind(c, &in) {
		return
	}
	if in.FullName != nil {
		if err := domain.CheckDisplayName(*in.FullName); err != nil {
			invalidInput(c, bodyError("full_name", domain.Reason(err), "value_error"))
			return
		}
	}
	u, err := domain.UpdateProfile(c.Request.Context(), s.db, currentUser(c).ID,
		domain.ProfileUpdate{Email: in.Email, FullName: in.FullName, Bio: in.Bio})
	s.sessions.forget(currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

type phoneRequest struct {
	// PhoneNumber in international form; null or "" removes it.
	PhoneNumber *string `json:"phone_number" binding:"omitempty,max=32"`
}

// updatePhone stores the number in E.164, the form SMS arrive from.
func (s *Server) updatePhone(c *gin.Context) {
	var in phoneRequest
	if !s.bind(c, &in) {
		return
	}
	var phone *string
	if in.PhoneNumber != nil && *in.PhoneNumber != "" {
		p, err := domain.NormalizePhone(*in.PhoneNumber)
		if err != nil {
			invalidInput(c, bodyError("phone_number", domain.Reason(err), "value_error"))
			return
		}
		phone = &p
	}
	u, err := domain.SetPhone(c.Request.Context(), s.db, currentUser(c).ID, phone)
	s.sessions.forget(currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("phone number changed", "user_id", u.ID)
	c.JSON(http.StatusOK, u)
}

type passwordRequest struct {
	CurrentPassword string `json:"current_password" binding:"required"`
	NewPassword     string `json:"new_password" binding:"required"`
}

// changePassword needs the current password and ends the user's other sessions.
func (s *Server) changePassword(c *gin.Context) {
	var in passwordRequest
	if !s.bind(c, &in) {
		return
	}
	u, session := currentUser(c), currentSession(c)
	if !s.confirmPassword(c, u, in.CurrentPassword, "password change", "Current password is incorrect") {
		return
	}
	if err := auth.CheckPassword(in.NewPassword); err != nil {
		invalidInput(c, bodyError("new_password", err.Error(), "value_error"))
		return
	}
	hash, err := s.passwords.Hash(in.NewPassword)
	if err != nil {
		s.fail(c, err)
		return
	}
	err = domain.SetPassword(c.Request.Context(), s.db, u.ID, hash, session.ID)
	s.sessions.forget(u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.authLog(c).Info("password changed; other sessions ended", "user_id", u.ID)
	c.JSON(http.StatusOK, messageResponse{Message: "Password updated"})
}

// exportMe is everything aimsg holds about the user, as one JSON document
// to download.
func (s *Server) exportMe(c *gin.Context) {
	u := currentUser(c)
	export, err := domain.ExportUser(c.Request.Context(), s.db, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Header("Content-Disposition", `attachment; filename="aimsg-export-`+strconv.FormatInt(u.ID, 10)+`.json"`)
	c.Header("Cache-Control", "no-store")
	c.JSON(http.StatusOK, export)
}

type deleteMeRequest struct {
	Password string `json:"password" binding:"required"`
}

// deleteMe erases the user's account, as the admin delete does, once they
// confirm with their password. Every session ends with it.
func (s *Server) deleteMe(c *gin.Context) {
	var in deleteMeRequest
	if !s.bind(c, &in) {
		return
	}
	u := currentUser(c)
	if !s.confirmPassword(c, u, in.Password, "account deletion", "Password is incorrect") {
		return
	}
	media, err := domain.MessagesWithMedia(c.Request.Context(), s.db, u.ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	err = domain.DeleteUser(c.Request.Context(), s.db, u.ID)
	s.sessions.forget(u.ID)
	if errors.Is(err, domain.ErrLastSuperuser) {
		abort(c, http.StatusForbidden, "The last active superuser cannot delete their account")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	s.removeMedia(c, media...)
	s.record(c, &domain.AuditEntry{Action: domain.AuditUserSelfDelete, TargetType: "user", TargetID: strconv.FormatInt(u.ID, 10)})
	c.JSON(http.StatusOK, messageResponse{Message: "Account deleted"})
}
