package api

import (
	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// routes is the whole API at a glance.
func (s *Server) routes(r *gin.Engine) {
	r.GET("/", s.root)
	r.GET("/health", s.health)
	r.GET("/db-test", s.dbTest)
	r.GET("/metrics", gin.WrapH(s.metrics.Handler()))
	r.GET("/openapi.json", s.openAPI)
	r.GET("/docs", docsSite.page)
	r.GET("/docs/*file", docsSite.file)
	r.GET("/app", appSite.page)
	r.GET("/app/*file", appSite.file)

	// Provider webhooks: signed by the provider, no bearer token.
	r.POST("/twilio_webhook", s.twilioWebhook)
	r.POST("/twilio_status", s.twilioStatus)
	r.POST("/telegram_webhook", s.telegramWebhook)

	public := r.Group("/auth")
	public.POST("/register", s.register)
	public.POST("/login", s.login)
	public.POST("/refresh", s.refresh)

	user := r.Group("/auth", s.requireUser)
	user.POST("/logout", s.logout)
	user.POST("/logout-all", s.logoutAll)
	user.GET("/me", s.getMe)
	user.GET("/me/permissions", s.getPermissions)
	user.GET("/me/usage", s.getMyUsage)
	user.PUT("/me", s.updateMe)
	user.DELETE("/me", s.deleteMe)
	user.GET("/me/export", s.exportMe)
	user.PUT("/me/phone", s.updatePhone)
	user.PUT("/me/password", s.changePassword)
	user.POST("/me/telegram/link", s.telegramLink)
	user.GET("/sessions", s.listSessions)
	user.DELETE("/sessions/:id", s.deleteSession)

	user.GET("/conversations", s.listConversations)
	user.GET("/conversations/:id/messages", s.conversationMessages)
	user.POST("/conversations/:id/messages", s.sendToConversation)
	user.PUT("/conversations/:id/read", s.readConversation)
	user.GET("/conversations/:id/events", s.conversationEvents)

	messages := r.Group("/messages", s.requireUser)
	messages.GET("", s.listMessages(domain.BoxAll))
	messages.GET("/sent", s.listMessages(domain.BoxSent))
	messages.GET("/received", s.listMessages(domain.BoxReceived))
	messages.GET("/unread/count", s.unreadCount)
	messages.PUT("/read-all", s.readAll)
	messages.POST("", s.sendMessage)
	messages.GET("/:id", s.getMessage)
	messages.PUT("/:id", s.editMessage)
	messages.PUT("/:id/read", s.markRead)
	messages.DELETE("/:id", s.deleteMessage)

	reports := r.Group("/reports", s.requireUser)
	reports.POST("", s.createReport)
	reports.GET("", s.listMyReports)
	triage := s.requirePermission(domain.PermTriageReports)
	reports.GET("/admin/all", triage, s.listAllReports)
	reports.GET("/:id", s.getReport)
	reports.PUT("/:id", s.updateReport)
	reports.POST("/:id/comment", triage, s.commentReport)
	reports.PUT("/:id/resolve", triage, s.resolveReport)

	support := r.Group("/support", s.requireUser, s.requirePermission(domain.PermSupport))
	support.GET("/conversations", s.supportInbox)
	support.GET("/events", s.inboxEvents)
	support.GET("/conversations/:id/messages", s.supportMessages)
	support.POST("/conversations/:id/messages", s.agentReply)
	support.POST("/conversations/:id/takeover", s.takeover)
	support.POST("/conversations/:id/resume", s.resume)
	support.GET("/conversations/:id/events", s.supportEvents)

	admin := r.Group("/auth", s.requireUser, s.requireSuperuser)
	admin.GET("/users", s.listUsers)
	admin.POST("/users", s.createUser)
	admin.GET("/users/:id", s.getUser)
	admin.DELETE("/users/:id", s.deleteUser)
	admin.PUT("/users/:id/disable", s.setActive(false))
	admin.PUT("/users/:id/enable", s.setActive(true))
	admin.PUT("/users/:id/superuser", s.setSuperuser)
	admin.GET("/users/:id/roles", s.getUserRoles)
	admin.GET("/users/:id/usage", s.getUserUsage)
	admin.PUT("/users/:id/roles", s.setUserRoles)
	admin.GET("/roles", s.listRoles)
	admin.POST("/roles", s.createRole)
	admin.DELETE("/roles/:id", s.deleteRole)
	admin.GET("/audit", s.listAudit)
	admin.POST("/codec-session", s.codecSession)
	admin.GET("/webhooks", s.listWebhooks)
	admin.POST("/webhooks", s.createWebhook)
	admin.GET("/webhooks/:id", s.getWebhook)
	admin.DELETE("/webhooks/:id", s.deleteWebhook)
	admin.GET("/webhooks/:id/deliveries", s.webhookDeliveries)

	// Temporal's remote codec protocol, for the Web UI and CLI.
	payloads := r.Group(codecPath, codecCookieAuth, s.requireUser, s.requireSuperuser)
	payloads.POST("/encode", s.codecEndpoint(true))
	payloads.POST("/decode", s.codecEndpoint(false))
}
