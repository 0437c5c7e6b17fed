package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3gen"
	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// The OpenAPI 3 document is built from the very request and response types
// the handlers bind and answer with, so a renamed field or a new one shows
// in the document without anyone editing it; operations lists what the
// types cannot tell (paths, access, statuses). A test checks it against the
// router both ways, and every response the tests receive against it.

// access is who may call an operation.
type access int

const (
	public access = iota
	signedIn
	superuserOnly
	// staff: a permission of a role (the agent role), or a superuser.
	staff
	twilioSigned
	telegramSigned
)

// reply is one documented response.
type reply struct {
	status int
	body   any    // a value of the body's type; nil: no body
	media  string // "" is JSON
	desc   string
}

// operation is one route as the document describes it.
type operation struct {
	method, path string
	tag, summary string
	description  string
	access       access
	params       []*openapi3.Parameter
	body         any  // request body type (JSON); nil: none
	form         bool // the body is (also) a form: OAuth2 login, Twilio
	optionalBody bool
	paged        bool // limit/offset in, X-Total-Count out
	ok           reply
	more         []reply // other answers with a body of their own
	errors       []int   // error statuses beyond those implied
}

// Media types of the answers that are not JSON.
const (
	mediaTwiML   = "text/xml"
	mediaSSE     = "text/event-stream"
	mediaMetrics = "text/plain"
	mediaHTML    = "text/html"
	mediaAny     = "*/*"
)

// Parameters used by several operations.
var (
	idParam = openapi3.NewPathParameter("id").
		WithSchema(openapi3.NewInt64Schema().WithMin(1)).WithDescription("Numeric id")
	conversationParam = openapi3.NewPathParameter("id").
				WithSchema(openapi3.NewStringSchema().WithPattern(`^(ai:\d+|dm:\d+:\d+)$`)).
				WithDescription("Conversation id: ai:<user id> for a user's conversation with the assistant, dm:<smaller user id>:<larger user id> for two users")
	conversationQuery = openapi3.NewQueryParameter("conversation_id").
				WithSchema(openapi3.NewStringSchema().WithMaxLength(100)).
				WithDescription("Only the messages of this conversation")
	fileParam      = openapi3.NewPathParameter("file").WithSchema(openapi3.NewStringSchema())
	usageDaysParam = openapi3.NewQueryParameter("days").
			WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(maxUsageDays)).
			WithDescription("Also list the last N UTC days, today included, one entry per day")
	reportStatusQuery = openapi3.NewQueryParameter("status").
				WithSchema(enumSchema(domain.ReportOpen, domain.ReportInProgress, domain.ReportResolved)).
				WithDescription("Only reports with this status")
)

// streamLimitNote says how event streams are bounded.
const streamLimitNote = "A user holds at most STREAMS_PER_USER open streams (8 by default), an address STREAMS_PER_ADDRESS: " +
	"one more is refused with 429 and Retry-After."

// inboundLimitNote says how messages to the assistant are limited.
const inboundLimitNote = "Past INBOUND_MAX_PER_MINUTE messages to the assistant in a minute (20 by default) the answer is 429 with Retry-After and nothing is stored."

