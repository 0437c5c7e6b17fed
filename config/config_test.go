package config_test

import (
	"bufio"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
)

const goodKey = "0123456789abcdef0123456789abcdef-test"

func envOf(kv map[string]string) config.Getenv {
	return func(k string) string { return kv[k] }
}

func TestDefaultsFollowTheSpec(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey}), config.Production)
	require.NoError(t, err)
	assert.Equal(t, "sqlite:///./backend.db", c.DatabaseURL)
	assert.Equal(t, "http://localhost:5678", c.LiteLLMBaseURL)
	assert.Equal(t, 50, c.ChatHistoryMax)
	assert.Equal(t, "0.0.0.0:8000", c.ListenAddr())
	assert.Equal(t, "localhost", c.Domain)
	assert.Equal(t, "ssl/cert.pem", c.SSLCert)
	assert.Equal(t, "ssl/key.pem", c.SSLKey)
	assert.Equal(t, "logs", c.LogsFolder)
	assert.Equal(t, "127.0.0.1:7233", c.TemporalAddress)
	assert.Equal(t, "default", c.TemporalNamespace)
	assert.Equal(t, "aimsg", c.TemporalTaskQueue)
	assert.Equal(t, 30*time.Minute, c.AccessTokenTTL)
	assert.Equal(t, 7*24*time.Hour, c.RefreshTokenTTL)
	assert.Equal(t, 12, c.BcryptCost)
	assert.Equal(t, "https://localhost", c.PublicURL)
	assert.Equal(t, "0.0.0.0:9090", c.WorkerMetricsAddr)
	assert.Equal(t, "127.0.0.1:9464", c.MetricsAddr, "the API's metrics stay on this machine")
	assert.Empty(t, c.MetricsToken, "the public port serves no metrics")
	assert.Equal(t, "https://api.telegram.org", c.TelegramAPIBaseURL)
	assert.False(t, c.TemporalGzip)
	assert.Equal(t, "A person will answer you here.", c.HandoffMessage)
	assert.Equal(t, time.Hour, c.HandoffIdle)
	assert.False(t, c.HandoffOnLLMFailure)
	assert.Zero(t, c.WorkerStopTimeout, "a stopping worker leaves its activities to others")
	assert.Empty(t, c.WorkerDeployment, "unversioned unless asked")
	assert.Equal(t, "english", c.KnowledgeLanguage)
	assert.False(t, c.KnowledgeRequired, "nothing changes for a team without articles")
	assert.Equal(t, "reply", c.KnowledgeNoAnswer)
	assert.Equal(t, int64(20<<20), c.KnowledgeMaxUpload)
	assert.Equal(t, time.Minute, c.LLMTimeout, "the wait for an answer to start")
	assert.Equal(t, 20*time.Second, c.LLMIdleTimeout, "a stream quiet this long is cut")
	assert.Equal(t, 5*time.Minute, c.LLMStreamMax, "the cap on a whole streamed answer")
	assert.Equal(t, 1500*time.Millisecond, c.TurnDebounce, "texts of a burst are gathered")

	c, err = config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, "TEMPORAL_GRPC_COMPRESSION": "gzip",
		"HANDOFF_IDLE_MINUTES": "0.5", "HANDOFF_ON_LLM_FAILURE": "true", "WORKER_STOP_TIMEOUT_SECONDS": "60",
		"LLM_TIMEOUT_SECONDS": "300", "LLM_IDLE_TIMEOUT_SECONDS": "45", "LLM_STREAM_MAX_SECONDS": "900",
		"TURN_DEBOUNCE_MS": "0"}), config.Production)
	require.NoError(t, err)
	assert.Equal(t, 5*time.Minute, c.LLMTimeout)
	assert.Equal(t, 45*time.Second, c.LLMIdleTimeout)
	assert.Equal(t, 15*time.Minute, c.LLMStreamMax)
	assert.Zero(t, c.TurnDebounce)
	assert.Equal(t, time.Minute, c.WorkerStopTimeout)
	assert.True(t, c.TemporalGzip)
	assert.Equal(t, 30*time.Second, c.HandoffIdle, "decimal minutes")
	assert.True(t, c.HandoffOnLLMFailure)
}

func TestMetricsSettings(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, "METRICS_ADDR": "off",
		"METRICS_TOKEN": "0123456789abcdef"}), config.Production)
	require.NoError(t, err)
	assert.Empty(t, c.MetricsAddr, "off: no listener of its own")
	assert.Equal(t, "0123456789abcdef", c.MetricsToken)
	c, err = config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, "METRICS_ADDR": "0.0.0.0:9464"}), config.Production)
	require.NoError(t, err)
	assert.Equal(t, "0.0.0.0:9464", c.MetricsAddr)
}

