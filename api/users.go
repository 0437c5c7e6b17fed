package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// Superuser routes: every one runs behind requireSuperuser.

func (s *Server) listUsers(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	users, total, err := domain.ListUsers(c.Request.Context(), s.db, domain.UserFilter{Search: c.Query("search"), Page: p})
	if err != nil {
		s.fail(c, err)
		return
	}
	if users == nil {
		users = []domain.User{}
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, users)
}

func (s *Server) getUser(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	u, err := domain.UserByID(c.Request.Context(), s.db, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, u)
}

func (s *Server) createUser(c *gin.Context) {
	var in newAccount
	if !s.bind(c, &in) {
		return
	}
	nu, ok := s.toNewUser(c, in)
	if !ok {
		return
	}
	nu.IsSuperuser = in.IsSuperuser
	u, err := domain.CreateUser(c.Request.Context(), s.db, nu)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditUserCreate, "user", u.ID, map[string]any{"username": u.Username, "email": u.Email, "is_superuser": u.IsSuperuser})
	c.JSON(http.StatusCreated, u)
}

func (s *Server) deleteUser(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	media, err := domain.MessagesWithMedia(c.Request.Context(), s.db, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	err = domain.DeleteUser(c.Request.Context(), s.db, id)
	s.sessions.forget(id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.removeMedia(c, media...)
	s.audit(c, domain.AuditUserDelete, "user", id, nil)
	c.JSON(http.StatusOK, messageResponse{Message: "User deleted"})
}

// setActive builds the disable and enable handlers.
func (s *Server) setActive(active bool) gin.HandlerFunc {
	return func(c *gin.Context) {
		id, ok := pathID(c, "id")
		if !ok {
			return
		}
		u, err := domain.SetActive(c.Request.Context(), s.db, id, active)
		s.sessions.forget(id)
		if err != nil {
			s.fail(c, err)
			return
		}
		action := domain.AuditUserDisable
		if active {
			action = domain.AuditUserEnable
		}
		s.audit(c, action, "user", id, map[string]any{"is_active": active})
		c.JSON(http.StatusOK, u)
	}
}

type superuserRequest struct {
	IsSuperuser *bool `json:"is_superuser"`
}

// setSuperuser sets is_superuser from the body, or toggles it when the
// body says nothing.
func (s *Server) setSuperuser(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in superuserRequest
	if c.Request.ContentLength != 0 && !s.bind(c, &in) {
		return
	}
	ctx := c.Request.Context()
	if in.IsSuperuser == nil {
		u, err := domain.UserByID(ctx, s.db, id)
		if err != nil {
			s.fail(c, err)
			return
		}
		toggled := !u.IsSuperuser
		in.IsSuperuser = &toggled
	}
	u, err := domain.SetSuperuser(ctx, s.db, id, *in.IsSuperuser)
	s.sessions.forget(id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditUserSuperuser, "user", id, map[string]any{"is_superuser": u.IsSuperuser})
	c.JSON(http.StatusOK, u)
}

func (s *Server) getUserRoles(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	roles, err := domain.RolesOfUser(c.Request.Context(), s.db, id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, roles)
}

type rolesRequest struct {
	RoleIDs []int64 `json:"role_ids" binding:"required,max=100"`
}

// setUserRoles replaces the user's roles with role_ids.
func (s *Server) setUserRoles(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in rolesRequest
	if !s.bind(c, &in) {
		return
	}
	roles, err := domain.SetUserRoles(c.Request.Context(), s.db, id, in.RoleIDs)
	s.sessions.forget(id)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditRoleAssign, "user", id, map[string]any{"role_ids": in.RoleIDs})
	c.JSON(http.StatusOK, roles)
}
