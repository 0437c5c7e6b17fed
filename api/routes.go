package api

import (
	"fmt"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/channels"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/knowledge"
)

// route is one operation of the API: where it answers, who may call it,
// its handler and what the OpenAPI document says of it beyond what the
// handler's types tell. The router and the document are both built from
// routeTable, so a new route is one entry there.
type route struct {
	method string
	path   string // gin's form (/users/:id, /docs/*file); {id}, {file} in the document
	access access
	perm   domain.Permission // the permission staff access asks for
	handle gin.HandlerFunc

	tag, summary string
	description  string
	params       []*openapi3.Parameter
	body         any  // request body type (JSON); nil: none
	form         bool // the body is (also) a form: OAuth2 login, Twilio
	optionalBody bool
	paged        bool // limit/offset in, X-Total-Count out
	// upload, when set, is the schema of a multipart/form-data body;
	// maxBody replaces the server's body limit, named in tooLarge.
	upload   *openapi3.Schema
	maxBody  int64
	tooLarge string
	ok       reply
	more     []reply // other answers with a body of their own
	errors   []int   // error statuses beyond those implied
}

// access is who may call a route: the middleware in front of its handler
// and the security the document gives it.
type access int

const (
	public access = iota
	signedIn
	superuserOnly
	// staff: the route's permission, held through a role (the agent role),
	// or a superuser.
	staff
	// twilioSigned, telegramSigned: the handler checks the provider's
	// signature; there is no bearer token.
	twilioSigned
	telegramSigned
	// codecSuperuser: a superuser, by bearer token or the codec cookie (the
	// Temporal Web UI sends no Authorization header).
	codecSuperuser
)

// routes registers every route of the table on r behind the middleware its
// access needs, and /metrics for the bearer of METRICS_TOKEN.
func (s *Server) routes(r *gin.Engine) {
	for _, rt := range s.routeTable() {
		r.Handle(rt.method, rt.path, append(s.guard(rt), rt.handle)...)
	}
	// The metrics are the operator's, not the API's: they are served on a
	// listener of their own (METRICS_ADDR), and here only with the token,
	// so they stay out of the table and the document. Without a token the
	// path is the router's 404.
	if s.cfg.MetricsToken != "" {
		r.GET(MetricsPath, s.requireMetricsToken, gin.WrapH(s.metrics.Handler()))
	}
}

// guard is the middleware a route's access puts in front of its handler.
func (s *Server) guard(rt route) []gin.HandlerFunc {
	if (rt.access == staff) != (rt.perm != "") {
		panic(fmt.Sprintf("route %s %s: a permission goes with staff access, and only with it", rt.method, rt.path))
	}
	switch rt.access {
	case signedIn:
		return []gin.HandlerFunc{s.requireUser}
	case superuserOnly:
		return []gin.HandlerFunc{s.requireUser, s.requireSuperuser}
	case staff:
		return []gin.HandlerFunc{s.requireUser, s.requirePermission(rt.perm)}
	case codecSuperuser:
		return []gin.HandlerFunc{codecCookieAuth, s.requireUser, s.requireSuperuser}
	default: // public, or signed by a provider and checked in the handler
		return nil
	}
}

// bodyLimits are the routes' own body limits, by "METHOD path".
func (s *Server) bodyLimits() map[string]bodyLimit {
	out := map[string]bodyLimit{}
	for _, rt := range s.routeTable() {
		if rt.maxBody > 0 {
			out[rt.method+" "+rt.path] = bodyLimit{max: rt.maxBody, detail: rt.tooLarge}
		}
	}
	return out
}