// operations is every route of the API, in the order of routes.go.
var operations = []operation{
	{method: "GET", path: "/", tag: "meta", summary: "Greeting", ok: reply{body: messageResponse{}}},
	{method: "GET", path: "/health", tag: "meta", summary: "Health of the API, its database and Temporal",
		ok:   reply{body: healthReport{}},
		more: []reply{{status: 503, body: healthReport{}, desc: "A dependency is down"}}},
	{method: "GET", path: "/db-test", tag: "meta", summary: "Database connection test",
		description: "Runs a query on the database. The answer says only whether it succeeded, not the database's type or version.",
		ok:          reply{body: dbTestResponse{}}, errors: []int{503}},
	{method: "GET", path: "/metrics", tag: "meta", summary: "Prometheus metrics",
		ok: reply{media: mediaMetrics, body: "", desc: "Prometheus text exposition format"}},
	{method: "GET", path: "/openapi.json", tag: "meta", summary: "This document",
		ok: reply{body: map[string]any{}, desc: "The OpenAPI 3 document"}},
	{method: "GET", path: "/docs", tag: "meta", summary: "Interactive API documentation (Swagger UI)",
		ok: reply{media: mediaHTML, body: ""}},
	{method: "GET", path: "/docs/{file}", tag: "meta", summary: "A file of the documentation page",
		params: []*openapi3.Parameter{fileParam},
		ok:     reply{media: mediaAny, body: ""}, more: []reply{{status: 301, desc: "The page itself"}}, errors: []int{404}},
	{method: "GET", path: "/app", tag: "meta", summary: "The web app",
		ok: reply{media: mediaHTML, body: ""}},
	{method: "GET", path: "/app/{file}", tag: "meta", summary: "A file of the web app",
		params: []*openapi3.Parameter{fileParam},
		ok:     reply{media: mediaAny, body: ""}, more: []reply{{status: 301, desc: "The app itself"}}, errors: []int{404}},

	{method: "POST", path: "/twilio_webhook", tag: "channels", access: twilioSigned,
		summary:     "Inbound SMS or WhatsApp message from Twilio",
		description: "Stored once per MessageSid and answered by the assistant through the Messages API; the TwiML answer is empty except for HELP. STOP and START opt out and in.",
		body:        twilioInbound{}, form: true,
		ok: reply{media: mediaTwiML, body: "", desc: "TwiML"}},
	{method: "POST", path: "/twilio_status", tag: "channels", access: twilioSigned,
		summary: "Delivery status callback from Twilio",
		body:    twilioStatusReport{}, form: true,
		ok: reply{status: 204}},
	{method: "POST", path: "/telegram_webhook", tag: "channels", access: telegramSigned,
		summary:     "Update from the Telegram Bot API",
		description: "Linked chats talk to the assistant; /start <code> links a chat to an account. The answer may carry a Bot API call.",
		body:        telegramUpdate{},
		ok:          reply{body: botCall{}, desc: "A sendMessage call for Telegram to make (the bot's own short answers)"},
		more:        []reply{{status: 204, desc: "Taken; nothing to send back in the answer"}}},

	{method: "POST", path: "/auth/register", tag: "auth", summary: "Create an account",
		description: "Registrations are limited per client address (429 with Retry-After).",
		body:        newAccount{}, ok: reply{status: 201, body: domain.User{}}, errors: []int{409, 429}},
	{method: "POST", path: "/auth/login", tag: "auth", summary: "Log in",
		description: "JSON or an OAuth2 password form. Failed attempts are limited per account and client address, per address, " +
			"and per account with growing delays for the addresses that failed for it (429 with Retry-After).",
		body: loginRequest{}, form: true, ok: reply{body: authResponse{}}, errors: []int{401, 403, 429}},
	{method: "POST", path: "/auth/refresh", tag: "auth", summary: "Exchange a refresh token for new tokens",
		description: "The refresh token is single-use: presenting a spent one ends its session.",
		body:        refreshRequest{}, ok: reply{body: authResponse{}}, errors: []int{401}},
	{method: "POST", path: "/auth/logout", tag: "auth", access: signedIn, summary: "End this session",
		ok: reply{body: messageResponse{}}},
	{method: "POST", path: "/auth/logout-all", tag: "auth", access: signedIn, summary: "End every session of the user",
		ok: reply{body: logoutAllResponse{}}},
	{method: "GET", path: "/auth/me/permissions", tag: "auth", access: signedIn,
		summary:     "What the user's roles let them do",
		description: "support: the support inbox (/support); triage_reports: every report, comment, resolve. A superuser holds every permission.",
		ok:          reply{body: permissionsResponse{}}},
	{method: "GET", path: "/auth/me/usage", tag: "auth", access: signedIn,
		summary:     "The user's LLM tokens today (UTC) and what is left of the daily limit",
		description: "daily_limit is LLM_USER_DAILY_TOKENS (null: none). Past it the assistant answers with a fixed message until the next UTC day.",
		params:      []*openapi3.Parameter{usageDaysParam}, ok: reply{body: usageResponse{}}},
	{method: "GET", path: "/auth/me", tag: "auth", access: signedIn, summary: "The signed-in user",
		ok: reply{body: domain.User{}}},
	{method: "PUT", path: "/auth/me", tag: "auth", access: signedIn, summary: "Update the profile",
		body: profileRequest{}, ok: reply{body: domain.User{}}, errors: []int{409}},
	{method: "DELETE", path: "/auth/me", tag: "auth", access: signedIn, summary: "Erase the account, confirmed with the password",
		description: "Deletes the user with everything that is theirs (sessions, messages sent and received, reports, links, usage), as the admin delete does; every session ends at once. " +
			"400 for a wrong password, 403 for the last active superuser. Wrong passwords count with the account's failed logins " +
			"from the client's address (429 with Retry-After) and are audited.",
		body: deleteMeRequest{}, ok: reply{body: messageResponse{}}, errors: []int{400, 403, 429}},
	{method: "GET", path: "/auth/me/export", tag: "auth", access: signedIn,
		summary:     "Everything aimsg holds about the user, as one JSON document",
		description: "Profile, roles, sessions, every message sent or received, reports with their comments, the Telegram link, the assistant's conversation summaries and LLM usage. Sent as an attachment.",
		ok:          reply{body: domain.Export{}}},
	{method: "PUT", path: "/auth/me/phone", tag: "auth", access: signedIn, summary: "Set or clear the phone number used by SMS",
		body: phoneRequest{}, ok: reply{body: domain.User{}}, errors: []int{409}},
	{method: "PUT", path: "/auth/me/password", tag: "auth", access: signedIn, summary: "Change the password; other sessions end",
		description: "400 for a wrong current password. Wrong passwords count with the account's failed logins from the client's " +
			"address (429 with Retry-After) and are audited.",
		body: passwordRequest{}, ok: reply{body: messageResponse{}}, errors: []int{400, 429}},
	{method: "POST", path: "/auth/me/telegram/link", tag: "auth", access: signedIn, summary: "A one-time link that connects a Telegram chat",
		ok: reply{body: telegramLinkResponse{}}, errors: []int{503}},
	{method: "GET", path: "/auth/sessions", tag: "auth", access: signedIn, summary: "The user's active sessions",
		ok: reply{body: []sessionResponse{}}},
	{method: "DELETE", path: "/auth/sessions/{id}", tag: "auth", access: signedIn, summary: "End one session",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404}},

	{method: "GET", path: "/auth/conversations", tag: "conversations", access: signedIn,
		summary:     "The user's conversations, the assistant's first, then by latest message",
		description: "The conversation with the assistant is the first entry of the first page and counts in X-Total-Count; other_user.badge marks the real assistant and staff.",
		paged:       true, ok: reply{body: []domain.ConversationSummary{}}},
	{method: "GET", path: "/auth/conversations/{id}/messages", tag: "conversations", access: signedIn,
		summary: "Messages of a conversation, newest first",
		params:  []*openapi3.Parameter{conversationParam}, paged: true,
		ok: reply{body: []domain.Message{}}, errors: []int{404}},
	{method: "POST", path: "/auth/conversations/{id}/messages", tag: "conversations", access: signedIn,
		summary: "Write in a conversation",
		description: "In the conversation with the assistant the message starts a turn; the reply arrives in the conversation (see the events stream). " +
			inboundLimitNote,
		params: []*openapi3.Parameter{conversationParam}, body: conversationSendRequest{},
		ok: reply{status: 201, body: domain.Message{}}, errors: []int{404, 429}},
	{method: "PUT", path: "/auth/conversations/{id}/read", tag: "conversations", access: signedIn,
		summary: "Mark the conversation read",
		params:  []*openapi3.Parameter{conversationParam}, ok: reply{body: readAllResponse{}}, errors: []int{404}},
	{method: "GET", path: "/auth/conversations/{id}/events", tag: "conversations", access: signedIn,
		summary: "Server-sent events: the conversation's messages, and the reply as it is written",
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

	{method: "GET", path: "/messages", tag: "messages", access: signedIn, summary: "Messages sent or received, newest first",
		params: []*openapi3.Parameter{conversationQuery}, paged: true, ok: reply{body: []domain.Message{}}},
	{method: "GET", path: "/messages/sent", tag: "messages", access: signedIn, summary: "Messages sent",
		params: []*openapi3.Parameter{conversationQuery}, paged: true, ok: reply{body: []domain.Message{}}},
	{method: "GET", path: "/messages/received", tag: "messages", access: signedIn, summary: "Messages received",
		params: []*openapi3.Parameter{conversationQuery}, paged: true, ok: reply{body: []domain.Message{}}},
	{method: "GET", path: "/messages/unread/count", tag: "messages", access: signedIn, summary: "How many received messages are unread",
		ok: reply{body: unreadCountResponse{}}},
	{method: "PUT", path: "/messages/read-all", tag: "messages", access: signedIn, summary: "Mark every received message read",
		ok: reply{body: readAllResponse{}}},
	{method: "POST", path: "/messages", tag: "messages", access: signedIn, summary: "Send a message",
		description: "To another user, or to the assistant: then it starts a turn and the reply is saved as a message to the sender. " +
			inboundLimitNote,
		body: sendRequest{}, ok: reply{status: 201, body: domain.Message{}}, errors: []int{404, 429}},
	{method: "GET", path: "/messages/{id}", tag: "messages", access: signedIn, summary: "One message",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Message{}}, errors: []int{404}},
	{method: "PUT", path: "/messages/{id}", tag: "messages", access: signedIn, summary: "Edit a message (sender only)",
		params: []*openapi3.Parameter{idParam}, body: editRequest{}, ok: reply{body: domain.Message{}}, errors: []int{403, 404}},
	{method: "PUT", path: "/messages/{id}/read", tag: "messages", access: signedIn, summary: "Mark a message read (recipient only)",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Message{}}, errors: []int{403, 404}},
	{method: "DELETE", path: "/messages/{id}", tag: "messages", access: signedIn, summary: "Delete a message (sender only)",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{403, 404}},

	{method: "POST", path: "/reports", tag: "reports", access: signedIn, summary: "File a report",
		body: reportRequest{}, ok: reply{status: 201, body: domain.Report{}}},
	{method: "GET", path: "/reports", tag: "reports", access: signedIn, summary: "The user's reports, newest first",
		params: []*openapi3.Parameter{reportStatusQuery}, paged: true, ok: reply{body: []domain.Report{}}},
	{method: "GET", path: "/reports/admin/all", tag: "reports", access: staff, summary: "Every report (support staff)",
		params: []*openapi3.Parameter{reportStatusQuery,
			openapi3.NewQueryParameter("reporter_id").WithSchema(openapi3.NewInt64Schema().WithMin(1))},
		paged: true, ok: reply{body: []domain.Report{}}},
	{method: "GET", path: "/reports/{id}", tag: "reports", access: signedIn, summary: "One report (its reporter or support staff)",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.Report{}}, errors: []int{404}},
	{method: "PUT", path: "/reports/{id}", tag: "reports", access: signedIn, summary: "Edit an open report (reporter only)",
		params: []*openapi3.Parameter{idParam}, body: reportUpdateRequest{}, ok: reply{body: domain.Report{}}, errors: []int{403, 404, 409}},
	{method: "POST", path: "/reports/{id}/comment", tag: "reports", access: staff, summary: "Comment; may move an open report to in_progress (support staff)",
		params: []*openapi3.Parameter{idParam}, body: commentRequest{}, ok: reply{body: domain.Report{}}, errors: []int{404, 409}},
	{method: "PUT", path: "/reports/{id}/resolve", tag: "reports", access: staff, summary: "Resolve a report (final; support staff)",
		params: []*openapi3.Parameter{idParam}, body: resolveRequest{}, optionalBody: true,
		ok: reply{body: domain.Report{}}, errors: []int{404, 409}},

	{method: "GET", path: "/support/conversations", tag: "support", access: staff,
		summary:     "The support inbox: conversations with the assistant, latest first",
		description: "Each with its user, who answers it (mode ai or human), the handoff's time, reason and agent, the last message and the user's messages the support team has not read.",
		params: []*openapi3.Parameter{openapi3.NewQueryParameter("mode").
			WithSchema(openapi3.NewStringSchema().WithEnum("ai", "human"))},
		paged: true, ok: reply{body: []domain.InboxEntry{}}},
	{method: "GET", path: "/support/events", tag: "support", access: staff,
		summary: "Server-sent events for a live inbox",
		description: "\"message\" (a message of any conversation with the assistant) and \"mode\" {conversation_id, mode}; it starts now. The stream ends with the session. " +
			streamLimitNote,
		ok: reply{media: mediaSSE, body: ""}, errors: []int{429}},
	{method: "GET", path: "/support/conversations/{id}/messages", tag: "support", access: staff,
		summary: "A conversation with the assistant, newest first; marks it read for the support team",
		params:  []*openapi3.Parameter{conversationParam}, paged: true,
		ok: reply{body: []domain.Message{}}, errors: []int{404}},
	{method: "POST", path: "/support/conversations/{id}/messages", tag: "support", access: staff,
		summary:     "Answer the user as a person",
		description: "Stored in the user's conversation with the assistant (agent_id says who wrote it) and delivered by its workflow through the channel the user last wrote from. A conversation the AI has is taken over.",
		params:      []*openapi3.Parameter{conversationParam}, body: agentReplyRequest{},
		ok: reply{status: 201, body: domain.Message{}}, errors: []int{404}},
	{method: "POST", path: "/support/conversations/{id}/takeover", tag: "support", access: staff,
		summary:     "Take the conversation over: the AI stops answering",
		description: "Accepted for the conversation's workflow, which applies it in order with the messages; a turn in flight is cancelled unless its reply is saved. The user is told a person will answer.",
		params:      []*openapi3.Parameter{conversationParam}, body: modeRequest{}, optionalBody: true,
		ok: reply{status: 202, body: modeAccepted{}}, errors: []int{404}},
	{method: "POST", path: "/support/conversations/{id}/resume", tag: "support", access: staff,
		summary: "Give the conversation back to the AI",
		params:  []*openapi3.Parameter{conversationParam}, body: modeRequest{}, optionalBody: true,
		ok: reply{status: 202, body: modeAccepted{}}, errors: []int{404}},
	{method: "GET", path: "/support/conversations/{id}/events", tag: "support", access: staff,
		summary:     "Server-sent events of one conversation, as on /auth/conversations/{id}/events, plus \"mode\"",
		description: streamLimitNote,
		params: []*openapi3.Parameter{conversationParam,
			openapi3.NewHeaderParameter("Last-Event-ID").WithSchema(openapi3.NewInt64Schema().WithMin(0)),
			openapi3.NewQueryParameter("after").WithSchema(openapi3.NewInt64Schema().WithMin(0))},
		ok: reply{media: mediaSSE, body: ""}, errors: []int{404, 429}},

	{method: "GET", path: "/auth/users", tag: "admin", access: superuserOnly, summary: "Users, with search",
		params: []*openapi3.Parameter{openapi3.NewQueryParameter("search").WithSchema(openapi3.NewStringSchema()).
			WithDescription("Part of the username, email or full name")},
		paged: true, ok: reply{body: []domain.User{}}},
	{method: "POST", path: "/auth/users", tag: "admin", access: superuserOnly, summary: "Create a user",
		body: newAccount{}, ok: reply{status: 201, body: domain.User{}}, errors: []int{409}},
	{method: "GET", path: "/auth/users/{id}", tag: "admin", access: superuserOnly, summary: "One user",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.User{}}, errors: []int{404}},
	{method: "DELETE", path: "/auth/users/{id}", tag: "admin", access: superuserOnly, summary: "Delete a user",
		description: "Their sessions, roles and messages go with them; their reports stay.",
		params:      []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404, 409}},
	{method: "PUT", path: "/auth/users/{id}/disable", tag: "admin", access: superuserOnly, summary: "Disable a user; their sessions stop working",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.User{}}, errors: []int{404, 409}},
	{method: "PUT", path: "/auth/users/{id}/enable", tag: "admin", access: superuserOnly, summary: "Enable a user",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.User{}}, errors: []int{404, 409}},
	{method: "PUT", path: "/auth/users/{id}/superuser", tag: "admin", access: superuserOnly, summary: "Set, or without a body toggle, superuser",
		params: []*openapi3.Parameter{idParam}, body: superuserRequest{}, optionalBody: true,
		ok: reply{body: domain.User{}}, errors: []int{404, 409}},
	{method: "GET", path: "/auth/users/{id}/roles", tag: "admin", access: superuserOnly, summary: "A user's roles",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: []domain.Role{}}, errors: []int{404}},
	{method: "GET", path: "/auth/users/{id}/usage", tag: "admin", access: superuserOnly,
		summary: "A user's LLM tokens today, and per day with ?days=",
		params:  []*openapi3.Parameter{idParam, usageDaysParam}, ok: reply{body: usageResponse{}}, errors: []int{404}},
	{method: "PUT", path: "/auth/users/{id}/roles", tag: "admin", access: superuserOnly, summary: "Replace a user's roles",
		params: []*openapi3.Parameter{idParam}, body: rolesRequest{}, ok: reply{body: []domain.Role{}}, errors: []int{404}},
	{method: "GET", path: "/auth/roles", tag: "admin", access: superuserOnly, summary: "Roles",
		ok: reply{body: []domain.Role{}}},
	{method: "POST", path: "/auth/roles", tag: "admin", access: superuserOnly, summary: "Create a role",
		body: roleRequest{}, ok: reply{status: 201, body: domain.Role{}}, errors: []int{409}},
	{method: "DELETE", path: "/auth/roles/{id}", tag: "admin", access: superuserOnly, summary: "Delete a role; its users lose it (built-in roles stay: 409)",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: messageResponse{}}, errors: []int{404, 409}},
	{method: "GET", path: "/auth/audit", tag: "admin", access: superuserOnly,
		summary:     "The audit log: administrative and support actions, newest first",
		description: "Each entry: who (actor_id), what (action), to which thing (target_type, target_id), from where (ip), changing what (changes).",
		params: []*openapi3.Parameter{
			openapi3.NewQueryParameter("actor_id").WithSchema(openapi3.NewInt64Schema().WithMin(1)),
			openapi3.NewQueryParameter("action").WithSchema(enumSchema(domain.AuditActions...)),
			openapi3.NewQueryParameter("since").WithSchema(openapi3.NewDateTimeSchema()).WithDescription("Entries at or after this time (RFC 3339)"),
		},
		paged: true, ok: reply{body: []domain.AuditEntry{}}},
	{method: "POST", path: "/auth/codec-session", tag: "admin", access: superuserOnly,
		summary: "Let this browser decode Temporal payloads in the Temporal Web UI",
		description: "Sets an HttpOnly, same-site cookie for /codec holding the session's access token; it stops working when the session ends. " +
			"In the Web UI, set the codec server to <API>/codec with \"include cross-origin credentials\"; the UI's origin must be in TEMPORAL_CODEC_CORS_ORIGINS.",
		ok: reply{body: messageResponse{}}},
	{method: "POST", path: "/auth/webhooks", tag: "webhooks", access: superuserOnly,
		summary: "Subscribe a URL to events; the signing secret is in this answer only",
		description: "Events: " + webhookEventNames() + ". Each event is POSTed as {id, type, created_at, data}, " +
			"signed X-Aimsg-Signature: t=<unix>,v1=<hex HMAC-SHA256 of \"<t>.<body>\" under the secret>, retried with backoff for WEBHOOK_GIVE_UP_MINUTES (24 h). " +
			"https and public addresses only, unless WEBHOOK_ALLOW_PRIVATE.",
		body: webhookRequest{}, ok: reply{status: 201, body: webhookCreated{}}},
	{method: "GET", path: "/auth/webhooks", tag: "webhooks", access: superuserOnly, summary: "Every subscription",
		ok: reply{body: []domain.WebhookSubscription{}}},
	{method: "GET", path: "/auth/webhooks/{id}", tag: "webhooks", access: superuserOnly, summary: "One subscription",
		params: []*openapi3.Parameter{idParam}, ok: reply{body: domain.WebhookSubscription{}}, errors: []int{404}},
	{method: "DELETE", path: "/auth/webhooks/{id}", tag: "webhooks", access: superuserOnly,
		summary: "End a subscription; its deliveries stop", params: []*openapi3.Parameter{idParam},
		ok: reply{body: messageResponse{}}, errors: []int{404}},
	{method: "GET", path: "/auth/webhooks/{id}/deliveries", tag: "webhooks", access: superuserOnly,
		summary: "A subscription's deliveries, newest first: state, attempts, the receiver's last answer",
		params:  []*openapi3.Parameter{idParam}, paged: true, ok: reply{body: []domain.WebhookDelivery{}}, errors: []int{404}},
	{method: "POST", path: "/codec/decode", tag: "admin", access: superuserOnly,
		summary:     "Temporal remote codec: payloads in clear",
		description: "Temporal's remote codec protocol (the Web UI's codec server, the CLI's --codec-endpoint). Payloads encrypted under any configured TEMPORAL_PAYLOAD_KEY key come back decrypted; others unchanged. Bearer token or the codec cookie.",
		body:        codecPayloads{}, ok: reply{body: codecPayloads{}}, errors: []int{400}},
	{method: "POST", path: "/codec/encode", tag: "admin", access: superuserOnly,
		summary: "Temporal remote codec: payloads encrypted with the current key",
		body:    codecPayloads{}, ok: reply{body: codecPayloads{}}, errors: []int{400}},
}

