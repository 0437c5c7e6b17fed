package api

import (
	"net/http"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// searchPeople finds someone to write to by name, username or exact
// email: id, username and full name only, ten at most.
func (s *Server) searchPeople(c *gin.Context) {
	people, err := domain.SearchPeople(c.Request.Context(), s.db, currentUser(c).ID, c.Query("q"))
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, people)
}
