// Package config reads aimsg's settings from the environment, once, with the
// defaults listed in docs/configuration.md, and refuses values that cannot work.
package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/aimsg/aimsg/codec/keyring"
)

// Config is every setting of the service. It is built by Load and passed down.
type Config struct {
	// DatabaseURL is sqlite:///path or postgres(ql)://user@host:port/db.
	DatabaseURL string
	// SecretKey signs the JWTs; at least 32 bytes outside dev mode.
	SecretKey string
	// Mode says how strict the secret key rule is.
	Mode Mode

	LiteLLMBaseURL string
	LiteLLMAPIKey  string
	LiteLLMModel   string
	// LiteLLMFallback* name a second OpenAI-compatible endpoint a turn
	// asks when the first stays unavailable or refuses; no base URL, no
	// fallback. The model defaults to LiteLLMModel.
	LiteLLMFallbackBaseURL string
	LiteLLMFallbackAPIKey  string
	LiteLLMFallbackModel   string
	ChatHistoryMax         int
	// ChatSummaryEvery: past the history window, a conversation keeps a
	// summary of its older messages, refreshed every this many (0: none).
	ChatSummaryEvery int

	TwilioAccountSID  string
	TwilioAuthToken   string
	TwilioPhoneNumber string
	// TwilioMessagingServiceSID, when set, sends replies through a Messaging
	// Service instead of from TwilioPhoneNumber.
	TwilioMessagingServiceSID string
	// WhatsAppTemplateSID is the approved template (a Content SID, HX...)
	// a WhatsApp reply goes out as past the 24-hour window since the
	// person last wrote; empty: such a reply is not sent, and is recorded
	// failed (outside_whatsapp_window).
	WhatsAppTemplateSID string
	// DeliveryGiveUp is how long a reply's delivery is retried while its
	// channel is unavailable before it is recorded failed (gave_up).
	DeliveryGiveUp time.Duration
	// TwilioAPIBaseURL sends Twilio API calls elsewhere (a fake in tests);
	// empty is Twilio itself.
	TwilioAPIBaseURL string
	// PublicURL is where providers reach this API from outside (webhook
	// signatures are computed over it, not over the internal address).
	PublicURL string

	TelegramBotToken      string
	TelegramWebhookSecret string
	// TelegramBotUsername names the bot in t.me links.
	TelegramBotUsername string
	// TelegramAPIBaseURL is the Bot API server (a fake in tests).
	TelegramAPIBaseURL string

	// MediaDir holds the files inbound messages carry (pictures, voice
	// notes), for the worker that fetches them and the API that serves
	// them; MediaMaxBytes and MediaTypes bound what is kept. LLMVision
	// shows the pictures to the model; LiteLLMTranscribeModel transcribes
	// the voice notes.
	MediaDir               string
	MediaMaxBytes          int64
	MediaTypes             []string
	LLMVision              bool
	LiteLLMTranscribeModel string

	Host       string
	Port       int
	Domain     string
	SSLCert    string
	SSLKey     string
	LogsFolder string
	// LogLevel is the least severe level logged.
	LogLevel slog.Level
	// TrustedProxies are the proxies whose X-Forwarded-For is believed.
	TrustedProxies []string
	// CORSOrigins are the other origins (scheme://host[:port], or "*")
	// whose pages may call the API; none: same origin only.
	CORSOrigins []string
	// MaxBodyBytes bounds every request body read by the API.
	MaxBodyBytes int64

	TemporalAddress   string
	TemporalNamespace string
	TemporalTaskQueue string
	// TemporalGzip compresses the gRPC requests to Temporal: worth it over a
	// slow or metered link (Temporal Cloud), CPU spent for nothing on a
	// local network.
	TemporalGzip bool
	// TemporalPayloadKey encrypts what Temporal stores (TEMPORAL_PAYLOAD_KEY:
	// comma-separated "id:base64" AES-256 keys, the first one encrypting);
	// empty: payloads in clear.
	TemporalPayloadKey string
	// CodecOrigins are the Temporal Web UI origins whose pages may call the
	// API's codec endpoint with the operator's cookie.
	CodecOrigins []string
	// TemporalCLIPath is the temporal binary `aimsg dev` starts when no server answers.
	TemporalCLIPath string
	// TemporalDataDir holds the dev server's database file.
	TemporalDataDir string

	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	BcryptCost      int
	// Login throttles, over LoginFailureWindow: LoginMaxFailures failed
	// logins of one account from one client address block that pair;
	// LoginMaxFailuresPerAddress from one address, any accounts, block the
	// address; past LoginAccountDelayAfter failures of one account from
	// anywhere, the addresses that failed for it wait
	// LoginAccountDelay, doubled per further failure, at most
	// LoginAccountMaxDelay.
	LoginMaxFailures           int
	LoginFailureWindow         time.Duration
	LoginMaxFailuresPerAddress int
	LoginAccountDelayAfter     int
	LoginAccountDelay          time.Duration
	LoginAccountMaxDelay       time.Duration
	// RegistrationsPerAddress accounts may be registered from one client
	// address per RegistrationWindow (0: no limit).
	RegistrationsPerAddress int
	RegistrationWindow      time.Duration
	// InboundMaxPerMinute messages to the assistant per user and minute,
	// all channels together (0: no limit): past it the web gets 429, SMS
	// and Telegram messages are kept but not answered.
	InboundMaxPerMinute int
	// StreamsPerUser and StreamsPerAddress bound the open event streams
	// across API processes (0 per address: no bound).
	StreamsPerUser    int
	StreamsPerAddress int
	// AuthCacheTTL is how long an API instance trusts that a session it
	// checked is live (0: check the database on every request). Changes
	// made through an instance act on it at once; on other instances
	// within AuthCacheTTL.
	AuthCacheTTL time.Duration

	// LLMTimeout caps one whole LLM request that is not streamed (a
	// summary); a streamed answer is cut when no chunk of it came for
	// LLMIdleTimeout, and in any case after LLMStreamMax.
	LLMTimeout     time.Duration
	LLMIdleTimeout time.Duration
	LLMStreamMax   time.Duration
	// LLMUserDailyTokens caps a user's LLM tokens per UTC day (0: no cap);
	// past it turns answer LLMBudgetMessage without calling the LLM.
	LLMUserDailyTokens int64
	LLMBudgetMessage   string
	// TurnMaxLLMCalls bounds the agent loop of a turn; TurnMaxTransfers
	// the transfers between agents in one turn.
	TurnMaxLLMCalls  int
	TurnMaxTransfers int
	// TurnDebounce is how long a conversation waits after a message by
	// SMS, WhatsApp or Telegram for more before answering them together
	// (TURN_DEBOUNCE_MS); the web never waits.
	TurnDebounce time.Duration
	// ToolApprovalTimeout is how long a tool call marked approval:
	// required waits for a person's decision; ToolApprovalMessage tells
	// the user meanwhile.
	ToolApprovalTimeout time.Duration
	ToolApprovalMessage string
	// TurnLLMAttempts and TurnLLMRetryInterval are the LLM's retry budget;
	// past it the user gets an apology.
	TurnLLMAttempts      int
	TurnLLMRetryInterval time.Duration
	// HandoffMessage tells a user a person will answer them; HandoffIdle
	// gives a handed-off conversation back to the AI after that long
	// without a person's answer; HandoffOnLLMFailure hands off a turn whose
	// LLM stayed unavailable instead of apologising.
	HandoffMessage      string
	HandoffIdle         time.Duration
	HandoffOnLLMFailure bool
	// CSATAfter ends an episode the AI answered once the person has been
	// quiet that long (CSAT_AFTER_MINUTES); with CSATEnabled they are then
	// asked how it went, once per episode.
	CSATEnabled bool
	CSATAfter   time.Duration
	// LLMPrices are LLM_PRICES: US dollars per million prompt and
	// completion tokens, by model.
	LLMPrices map[string]LLMPrice
	// KnowledgeLanguage is the PostgreSQL text search configuration of
	// the knowledge base. KnowledgeRequired answers only from it: a reply
	// that cites no article becomes KnowledgeNoAnswerMessage, or, with
	// KnowledgeNoAnswer "handoff", a handoff. KnowledgeMaxUpload bounds an
	// import request, in bytes.
	KnowledgeLanguage        string
	KnowledgeRequired        bool
	KnowledgeNoAnswerMessage string
	KnowledgeNoAnswer        string
	KnowledgeMaxUpload       int64
	// AgentsFile is AGENTS_FILE: a YAML file of agents applied (created or
	// updated, never deleted) when serve and dev start; empty: none.
	AgentsFile string
	// MCPServers are the MCP servers whose tools agents may call
	// (MCP_SERVERS, a JSON list); the toolservers package connects to them.
	MCPServers []MCPServer
	// ReconcileInterval is how often the worker looks for messages whose
	// turn was never started.
	ReconcileInterval time.Duration
	// WebhookAllowPrivate lets outbound webhooks go to loopback and private
	// addresses, and over plain http (tests, a receiver on the same network).
	WebhookAllowPrivate bool
	// WebhookRetry is the wait before a delivery's second attempt, doubled
	// for each further one up to an hour; WebhookGiveUp ends its tries and
	// disables a subscription that failed that long.
	WebhookRetry  time.Duration
	WebhookGiveUp time.Duration
	// WebhookDispatch is how often workers look for new webhook events.
	WebhookDispatch time.Duration
	// WorkerActivities and WorkerWorkflowTasks cap what one worker runs at once.
	WorkerActivities    int
	WorkerWorkflowTasks int
	// WorkerStopTimeout is how long a stopping worker lets its running
	// activities finish; 0 stops them at once (Temporal retries them on
	// another worker once their heartbeat is missed).
	WorkerStopTimeout time.Duration
	// WorkerMetricsAddr is where `aimsg worker` serves /metrics; empty: nowhere.
	WorkerMetricsAddr string
	// MetricsAddr is where `aimsg serve` and `aimsg dev` serve /metrics, a
	// listener of its own off the public port; empty (METRICS_ADDR=off):
	// nowhere.
	MetricsAddr string
	// MetricsToken, when set, makes the API's own port serve /metrics to
	// requests bearing it (Authorization: Bearer); empty: that port
	// answers 404 there.
	MetricsToken string
	// WorkerDeployment and WorkerBuildID put the worker under Temporal's
	// Worker Versioning (the names the Temporal Worker Controller sets);
	// empty, the default: an unversioned worker.
	WorkerDeployment string
	WorkerBuildID    string
	// PprofAddr is where serve and worker serve Go's profiles
	// (/debug/pprof/); empty, the default: nowhere.
	PprofAddr string
	// OTLPEndpoint is the OTLP/HTTP collector traces go to (its base URL,
	// OpenTelemetry's OTEL_EXPORTER_OTLP_ENDPOINT); empty: tracing is off.
	OTLPEndpoint string
}

