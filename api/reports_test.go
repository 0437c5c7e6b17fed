package api_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/testenv"
)

func (hs *harness) report(tk tokens, title string) map[string]any {
	hs.t.Helper()
	w := hs.call("POST", "/reports", map[string]any{"title": title, "content": "details of " + title}, tk.AccessToken)
	require.Equal(hs.t, http.StatusCreated, w.Code, w.Body.String())
	return decode(hs.t, w)
}

func TestReportPermissionMatrix(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		r := hs.report(c.alice, "printer on fire")
		assert.Equal(t, "open", r["status"])
		assert.Nil(t, r["resolved_at"])
		rid := "/reports/" + itoa(id(r))
		agent := hs.agent("dana")
		people := []tokens{c.alice, c.bob, agent, c.root, {}}
		names := []string{"owner", "other user", "agent", "superuser", "anonymous"}
		for _, tc := range []struct {
			method, path string
			body         any
			want         []int // owner, other, agent, superuser, anonymous
		}{
			{"GET", rid, nil, []int{200, 404, 200, 200, 401}},
			{"PUT", rid, map[string]any{"content": "more details"}, []int{200, 404, 403, 403, 401}},
			{"GET", "/reports", nil, []int{200, 200, 200, 200, 401}},
			{"POST", "/reports", map[string]any{"title": "t", "content": "c"}, []int{201, 201, 201, 201, 401}},
			{"GET", "/reports/admin/all", nil, []int{403, 403, 200, 200, 401}},
			{"POST", rid + "/comment", map[string]any{"comment": "looking"}, []int{403, 403, 200, 200, 401}},
			// The agent resolves it; the superuser finds it resolved.
			{"PUT", rid + "/resolve", nil, []int{403, 403, 200, 409, 401}},
		} {
			for i, tk := range people {
				w := hs.call(tc.method, tc.path, tc.body, tk.AccessToken)
				assert.Equal(t, tc.want[i], w.Code, "%s %s as %s: %s", tc.method, tc.path, names[i], w.Body.String())
			}
		}
		w := hs.call("GET", "/reports", nil, c.bob.AccessToken)
		for _, rep := range decodeList(t, w) {
			assert.EqualValues(t, userID(c.bob), rep["reporter_id"], "only one's own reports")
		}
	})
}

// Reports move open -> in_progress -> resolved and never back: a resolved
// report cannot be reopened, by its owner or a superuser.
func TestReportLifecycle(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		r := hs.report(c.alice, "login broken")
		rid := "/reports/" + itoa(id(r))

		w := hs.call("PUT", rid, map[string]any{"title": "login really broken"}, c.alice.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "login really broken", decode(t, w)["title"])

		w = hs.call("POST", rid+"/comment", map[string]any{"comment": "on it", "status": "in_progress"}, c.root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "in_progress", decode(t, w)["status"])
		assert.Equal(t, "on it", decode(t, w)["comment"])

		w = hs.call("PUT", rid, map[string]any{"content": "too late"}, c.alice.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, "only open reports are edited")
		assert.Contains(t, decode(t, w)["detail"], "in_progress")

		w = hs.call("PUT", rid+"/resolve", map[string]any{"comment": "fixed in 1.2"}, c.root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		resolved := decode(t, w)
		assert.Equal(t, "resolved", resolved["status"])
		assert.NotNil(t, resolved["resolved_at"])
		assert.EqualValues(t, userID(c.root), resolved["resolved_by"])
		assert.Equal(t, "fixed in 1.2", resolved["comment"])

		w = hs.call("PUT", rid+"/resolve", nil, c.root.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, "resolving twice")
		w = hs.call("POST", rid+"/comment", map[string]any{"comment": "reopen", "status": "in_progress"}, c.root.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, "no reopening")
		assert.Contains(t, decode(t, w)["detail"], "cannot be reopened")
		for _, st := range []string{"open", "resolved", "closed"} {
			w = hs.call("POST", rid+"/comment", map[string]any{"comment": "x", "status": st}, c.root.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, st)
		}
		w = hs.call("POST", rid+"/comment", map[string]any{"comment": "follow-up note"}, c.root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, "a comment alone is still allowed")
		assert.Equal(t, "resolved", decode(t, w)["status"])

		// An open report can be resolved straight away.
		r2 := hs.report(c.bob, "typo")
		w = hs.call("PUT", "/reports/"+itoa(id(r2))+"/resolve", nil, c.root.AccessToken)
		assert.Equal(t, http.StatusOK, w.Code)
	})
}