// routeTable is the whole API at a glance. Its handlers are method values:
// building the table on a zero Server, as the document does, calls none.
func (s *Server) routeTable() []route {
	return []route{
		// The service itself: health, this document, the docs page and the web app.
		{method: "GET", path: "/", access: public, handle: s.root,
			tag: "meta", summary: "Greeting", ok: reply{body: messageResponse{}}},
		{method: "GET", path: "/health", access: public, handle: s.health,
			tag: "meta", summary: "Health of the API, its database and Temporal",
			ok:   reply{body: healthReport{}},
			more: []reply{{status: 503, body: healthReport{}, desc: "A dependency is down"}}},
		{method: "GET", path: "/db-test", access: public, handle: s.dbTest,
			tag: "meta", summary: "Database connection test",
			description: "Runs a query on the database. The answer says only whether it succeeded, not the database's type or version.",
			ok:          reply{body: dbTestResponse{}}, errors: []int{503}},
		{method: "GET", path: "/openapi.json", access: public, handle: s.openAPI,
			tag: "meta", summary: "This document",
			ok: reply{body: map[string]any{}, desc: "The OpenAPI 3 document"}},
		{method: "GET", path: "/docs", access: public, handle: docsSite.page,
			tag: "meta", summary: "Interactive API documentation (Swagger UI)",
			ok: reply{media: mediaHTML, body: ""}},
		{method: "GET", path: "/docs/*file", access: public, handle: docsSite.file,
			tag: "meta", summary: "A file of the documentation page",
			params: []*openapi3.Parameter{fileParam},
			ok:     reply{media: mediaAny, body: ""}, more: []reply{{status: 301, desc: "The page itself"}}, errors: []int{404}},
		{method: "GET", path: "/app", access: public, handle: appSite.page,
			tag: "meta", summary: "The web app",
			ok: reply{media: mediaHTML, body: ""}},
		{method: "GET", path: "/app/*file", access: public, handle: appSite.file,
			tag: "meta", summary: "A file of the web app",
			params: []*openapi3.Parameter{fileParam},
			ok:     reply{media: mediaAny, body: ""}, more: []reply{{status: 301, desc: "The app itself"}}, errors: []int{404}},

		// Provider webhooks: signed by the provider, no bearer token.
		{method: "POST", path: "/twilio_webhook", access: twilioSigned, handle: s.channelWebhook(s.twilio),
			tag: "channels", summary: "Inbound SMS or WhatsApp message from Twilio",
			description: "Stored once per MessageSid and answered by the assistant through the Messages API; the TwiML answer is empty except for HELP. STOP and START opt out and in.",
			body:        twilioInbound{}, form: true,
			ok: reply{media: mediaTwiML, body: "", desc: "TwiML"}},
		{method: "POST", path: "/twilio_status", access: twilioSigned, handle: s.twilioStatus,
			tag: "channels", summary: "Delivery status callback from Twilio",
			body: twilioStatusReport{}, form: true,
			ok: reply{status: 204}},
		{method: "POST", path: "/telegram_webhook", access: telegramSigned, handle: s.channelWebhook(s.telegram),
			tag: "channels", summary: "Update from the Telegram Bot API",
			description: "Linked chats talk to the assistant; /start <code> links a chat to an account. The answer may carry a Bot API call.",
			body:        telegramUpdate{},
			ok:          reply{body: channels.BotCall{}, desc: "A sendMessage call for Telegram to make (the bot's own short answers)"},
			more:        []reply{{status: 204, desc: "Taken; nothing to send back in the answer"}}},
		{method: "POST", path: "/channels/:channel/webhook", access: public, handle: s.anyChannelWebhook,
			tag: "channels", summary: "Webhook of another channel added to this deployment",
			description: "The channel's adapter checks the provider's signature; what it carries goes the way Twilio's and Telegram's messages go.",
			params:      []*openapi3.Parameter{channelParam},
			ok:          reply{media: mediaAny, body: "", desc: "The channel's own answer"},
			more:        []reply{{status: 204, desc: "Taken; nothing to send back in the answer"}}, errors: []int{403, 404}},

		// Accounts: anyone may register and log in.
		{method: "POST", path: "/auth/register", access: public, handle: s.register,
			tag: "auth", summary: "Create an account",
			description: "Registrations are limited per client address (429 with Retry-After).",
			body:        newAccount{}, ok: reply{status: 201, body: domain.User{}}, errors: []int{409, 429}},
		{method: "POST", path: "/auth/login", access: public, handle: s.login,
			tag: "auth", summary: "Log in",
			description: "JSON or an OAuth2 password form. Failed attempts are limited per account and client address, per address, " +
				"and per account with growing delays for the addresses that failed for it (429 with Retry-After).",
			body: loginRequest{}, form: true, ok: reply{body: authResponse{}}, errors: []int{401, 403, 429}},
		{method: "POST", path: "/auth/refresh", access: public, handle: s.refresh,
			tag: "auth", summary: "Exchange a refresh token for new tokens",
			description: "The refresh token is single-use: presenting a spent one ends its session.",
			body:        refreshRequest{}, ok: reply{body: authResponse{}}, errors: []int{401}},

		// The signed-in user: their account and sessions.
		{method: "POST", path: "/auth/logout", access: signedIn, handle: s.logout,
			tag: "auth", summary: "End this session",
			ok: reply{body: messageResponse{}}},
		{method: "POST", path: "/auth/logout-all", access: signedIn, handle: s.logoutAll,
			tag: "auth", summary: "End every session of the user",
			ok: reply{body: logoutAllResponse{}}},
		{method: "GET", path: "/users/search", access: signedIn, handle: s.searchPeople,
			tag: "users", summary: "Find someone to write to",
			description: "By the start of a username or of a word of a full name, in any case, or by an exact email address; active people other than oneself, " +
				"ten at most, exact username first. Answers id, username and full name only. q is 2 to 100 characters (422 otherwise); 30 searches a minute (429 with Retry-After).",
			params: []*openapi3.Parameter{peopleQueryParam}, ok: reply{body: []domain.Participant{}}, errors: []int{429}},
		{method: "GET", path: "/auth/me", access: signedIn, handle: s.getMe,
			tag: "auth", summary: "The signed-in user",
			ok: reply{body: domain.User{}}},
		{method: "GET", path: "/auth/me/permissions", access: signedIn, handle: s.getPermissions,
			tag: "auth", summary: "What the user's roles let them do",
			description: "support: the support inbox (/support); triage_reports: every report, comment, resolve; knowledge: the knowledge base's articles. A superuser holds every permission.",
			ok:          reply{body: permissionsResponse{}}},
		{method: "GET", path: "/auth/me/usage", access: signedIn, handle: s.getMyUsage,
			tag: "auth", summary: "The user's LLM tokens today (UTC) and what is left of the daily limit",
			description: "daily_limit is LLM_USER_DAILY_TOKENS (null: none). Past it the assistant answers with a fixed message until the next UTC day.",
			params:      []*openapi3.Parameter{usageDaysParam}, ok: reply{body: usageResponse{}}},
		{method: "PUT", path: "/auth/me", access: signedIn, handle: s.updateMe,
			tag: "auth", summary: "Update the profile",
			body: profileRequest{}, ok: reply{body: domain.User{}}, errors: []int{409}},
		{method: "DELETE", path: "/auth/me", access: signedIn, handle: s.deleteMe,
			tag: "auth", summary: "Erase the account, confirmed with the password",
			description: "Deletes the user with everything that is theirs (sessions, messages sent and received, reports, links, usage), as the admin delete does; every session ends at once. " +
				"400 for a wrong password, 403 for the last active superuser. Wrong passwords count with the account's failed logins " +
				"from the client's address (429 with Retry-After) and are audited.",
			body: deleteMeRequest{}, ok: reply{body: messageResponse{}}, errors: []int{400, 403, 429}},
		{method: "GET", path: "/auth/me/export", access: signedIn, handle: s.exportMe,
			tag: "auth", summary: "Everything aimsg holds about the user, as one JSON document",
			description: "Profile, roles, sessions, every message sent or received, reports with their comments, the Telegram link, the assistant's conversation summaries, LLM usage, tool calls that waited for approval, and requests to the assistant with their outcomes and survey scores (episodes). Sent as an attachment.",
			ok:          reply{body: domain.Export{}}},
		{method: "PUT", path: "/auth/me/phone", access: signedIn, handle: s.updatePhone,
			tag: "auth", summary: "Set or clear the phone number used by SMS",
			body: phoneRequest{}, ok: reply{body: domain.User{}}, errors: []int{409}},
		{method: "PUT", path: "/auth/me/password", access: signedIn, handle: s.changePassword,
			tag: "auth", summary: "Change the password; other sessions end",
			description: "400 for a wrong current password. Wrong passwords count with the account's failed logins from the client's " +
				"address (429 with Retry-After) and are audited.",
			body: passwordRequest{}, ok: reply{body: messageResponse{}}, errors: []int{400, 429}},
		{method: "POST", path: "/auth/me/telegram/link", access: signedIn, handle: s.telegramLink,
			tag: "auth", summary: "A one-time link that connects a Telegram chat",
			ok: reply{body: telegramLinkResponse{}}, errors: []int{503}},
		{method: "GET", path: "/auth/sessions", access: signedIn, handle: s.listSessions,
			tag: "auth", summary: "The user's active sessions",
			ok: reply{body: []sessionResponse{}}},
		{method: "DELETE", path: "/auth/sessions/:id", access: signedIn, handle: s.deleteSession,
			tag: "auth", summary: "End one session",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404}},

		// Their conversations, the assistant's and other users'.
		{method: "GET", path: "/auth/conversations", access: signedIn, handle: s.listConversations,
			tag: "conversations", summary: "The user's conversations, the assistant's first, then by latest message",
			description: "The conversation with the assistant is the first entry of the first page and counts in X-Total-Count; other_user.badge marks the real assistant and staff.",
			paged:       true, ok: reply{body: []domain.ConversationSummary{}}},
		{method: "GET", path: "/auth/conversations/:id/messages", access: signedIn, handle: s.conversationMessages,
			tag: "conversations", summary: "Messages of a conversation, newest first",
			params: []*openapi3.Parameter{conversationParam}, paged: true,
			ok: reply{body: []domain.Message{}}, errors: []int{404}},
		{method: "POST", path: "/auth/conversations/:id/messages", access: signedIn, handle: s.sendToConversation,
			tag: "conversations", summary: "Write in a conversation",
			description: "In the conversation with the assistant the message starts a turn; the reply arrives in the conversation (see the events stream). " +
				inboundLimitNote,
			params: []*openapi3.Parameter{conversationParam}, body: conversationSendRequest{},
			ok: reply{status: 201, body: domain.Message{}}, errors: []int{404, 429}},
		{method: "POST", path: "/auth/conversations/:id/files", access: signedIn, handle: s.sendWithFiles,
			tag: "conversations", summary: "Write in a conversation with pictures attached",
			description: "multipart/form-data: files (1 to 10) and an optional content. Each file at most MEDIA_MAX_BYTES and of a type in MEDIA_TYPES, " +
				"judged by its bytes (422 naming the file otherwise, 413 past the size); nothing is stored unless every file is. " +
				"In the conversation with the assistant the message starts a turn, and the model sees the pictures when LLM_VISION is on. " + inboundLimitNote,
			params: []*openapi3.Parameter{conversationParam},
			upload: filesFormSchema, maxBody: filesBodyLimit(s.cfg.MediaMaxBytes), tooLarge: filesTooLarge(s.cfg.MediaMaxBytes),
			ok: reply{status: 201, body: domain.Message{}}, errors: []int{404, 413, 429, 503}},
		{method: "PUT", path: "/auth/conversations/:id/read", access: signedIn, handle: s.readConversation,
			tag: "conversations", summary: "Mark the conversation read",
			params: []*openapi3.Parameter{conversationParam}, ok: reply{body: readAllResponse{}}, errors: []int{404}},
		{method: "GET", path: "/auth/conversations/:id/events", access: signedIn, handle: s.conversationEvents,
			tag: "conversations", summary: "Server-sent events: the conversation's messages, and the reply as it is written",
			description: "Event \"message\" with the message as JSON and its id as the event id; resumes after Last-Event-ID (or ?after=). " +
				"\"typing\" {conversation_id, active}: a turn started or stopped working. " +
				"\"delta\" {conversation_id, turn_id, seq, text}: the reply's text as it is written, in order from seq 1 (a preview: the saved reply arrives as a message). " +
				"\"reset\" {conversation_id, turn_id}: drop the text streamed so far. " +
				"\"mode\" {conversation_id, mode}: who answers changed (ai, or human: a person). The stream ends with the session. " +
				streamLimitNote,
			params: []*openapi3.Parameter{conversationParam,
				openapi3.NewHeaderParameter("Last-Event-ID").WithSchema(openapi3.NewInt64Schema().WithMin(0)),
				openapi3.NewQueryParameter("after").WithSchema(openapi3.NewInt64Schema().WithMin(0))},
			ok: reply{media: mediaSSE, body: ""}, errors: []int{404, 429}},

		// Their messages, one by one.
		{method: "GET", path: "/messages", access: signedIn, handle: s.listMessages(domain.BoxAll),
			tag: "messages", summary: "Messages sent or received, newest first",
			params: []*openapi3.Parameter{conversationQuery}, paged: true, ok: reply{body: []domain.Message{}}},
		{method: "GET", path: "/messages/sent", access: signedIn, handle: s.listMessages(domain.BoxSent),
			tag: "messages", summary: "Messages sent",
			params: []*openapi3.Parameter{conversationQuery}, paged: true, ok: reply{body: []domain.Message{}}},
		{method: "GET", path: "/messages/received", access: signedIn, handle: s.listMessages(domain.BoxReceived),
			tag: "messages", summary: "Messages received",
			params: []*openapi3.Parameter{conversationQuery}, paged: true, ok: reply{body: []domain.Message{}}},
		{method: "GET", path: "/messages/unread/count", access: signedIn, handle: s.unreadCount,
			tag: "messages", summary: "How many received messages are unread",
			ok: reply{body: unreadCountResponse{}}},
		{method: "PUT", path: "/messages/read-all", access: signedIn, handle: s.readAll,
			tag: "messages", summary: "Mark every received message read",
			ok: reply{body: readAllResponse{}}},
		{method: "POST", path: "/messages", access: signedIn, handle: s.sendMessage,
			tag: "messages", summary: "Send a message",
			description: "To another user, or to the assistant: then it starts a turn and the reply is saved as a message to the sender. " +
				inboundLimitNote,
			body: sendRequest{}, ok: reply{status: 201, body: domain.Message{}}, errors: []int{404, 429}},
		{method: "GET", path: "/messages/:id", access: signedIn, handle: s.getMessage,
			tag: "messages", summary: "One message",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Message{}}, errors: []int{404}},
		{method: "PUT", path: "/messages/:id", access: signedIn, handle: s.editMessage,
			tag: "messages", summary: "Edit a message (sender only)",
			params: []*openapi3.Parameter{idParam}, body: editRequest{}, ok: reply{body: domain.Message{}}, errors: []int{403, 404}},
		{method: "PUT", path: "/messages/:id/read", access: signedIn, handle: s.markRead,
			tag: "messages", summary: "Mark a message read (recipient only)",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Message{}}, errors: []int{403, 404}},
		{method: "DELETE", path: "/messages/:id", access: signedIn, handle: s.deleteMessage,
			tag: "messages", summary: "Delete a message (sender only)",
			description: "Its files (attachments) go with it.",
			params:      []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{403, 404}},
		{method: "POST", path: "/messages/:id/feedback", access: signedIn, handle: s.rateAnswer,
			tag: "messages", summary: "Rate an answer of the assistant (the person it was for)",
			description: `{"rating": "up"|"down", "comment"?}. Rated again, the new rating replaces the first; the message's JSON carries it as "feedback", ` +
				"and webhooks get feedback.created. Anyone else's message is 404; a message that is not the assistant's is 422.",
			params: []*openapi3.Parameter{idParam}, body: feedbackRequest{}, ok: reply{body: domain.Feedback{}}, errors: []int{404}},
		{method: "DELETE", path: "/messages/:id/feedback", access: signedIn, handle: s.takeBackRating,
			tag: "messages", summary: "Take back one's rating of an answer",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404}},
		{method: "POST", path: "/messages/:id/csat", access: signedIn, handle: s.answerSurvey,
			tag: "messages", summary: "Answer the satisfaction survey a message asks (the person it was for)",
			description: `{"score": 1..5}, once: a second answer is 409. The question's JSON carries "survey": {"score": ...}. ` +
				"By SMS or Telegram a bare 1–5 sent after the question answers it. Anyone else's message is 404; a message that asks no survey is 422.",
			params: []*openapi3.Parameter{idParam}, body: surveyAnswer{}, ok: reply{body: domain.Survey{}}, errors: []int{404, 409}},
		{method: "GET", path: "/messages/:id/attachments/:n", access: signedIn, handle: s.getAttachment,
			tag: "messages", summary: "A file the message carried (a picture, a voice note)",
			description: "The stored file with its content type, to the message's sender and recipient (and support staff who reach its conversation with the assistant); " +
				"404 to anyone else, and while the file is not stored (attachments[].status pending, refused or failed).",
			params: []*openapi3.Parameter{idParam, attachmentParam},
			ok:     reply{media: mediaAny, body: "", desc: "The file"}, errors: []int{404}},

		// Reports: users file and follow their own; staff who triage see and settle all.
		{method: "POST", path: "/reports", access: signedIn, handle: s.createReport,
			tag: "reports", summary: "File a report",
			body: reportRequest{}, ok: reply{status: 201, body: domain.Report{}}},
		{method: "GET", path: "/reports", access: signedIn, handle: s.listMyReports,
			tag: "reports", summary: "The user's reports, newest first",
			params: []*openapi3.Parameter{reportStatusQuery}, paged: true, ok: reply{body: []domain.Report{}}},
		{method: "GET", path: "/reports/admin/all", access: staff, perm: domain.PermTriageReports, handle: s.listAllReports,
			tag: "reports", summary: "Every report (support staff)",
			params: []*openapi3.Parameter{reportStatusQuery,
				openapi3.NewQueryParameter("reporter_id").WithSchema(openapi3.NewInt64Schema().WithMin(1))},
			paged: true, ok: reply{body: []domain.Report{}}},
		{method: "GET", path: "/reports/:id", access: signedIn, handle: s.getReport,
			tag: "reports", summary: "One report (its reporter or support staff)",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Report{}}, errors: []int{404}},
		{method: "PUT", path: "/reports/:id", access: signedIn, handle: s.updateReport,
			tag: "reports", summary: "Edit an open report (reporter only)",
			params: []*openapi3.Parameter{idParam}, body: reportUpdateRequest{}, ok: reply{body: domain.Report{}}, errors: []int{403, 404, 409}},
		{method: "POST", path: "/reports/:id/comment", access: staff, perm: domain.PermTriageReports, handle: s.commentReport,
			tag: "reports", summary: "Comment; may move an open report to in_progress (support staff)",
			params: []*openapi3.Parameter{idParam}, body: commentRequest{}, ok: reply{body: domain.Report{}}, errors: []int{404, 409}},
		{method: "PUT", path: "/reports/:id/resolve", access: staff, perm: domain.PermTriageReports, handle: s.resolveReport,
			tag: "reports", summary: "Resolve a report (final; support staff)",
			params: []*openapi3.Parameter{idParam}, body: resolveRequest{}, optionalBody: true,
			ok: reply{body: domain.Report{}}, errors: []int{404, 409}},

		// The knowledge base: the articles the assistant answers from, for staff who write them.
		{method: "POST", path: "/knowledge/articles", access: staff, perm: domain.PermKnowledge, handle: s.createArticle,
			tag: "knowledge", summary: "Write an article",
			description: "The body is markdown, or HTML or plain text with format (converted to markdown; an HTML page's title and canonical URL fill in title and url when left out). " +
				"It is cut into passages at its headings. A url another article has is a conflict. Audited; webhook event knowledge.article.changed.",
			body: articleRequest{}, ok: reply{status: 201, body: domain.Article{}}, errors: []int{409}},
		{method: "GET", path: "/knowledge/articles", access: staff, perm: domain.PermKnowledge, handle: s.listArticles,
			tag: "knowledge", summary: "Articles, newest first, without their bodies",
			params: []*openapi3.Parameter{
				openapi3.NewQueryParameter("collection").WithSchema(openapi3.NewStringSchema()),
				openapi3.NewQueryParameter("q").WithSchema(openapi3.NewStringSchema()).WithDescription("Part of the title, in any case"),
			},
			paged: true, ok: reply{body: []domain.Article{}}},
		{method: "GET", path: "/knowledge/articles/:id", access: staff, perm: domain.PermKnowledge, handle: s.getArticle,
			tag: "knowledge", summary: "One article, with its body and passage count",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Article{}}, errors: []int{404}},
		{method: "PUT", path: "/knowledge/articles/:id", access: staff, perm: domain.PermKnowledge, handle: s.replaceArticle,
			tag: "knowledge", summary: "Replace an article and its passages, in one transaction",
			params: []*openapi3.Parameter{idParam}, body: articleRequest{},
			ok: reply{body: domain.Article{}}, errors: []int{404, 409}},
		{method: "DELETE", path: "/knowledge/articles/:id", access: staff, perm: domain.PermKnowledge, handle: s.deleteArticle,
			tag: "knowledge", summary: "Delete an article and its passages",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404}},
		{method: "POST", path: "/knowledge/import", access: staff, perm: domain.PermKnowledge, handle: s.importKnowledge,
			tag: "knowledge", summary: "Import files as articles: markdown, HTML, text, or a zip of them",
			description: "multipart/form-data: files (one or more) and an optional collection. HTML is read without its scripts, styles and navigation, headings kept. " +
				"An article with the same url (or, without one, from the same file name) is replaced. At most KNOWLEDGE_MAX_UPLOAD_MB (20) per request and 2 MB per file; " +
				"a zip with unsafe paths, links or too much unpacked data is refused whole (422). 422 when no file could be imported, with each file's reason (loc: body, files, the file's name).",
			upload: importFormSchema, maxBody: s.cfg.KnowledgeMaxUpload, tooLarge: uploadTooLarge(s.cfg.KnowledgeMaxUpload),
			ok: reply{body: knowledge.Result{}}, errors: []int{413}},
		{method: "GET", path: "/knowledge/search", access: staff, perm: domain.PermKnowledge, handle: s.searchKnowledge,
			tag: "knowledge", summary: "What the assistant would read for a question: the best passages",
			description: "Any word of the question may match; passages matching more, and rarer, words rank first, at most two of one article. " +
				"The snippet marks matched words with « and ». 422 for an empty question, one of common words only, or one longer than 1,000 characters or 64 words.",
			params: []*openapi3.Parameter{
				openapi3.NewQueryParameter("q").WithSchema(openapi3.NewStringSchema().WithMaxLength(domain.MaxSearchChars)).WithRequired(true),
				openapi3.NewQueryParameter("collection").WithSchema(openapi3.NewStringSchema()),
				openapi3.NewQueryParameter("limit").WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(domain.MaxSearchLimit)),
			},
			ok: reply{body: []domain.SearchHit{}}},

		// Agents: the assistants a team defines; support staff read them, superusers define them.
		{method: "GET", path: "/agents", access: staff, perm: domain.PermSupport, handle: s.listAgents,
			tag: "agents", summary: "The agents, by name",
			description: "Each as it stands now, with its revision. None defined: the worker's built-in assistant answers.",
			ok:          reply{body: []domain.Agent{}}},
		{method: "GET", path: "/agents/:name", access: staff, perm: domain.PermSupport, handle: s.getAgent,
			tag: "agents", summary: "One agent",
			params: []*openapi3.Parameter{agentNameParam}, ok: reply{body: domain.Agent{}}, errors: []int{404}},
		{method: "POST", path: "/agents", access: superuserOnly, handle: s.createAgent,
			tag: "agents", summary: "Define an agent",
			description: agentDescription + " A name another agent has is a conflict.",
			body:        agentRequest{}, ok: reply{status: 201, body: domain.Agent{}}, errors: []int{409}},
		{method: "PUT", path: "/agents/:name", access: superuserOnly, handle: s.replaceAgent,
			tag: "agents", summary: "Replace an agent's definition",
			description: agentDescription + " The body's name must be the path's (422). The same definition keeps its revision.",
			params:      []*openapi3.Parameter{agentNameParam}, body: agentRequest{},
			ok: reply{body: domain.Agent{}}, errors: []int{404}},
		{method: "DELETE", path: "/agents/:name", access: superuserOnly, handle: s.deleteAgent,
			tag: "agents", summary: "Delete an agent; its revisions stay for the turns that run them",
			description: "409 while another agent transfers to it, or for the entry agent while others remain. Audited.",
			params:      []*openapi3.Parameter{agentNameParam}, ok: reply{body: messageResponse{}}, errors: []int{404, 409}},

		// Analytics: whether the assistant is any good, for support staff.
		{method: "GET", path: "/analytics/summary", access: staff, perm: domain.PermSupport, handle: s.getAnalyticsSummary,
			tag: "analytics", summary: "What the conversations of a period came to",
			description: "Over the episodes (one request each, from the first message to its outcome) that ended in the period: outcomes, " +
				"AI resolution and handoff rates, median and p90 time to the first answer of the AI and of a person, thumbs, the survey, tokens and cost (LLM_PRICES). " +
				"from and to are UTC dates (to included) or RFC 3339 times (to excluded); without them, the last 30 days. agent is the agent that answered last; channel the first message's.",
			params: analyticsParams, ok: reply{body: domain.Summary{}}},
		{method: "GET", path: "/analytics/daily", access: staff, perm: domain.PermSupport, handle: s.getAnalyticsDaily,
			tag: "analytics", summary: "The same per UTC day, oldest first, days without conversations included",
			params: analyticsParams, ok: reply{body: []domain.DailySummary{}}},

		// The support inbox: staff read and answer conversations with the assistant.
		{method: "GET", path: "/support/conversations", access: staff, perm: domain.PermSupport, handle: s.supportInbox,
			tag: "support", summary: "The support inbox: conversations with the assistant, latest first",
			description: "Each with its user, who answers it (mode ai or human), the handoff's time, reason and agent, the last message and the user's messages the support team has not read.",
			params: []*openapi3.Parameter{openapi3.NewQueryParameter("mode").
				WithSchema(openapi3.NewStringSchema().WithEnum("ai", "human"))},
			paged: true, ok: reply{body: []domain.InboxEntry{}}},
		{method: "GET", path: "/support/events", access: staff, perm: domain.PermSupport, handle: s.inboxEvents,
			tag: "support", summary: "Server-sent events for a live inbox",
			description: "\"message\" (a message of any conversation with the assistant) and \"mode\" {conversation_id, mode}; it starts now. The stream ends with the session. " +
				streamLimitNote,
			ok: reply{media: mediaSSE, body: ""}, errors: []int{429}},
		{method: "GET", path: "/support/conversations/:id/messages", access: staff, perm: domain.PermSupport, handle: s.supportMessages,
			tag: "support", summary: "A conversation with the assistant, newest first; marks it read for the support team",
			params: []*openapi3.Parameter{conversationParam}, paged: true,
			ok: reply{body: []domain.Message{}}, errors: []int{404}},
		{method: "POST", path: "/support/conversations/:id/messages", access: staff, perm: domain.PermSupport, handle: s.agentReply,
			tag: "support", summary: "Answer the user as a person",
			description: "Stored in the user's conversation with the assistant (agent_id says who wrote it) and delivered by its workflow through the channel the user last wrote from. A conversation the AI has is taken over.",
			params:      []*openapi3.Parameter{conversationParam}, body: agentReplyRequest{},
			ok: reply{status: 201, body: domain.Message{}}, errors: []int{404}},
		{method: "POST", path: "/support/conversations/:id/takeover", access: staff, perm: domain.PermSupport, handle: s.takeover,
			tag: "support", summary: "Take the conversation over: the AI stops answering",
			description: "Accepted for the conversation's workflow, which applies it in order with the messages; a turn in flight is cancelled unless its reply is saved. The user is told a person will answer.",
			params:      []*openapi3.Parameter{conversationParam}, body: modeRequest{}, optionalBody: true,
			ok: reply{status: 202, body: modeAccepted{}}, errors: []int{404}},
		{method: "POST", path: "/support/conversations/:id/resume", access: staff, perm: domain.PermSupport, handle: s.resume,
			tag: "support", summary: "Give the conversation back to the AI",
			params: []*openapi3.Parameter{conversationParam}, body: modeRequest{}, optionalBody: true,
			ok: reply{status: 202, body: modeAccepted{}}, errors: []int{404}},
		{method: "POST", path: "/support/conversations/:id/approvals/:call_id", access: staff, perm: domain.PermSupport, handle: s.decideApproval,
			tag: "support", summary: "Approve or reject a tool call waiting for a person",
			description: "A tool an agent marks approval: required waits in its turn for this decision (the inbox lists the waiting calls under pending_approvals). " +
				"approve runs the tool and the turn goes on; reject tells the model the action was not taken. The turn takes the decision before the answer; " +
				"a call decided already, expired or whose turn ended is 409. Audited with the approver and a digest of the arguments.",
			params: []*openapi3.Parameter{conversationParam,
				openapi3.NewPathParameter("call_id").WithSchema(openapi3.NewStringSchema()).WithRequired(true)},
			body: approvalRequest{}, ok: reply{body: approvalDecided{}}, errors: []int{404, 409, 503}},
		{method: "GET", path: "/support/conversations/:id/events", access: staff, perm: domain.PermSupport, handle: s.supportEvents,
			tag: "support", summary: "Server-sent events of one conversation, as on /auth/conversations/{id}/events, plus \"mode\"",
			description: streamLimitNote,
			params: []*openapi3.Parameter{conversationParam,
				openapi3.NewHeaderParameter("Last-Event-ID").WithSchema(openapi3.NewInt64Schema().WithMin(0)),
				openapi3.NewQueryParameter("after").WithSchema(openapi3.NewInt64Schema().WithMin(0))},
			ok: reply{media: mediaSSE, body: ""}, errors: []int{404, 429}},

		// Administration: superusers only.
		{method: "GET", path: "/auth/users", access: superuserOnly, handle: s.listUsers,
			tag: "admin", summary: "Users, with search",
			params: []*openapi3.Parameter{openapi3.NewQueryParameter("search").WithSchema(openapi3.NewStringSchema()).
				WithDescription("Part of the username, email or full name")},
			paged: true, ok: reply{body: []domain.User{}}},
		{method: "POST", path: "/auth/users", access: superuserOnly, handle: s.createUser,
			tag: "admin", summary: "Create a user",
			body: newAccount{}, ok: reply{status: 201, body: domain.User{}}, errors: []int{409}},
		{method: "GET", path: "/auth/users/:id", access: superuserOnly, handle: s.getUser,
			tag: "admin", summary: "One user",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.User{}}, errors: []int{404}},
		{method: "DELETE", path: "/auth/users/:id", access: superuserOnly, handle: s.deleteUser,
			tag: "admin", summary: "Delete a user",
			description: "Their sessions, roles and messages go with them; their reports stay.",
			params:      []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404, 409}},
		{method: "PUT", path: "/auth/users/:id/disable", access: superuserOnly, handle: s.setActive(false),
			tag: "admin", summary: "Disable a user; their sessions stop working",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.User{}}, errors: []int{404, 409}},
		{method: "PUT", path: "/auth/users/:id/enable", access: superuserOnly, handle: s.setActive(true),
			tag: "admin", summary: "Enable a user",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.User{}}, errors: []int{404, 409}},
		{method: "PUT", path: "/auth/users/:id/superuser", access: superuserOnly, handle: s.setSuperuser,
			tag: "admin", summary: "Set, or without a body toggle, superuser",
			params: []*openapi3.Parameter{idParam}, body: superuserRequest{}, optionalBody: true,
			ok: reply{body: domain.User{}}, errors: []int{404, 409}},
		{method: "GET", path: "/auth/users/:id/roles", access: superuserOnly, handle: s.getUserRoles,
			tag: "admin", summary: "A user's roles",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: []domain.Role{}}, errors: []int{404}},
		{method: "GET", path: "/auth/users/:id/usage", access: superuserOnly, handle: s.getUserUsage,
			tag: "admin", summary: "A user's LLM tokens today, and per day with ?days=",
			params: []*openapi3.Parameter{idParam, usageDaysParam}, ok: reply{body: usageResponse{}}, errors: []int{404}},
		{method: "PUT", path: "/auth/users/:id/roles", access: superuserOnly, handle: s.setUserRoles,
			tag: "admin", summary: "Replace a user's roles",
			params: []*openapi3.Parameter{idParam}, body: rolesRequest{}, ok: reply{body: []domain.Role{}}, errors: []int{404}},
		{method: "GET", path: "/auth/roles", access: superuserOnly, handle: s.listRoles,
			tag: "admin", summary: "Roles",
			ok: reply{body: []domain.Role{}}},
		{method: "POST", path: "/auth/roles", access: superuserOnly, handle: s.createRole,
			tag: "admin", summary: "Create a role",
			body: roleRequest{}, ok: reply{status: 201, body: domain.Role{}}, errors: []int{409}},
		{method: "DELETE", path: "/auth/roles/:id", access: superuserOnly, handle: s.deleteRole,
			tag: "admin", summary: "Delete a role; its users lose it (built-in roles stay: 409)",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404, 409}},
		{method: "GET", path: "/auth/audit", access: superuserOnly, handle: s.listAudit,
			tag: "admin", summary: "The audit log: administrative and support actions, newest first",
			description: "Each entry: who (actor_id), what (action), to which thing (target_type, target_id), from where (ip), changing what (changes).",
			params: []*openapi3.Parameter{
				openapi3.NewQueryParameter("actor_id").WithSchema(openapi3.NewInt64Schema().WithMin(1)),
				openapi3.NewQueryParameter("action").WithSchema(enumSchema(domain.AuditActions...)),
				openapi3.NewQueryParameter("since").WithSchema(openapi3.NewDateTimeSchema()).WithDescription("Entries at or after this time (RFC 3339)"),
			},
			paged: true, ok: reply{body: []domain.AuditEntry{}}},
		{method: "POST", path: "/auth/codec-session", access: superuserOnly, handle: s.codecSession,
			tag: "admin", summary: "Let this browser decode Temporal payloads in the Temporal Web UI",
			description: "Sets an HttpOnly, same-site cookie for /codec holding the session's access token; it stops working when the session ends. " +
				"In the Web UI, set the codec server to <API>/codec with \"include cross-origin credentials\"; the UI's origin must be in TEMPORAL_CODEC_CORS_ORIGINS.",
			ok: reply{body: messageResponse{}}},
		{method: "GET", path: "/auth/webhooks", access: superuserOnly, handle: s.listWebhooks,
			tag: "webhooks", summary: "Every subscription",
			ok: reply{body: []domain.WebhookSubscription{}}},
		{method: "POST", path: "/auth/webhooks", access: superuserOnly, handle: s.createWebhook,
			tag: "webhooks", summary: "Subscribe a URL to events; the signing secret is in this answer only",
			description: "Events: " + webhookEventNames() + ". Each event is POSTed as {id, type, created_at, data}, " +
				"signed X-Aimsg-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" under the secret>, retried with backoff for WEBHOOK_GIVE_UP_MINUTES (24 h). " +
				"https and public addresses only, unless WEBHOOK_ALLOW_PRIVATE.",
			body: webhookRequest{}, ok: reply{status: 201, body: webhookCreated{}}},
		{method: "GET", path: "/auth/webhooks/:id", access: superuserOnly, handle: s.getWebhook,
			tag: "webhooks", summary: "One subscription",
			params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.WebhookSubscription{}}, errors: []int{404}},
		{method: "DELETE", path: "/auth/webhooks/:id", access: superuserOnly, handle: s.deleteWebhook,
			tag: "webhooks", summary: "End a subscription; its deliveries stop", params: []*openapi3.Parameter{idParam},
			ok: reply{body: messageResponse{}}, errors: []int{404}},
		{method: "GET", path: "/auth/webhooks/:id/deliveries", access: superuserOnly, handle: s.webhookDeliveries,
			tag: "webhooks", summary: "A subscription's deliveries, newest first: state, attempts, the receiver's last answer",
			params: []*openapi3.Parameter{idParam}, paged: true, ok: reply{body: []domain.WebhookDelivery{}}, errors: []int{404}},

		// Temporal's remote codec protocol, for the Web UI and CLI.
		{method: "POST", path: codecPath + "/encode", access: codecSuperuser, handle: s.codecEndpoint(true),
			tag: "admin", summary: "Temporal remote codec: payloads encrypted with the current key",
			body: codecPayloads{}, ok: reply{body: codecPayloads{}}, errors: []int{400}},
		{method: "POST", path: codecPath + "/decode", access: codecSuperuser, handle: s.codecEndpoint(false),
			tag: "admin", summary: "Temporal remote codec: payloads in clear",
			description: "Temporal's remote codec protocol (the Web UI's codec server, the CLI's --codec-endpoint). Payloads encrypted under any configured TEMPORAL_PAYLOAD_KEY key come back decrypted; others unchanged. Bearer token or the codec cookie.",
			body:        codecPayloads{}, ok: reply{body: codecPayloads{}}, errors: []int{400}},
	}
}