// minSecretKeyLen is the shortest HS256 key accepted: 256 bits.
const minSecretKeyLen = 32

// DefaultMetricsAddr is where the API serves its metrics unless told
// otherwise: this machine only (Prometheus' exporter port range).
const DefaultMetricsAddr = "127.0.0.1:9464"

// minMetricsTokenLen is the shortest METRICS_TOKEN accepted: the token
// opens /metrics on the public port, so it must not be guessable.
const minMetricsTokenLen = 16

// placeholderSecrets are keys found in examples and tutorials; a server
// signing tokens with one of them would accept forged tokens.
var placeholderSecrets = []string{
	"your-secret-key-here-change-in-production",
	"your-secret-key",
	"change-me",
	"changeme",
	"secret",
	"supersecret",
	"dev-secret-key-not-for-production-use!!",
}

// DevSecretKey signs tokens under `aimsg dev` when SECRET_KEY is unset. It is
// refused everywhere else.
const DevSecretKey = "dev-secret-key-not-for-production-use!!"

// Getenv is the signature of os.Getenv, passed in so tests control the environment.
type Getenv func(string) string

// Mode is what a command needs from the configuration.
type Mode int

const (
	// Production requires a strong SECRET_KEY.
	Production Mode = iota
	// Dev (`aimsg dev` on a laptop) signs with DevSecretKey when SECRET_KEY is unset.
	Dev
	// NoTokens is for commands that never sign or check tokens (worker,
	// migrate, createsuperuser): SECRET_KEY is not needed there.
	NoTokens
)