func webhookEventNames() string {
	names := make([]string, len(domain.WebhookEvents))
	for i, e := range domain.WebhookEvents {
		names[i] = string(e)
	}
	return strings.Join(names, ", ")
}

// codecPayloads is the body of Temporal's remote codec protocol: payloads
// as protobuf JSON (metadata values and data in base64).
type codecPayloads struct {
	Payloads []codecPayload `json:"payloads"`
}

type codecPayload struct {
	Metadata map[string]string `json:"metadata"`
	Data     string            `json:"data"`
}

// Request bodies the handlers read as forms or from other packages' types;
// described here with the fields aimsg reads.

// twilioInbound is the part of Twilio's incoming-message webhook aimsg reads.
type twilioInbound struct {
	MessageSid string `json:"MessageSid" binding:"required"`
	From       string `json:"From" binding:"required"`
	To         string `json:"To"`
	Body       string `json:"Body"`
}

// twilioStatusReport is the part of Twilio's status callback aimsg reads.
type twilioStatusReport struct {
	MessageSid    string `json:"MessageSid" binding:"required"`
	MessageStatus string `json:"MessageStatus" binding:"required"`
	ErrorCode     string `json:"ErrorCode"`
}

// telegramUpdate is the part of a Bot API Update aimsg reads.
type telegramUpdate struct {
	UpdateID int64            `json:"update_id" binding:"required"`
	Message  *telegramMessage `json:"message"`
}

