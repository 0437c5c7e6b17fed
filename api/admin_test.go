package api_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// adminRoutes is every superuser route, with a body where it needs one.
var adminRoutes = []struct {
	method, path string
	body         any
}{
	{"GET", "/auth/users", nil},
	{"POST", "/auth/users", map[string]any{"username": "sneaky", "email": "s@example.com", "password": "long enough"}},
	{"GET", "/auth/users/1", nil},
	{"DELETE", "/auth/users/1", nil},
	{"PUT", "/auth/users/1/disable", nil},
	{"PUT", "/auth/users/1/enable", nil},
	{"PUT", "/auth/users/1/superuser", nil},
	{"GET", "/auth/users/1/roles", nil},
	{"PUT", "/auth/users/1/roles", map[string]any{"role_ids": []int{}}},
	{"GET", "/auth/roles", nil},
	{"POST", "/auth/roles", map[string]any{"name": "sneaky"}},
	{"DELETE", "/auth/roles/1", nil},
}

func TestAdminRoutesRefuseOrdinaryUsers(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		hs.superuser("root")
		user := hs.user("plain")
		for _, r := range adminRoutes {
			w := hs.call(r.method, r.path, r.body, user.AccessToken)
			assert.Equal(t, http.StatusForbidden, w.Code, "%s %s", r.method, r.path)
			w = hs.call(r.method, r.path, r.body, "")
			assert.Equal(t, http.StatusUnauthorized, w.Code, "%s %s without a token", r.method, r.path)
		}
		n, err := hs.db.NewSelect().Model((*domain.User)(nil)).Where("username = 'sneaky'").Count(context.Background())
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}

func TestDemotionTakesEffectAtOnce(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		second := hs.superuser("second")
		secondID := int64(second.User["id"].(float64))
		require.Equal(t, http.StatusOK, hs.call("GET", "/auth/users", nil, second.AccessToken).Code)

		w := hs.call("PUT", "/auth/users/"+itoa(secondID)+"/superuser", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, false, decode(t, w)["is_superuser"], "toggled off")
		assert.Equal(t, http.StatusForbidden, hs.call("GET", "/auth/users", nil, second.AccessToken).Code)

		w = hs.call("PUT", "/auth/users/"+itoa(secondID)+"/superuser", map[string]any{"is_superuser": true}, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, http.StatusOK, hs.call("GET", "/auth/users", nil, second.AccessToken).Code)
	})
}

func TestTheLastActiveSuperuserStays(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		rootID := int64(root.User["id"].(float64))
		for _, r := range []struct{ method, path string }{
			{"PUT", "/auth/users/" + itoa(rootID) + "/superuser"},
			{"PUT", "/auth/users/" + itoa(rootID) + "/disable"},
			{"DELETE", "/auth/users/" + itoa(rootID)},
		} {
			w := hs.call(r.method, r.path, nil, root.AccessToken)
			assert.Equal(t, http.StatusConflict, w.Code, r.path)
			assert.Contains(t, decode(t, w)["detail"], "last active superuser")
		}
		// With a second superuser, the first may step down.
		hs.superuser("deputy")
		w := hs.call("PUT", "/auth/users/"+itoa(rootID)+"/superuser", map[string]any{"is_superuser": false}, root.AccessToken)
		assert.Equal(t, http.StatusOK, w.Code)
	})
}

func TestAdminManagesUsers(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		for _, name := range []string{"anna", "annabel", "bert", "carla"} {
			hs.register(name, name+"-password")
		}

		w := hs.call("GET", "/auth/users?limit=2&offset=1", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "5", w.Header().Get("X-Total-Count"), "system users are not listed")
		page := decodeList(t, w)
		require.Len(t, page, 2)
		assert.Equal(t, "anna", page[0]["username"])

		w = hs.call("GET", "/auth/users?search=ANNA", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "2", w.Header().Get("X-Total-Count"))
		w = hs.call("GET", "/auth/users?search=%25", nil, root.AccessToken)
		assert.Equal(t, "0", w.Header().Get("X-Total-Count"), "LIKE wildcards are searched literally")
		assert.Equal(t, http.StatusUnprocessableEntity, hs.call("GET", "/auth/users?limit=100000", nil, root.AccessToken).Code)

		w = hs.call("POST", "/auth/users", map[string]any{"username": "made", "email": "made@example.com",
			"password": "made-password", "is_superuser": true}, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		made := decode(t, w)
		assert.Equal(t, true, made["is_superuser"])
		hs.login("made", "made-password")

		w = hs.call("GET", "/auth/users/"+itoa(id(made)), nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, "made", decode(t, w)["username"])

		assistant, err := domain.Assistant(context.Background(), hs.db)
		require.NoError(t, err)
		for _, path := range []string{"/auth/users/" + itoa(assistant.ID), "/auth/users/999999"} {
			assert.Equal(t, http.StatusNotFound, hs.call("GET", path, nil, root.AccessToken).Code, path)
			assert.Equal(t, http.StatusNotFound, hs.call("DELETE", path, nil, root.AccessToken).Code, path)
		}
	})
}