// Load reads the configuration for a command of the given mode.
func Load(getenv Getenv, mode Mode) (Config, error) {
	r := reader{getenv: getenv}
	c := Config{
		DatabaseURL:                r.str("DATABASE_URL", "sqlite:///./backend.db"),
		SecretKey:                  r.str("SECRET_KEY", ""),
		Mode:                       mode,
		LiteLLMBaseURL:             r.url("LITELLM_BASEURL", "http://localhost:5678"),
		LiteLLMAPIKey:              r.str("LITELLM_API_KEY", "sk-...."),
		LiteLLMModel:               r.str("LITELLM_MODEL", "openai/gpt-4o-mini"),
		LiteLLMFallbackBaseURL:     r.optionalURL("LITELLM_FALLBACK_BASEURL"),
		LiteLLMFallbackAPIKey:      r.str("LITELLM_FALLBACK_API_KEY", ""),
		ChatSummaryEvery:           r.intRange("CHAT_SUMMARY_EVERY", 20, 0, 200),
		ChatHistoryMax:             r.intRange("CHAT_HISTORY_MAX", 50, 1, 1000),
		TwilioAccountSID:           r.str("TWILIO_ACCOUNT_SID", ""),
		TwilioAuthToken:            r.str("TWILIO_AUTH_TOKEN", ""),
		TwilioPhoneNumber:          r.str("TWILIO_PHONE_NUMBER", ""),
		TwilioAPIBaseURL:           r.str("TWILIO_API_BASE_URL", ""),
		TwilioMessagingServiceSID:  r.str("TWILIO_MESSAGING_SERVICE_SID", ""),
		WhatsAppTemplateSID:        r.match("WHATSAPP_TEMPLATE_SID", "", contentSID, "a Twilio Content SID (HX and 32 hex digits)"),
		DeliveryGiveUp:             r.minutes("DELIVERY_GIVE_UP_MINUTES", 15, 0.05, 24*60),
		TelegramBotToken:           r.str("TELEGRAM_BOT_TOKEN", ""),
		TelegramWebhookSecret:      r.str("TELEGRAM_WEBHOOK_SECRET", ""),
		TelegramBotUsername:        r.str("TELEGRAM_BOT_USERNAME", ""),
		TelegramAPIBaseURL:         strings.TrimSuffix(r.str("TELEGRAM_API_BASE_URL", "https://api.telegram.org"), "/"),
		MediaDir:                   r.str("MEDIA_DIR", ".data/media"),
		MediaMaxBytes:              int64(r.intRange("MEDIA_MAX_BYTES", 5<<20, 1024, 100<<20)),
		MediaTypes:                 r.mediaTypes("MEDIA_TYPES"),
		LLMVision:                  r.choice("LLM_VISION", "false", "true") == "true",
		LiteLLMTranscribeModel:     r.str("LITELLM_TRANSCRIBE_MODEL", "whisper-1"),
		Host:                       r.str("AI_MESSAGE_HOST", "0.0.0.0"),
		Port:                       r.intRange("AI_MESSAGE_PORT", 8000, 0, 65535),
		Domain:                     r.str("AI_MESSAGE_DOMAIN", "localhost"),
		SSLCert:                    r.str("AI_MESSAGE_SSL_CERT", "ssl/cert.pem"),
		SSLKey:                     r.str("AI_MESSAGE_SSL_KEY", "ssl/key.pem"),
		LogsFolder:                 r.str("AI_MESSAGE_LOGS_FOLDER", "logs"),
		LogLevel:                   r.level("LOG_LEVEL", slog.LevelInfo),
		TrustedProxies:             r.list("AI_MESSAGE_TRUSTED_PROXIES", []string{"127.0.0.1", "::1"}),
		CORSOrigins:                r.origins("AI_MESSAGE_CORS_ORIGINS"),
		MaxBodyBytes:               int64(r.intRange("AI_MESSAGE_MAX_BODY_BYTES", 1<<20, 1024, 64<<20)),
		TemporalAddress:            r.hostPort("TEMPORAL_ADDRESS", "127.0.0.1:7233"),
		TemporalNamespace:          r.str("TEMPORAL_NAMESPACE", "default"),
		TemporalTaskQueue:          r.str("TEMPORAL_TASK_QUEUE", "aimsg"),
		TemporalGzip:               r.choice("TEMPORAL_GRPC_COMPRESSION", "none", "gzip") == "gzip",
		TemporalPayloadKey:         r.str("TEMPORAL_PAYLOAD_KEY", ""),
		CodecOrigins:               r.origins("TEMPORAL_CODEC_CORS_ORIGINS"),
		TemporalCLIPath:            r.str("TEMPORAL_CLI_PATH", filepath.Join("bin", "temporal")),
		TemporalDataDir:            r.str("TEMPORAL_DATA_DIR", ".data"),
		AccessTokenTTL:             time.Duration(r.intRange("ACCESS_TOKEN_EXPIRE_MINUTES", 30, 1, 24*60)) * time.Minute,
		RefreshTokenTTL:            time.Duration(r.intRange("REFRESH_TOKEN_EXPIRE_DAYS", 7, 1, 365)) * 24 * time.Hour,
		BcryptCost:                 r.intRange("BCRYPT_COST", 12, 10, 16),
		LoginMaxFailures:           r.intRange("LOGIN_MAX_FAILURES", 10, 1, 1000),
		LoginFailureWindow:         time.Duration(r.intRange("LOGIN_FAILURE_WINDOW_MINUTES", 15, 1, 24*60)) * time.Minute,
		LoginMaxFailuresPerAddress: r.intRange("LOGIN_MAX_FAILURES_PER_ADDRESS", 100, 1, 100000),
		LoginAccountDelayAfter:     r.intRange("LOGIN_ACCOUNT_DELAY_AFTER", 10, 1, 100000),
		LoginAccountDelay:          time.Duration(r.intRange("LOGIN_ACCOUNT_DELAY_SECONDS", 1, 1, 3600)) * time.Second,
		LoginAccountMaxDelay:       time.Duration(r.intRange("LOGIN_ACCOUNT_MAX_DELAY_SECONDS", 300, 1, 24*3600)) * time.Second,
		RegistrationsPerAddress:    r.intRange("REGISTRATIONS_PER_ADDRESS", 10, 0, 1000000),
		RegistrationWindow:         time.Duration(r.intRange("REGISTRATION_WINDOW_MINUTES", 60, 1, 7*24*60)) * time.Minute,
		InboundMaxPerMinute:        r.intRange("INBOUND_MAX_PER_MINUTE", 20, 0, 100000),
		StreamsPerUser:             r.intRange("STREAMS_PER_USER", 8, 1, 10000),
		StreamsPerAddress:          r.intRange("STREAMS_PER_ADDRESS", 100, 0, 1000000),
		AuthCacheTTL:               time.Duration(r.intRange("AUTH_CACHE_MS", 1000, 0, 60000)) * time.Millisecond,
		LLMTimeout:                 time.Duration(r.intRange("LLM_TIMEOUT_SECONDS", 60, 1, 600)) * time.Second,
		LLMIdleTimeout:             time.Duration(r.intRange("LLM_IDLE_TIMEOUT_SECONDS", 20, 1, 600)) * time.Second,
		LLMStreamMax:               time.Duration(r.intRange("LLM_STREAM_MAX_SECONDS", 300, 1, 3600)) * time.Second,
		LLMUserDailyTokens:         int64(r.intRange("LLM_USER_DAILY_TOKENS", 0, 0, 1<<40)),
		LLMBudgetMessage: r.str("LLM_BUDGET_MESSAGE",
			"You have used today's allowance of the assistant. It will answer again tomorrow (UTC)."),
		TurnMaxLLMCalls:     r.intRange("TURN_MAX_LLM_CALLS", 5, 1, 20),
		TurnMaxTransfers:    r.intRange("TURN_MAX_TRANSFERS", 3, 1, 20),
		TurnDebounce:        time.Duration(r.intRange("TURN_DEBOUNCE_MS", 1500, 0, 60000)) * time.Millisecond,
		ToolApprovalTimeout: r.minutes("TOOL_APPROVAL_TIMEOUT_MINUTES", 60, 0.05, 7*24*60),
		ToolApprovalMessage: r.str("TOOL_APPROVAL_MESSAGE",
			"I've asked the support team to approve this. I'll carry on as soon as they decide."),
		TurnLLMAttempts:      r.intRange("TURN_LLM_ATTEMPTS", 5, 1, 50),
		TurnLLMRetryInterval: time.Duration(r.intRange("TURN_LLM_RETRY_MS", 1000, 10, 60000)) * time.Millisecond,
		HandoffMessage:       r.str("HANDOFF_MESSAGE", "A person will answer you here."),
		HandoffIdle:          r.minutes("HANDOFF_IDLE_MINUTES", 60, 0.05, 7*24*60),
		HandoffOnLLMFailure:  r.choice("HANDOFF_ON_LLM_FAILURE", "false", "true") == "true",
		CSATEnabled:          r.choice("CSAT_ENABLED", "false", "true") == "true",
		CSATAfter:            r.minutes("CSAT_AFTER_MINUTES", 30, 0.05, 7*24*60),
		LLMPrices:            r.prices("LLM_PRICES"),
		KnowledgeLanguage:    r.match("KNOWLEDGE_LANGUAGE", "english", textSearchConfig, "a text search configuration name (english, german, simple...)"),
		KnowledgeRequired:    r.choice("KNOWLEDGE_REQUIRED", "false", "true") == "true",
		KnowledgeNoAnswerMessage: r.str("KNOWLEDGE_NO_ANSWER_MESSAGE",
			"Sorry, I couldn't find that in our help articles. Could you ask in other words, or ask for a person?"),
		KnowledgeNoAnswer:   r.choice("KNOWLEDGE_NO_ANSWER", "reply", "handoff"),
		KnowledgeMaxUpload:  int64(r.intRange("KNOWLEDGE_MAX_UPLOAD_MB", 20, 1, 1024)) << 20,
		AgentsFile:          r.str("AGENTS_FILE", ""),
		MCPServers:          r.mcpServers("MCP_SERVERS"),
		ReconcileInterval:   time.Duration(r.intRange("TURN_RECONCILE_SECONDS", 30, 1, 3600)) * time.Second,
		WebhookAllowPrivate: r.choice("WEBHOOK_ALLOW_PRIVATE", "false", "true") == "true",
		WebhookRetry:        time.Duration(r.intRange("WEBHOOK_RETRY_MS", 10000, 10, 3600000)) * time.Millisecond,
		WebhookGiveUp:       r.minutes("WEBHOOK_GIVE_UP_MINUTES", 24*60, 0.05, 7*24*60),
		WebhookDispatch:     time.Duration(r.intRange("WEBHOOK_DISPATCH_MS", 500, 10, 60000)) * time.Millisecond,
		WorkerActivities:    r.intRange("WORKER_MAX_CONCURRENT_ACTIVITIES", 200, 1, 10000),
		WorkerStopTimeout:   time.Duration(r.intRange("WORKER_STOP_TIMEOUT_SECONDS", 0, 0, 3600)) * time.Second,
		WorkerWorkflowTasks: r.intRange("WORKER_MAX_CONCURRENT_WORKFLOW_TASKS", 200, 2, 10000),
		WorkerMetricsAddr:   r.str("WORKER_METRICS_ADDR", "0.0.0.0:9090"),
		MetricsAddr:         r.sideAddr("METRICS_ADDR", DefaultMetricsAddr),
		MetricsToken:        r.str("METRICS_TOKEN", ""),
		WorkerDeployment:    r.str("TEMPORAL_DEPLOYMENT_NAME", ""),
		WorkerBuildID:       r.str("TEMPORAL_WORKER_BUILD_ID", ""),
		PprofAddr:           r.str("PPROF_ADDR", ""),
		OTLPEndpoint:        r.optionalURL("OTEL_EXPORTER_OTLP_ENDPOINT"),
	}
	c.PublicURL = strings.TrimSuffix(r.str("AI_MESSAGE_PUBLIC_URL", "https://"+c.Domain), "/")
	c.LiteLLMFallbackModel = r.str("LITELLM_FALLBACK_MODEL", c.LiteLLMModel)
	c.checkDatabaseURL(&r)
	if slices.Contains(c.CodecOrigins, "*") {
		r.fail("TEMPORAL_CODEC_CORS_ORIGINS", "cannot be *: the codec endpoint answers with credentials, name the Web UI's origin")
	}
	if _, err := keyring.Parse(c.TemporalPayloadKey); err != nil {
		r.fail("TEMPORAL_PAYLOAD_KEY", err.Error())
	}
	if (c.WorkerDeployment == "") != (c.WorkerBuildID == "") {
		r.fail("TEMPORAL_WORKER_BUILD_ID", "and TEMPORAL_DEPLOYMENT_NAME are set together (Worker Versioning) or not at all")
	}
	if n := len(c.MetricsToken); n > 0 && n < minMetricsTokenLen {
		r.fail("METRICS_TOKEN", fmt.Sprintf("is %d bytes long, at least %d are required (generate one with `openssl rand -hex 32`)", n, minMetricsTokenLen))
	}
	c.checkSecretKey(&r)
	if err := errors.Join(r.errs...); err != nil {
		return Config{}, fmt.Errorf("invalid configuration: %w", err)
	}
	return c, nil
}