type telegramMessage struct {
	MessageID int64        `json:"message_id"`
	Chat      telegramChat `json:"chat"`
	Text      string       `json:"text"`
}

type telegramChat struct {
	ID int64 `json:"id"`
}

// schemaNames are the names of the schemas whose Go names would read badly
// (FastAPI's names for the error bodies, so its clients recognise them).
var schemaNames = map[reflect.Type]string{
	reflect.TypeFor[errorBody]():       "HTTPError",
	reflect.TypeFor[validationBody]():  "HTTPValidationError",
	reflect.TypeFor[fieldError]():      "ValidationError",
	reflect.TypeFor[sessionResponse](): "Session",
	reflect.TypeFor[domain.Session]():  "SessionRecord",
	reflect.TypeFor[newAccount]():      "UserCreate",
	reflect.TypeFor[authResponse]():    "Token",
}

// enums are the values of the domain's string types.
var enums = map[reflect.Type]*openapi3.Schema{
	reflect.TypeFor[domain.Channel]():        enumSchema(domain.ChannelWeb, domain.ChannelTwilio, domain.ChannelTelegram),
	reflect.TypeFor[domain.ReportStatus]():   enumSchema(domain.ReportOpen, domain.ReportInProgress, domain.ReportResolved),
	reflect.TypeFor[domain.TurnStatus]():     enumSchema(domain.TurnPending, domain.TurnReplied, domain.TurnFailed, domain.TurnHuman),
	reflect.TypeFor[domain.Mode]():           enumSchema(domain.ModeAI, domain.ModeHuman),
	reflect.TypeFor[domain.AuditAction]():    enumSchema(domain.AuditActions...),
	reflect.TypeFor[domain.WebhookEvent]():   enumSchema(domain.WebhookEvents...),
	reflect.TypeFor[domain.DeliveryState]():  enumSchema(domain.WebhookPending, domain.WebhookDelivered, domain.WebhookFailed, domain.WebhookCancelled),
	reflect.TypeFor[domain.Permission]():     enumSchema(domain.PermSupport, domain.PermTriageReports),
	reflect.TypeFor[domain.DeliveryStatus](): enumSchema(domain.DeliveryPending, domain.DeliveryQueued, domain.DeliverySent, domain.DeliveryDelivered, domain.DeliveryUndelivered, domain.DeliveryFailed),
	reflect.TypeFor[domain.Badge]():          badgeSchema(),
}