func TestInvalidValuesNameTheVariable(t *testing.T) {
	for name, tc := range map[string]struct{ key, value string }{
		"history not a number": {"CHAT_HISTORY_MAX", "lots"},
		"history zero":         {"CHAT_HISTORY_MAX", "0"},
		"port out of range":    {"AI_MESSAGE_PORT", "70000"},
		"llm url":              {"LITELLM_BASEURL", "localhost:5678"},
		"temporal address":     {"TEMPORAL_ADDRESS", "temporal"},
		"database scheme":      {"DATABASE_URL", "mysql://db/x"},
		"sqlite without path":  {"DATABASE_URL", "sqlite:///"},
		"bcrypt cost too low":  {"BCRYPT_COST", "4"},
		"compression":          {"TEMPORAL_GRPC_COMPRESSION", "zstd"},
		"handoff idle":         {"HANDOFF_IDLE_MINUTES", "0"},
		"llm idle zero":        {"LLM_IDLE_TIMEOUT_SECONDS", "0"},
		"llm idle too long":    {"LLM_IDLE_TIMEOUT_SECONDS", "601"},
		"handoff idle text":    {"HANDOFF_IDLE_MINUTES", "an hour"},
		"handoff on failure":   {"HANDOFF_ON_LLM_FAILURE", "yes"},
		"knowledge language":   {"KNOWLEDGE_LANGUAGE", "English; drop"},
		"knowledge required":   {"KNOWLEDGE_REQUIRED", "1"},
		"knowledge no answer":  {"KNOWLEDGE_NO_ANSWER", "ignore"},
		"knowledge upload":     {"KNOWLEDGE_MAX_UPLOAD_MB", "0"},
		"cors origin path":     {"AI_MESSAGE_CORS_ORIGINS", "https://app.example.com/chat"},
		"cors origin scheme":   {"AI_MESSAGE_CORS_ORIGINS", "https://ok.example.com, app.example.com"},
		"fallback llm url":     {"LITELLM_FALLBACK_BASEURL", "backup:4000"},
		"inbound negative":     {"INBOUND_MAX_PER_MINUTE", "-1"},
		"streams per user":     {"STREAMS_PER_USER", "0"},
		"worker stop timeout":  {"WORKER_STOP_TIMEOUT_SECONDS", "-1"},
		"deployment alone":     {"TEMPORAL_DEPLOYMENT_NAME", "aimsg"},
		"build id alone":       {"TEMPORAL_WORKER_BUILD_ID", "v2"},
		"mcp servers not json": {"MCP_SERVERS", "billing=https://billing.internal/mcp"},
		"metrics address":      {"METRICS_ADDR", "9464"},
		"metrics token short":  {"METRICS_TOKEN", "guessable"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, tc.key: tc.value}), config.Production)
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.key)
		})
	}
}

func TestEveryInvalidVariableIsReportedAtOnce(t *testing.T) {
	_, err := config.Load(envOf(map[string]string{"CHAT_HISTORY_MAX": "x", "AI_MESSAGE_PORT": "y"}), config.Production)
	require.Error(t, err)
	for _, v := range []string{"CHAT_HISTORY_MAX", "AI_MESSAGE_PORT", "SECRET_KEY"} {
		assert.Contains(t, err.Error(), v)
	}
}

func TestSecretKeyRules(t *testing.T) {
	for name, tc := range map[string]struct {
		key  string
		mode config.Mode
		ok   bool
	}{
		"missing in production":     {"", config.Production, false},
		"short":                     {"too-short", config.Production, false},
		"placeholder":               {"your-secret-key-here-change-in-production", config.Production, false},
		"dev key outside dev":       {config.DevSecretKey, config.Production, false},
		"good":                      {goodKey, config.Production, true},
		"missing in dev":            {"", config.Dev, true},
		"short in dev":              {"short", config.Dev, false},
		"not needed by tools":       {"", config.NoTokens, true},
		"short but unused by tools": {"short", config.NoTokens, true},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := config.Load(envOf(map[string]string{"SECRET_KEY": tc.key}), tc.mode)
			if !tc.ok {
				require.Error(t, err)
				assert.Contains(t, err.Error(), "SECRET_KEY")
				return
			}
			require.NoError(t, err)
			if tc.mode == config.Dev && tc.key == "" {
				assert.Equal(t, config.DevSecretKey, c.SecretKey)
			}
		})
	}
}