// ListenAddr is the address the API binds to.
func (c Config) ListenAddr() string {
	return net.JoinHostPort(c.Host, strconv.Itoa(c.Port))
}

// TLSFiles reports whether both the certificate and the key exist, in which
// case the API serves HTTPS.
func (c Config) TLSFiles() bool {
	return fileExists(c.SSLCert) && fileExists(c.SSLKey)
}

func fileExists(path string) bool {
	if path == "" {
		return false
	}
	st, err := os.Stat(path)
	return err == nil && !st.IsDir()
}

func (c *Config) checkDatabaseURL(r *reader) {
	if _, _, err := ParseDatabaseURL(c.DatabaseURL); err != nil {
		r.fail("DATABASE_URL", err.Error())
	}
}

func (c *Config) checkSecretKey(r *reader) {
	switch {
	case c.Mode == NoTokens:
		return
	case c.Mode == Dev && c.SecretKey == "":
		c.SecretKey = DevSecretKey
		return
	}
	switch {
	case c.SecretKey == "":
		r.fail("SECRET_KEY", "is required (at least 32 bytes; generate one with `openssl rand -hex 32`)")
	case len(c.SecretKey) < minSecretKeyLen:
		r.fail("SECRET_KEY", fmt.Sprintf("is %d bytes long, at least %d are required", len(c.SecretKey), minSecretKeyLen))
	case c.Mode != Dev && isPlaceholder(c.SecretKey):
		r.fail("SECRET_KEY", "is a well-known placeholder; generate a random one")
	}
}

