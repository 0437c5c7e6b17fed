package api_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/testenv"
)

func articleCount(t *testing.T, hs *harness) int {
	t.Helper()
	n, err := hs.db.NewSelect().Model((*domain.Article)(nil)).Count(context.Background())
	require.NoError(t, err)
	return int(n)
}

const lockersHTML = `<!doctype html><html><head><title>Parcel lockers</title>
<link rel="canonical" href="https://help.example.com/lockers">
<script>var tracking = "locker analytics";</script><style>.locker{color:red}</style></head>
<body><nav><a href="/">Home</a> · <a href="/lockers">Lockers</a></nav>
<h1>Parcel lockers</h1><p>Pick up parcels at any of our lockers, day and night.</p>
<h2>How long a parcel stays</h2><p>A locker keeps your parcel for 72 hours. After that it goes back to the depot.</p>
<footer>© Example</footer></body></html>`

// Staff who write the knowledge base manage it through the API: users
// are refused; articles are written, read, listed, replaced, searched and
// deleted; each write is audited.
func TestKnowledgeArticlesThroughTheAPI(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		user, agent, root := hs.user("uma"), hs.agent("kim"), hs.superuser("root")

		for _, rt := range []struct{ method, path string }{{"POST", "/knowledge/articles"}, {"GET", "/knowledge/articles"},
			{"GET", "/knowledge/articles/1"}, {"PUT", "/knowledge/articles/1"}, {"DELETE", "/knowledge/articles/1"},
			{"POST", "/knowledge/import"}, {"GET", "/knowledge/search?q=locker"}} {
			assert.Equal(t, http.StatusForbidden, hs.call(rt.method, rt.path, nil, user.AccessToken).Code, rt)
			assert.Equal(t, http.StatusUnauthorized, hs.call(rt.method, rt.path, nil, "").Code, rt)
		}

		w := hs.call("POST", "/knowledge/articles", map[string]any{"title": "Returns",
			"body": "Send anything back within 30 days.\n\n## Refunds\n\nThe refund reaches your card in 5 working days.",
			"url":  "https://help.example.com/returns"}, agent.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		returns := decode(t, w)
		assert.EqualValues(t, 2, returns["passage_count"])
		assert.Equal(t, "general", returns["collection"])

		// HTML is converted: title and url from the page, no scripts.
		w = hs.call("POST", "/knowledge/articles", map[string]any{"body": lockersHTML, "format": "html"}, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		lockers := decode(t, w)
		assert.Equal(t, "Parcel lockers", lockers["title"])
		assert.Equal(t, "https://help.example.com/lockers", lockers["url"])
		assert.NotContains(t, lockers["body"], "analytics")
		assert.NotContains(t, lockers["body"], "Home")
		assert.Contains(t, lockers["body"], "## How long a parcel stays")

		// The same url twice is a conflict; bad input is a 422; nothing is stored.
		before := articleCount(t, hs)
		assert.Equal(t, http.StatusConflict, hs.call("POST", "/knowledge/articles", map[string]any{"title": "Again",
			"body": "Text.", "url": "https://help.example.com/returns"}, agent.AccessToken).Code)
		for name, body := range map[string]map[string]any{
			"no body":           {"title": "Empty"},
			"headings only":     {"title": "Hollow", "body": "# One\n## Two"},
			"scripts only":      {"body": "<html><script>alert(1)</script></html>", "format": "html"},
			"bad format":        {"title": "X", "body": "Y", "format": "pdf"},
			"bad collection":    {"title": "X", "body": "Y", "collection": "Not A Name"},
			"javascript url":    {"title": "X", "body": "Y", "url": "javascript:alert(1)"},
			"title too long":    {"title": strings.Repeat("t", 301), "body": "Y"},
			"nul in the body":   {"title": "X", "body": "a\x00b"},
			"not even a string": {"title": "X", "body": 12},
		} {
			w := hs.call("POST", "/knowledge/articles", body, agent.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "%s: %s", name, w.Body.String())
		}
		assert.Equal(t, before, articleCount(t, hs))

		w = hs.call("GET", "/knowledge/articles?q=LOCK", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "1", w.Header().Get("X-Total-Count"))
		list := decodeList(t, w)
		require.Len(t, list, 1)
		assert.Equal(t, "Parcel lockers", list[0]["title"])

		// Search: passages with their article, heading and a snippet.
		w = hs.call("GET", "/knowledge/search?q=how+long+does+a+locker+keep+my+parcel", nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		hits := decodeList(t, w)
		require.NotEmpty(t, hits)
		assert.Equal(t, lockers["id"], hits[0]["article_id"])
		assert.Equal(t, "How long a parcel stays", hits[0]["heading_path"])
		assert.Contains(t, hits[0]["snippet"], "«")
		for name, q := range map[string]string{
			"empty":         "",
			"common words":  "how+is+the",
			"10,000 words":  strings.Repeat("parcel+", 10000),
			"limit too big": "locker&limit=500",
		} {
			w := hs.call("GET", "/knowledge/search?q="+q, nil, agent.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "%s: %s", name, w.Body.String())
		}

		// Replace, read, delete.
		path := "/knowledge/articles/" + strconv.FormatInt(id(returns), 10)
		w = hs.call("PUT", path, map[string]any{"title": "Returns and refunds", "body": "Thirty days.",
			"url": "https://help.example.com/returns"}, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		w = hs.call("GET", path, nil, agent.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		got := decode(t, w)
		assert.Equal(t, "Returns and refunds", got["title"])
		assert.Equal(t, "Thirty days.", got["body"])
		assert.EqualValues(t, 1, got["passage_count"])
		require.Equal(t, http.StatusOK, hs.call("DELETE", path, nil, agent.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("GET", path, nil, agent.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", path, nil, agent.AccessToken).Code)

		entries, _, err := domain.ListAudit(context.Background(), hs.db, domain.AuditFilter{Page: domain.Page{Limit: 50}})
		require.NoError(t, err)
		var actions []string
		for _, e := range entries {
			if e.TargetType == "article" {
				actions = append(actions, string(e.Action)+" "+e.TargetID)
			}
		}
		r, l := strconv.FormatInt(id(returns), 10), strconv.FormatInt(id(lockers), 10)
		assert.ElementsMatch(t, []string{"article.create " + r, "article.create " + l, "article.replace " + r, "article.delete " + r}, actions)
	})
}

// Files come in as markdown, HTML, text or a zip of them; importing them
// again replaces the articles; unsafe or oversized uploads are refused
// whole, and leave nothing behind.
func TestKnowledgeImport(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, map[string]string{"KNOWLEDGE_MAX_UPLOAD_MB": "1"})
		agent := hs.agent("kim")

		archive := apitest.Zip(t, apitest.File{Name: "faq/opening-hours.md", Content: "# Opening hours\n\nThe support line is open 8:00 to 20:00.\n"},
			apitest.File{Name: "faq/fees.txt", Content: "Fees\nSending a parcel abroad costs 12 euros."},
			apitest.File{Name: "faq/logo.png", Content: "\x89PNG"})
		body, ct := apitest.Upload(t, []apitest.File{{Name: "lockers.html", Content: lockersHTML}, {Name: "help.zip", Content: archive}}, "collection", "faq")
		w := hs.call("POST", "/knowledge/import", body, agent.AccessToken, ct)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		res := decode(t, w)
		assert.Len(t, res["created"], 3, w.Body.String())
		assert.Empty(t, res["replaced"])
		require.Len(t, res["refused"], 1)
		assert.Contains(t, res["refused"].([]any)[0].(map[string]any)["file"], "logo.png")
		assert.Equal(t, 3, articleCount(t, hs))
		a, err := domain.ArticleByURL(context.Background(), hs.db, "https://help.example.com/lockers")
		require.NoError(t, err)
		assert.Equal(t, "faq", a.Collection)
		assert.NotContains(t, a.Body, "tracking")

		// Again: replaced, not duplicated.
		w = hs.call("POST", "/knowledge/import", body, agent.AccessToken, ct)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		res = decode(t, w)
		assert.Empty(t, res["created"])
		assert.Len(t, res["replaced"], 3)
		assert.Equal(t, 3, articleCount(t, hs))

		for name, files := range map[string][]apitest.File{
			"a zip with ../ paths": {{Name: "ok.md", Content: "# Fine\n\nText."}, {Name: "evil.zip", Content: apitest.Zip(t,
				apitest.File{Name: "fine.md", Content: "# A\n\nB."}, apitest.File{Name: "../../etc/evil.md", Content: "# Evil\n\nText."})}},
			"unsupported only": {{Name: "manual.pdf", Content: "%PDF-1.7"}},
			"scripts only":     {{Name: "empty.html", Content: "<html><script>alert(1)</script><style>p{}</style></html>"}},
			"empty file":       {{Name: "empty.md", Content: ""}},
		} {
			body, ct := apitest.Upload(t, files)
			w := hs.call("POST", "/knowledge/import", body, agent.AccessToken, ct)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, "%s: %s", name, w.Body.String())
			assert.Equal(t, 3, articleCount(t, hs), name)
		}

		big := "# Big\n\n" + strings.Repeat("A sentence about parcels. ", 60_000)
		body, ct = apitest.Upload(t, []apitest.File{{Name: "big.md", Content: big}})
		w = hs.call("POST", "/knowledge/import", body, agent.AccessToken, ct)
		assert.Equal(t, http.StatusRequestEntityTooLarge, w.Code, w.Body.String())
		assert.Contains(t, w.Body.String(), "KNOWLEDGE_MAX_UPLOAD_MB")
		assert.Equal(t, 3, articleCount(t, hs))

		w = hs.call("POST", "/knowledge/import", `{"files": []}`, agent.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code, w.Body.String())
	})
}