func TestConcurrentResolvesOneWins(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		r := hs.report(c.alice, "race")
		codes := make([]int, 6)
		var wg sync.WaitGroup
		for i := range codes {
			wg.Go(func() {
				codes[i] = hs.call("PUT", "/reports/"+itoa(id(r))+"/resolve", nil, c.root.AccessToken).Code
			})
		}
		wg.Wait()
		ok := 0
		for _, code := range codes {
			if code == http.StatusOK {
				ok++
			} else {
				assert.Equal(t, http.StatusConflict, code)
			}
		}
		assert.Equal(t, 1, ok, "%v", codes)
	})
}

func TestReportListsAndValidation(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		c := newCast(hs)
		var ids []int64
		for _, title := range []string{"a", "b", "c", "d"} {
			ids = append(ids, id(hs.report(c.alice, title)))
		}
		hs.report(c.bob, "bobs")
		require.Equal(t, http.StatusOK, hs.call("PUT", "/reports/"+itoa(ids[0])+"/resolve", nil, c.root.AccessToken).Code)

		w := hs.call("GET", "/reports?limit=2", nil, c.alice.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "4", w.Header().Get("X-Total-Count"))
		page := decodeList(t, w)
		require.Len(t, page, 2)
		assert.Equal(t, "d", page[0]["title"], "newest first")
		w = hs.call("GET", "/reports?status=open", nil, c.alice.AccessToken)
		assert.Equal(t, "3", w.Header().Get("X-Total-Count"))
		w = hs.call("GET", "/reports?status=resolved", nil, c.alice.AccessToken)
		assert.Equal(t, "1", w.Header().Get("X-Total-Count"))

		w = hs.call("GET", "/reports/admin/all", nil, c.root.AccessToken)
		assert.Equal(t, "5", w.Header().Get("X-Total-Count"))
		w = hs.call("GET", "/reports/admin/all?reporter_id="+itoa(userID(c.bob)), nil, c.root.AccessToken)
		assert.Equal(t, "1", w.Header().Get("X-Total-Count"))
		w = hs.call("GET", "/reports/admin/all?status=open&reporter_id="+itoa(userID(c.alice))+"&limit=1&offset=2", nil, c.root.AccessToken)
		assert.Equal(t, "3", w.Header().Get("X-Total-Count"))
		assert.Len(t, decodeList(t, w), 1)

		for _, q := range []string{"status=done", "limit=0", "offset=-3"} {
			assert.Equal(t, http.StatusUnprocessableEntity, hs.call("GET", "/reports?"+q, nil, c.alice.AccessToken).Code, q)
		}
		assert.Equal(t, http.StatusUnprocessableEntity,
			hs.call("GET", "/reports/admin/all?reporter_id=x", nil, c.root.AccessToken).Code)

		for name, body := range map[string]map[string]any{
			"no title":      {"content": "c"},
			"empty title":   {"title": "", "content": "c"},
			"long title":    {"title": strings.Repeat("t", 256), "content": "c"},
			"blank title":   {"title": "   ", "content": "c"},
			"no content":    {"title": "t"},
			"blank content": {"title": "t", "content": "  "},
		} {
			w := hs.call("POST", "/reports", body, c.alice.AccessToken)
			assert.Equal(t, http.StatusUnprocessableEntity, w.Code, name)
		}
		w = hs.call("POST", "/reports", map[string]any{"title": strings.Repeat("t", 255), "content": "c"}, c.alice.AccessToken)
		assert.Equal(t, http.StatusCreated, w.Code, "255 characters is the limit")
		assert.Equal(t, http.StatusNotFound, hs.call("GET", "/reports/99999", nil, c.root.AccessToken).Code)
	})
}