func isPlaceholder(key string) bool {
	for _, p := range placeholderSecrets {
		if strings.EqualFold(key, p) {
			return true
		}
	}
	return false
}

// Dialect names the SQL dialect of a database URL.
type Dialect string

// The supported dialects.
const (
	Postgres Dialect = "postgres"
	SQLite   Dialect = "sqlite"
)

// ParseDatabaseURL splits a DATABASE_URL into its dialect and the DSN its
// driver takes. SQLite URLs follow the SQLAlchemy form of the spec:
// sqlite:///relative.db, sqlite:////absolute.db, sqlite:///:memory:.
func ParseDatabaseURL(raw string) (Dialect, string, error) {
	switch {
	case strings.HasPrefix(raw, "sqlite://"):
		rest := strings.TrimPrefix(raw, "sqlite://")
		if !strings.HasPrefix(rest, "/") || len(rest) < 2 {
			return "", "", errors.New("sqlite URL must look like sqlite:///path/to/file.db")
		}
		path, query, _ := strings.Cut(rest[1:], "?")
		if path == "" {
			return "", "", errors.New("sqlite URL has no file path")
		}
		if query != "" {
			path += "?" + query
		}
		return SQLite, path, nil
	case strings.HasPrefix(raw, "postgres://"), strings.HasPrefix(raw, "postgresql://"),
		strings.HasPrefix(raw, "postgresql+"):
		u, err := url.Parse(raw)
		if err != nil {
			return "", "", fmt.Errorf("postgres URL: %w", err)
		}
		// SQLAlchemy spells the driver into the scheme (postgresql+psycopg2).
		u.Scheme = "postgres"
		if u.Host == "" {
			return "", "", errors.New("postgres URL has no host")
		}
		return Postgres, u.String(), nil
	default:
		return "", "", errors.New("must start with sqlite:/// or postgresql://")
	}
}

