package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"regexp"
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
// in the document without anyone editing it; the route table (routes.go)
// adds what the types cannot tell (paths, access, statuses), and the router
// is built from the same table. A test checks the document against the
// router both ways, and every response the tests receive against it.

// reply is one documented response.
type reply struct {
	status int
	body   any    // a value of the body's type; nil: no body
	media  string // "" is JSON
	desc   string
}

// Media types of the answers that are not JSON.
const (
	mediaTwiML = "text/xml"
	mediaSSE   = "text/event-stream"
	mediaHTML  = "text/html"
	mediaAny   = "*/*"
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
	fileParam    = openapi3.NewPathParameter("file").WithSchema(openapi3.NewStringSchema())
	channelParam = openapi3.NewPathParameter("channel").WithSchema(openapi3.NewStringSchema()).
			WithDescription("A channel added to this deployment")
	usageDaysParam = openapi3.NewQueryParameter("days").
			WithSchema(openapi3.NewIntegerSchema().WithMin(1).WithMax(maxUsageDays)).
			WithDescription("Also list the last N UTC days, today included, one entry per day")
	analyticsParams = []*openapi3.Parameter{
		openapi3.NewQueryParameter("from").WithSchema(openapi3.NewStringSchema()).
			WithDescription("Start: a UTC date (2026-12-01) or an RFC 3339 time; default 30 days before to"),
		openapi3.NewQueryParameter("to").WithSchema(openapi3.NewStringSchema()).
			WithDescription("End: a UTC date, included, or an RFC 3339 time, excluded; default today"),
		openapi3.NewQueryParameter("agent").WithSchema(openapi3.NewStringSchema()).
			WithDescription("Only episodes this agent answered last (empty: the built-in assistant)"),
		openapi3.NewQueryParameter("channel").WithSchema(openapi3.NewStringSchema()).
			WithDescription("Only episodes that began on this channel (web, twilio, telegram...)"),
	}
	peopleQueryParam = openapi3.NewQueryParameter("q").WithRequired(true).
				WithSchema(openapi3.NewStringSchema().WithMinLength(domain.MinPeopleQuery).WithMaxLength(domain.MaxPeopleQuery)).
				WithDescription("The start of a username or of a word of a name, or an exact email address")
	reportStatusQuery = openapi3.NewQueryParameter("status").
				WithSchema(enumSchema(domain.ReportOpen, domain.ReportInProgress, domain.ReportResolved)).
				WithDescription("Only reports with this status")
)

// streamLimitNote says how event streams are bounded.
const streamLimitNote = "A user holds at most STREAMS_PER_USER open streams (8 by default), an address STREAMS_PER_ADDRESS: " +
	"one more is refused with 429 and Retry-After."

// inboundLimitNote says how messages to the assistant are limited.
const inboundLimitNote = "Past INBOUND_MAX_PER_MINUTE messages to the assistant in a minute (20 by default) the answer is 429 with Retry-After and nothing is stored."

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
	// web, twilio, telegram, or a channel a deployment added.
	reflect.TypeFor[domain.Channel]():        openapi3.NewStringSchema().WithPattern(`^[a-z][a-z0-9_]{1,19}$`),
	reflect.TypeFor[domain.ReportStatus]():   enumSchema(domain.ReportOpen, domain.ReportInProgress, domain.ReportResolved),
	reflect.TypeFor[domain.TurnStatus]():     enumSchema(domain.TurnPending, domain.TurnReplied, domain.TurnFailed, domain.TurnHuman),
	reflect.TypeFor[domain.Mode]():           enumSchema(domain.ModeAI, domain.ModeHuman),
	reflect.TypeFor[domain.AuditAction]():    enumSchema(domain.AuditActions...),
	reflect.TypeFor[domain.WebhookEvent]():   enumSchema(domain.WebhookEvents...),
	reflect.TypeFor[domain.DeliveryState]():  enumSchema(domain.WebhookPending, domain.WebhookDelivered, domain.WebhookFailed, domain.WebhookCancelled),
	reflect.TypeFor[domain.Permission]():     enumSchema(domain.PermSupport, domain.PermTriageReports, domain.PermKnowledge),
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

// servedDoc holds the document as served once it is built. (Not a
// sync.OnceValues variable: the table it is built from serves it, and Go
// refuses a variable whose initialization refers to itself.)
var servedDoc struct {
	once sync.Once
	raw  []byte
	err  error
}

// openAPIJSON is the document as served, built once.
func openAPIJSON() ([]byte, error) {
	servedDoc.once.Do(func() {
		doc, err := buildOpenAPI()
		if err != nil {
			servedDoc.err = err
			return
		}
		servedDoc.raw, servedDoc.err = json.Marshal(doc)
	})
	return servedDoc.raw, servedDoc.err
}

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
	// A zero Server: the table's handlers are never called here.
	for _, rt := range (&Server{}).routeTable() {
		if err := b.add(rt); err != nil {
			return nil, fmt.Errorf("openapi: %s %s: %w", rt.method, rt.path, err)
		}
	}
	return b.doc, nil
}

type docBuilder struct {
	doc *openapi3.T
}

func (b *docBuilder) add(op route) error {
	o := openapi3.NewOperation()
	o.Tags = []string{op.tag}
	o.Summary, o.Description = op.summary, op.description
	path := docPath(op.path)
	o.OperationID = operationID(op.method, path)
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
	switch {
	case op.access.bearer():
		o.Security = &openapi3.SecurityRequirements{{"HTTPBearer": {}}, {"OAuth2PasswordBearer": {}}}
	case op.access == twilioSigned:
		o.Security = &openapi3.SecurityRequirements{{"TwilioSignature": {}}}
	case op.access == telegramSigned:
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
	if op.upload != nil {
		o.RequestBody = &openapi3.RequestBodyRef{Value: openapi3.NewRequestBody().WithRequired(true).
			WithContent(openapi3.Content{"multipart/form-data": openapi3.NewMediaType().WithSchema(op.upload)})}
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
	b.doc.AddOperation(path, op.method, o)
	return nil
}

// bearer says whether an access asks for a bearer token (the codec also
// takes its cookie, which the document leaves to the description).
func (a access) bearer() bool {
	return a == signedIn || a == superuserOnly || a == staff || a == codecSuperuser
}

// ginParam is a parameter of a path in gin's form: :id, or *file for the
// rest of the path.
var ginParam = regexp.MustCompile(`[:*](\w+)`)

// docPath is a route's path as the document writes it: /users/{id}.
func docPath(path string) string {
	return ginParam.ReplaceAllString(path, "{$1}")
}

// errorStatuses are the error answers an operation can give: those its
// inputs and access imply, then its own.
func (b *docBuilder) errorStatuses(op route) []int {
	var out []int
	if op.access.bearer() {
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

func (b *docBuilder) response(a reply, op route) (*openapi3.Response, error) {
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
