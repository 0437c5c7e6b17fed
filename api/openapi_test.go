package api_test

import (
	"encoding/json"
	"maps"
	"net/http"
	"net/http/httptest"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/gin-gonic/gin"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/internal/apitest"
)

// Path parameters as gin writes them (/users/:id, /docs/*asset) and as
// OpenAPI does (/users/{id}).
var (
	ginParam = regexp.MustCompile(`[:*]([A-Za-z_]+)`)
	docParam = regexp.MustCompile(`\{[A-Za-z_]+\}`)
)

// routeKey names a route the same way for gin and for OpenAPI.
func routeKey(method, path string) string {
	return method + " " + ginParam.ReplaceAllString(path, "{$1}")
}

// The router and the document are both built from the route table; this
// catches a route registered outside it, or an entry the router misses.
func TestOpenAPIDocumentsEveryRouteAndNoOther(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	engine, ok := hs.h.(*api.Handler).Handler.(*gin.Engine)
	require.True(t, ok, "the API handler is a gin engine")

	served := map[string]bool{}
	for _, r := range engine.Routes() {
		served[routeKey(r.Method, r.Path)] = true
	}
	doc, err := api.OpenAPI()
	require.NoError(t, err)
	require.NoError(t, doc.Validate(t.Context()), "the document is valid OpenAPI 3")
	documented := map[string]bool{}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			documented[routeKey(method, path)] = true
		}
	}
	assert.Empty(t, missing(served, documented), "routes the document does not describe")
	assert.Empty(t, missing(documented, served), "documented operations no route serves")
	assert.Greater(t, len(served), 50)

	// Every documented operation answers: 404 and 405 would be the router's.
	// Without a token the others stop at 401; /docs/ and /app/ redirect.
	for _, key := range slices.Sorted(maps.Keys(documented)) {
		method, path, _ := strings.Cut(key, " ")
		path = docParam.ReplaceAllStringFunc(path, func(p string) string {
			if p == "{file}" {
				return ""
			}
			return "1"
		})
		w := hs.call(method, path, nil, "")
		assert.NotContains(t, []int{http.StatusNotFound, http.StatusMethodNotAllowed}, w.Code, "%s answers %s", key, w.Body.String())
	}
}

func missing(have, in map[string]bool) []string {
	var out []string
	for k := range have {
		if !in[k] {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func TestOpenAPIJSONIsServedAndDescribesSecurity(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	w := hs.call("GET", "/openapi.json", nil, "")
	require.Equal(t, http.StatusOK, w.Code)
	assert.Equal(t, "application/json", w.Header().Get("Content-Type"))
	var doc struct {
		OpenAPI string `json:"openapi"`
		Paths   map[string]map[string]struct {
			Security  []map[string][]string `json:"security"`
			Responses map[string]any        `json:"responses"`
		} `json:"paths"`
		Components struct {
			SecuritySchemes map[string]map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(w.Body.Bytes(), &doc))
	assert.True(t, strings.HasPrefix(doc.OpenAPI, "3."))
	assert.Contains(t, doc.Components.SecuritySchemes, "HTTPBearer")
	assert.Contains(t, doc.Components.SecuritySchemes, "TwilioSignature")

	me := doc.Paths["/auth/me"]["get"]
	assert.Contains(t, me.Security, map[string][]string{"HTTPBearer": {}})
	assert.Contains(t, me.Responses, "401")
	assert.Empty(t, doc.Paths["/auth/login"]["post"].Security, "login needs no token")
	assert.Contains(t, doc.Paths["/reports/admin/all"]["get"].Responses, "403")
	assert.Contains(t, doc.Paths["/twilio_webhook"]["post"].Security, map[string][]string{"TwilioSignature": {}})
}

// The contract check that every test answer goes through must catch an
// answer that breaks the document; otherwise it proves nothing.
func TestContractCheckRefusesAnswersOutsideTheDocument(t *testing.T) {
	req := httptest.NewRequest("GET", "/auth/me", nil)
	json := http.Header{"Content-Type": {"application/json"}}
	user := `{"id":1,"username":"ann","email":"ann@example.com","is_active":true,"is_superuser":false,
		"full_name":null,"bio":null,"phone_number":null,"sms_opt_out":false,
		"created_at":"2026-01-01T00:00:00Z","updated_at":"2026-01-01T00:00:00Z"}`
	require.NoError(t, apitest.CheckResponse(req, 200, json, []byte(user)))

	for name, tc := range map[string]struct {
		status int
		body   string
	}{
		"a required field missing":  {200, `{"id":1,"username":"ann"}`},
		"a field of the wrong type": {200, strings.Replace(user, `"id":1`, `"id":"1"`, 1)},
		"null where not nullable":   {200, strings.Replace(user, `"email":"ann@example.com"`, `"email":null`, 1)},
		"an undocumented status":    {409, `{"detail":"x"}`},
		"an error without detail":   {401, `{"error":"x"}`},
	} {
		assert.Error(t, apitest.CheckResponse(req, tc.status, json, []byte(tc.body)), name)
	}
	listReq := httptest.NewRequest("GET", "/messages", nil)
	assert.Error(t, apitest.CheckResponse(listReq, 200, json, []byte(`null`)), "a list must not be null")
	assert.NoError(t, apitest.CheckResponse(listReq, 200, json, []byte(`[]`)))
}

// The documentation page and the web app load everything from this server:
// they work offline.
func TestStaticPagesWorkOffline(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	for _, root := range []string{"/docs", "/app"} {
		w := hs.call("GET", root, nil, "")
		require.Equal(t, http.StatusOK, w.Code, root)
		assert.Contains(t, w.Header().Get("Content-Type"), "text/html")
		page := w.Body.String()
		assert.NotRegexp(t, `(src|href)="(https?:)?//`, page, "no asset from another host")
		assert.NotRegexp(t, `<script>`, page, "no inline script")

		assets := regexp.MustCompile(`(?:src|href)="([^"#]+)"`).FindAllStringSubmatch(page, -1)
		require.NotEmpty(t, assets, root)
		for _, a := range assets {
			w := hs.call("GET", "/"+a[1], nil, "")
			assert.Equal(t, http.StatusOK, w.Code, a[1])
			assert.NotZero(t, w.Body.Len(), a[1])
		}
		assert.Equal(t, http.StatusNotFound, hs.call("GET", root+"/nothing-here.js", nil, "").Code)
		assert.Equal(t, http.StatusNotFound, hs.call("GET", root+"/..%2f..%2fgo.mod", nil, "").Code, "no way out of the embedded files")
		w = hs.call("GET", root+"/", nil, "")
		assert.Equal(t, http.StatusMovedPermanently, w.Code)
		assert.Equal(t, root, w.Header().Get("Location"))
	}

	w := hs.call("GET", "/docs/aimsg-docs.js", nil, "")
	assert.Contains(t, w.Body.String(), `url: "openapi.json"`)
	assert.Contains(t, w.Body.String(), "validatorUrl: null", "Swagger UI's online validator stays off")

	w = hs.call("GET", "/app", nil, "")
	csp := w.Header().Get("Content-Security-Policy")
	assert.Contains(t, csp, "default-src 'self'", "the app may call this server only")
	assert.NotContains(t, csp, "unsafe-inline")
	assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
	w = hs.call("GET", "/app/pages/conversation.js", nil, "")
	assert.Equal(t, http.StatusOK, w.Code, "modules in subfolders are served")
	assert.Contains(t, w.Header().Get("Content-Type"), "javascript")
}