func TestParseDatabaseURL(t *testing.T) {
	for raw, want := range map[string]struct {
		dialect config.Dialect
		dsn     string
	}{
		"sqlite:///./backend.db":                      {config.SQLite, "./backend.db"},
		"sqlite:////var/lib/aimsg/aimsg.db":           {config.SQLite, "/var/lib/aimsg/aimsg.db"},
		"sqlite:///:memory:":                          {config.SQLite, ":memory:"},
		"postgresql://u:p@db:5432/aimsg":              {config.Postgres, "postgres://u:p@db:5432/aimsg"},
		"postgresql+psycopg2://u@db/aimsg":            {config.Postgres, "postgres://u@db/aimsg"},
		"postgres://u@127.0.0.1/test?sslmode=disable": {config.Postgres, "postgres://u@127.0.0.1/test?sslmode=disable"},
	} {
		d, dsn, err := config.ParseDatabaseURL(raw)
		require.NoError(t, err, raw)
		assert.Equal(t, want.dialect, d, raw)
		assert.Equal(t, want.dsn, dsn, raw)
	}
}

func TestLogLevel(t *testing.T) {
	c, err := config.Load(envOf(nil), config.NoTokens)
	require.NoError(t, err)
	assert.Equal(t, slog.LevelInfo, c.LogLevel)
	c, err = config.Load(envOf(map[string]string{"LOG_LEVEL": "debug"}), config.NoTokens)
	require.NoError(t, err)
	assert.Equal(t, slog.LevelDebug, c.LogLevel)
	_, err = config.Load(envOf(map[string]string{"LOG_LEVEL": "loud"}), config.NoTokens)
	assert.ErrorContains(t, err, "LOG_LEVEL")
}

// notReadByLoad are the variables of .env.example that other parts read:
// createsuperuser's flags and the Makefile's migration planning.
var notReadByLoad = []string{"AIMSG_SUPERUSER_USERNAME", "AIMSG_SUPERUSER_EMAIL", "AIMSG_SUPERUSER_PASSWORD",
	"DEV_DATABASE_URL"}

// .env.example lists every variable config.Load reads, and nothing else
// besides notReadByLoad: a new setting cannot be left out of it, nor an old
// one linger.
func TestEnvExampleListsWhatLoadReads(t *testing.T) {
	read := map[string]bool{}
	_, err := config.Load(func(k string) string { read[k] = true; return "" }, config.Production)
	require.Error(t, err, "no SECRET_KEY")

	f, err := os.Open(filepath.Join("..", ".env.example"))
	require.NoError(t, err)
	defer f.Close()
	listed := map[string]bool{}
	line := regexp.MustCompile(`^([A-Z][A-Z0-9_]*)=`)
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if m := line.FindStringSubmatch(sc.Text()); m != nil {
			assert.False(t, listed[m[1]], "%s listed twice", m[1])
			listed[m[1]] = true
		}
	}
	require.NoError(t, sc.Err())
	for _, name := range notReadByLoad {
		assert.True(t, listed[name], "%s is not in .env.example", name)
		delete(listed, name)
	}
	assert.ElementsMatch(t, slices.Sorted(maps.Keys(read)), slices.Sorted(maps.Keys(listed)),
		"variables config.Load reads vs .env.example")
}

func TestMCPServers(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"MCP_SERVERS": `[
		{"name": "billing", "url": "https://billing.internal/mcp", "headers": {"Authorization": "BILLING_MCP_TOKEN"},
		 "timeout_seconds": 10, "tools": ["refund", "invoice"]},
		{"name": "crm", "url": "http://crm:8080/mcp"}]`}), config.NoTokens)
	require.NoError(t, err)
	assert.Equal(t, []config.MCPServer{
		{Name: "billing", URL: "https://billing.internal/mcp", Headers: map[string]string{"Authorization": "BILLING_MCP_TOKEN"},
			Timeout: 10 * time.Second, Tools: []string{"refund", "invoice"}},
		{Name: "crm", URL: "http://crm:8080/mcp", Timeout: 30 * time.Second},
	}, c.MCPServers, "tools left out: all of them; the timeout defaults to 30 s")

	c, err = config.Load(envOf(nil), config.NoTokens)
	require.NoError(t, err)
	assert.Empty(t, c.MCPServers)

	for name, tc := range map[string]struct{ value, says string }{
		"name with a dot":     {`[{"name": "bill.ing", "url": "https://b/mcp"}]`, "lower-case letters"},
		"name too long":       {`[{"name": "` + strings.Repeat("a", 33) + `", "url": "https://b/mcp"}]`, "1 to 32"},
		"name twice":          {`[{"name": "b", "url": "https://b/mcp"}, {"name": "b", "url": "https://c/mcp"}]`, "used twice"},
		"url scheme":          {`[{"name": "b", "url": "ftp://b/mcp"}]`, "http(s) URL"},
		"url without host":    {`[{"name": "b", "url": "b/mcp"}]`, "http(s) URL"},
		"url credentials":     {`[{"name": "b", "url": "https://u:p@b/mcp"}]`, "credentials"},
		"timeout zero":        {`[{"name": "b", "url": "https://b/mcp", "timeout_seconds": 0}]`, "1 to 300"},
		"timeout too long":    {`[{"name": "b", "url": "https://b/mcp", "timeout_seconds": 301}]`, "1 to 300"},
		"secret as header":    {`[{"name": "b", "url": "https://b/mcp", "headers": {"Authorization": "Bearer abc"}}]`, "environment variable"},
		"transport header":    {`[{"name": "b", "url": "https://b/mcp", "headers": {"Mcp-Session-Id": "X"}}]`, "MCP transport"},
		"misspelt field":      {`[{"name": "b", "url": "https://b/mcp", "tool": ["x"]}]`, "unknown field"},
		"empty tools":         {`[{"name": "b", "url": "https://b/mcp", "tools": []}]`, "leave it out"},
		"tool twice":          {`[{"name": "b", "url": "https://b/mcp", "tools": ["x", "x"]}]`, "listed twice"},
		"tool name":           {`[{"name": "b", "url": "https://b/mcp", "tools": ["x y"]}]`, "not a tool name"},
		"not a list":          {`{"name": "b", "url": "https://b/mcp"}`, "JSON list"},
		"text after the list": {`[] []`, "text after"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := config.Load(envOf(map[string]string{"MCP_SERVERS": tc.value}), config.NoTokens)
			require.Error(t, err)
			assert.ErrorContains(t, err, "MCP_SERVERS")
			assert.ErrorContains(t, err, tc.says)
		})
	}
}