// badgeSchema says what a badge vouches for, and that only the server sets it.
func badgeSchema() *openapi3.Schema {
	s := enumSchema(domain.BadgeAssistant, domain.BadgeStaff)
	s.Description = "Set by the server in the conversation list, never from input: \"assistant\" on the AI assistant's " +
		"system account, \"staff\" on superusers and holders of the agent role, absent on everyone else. " +
		"Clients show it as a mark of its own, which no name can imitate."
	return s
}

func enumSchema[T ~string](values ...T) *openapi3.Schema {
	s := openapi3.NewStringSchema()
	for _, v := range values {
		s.Enum = append(s.Enum, string(v))
	}
	return s
}

// openAPIJSON is the document as served, built once.
var openAPIJSON = sync.OnceValues(func() ([]byte, error) {
	doc, err := buildOpenAPI()
	if err != nil {
		return nil, err
	}
	return json.Marshal(doc)
})

// OpenAPI is the document of the API as a client reads it: the served JSON,
// loaded with its references resolved.
func OpenAPI() (*openapi3.T, error) {
	raw, err := openAPIJSON()
	if err != nil {
		return nil, err
	}
	return openapi3.NewLoader().LoadFromData(raw)
}

func (s *Server) openAPI(c *gin.Context) {
	raw, err := openAPIJSON()
	if err != nil {
		s.fail(c, err)
		return
	}
	c.Data(http.StatusOK, "application/json", raw)
}