// reader collects every invalid variable so that one start reports them all.
type reader struct {
	getenv Getenv
	errs   []error
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg))
}

func (r *reader) str(name, def string) string {
	if v := strings.TrimSpace(r.getenv(name)); v != "" {
		return v
	}
	return def
}

func (r *reader) intRange(name string, def, lo, hi int) int {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("must be a whole number from %d to %d, got %q", lo, hi, v))
		return def
	}
	return n
}

// minutes is a duration given in minutes, decimals allowed ("0.5").
func (r *reader) minutes(name string, def, lo, hi float64) time.Duration {
	v := r.str(name, "")
	n := def
	if v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f < lo || f > hi {
			r.fail(name, fmt.Sprintf("must be a number of minutes from %g to %g, got %q", lo, hi, v))
		} else {
			n = f
		}
	}
	return time.Duration(n * float64(time.Minute)).Round(time.Millisecond)
}

// contentSID is the form of a Twilio Content SID (a message template), or
// nothing.
var contentSID = regexp.MustCompile(`^(HX[0-9a-fA-F]{32})?$`)

// textSearchConfig is the form of a PostgreSQL text search configuration
// name (domain checks that the database has it).
var textSearchConfig = regexp.MustCompile(`^[a-z_]{1,63}$`)

// match is a value of the form re, described as what in the error.
func (r *reader) match(name, def string, re *regexp.Regexp, what string) string {
	v := r.str(name, def)
	if !re.MatchString(v) {
		r.fail(name, fmt.Sprintf("must be %s, got %q", what, v))
		return def
	}
	return v
}