// DELIVERY_GIVE_UP_MINUTES bounds a reply's delivery retries (decimals
// allowed, up to a day); WHATSAPP_TEMPLATE_SID is a Content SID or nothing.
func TestDeliverySettings(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey}), config.Production)
	require.NoError(t, err)
	assert.Equal(t, 15*time.Minute, c.DeliveryGiveUp)
	assert.Empty(t, c.WhatsAppTemplateSID, "no template: replies past the window are recorded failed")

	sid := "HX0123456789abcdef0123456789abcdef"
	c, err = config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, "DELIVERY_GIVE_UP_MINUTES": "0.1",
		"WHATSAPP_TEMPLATE_SID": sid}), config.Production)
	require.NoError(t, err)
	assert.Equal(t, 6*time.Second, c.DeliveryGiveUp)
	assert.Equal(t, sid, c.WhatsAppTemplateSID)

	for _, tc := range []struct{ key, value string }{
		{"DELIVERY_GIVE_UP_MINUTES", "0"}, {"DELIVERY_GIVE_UP_MINUTES", "1441"}, {"DELIVERY_GIVE_UP_MINUTES", "soon"},
		{"WHATSAPP_TEMPLATE_SID", "SM0123456789abcdef0123456789abcdef"}, {"WHATSAPP_TEMPLATE_SID", "HX123"},
	} {
		_, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, tc.key: tc.value}), config.Production)
		require.Error(t, err, "%s=%s", tc.key, tc.value)
		assert.Contains(t, err.Error(), tc.key)
	}
}

func TestOutcomeSettingsAndPrices(t *testing.T) {
	c, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey}), config.Production)
	require.NoError(t, err)
	assert.False(t, c.CSATEnabled)
	assert.Equal(t, 30*time.Minute, c.CSATAfter)
	assert.Empty(t, c.LLMPrices, "no prices: tokens cost nothing")

	c, err = config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, "CSAT_ENABLED": "true", "CSAT_AFTER_MINUTES": "0.05",
		"LLM_PRICES": " openai/gpt-4o-mini=0.15/0.60 , gpt-4o=2.5/10"}), config.Production)
	require.NoError(t, err)
	assert.True(t, c.CSATEnabled)
	assert.Equal(t, 3*time.Second, c.CSATAfter)
	assert.Equal(t, map[string]config.LLMPrice{"openai/gpt-4o-mini": {Prompt: 0.15, Completion: 0.6}, "gpt-4o": {Prompt: 2.5, Completion: 10}},
		c.LLMPrices)

	for _, tc := range []struct{ key, value string }{
		{"CSAT_ENABLED", "yes"}, {"CSAT_AFTER_MINUTES", "0"},
		{"LLM_PRICES", "gpt-4o"}, {"LLM_PRICES", "gpt-4o=1"}, {"LLM_PRICES", "gpt-4o=1/x"}, {"LLM_PRICES", "=1/2"},
		{"LLM_PRICES", "gpt-4o=-1/2"}, {"LLM_PRICES", "gpt-4o=NaN/2"}, {"LLM_PRICES", "gpt-4o=1/Inf"},
		{"LLM_PRICES", "gpt-4o=1/2,gpt-4o=3/4"},
	} {
		_, err := config.Load(envOf(map[string]string{"SECRET_KEY": goodKey, tc.key: tc.value}), config.Production)
		require.Error(t, err, "%s=%s", tc.key, tc.value)
		assert.Contains(t, err.Error(), tc.key)
	}
}
