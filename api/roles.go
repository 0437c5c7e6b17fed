package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

func (s *Server) listRoles(c *gin.Context) {
	roles, err := domain.ListRoles(c.Request.Context(), s.db)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, roles)
}

type roleRequest struct {
	Name        string  `json:"name" binding:"required,min=1,max=100"`
	Description *string `json:"description" binding:"omitempty,max=255"`
}

func (s *Server) createRole(c *gin.Context) {
	var in roleRequest
	if !s.bind(c, &in) {
		return
	}
	r, err := domain.CreateRole(c.Request.Context(), s.db, in.Name, in.Description)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditRoleCreate, "role", r.ID, map[string]any{"name": r.Name})
	c.JSON(http.StatusCreated, r)
}

// deleteRole removes the role and its assignments.
func (s *Server) deleteRole(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	if err := domain.DeleteRole(c.Request.Context(), s.db, id); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditRoleDelete, "role", id, nil)
	c.JSON(http.StatusOK, messageResponse{Message: "Role deleted"})
}