// choice is one of the allowed values (the first is the default).
func (r *reader) choice(name string, allowed ...string) string {
	v := r.str(name, allowed[0])
	if !slices.Contains(allowed, v) {
		r.fail(name, fmt.Sprintf("must be one of %s, got %q", strings.Join(allowed, ", "), v))
		return allowed[0]
	}
	return v
}

func (r *reader) url(name, def string) string {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		r.fail(name, fmt.Sprintf("must be an http(s) URL, got %q", v))
	}
	return v
}

// optionalURL is an http(s) URL or empty.
func (r *reader) optionalURL(name string) string {
	if r.str(name, "") == "" {
		return ""
	}
	return r.url(name, "")
}

// level is a log level name: debug, info, warn or error.
func (r *reader) level(name string, def slog.Level) slog.Level {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	var l slog.Level
	if err := l.UnmarshalText([]byte(v)); err != nil {
		r.fail(name, fmt.Sprintf("must be debug, info, warn or error, got %q", v))
		return def
	}
	return l
}

func (r *reader) hostPort(name, def string) string {
	v := r.str(name, def)
	if _, port, err := net.SplitHostPort(v); err != nil || port == "" {
		r.fail(name, fmt.Sprintf("must be host:port, got %q", v))
	}
	return v
}

// sideAddr is the host:port of an operator endpoint, or "off" for none
// (an empty variable takes the default).
func (r *reader) sideAddr(name, def string) string {
	if strings.EqualFold(r.str(name, def), "off") {
		return ""
	}
	return r.hostPort(name, def)
}