// Deleting a user takes their sessions, messages (sent and received) and
// reports with them; reports they resolved stay, without a resolver.
func TestDeletingAUserRemovesWhatIsTheirs(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		rootID := int64(root.User["id"].(float64))
		gone := hs.user("gone")
		goneID := int64(gone.User["id"].(float64))
		stays := hs.user("stays")
		staysID := int64(stays.User["id"].(float64))

		msgs := []domain.Message{
			{SenderID: goneID, RecipientID: staysID, Content: "from gone", Channel: domain.ChannelWeb},
			{SenderID: staysID, RecipientID: goneID, Content: "to gone", Channel: domain.ChannelWeb},
			{SenderID: staysID, RecipientID: rootID, Content: "unrelated", Channel: domain.ChannelWeb},
		}
		_, err := hs.db.NewInsert().Model(&msgs).Exec(ctx)
		require.NoError(t, err)
		now := domain.Now()
		reports := []domain.Report{
			{ReporterID: goneID, Title: "mine", Content: "x", Status: domain.ReportOpen},
			{ReporterID: staysID, Title: "resolved by gone", Content: "y", Status: domain.ReportResolved,
				ResolvedBy: &goneID, ResolvedAt: &now},
		}
		_, err = hs.db.NewInsert().Model(&reports).Exec(ctx)
		require.NoError(t, err)

		require.Equal(t, http.StatusOK, hs.call("DELETE", "/auth/users/"+itoa(goneID), nil, root.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", "/auth/me", nil, gone.AccessToken).Code)

		var left []domain.Message
		require.NoError(t, hs.db.NewSelect().Model(&left).Scan(ctx))
		require.Len(t, left, 1)
		assert.Equal(t, "unrelated", left[0].Content)
		var rest []domain.Report
		require.NoError(t, hs.db.NewSelect().Model(&rest).Scan(ctx))
		require.Len(t, rest, 1)
		assert.Equal(t, "resolved by gone", rest[0].Title)
		assert.Nil(t, rest[0].ResolvedBy)
		assert.Equal(t, domain.ReportResolved, rest[0].Status)
		n, err := hs.db.NewSelect().Model((*domain.Session)(nil)).Where("user_id = ?", goneID).Count(ctx)
		require.NoError(t, err)
		assert.Zero(t, n)
	})
}

func TestRoles(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		hs := newHarness(t, url, nil)
		root := hs.superuser("root")
		member := hs.register("member", "member-password")

		w := hs.call("POST", "/auth/roles", map[string]any{"name": "support", "description": "answers reports"}, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		support := decode(t, w)
		w = hs.call("POST", "/auth/roles", map[string]any{"name": "billing"}, root.AccessToken)
		require.Equal(t, http.StatusCreated, w.Code)
		billing := decode(t, w)
		w = hs.call("POST", "/auth/roles", map[string]any{"name": "support"}, root.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code)
		assert.Equal(t, http.StatusUnprocessableEntity, hs.call("POST", "/auth/roles", map[string]any{"name": ""}, root.AccessToken).Code)

		w = hs.call("GET", "/auth/roles", nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		var names []any
		for _, r := range decodeList(t, w) {
			names = append(names, r["name"])
		}
		assert.Equal(t, []any{"agent", "billing", "support"}, names, "the built-in agent role and the two made here")
		agent := decodeList(t, w)[0]
		w = hs.call("DELETE", "/auth/roles/"+itoa(id(agent)), nil, root.AccessToken)
		assert.Equal(t, http.StatusConflict, w.Code, "the built-in role stays: %s", w.Body.String())

		rolesPath := "/auth/users/" + itoa(id(member)) + "/roles"
		w = hs.call("PUT", rolesPath, map[string]any{"role_ids": []int64{id(support), id(billing), id(support)}}, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Len(t, decodeList(t, w), 2)
		w = hs.call("PUT", rolesPath, map[string]any{"role_ids": []int64{id(support), 424242}}, root.AccessToken)
		assert.Equal(t, http.StatusUnprocessableEntity, w.Code)
		assert.True(t, strings.Contains(w.Body.String(), "role 424242 does not exist"), w.Body.String())

		w = hs.call("GET", rolesPath, nil, root.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Len(t, decodeList(t, w), 2, "the refused assignment changed nothing")

		require.Equal(t, http.StatusOK, hs.call("DELETE", "/auth/roles/"+itoa(id(billing)), nil, root.AccessToken).Code)
		assert.Equal(t, http.StatusNotFound, hs.call("DELETE", "/auth/roles/"+itoa(id(billing)), nil, root.AccessToken).Code)
		w = hs.call("GET", rolesPath, nil, root.AccessToken)
		roles := decodeList(t, w)
		require.Len(t, roles, 1, "deleting a role unassigns it")
		assert.Equal(t, "support", roles[0]["name"])
	})
}
