package api

import "github.com/gin-gonic/gin"

// routes is the whole API at a glance.
func (s *Server) routes(r *gin.Engine) {
	r.GET("/", s.root)
	r.GET("/health", s.health)
	r.GET("/db-test", s.dbTest)
}