func buildOpenAPI() (*openapi3.T, error) {
	b := &docBuilder{doc: &openapi3.T{
		OpenAPI: "3.0.3",
		Info: &openapi3.Info{
			Title:       "aimsg",
			Version:     "1.0.0",
			Description: "Messaging with an AI assistant over the web, SMS and Telegram; user-to-user messages, conversations and reports. Every turn of the assistant runs as a durable Temporal workflow.",
		},
		Paths: openapi3.NewPaths(),
		Components: &openapi3.Components{
			Schemas: openapi3.Schemas{},
			SecuritySchemes: openapi3.SecuritySchemes{
				"HTTPBearer": {Value: openapi3.NewJWTSecurityScheme().WithDescription("The access_token of a login or refresh")},
				"OAuth2PasswordBearer": {Value: &openapi3.SecurityScheme{Type: "oauth2",
					Description: "Log in with username and password to get a bearer token",
					Flows: &openapi3.OAuthFlows{Password: &openapi3.OAuthFlow{
						TokenURL: "/auth/login", Scopes: map[string]string{}}}}},
				"TwilioSignature": {Value: openapi3.NewSecurityScheme().WithType("apiKey").WithIn("header").
					WithName("X-Twilio-Signature").WithDescription("HMAC-SHA1 of the public URL and the form, with the Twilio auth token")},
				"TelegramSecretToken": {Value: openapi3.NewSecurityScheme().WithType("apiKey").WithIn("header").
					WithName("X-Telegram-Bot-Api-Secret-Token").WithDescription("The secret_token given to setWebhook")},
			},
		},
	}}
	for _, op := range operations {
		if err := b.add(op); err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", op.method, op.path, err)
		}
	}
	return b.doc, nil
}

