package api

import "github.com/gin-gonic/gin"

// routes is the whole API at a glance.
func (s *Server) routes(r *gin.Engine) {
	r.GET("/", s.root)
	r.GET("/health", s.health)
	r.GET("/db-test", s.dbTest)

	public := r.Group("/auth")
	public.POST("/register", s.register)
	public.POST("/login", s.login)
	public.POST("/refresh", s.refresh)

	user := r.Group("/auth", s.requireUser)
	user.POST("/logout", s.logout)
	user.POST("/logout-all", s.logoutAll)
	user.GET("/me", s.getMe)
	user.PUT("/me", s.updateMe)
	user.PUT("/me/phone", s.updatePhone)
	user.PUT("/me/password", s.changePassword)
	user.GET("/sessions", s.listSessions)
	user.DELETE("/sessions/:id", s.deleteSession)

	admin := r.Group("/auth", s.requireUser, s.requireSuperuser)
	admin.GET("/users", s.listUsers)
	admin.POST("/users", s.createUser)
	admin.GET("/users/:id", s.getUser)
	admin.DELETE("/users/:id", s.deleteUser)
	admin.PUT("/users/:id/disable", s.setActive(false))
	admin.PUT("/users/:id/enable", s.setActive(true))
	admin.PUT("/users/:id/superuser", s.setSuperuser)
	admin.GET("/users/:id/roles", s.getUserRoles)
	admin.PUT("/users/:id/roles", s.setUserRoles)
	admin.GET("/roles", s.listRoles)
	admin.POST("/roles", s.createRole)
	admin.DELETE("/roles/:id", s.deleteRole)
}