// origins is a comma-separated list of web origins: "*", or
// scheme://host[:port] with nothing after.
func (r *reader) origins(name string) []string {
	out := r.list(name, nil)
	for _, o := range out {
		if o == "*" {
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Path != "" || u.RawQuery != "" || u.User != nil {
			r.fail(name, fmt.Sprintf("%q is not an origin like https://app.example.com", o))
		}
	}
	return out
}

func (r *reader) list(name string, def []string) []string {
	v := r.str(name, "")
	if v == "" {
		return def
	}
	var out []string
	for _, p := range strings.Split(v, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// MCPServer is one entry of MCP_SERVERS: an MCP server reached over
// streamable HTTP whose tools agents list as "<Name>.<tool>".
type MCPServer struct {
	// Name prefixes its tools' names: a slug, unique among the servers.
	Name string
	// URL is its streamable HTTP endpoint.
	URL string
	// Headers maps a request header to the NAME of the environment
	// variable holding its value, so that secrets stay in the environment
	// and out of the database and of workflow histories.
	Headers map[string]string
	// Timeout bounds one listing of its tools or one call of a tool.
	Timeout time.Duration
	// Tools, when not nil, are the only tools of the server offered.
	Tools []string
}

// mcpServerName is the form of an MCP server's name: the prefix of its
// tools' names, so no dot and nothing an LLM's function name refuses.
var mcpServerName = regexp.MustCompile(`^[a-z][a-z0-9_]{0,31}$`)

var (
	// mcpToolName is the form the MCP specification gives tool names.
	mcpToolName = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,128}$`)
	headerName  = regexp.MustCompile(`^[A-Za-z0-9-]{1,64}$`)
	envName     = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]{0,127}$`)
)

// transportHeaders are set by the MCP transport itself; a configured value
// would break the protocol.
var transportHeaders = []string{"accept", "content-type", "content-length", "host",
	"mcp-session-id", "mcp-protocol-version", "last-event-id"}

// mcpServerJSON is an entry of MCP_SERVERS as written.
type mcpServerJSON struct {
	Name           string            `json:"name"`
	URL            string            `json:"url"`
	Headers        map[string]string `json:"headers"`
	TimeoutSeconds *int              `json:"timeout_seconds"`
	Tools          []string          `json:"tools"`
}

// mcpServers reads a JSON list of MCP servers. Whether the headers'
// variables are set is checked by the worker, which alone needs them.
func (r *reader) mcpServers(name string) []MCPServer {
	v := r.str(name, "")
	if v == "" {
		return nil
	}
	var raw []mcpServerJSON
	dec := json.NewDecoder(strings.NewReader(v))
	// A misspelt field ("tool") would otherwise quietly offer every tool.
	dec.DisallowUnknownFields()
	err := dec.Decode(&raw)
	if _, after := dec.Token(); err == nil && after != io.EOF {
		err = errors.New("text after the list")
	}
	if err != nil {
		r.fail(name, fmt.Sprintf(`must be a JSON list like [{"name": "billing", "url": "https://billing.internal/mcp"}]: %v`, err))
		return nil
	}
	var out []MCPServer
	seen := map[string]bool{}
	for i, s := range raw {
		problems := s.problems()
		if seen[s.Name] {
			problems = append(problems, "name is used twice")
		}
		seen[s.Name] = true
		for _, p := range problems {
			r.fail(name, fmt.Sprintf("server %d (%q): %s", i+1, s.Name, p))
		}
		if len(problems) > 0 {
			continue
		}
		timeout := 30
		if s.TimeoutSeconds != nil {
			timeout = *s.TimeoutSeconds
		}
		out = append(out, MCPServer{Name: s.Name, URL: s.URL, Headers: s.Headers,
			Timeout: time.Duration(timeout) * time.Second, Tools: s.Tools})
	}
	return out
}

// problems lists what is wrong with one server's entry.
func (s mcpServerJSON) problems() []string {
	var out []string
	if !mcpServerName.MatchString(s.Name) {
		out = append(out, "name must be 1 to 32 lower-case letters, digits or '_', starting with a letter")
	}
	u, err := url.Parse(s.URL)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		out = append(out, fmt.Sprintf("url must be an http(s) URL, got %q", s.URL))
	case u.User != nil:
		out = append(out, "url must not hold credentials: name an environment variable under headers")
	}
	if t := s.TimeoutSeconds; t != nil && (*t < 1 || *t > 300) {
		out = append(out, fmt.Sprintf("timeout_seconds must be from 1 to 300, got %d", *t))
	}
	lower := map[string]bool{}
	for _, h := range slices.Sorted(maps.Keys(s.Headers)) {
		env := s.Headers[h]
		switch {
		case !headerName.MatchString(h):
			out = append(out, fmt.Sprintf("header %q is not a header name", h))
		case slices.Contains(transportHeaders, strings.ToLower(h)):
			out = append(out, fmt.Sprintf("header %s is set by the MCP transport", h))
		case lower[strings.ToLower(h)]:
			out = append(out, fmt.Sprintf("header %s is given twice", h))
		case !envName.MatchString(env):
			out = append(out, fmt.Sprintf("header %s: %q must name the environment variable holding its value", h, env))
		}
		lower[strings.ToLower(h)] = true
	}
	if s.Tools != nil && len(s.Tools) == 0 {
		out = append(out, "tools is empty: leave it out to offer every tool of the server")
	}
	for _, t := range s.Tools {
		if !mcpToolName.MatchString(t) {
			out = append(out, fmt.Sprintf("tool %q is not a tool name", t))
		}
	}
	if len(slices.Compact(slices.Sorted(slices.Values(s.Tools)))) != len(s.Tools) {
		out = append(out, "a tool is listed twice")
	}
	return out
}