type docBuilder struct {
	doc *openapi3.T
}

func (b *docBuilder) add(op operation) error {
	o := openapi3.NewOperation()
	o.Tags = []string{op.tag}
	o.Summary, o.Description = op.summary, op.description
	o.OperationID = operationID(op.method, op.path)
	o.Parameters = openapi3.NewParameters()
	for _, p := range op.params {
		o.Parameters = append(o.Parameters, &openapi3.ParameterRef{Value: p})
	}
	if op.paged {
		o.Parameters = append(o.Parameters,
			&openapi3.ParameterRef{Value: openapi3.NewQueryParameter("limit").
				WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(domain.MaxPageSize).WithDefault(domain.DefaultPageSize))},
			&openapi3.ParameterRef{Value: openapi3.NewQueryParameter("offset").
				WithSchema(openapi3.NewIntegerSchema().WithMin(0).WithDefault(0))})
	}
	switch op.access {
	case signedIn, superuserOnly, staff:
		o.Security = &openapi3.SecurityRequirements{{"HTTPBearer": {}}, {"OAuth2PasswordBearer": {}}}
	case twilioSigned:
		o.Security = &openapi3.SecurityRequirements{{"TwilioSignature": {}}}
	case telegramSigned:
		o.Security = &openapi3.SecurityRequirements{{"TelegramSecretToken": {}}}
	default:
		o.Security = &openapi3.SecurityRequirements{}
	}
	if op.body != nil {
		schema, err := b.schema(op.body, true)
		if err != nil {
			return err
		}
		content := openapi3.Content{}
		if op.access != twilioSigned {
			content["application/json"] = openapi3.NewMediaType().WithSchemaRef(schema)
		}
		if op.form {
			content["application/x-www-form-urlencoded"] = openapi3.NewMediaType().WithSchemaRef(schema)
		}
		o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().
			WithRequired(!op.optionalBody).WithContent(content)}
	}

	ok := op.ok
	if ok.status == 0 {
		ok.status = http.StatusOK
	}
	if ok.desc == "" {
		ok.desc = http.StatusText(ok.status)
	}
	answers := append([]reply{ok}, op.more...)
	for _, status := range b.errorStatuses(op) {
		if !slices.ContainsFunc(op.more, func(r reply) bool { return r.status == status }) {
			answers = append(answers, reply{status: status, body: b.errorBodyFor(status), desc: http.StatusText(status)})
		}
	}
	o.Responses = openapi3.NewResponses()
	o.Responses.Delete("default")
	for _, a := range answers {
		resp, err := b.response(a, op)
		if err != nil {
			return err
		}
		o.Responses.Set(strconv.Itoa(a.status), &openapi3.ResponseRef{Value: resp})
	}
	b.doc.AddOperation(op.path, op.method, o)
	return nil
}

// errorStatuses are the error answers an operation can give: those its
// inputs and access imply, then its own.
func (b *docBuilder) errorStatuses(op operation) []int {
	var out []int
	if op.access == signedIn || op.access == superuserOnly || op.access == staff {
		out = append(out, http.StatusUnauthorized)
	}
	if op.access != public && op.access != signedIn {
		out = append(out, http.StatusForbidden)
	}
	if op.body != nil || op.method != http.MethodGet {
		out = append(out, http.StatusRequestEntityTooLarge)
	}
	// Any operation refuses a query string no database could store.
	out = append(out, http.StatusUnprocessableEntity)
	for _, s := range op.errors {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	// Any operation may meet an unreachable database (503) or a bug (500).
	for _, s := range []int{http.StatusServiceUnavailable, http.StatusInternalServerError} {
		if !slices.Contains(out, s) {
			out = append(out, s)
		}
	}
	return out
}

func (b *docBuilder) errorBodyFor(status int) any {
	if status == http.StatusUnprocessableEntity {
		return validationBody{}
	}
	return errorBody{}
}

func (b *docBuilder) response(a reply, op operation) (*openapi3.Response, error) {
	resp := openapi3.NewResponse().WithDescription(a.desc)
	if a.body != nil {
		if a.media != "" {
			resp.Content = openapi3.NewContentWithSchema(openapi3.NewStringSchema(), []string{a.media})
		} else {
			schema, err := b.schema(a.body, false)
			if err != nil {
				return nil, err
			}
			resp.Content = openapi3.NewContentWithJSONSchemaRef(schema)
		}
	}
	headers := openapi3.Headers{}
	switch {
	case a.status == http.StatusUnauthorized:
		headers["WWW-Authenticate"] = headerOf(openapi3.NewStringSchema(), "Bearer")
	case a.status == http.StatusTooManyRequests:
		headers["Retry-After"] = headerOf(openapi3.NewIntegerSchema(), "Seconds to wait before the next attempt")
	case op.paged && a.status < 300:
		headers["X-Total-Count"] = headerOf(openapi3.NewIntegerSchema(), "Rows in the whole list")
	}
	if len(headers) > 0 {
		resp.Headers = headers
	}
	return resp, nil
}

func headerOf(s *openapi3.Schema, desc string) *openapi3.HeaderRef {
	return &openapi3.HeaderRef{Value: &openapi3.Header{Parameter: openapi3.Parameter{
		Description: desc, Schema: s.NewRef()}}}
}

// schema describes a Go type, adding the named structs to the components.
func (b *docBuilder) schema(v any, request bool) (*openapi3.SchemaRef, error) {
	return openapi3gen.NewSchemaRefForValue(v, b.doc.Components.Schemas,
		openapi3gen.CreateComponentSchemas(openapi3gen.ExportComponentSchemasOptions{
			ExportComponentSchemas: true, ExportTopLevelSchema: true}),
		openapi3gen.CreateTypeNameGenerator(schemaName),
		openapi3gen.SchemaCustomizer(func(_ string, t reflect.Type, tag reflect.StructTag, s *openapi3.Schema) error {
			return customize(t, tag, s, request)
		}))
}

// schemaName is a type's name in the document: exported, as clients name it.
func schemaName(t reflect.Type) string {
	if name, ok := schemaNames[t]; ok {
		return name
	}
	r := []rune(t.Name())
	if len(r) == 0 {
		return ""
	}
	r[0] = unicode.ToUpper(r[0])
	return string(r)
}

var timeType = reflect.TypeFor[time.Time]()

// customize adds what the Go type alone does not say: enums, the rules of
// the binding tags, required fields and nullable references.
func customize(t reflect.Type, tag reflect.StructTag, s *openapi3.Schema, request bool) error {
	if e, ok := enums[t]; ok {
		s.Enum = e.Enum
		if e.Description != "" {
			s.Description = e.Description
		}
	}
	applyBinding(tag.Get("binding"), t, s)
	if t.Kind() != reflect.Struct || t == timeType {
		return nil
	}
	for _, f := range jsonFields(t) {
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if request && hasRule(f.Tag.Get("binding"), "required") ||
			!request && !strings.Contains(opts, "omitempty") {
			s.Required = append(s.Required, name)
		}
		// A pointer to a struct is a $ref, next to which OpenAPI 3.0 ignores
		// nullable: say it with allOf.
		if f.Type.Kind() == reflect.Pointer && f.Type.Elem().Kind() == reflect.Struct && f.Type.Elem() != timeType {
			if ref := s.Properties[name]; ref != nil {
				s.Properties[name] = &openapi3.SchemaRef{Value: &openapi3.Schema{
					Nullable: true, AllOf: openapi3.SchemaRefs{ref}}}
			}
		}
	}
	return nil
}

// jsonFields are the fields of a struct that appear in its JSON, embedded
// structs flattened.
func jsonFields(t reflect.Type) []reflect.StructField {
	var out []reflect.StructField
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch {
		case f.Anonymous && name == "" && f.Type.Kind() == reflect.Struct:
			out = append(out, jsonFields(f.Type)...)
		case name != "" && name != "-" && f.IsExported():
			out = append(out, f)
		}
	}
	return out
}

func hasRule(binding, rule string) bool {
	for r := range strings.SplitSeq(binding, ",") {
		if r == rule {
			return true
		}
	}
	return false
}

// applyBinding turns validator rules into schema constraints.
func applyBinding(binding string, t reflect.Type, s *openapi3.Schema) {
	for rule := range strings.SplitSeq(binding, ",") {
		name, arg, _ := strings.Cut(rule, "=")
		n, _ := strconv.ParseUint(arg, 10, 64)
		switch {
		case name == "email":
			s.Format = "email"
		case name == "oneof":
			s.Enum = nil
			for v := range strings.FieldsSeq(arg) {
				s.Enum = append(s.Enum, v)
			}
		case (name == "min" || name == "max") && t.Kind() == reflect.String:
			if name == "min" {
				s.MinLength = n
			} else {
				s.MaxLength = &n
			}
		case (name == "min" || name == "max") && t.Kind() == reflect.Slice:
			if name == "min" {
				s.MinItems = n
			} else {
				s.MaxItems = &n
			}
		case name == "min":
			s.Min = ptr(float64(n))
		case name == "max":
			s.Max = ptr(float64(n))
		}
	}
}

func ptr[T any](v T) *T { return &v }

// operationID names an operation for code generators: get_messages_id.
func operationID(method, path string) string {
	var parts []string
	for p := range strings.SplitSeq(strings.Trim(path, "/"), "/") {
		p = strings.Trim(p, "{}")
		p = strings.NewReplacer("-", "_", ".", "_").Replace(p)
		if p != "" {
			parts = append(parts, p)
		}
	}
	if len(parts) == 0 {
		parts = []string{"root"}
	}
	return strings.ToLower(method) + "_" + strings.Join(parts, "_")
}
