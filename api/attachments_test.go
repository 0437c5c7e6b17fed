package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/testenv"
)

// storedPicture is a picture userID sent the assistant by SMS, fetched
// and stored under the harness's media folder.
func (hs *harness) storedPicture(userID int64, sid string, data []byte) int64 {
	hs.t.Helper()
	ctx := context.Background()
	a, err := domain.Assistant(ctx, hs.db)
	require.NoError(hs.t, err)
	r, err := domain.Receive(ctx, hs.db, userID, a.ID, domain.Inbound{Channel: domain.ChannelTwilio, Address: "+14155552671",
		ExternalID: sid, Media: []domain.InboundMedia{{URL: "https://api.twilio.com/x", ContentType: "image/png"}}},
		domain.InboundLimit{})
	require.NoError(hs.t, err)
	files, err := domain.PendingFiles(ctx, hs.db, []int64{r.Message.ID})
	require.NoError(hs.t, err)
	rel := filepath.Join(domain.MediaFolder(r.Message.ID), "0.png")
	require.NoError(hs.t, os.MkdirAll(filepath.Join(hs.cfg.MediaDir, domain.MediaFolder(r.Message.ID)), 0o750))
	require.NoError(hs.t, os.WriteFile(filepath.Join(hs.cfg.MediaDir, rel), data, 0o640))
	_, err = domain.StoreAttachment(ctx, hs.db, files[0].ID, "image/png", int64(len(data)), filepath.ToSlash(rel))
	require.NoError(hs.t, err)
	return r.Message.ID
}

func TestAttachmentsAreServedToTheirPeopleAndGoWithThem(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		hs := newHarness(t, url, map[string]string{"MEDIA_DIR": dir})
		owner, stranger, boss := hs.user("owner"), hs.user("stranger"), hs.superuser("boss")
		picture := []byte("\x89PNG\r\n\x1a\n picture")
		msg := hs.storedPicture(owner.UserID(), "MM1", picture)
		path := "/messages/" + itoa(msg) + "/attachments/0"

		w := hs.call("GET", path, nil, owner.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, picture, w.Body.Bytes())
		assert.Equal(t, "image/png", w.Header().Get("Content-Type"))
		assert.Equal(t, "nosniff", w.Header().Get("X-Content-Type-Options"))
		assert.Contains(t, w.Header().Get("Content-Security-Policy"), "sandbox")
		assert.Equal(t, http.StatusOK, hs.call("GET", path, nil, boss.AccessToken).Code, "support sees the assistant's conversations")
		assert.Equal(t, http.StatusNotFound, hs.call("GET", path, nil, stranger.AccessToken).Code)
		assert.Equal(t, http.StatusUnauthorized, hs.call("GET", path, nil, "").Code)
		for _, n := range []string{"x", "-1", "10"} {
			assert.Equal(t, http.StatusUnprocessableEntity,
				hs.call("GET", "/messages/"+itoa(msg)+"/attachments/"+n, nil, owner.AccessToken).Code, n)
		}
		assert.Equal(t, http.StatusNotFound, hs.call("GET", "/messages/"+itoa(msg+1000)+"/attachments/0", nil, owner.AccessToken).Code)

		m := decode(t, hs.call("GET", "/messages/"+itoa(msg), nil, owner.AccessToken))
		assert.Equal(t, []any{map[string]any{"n": float64(0), "content_type": "image/png",
			"size_bytes": float64(len(picture)), "status": "stored"}}, m["attachments"])
		assert.Equal(t, domain.PictureText, m["content"])

		// Erasing the account erases its files.
		second := hs.storedPicture(owner.UserID(), "MM2", picture)
		require.DirExists(t, filepath.Join(dir, domain.MediaFolder(second)))
		w = hs.call("DELETE", "/auth/me", map[string]any{"password": "owner-password"}, owner.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.NoDirExists(t, filepath.Join(dir, domain.MediaFolder(msg)))
		assert.NoDirExists(t, filepath.Join(dir, domain.MediaFolder(second)))
	})
}

// A picture sent from the web app: stored with its message in one go,
// served back; a file that breaks a rule is refused and nothing stays.
func TestPicturesSentWithAMessageAreKeptWithIt(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		dir := t.TempDir()
		hs := newHarness(t, url, map[string]string{"MEDIA_DIR": dir, "MEDIA_MAX_BYTES": "2048"})
		u := hs.user("snapper")
		path := "/auth/conversations/" + domain.AIConversationID(u.UserID()) + "/files"
		png := "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR picture bytes"
		messages := func() int64 {
			n, err := hs.db.NewSelect().Model((*domain.Message)(nil)).Where("sender_id = ?", u.UserID()).Count(context.Background())
			require.NoError(t, err)
			return n
		}

		body, ct := apitest.Upload(t, []apitest.File{{Name: "chair.png", Content: png, Type: "image/png"}}, "content", "the leg broke")
		w := hs.call("POST", path, body, u.AccessToken, ct)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		m := decode(t, w)
		assert.Equal(t, "the leg broke", m["content"])
		assert.Equal(t, "pending", m["turn_status"], "the assistant answers it")
		assert.Equal(t, []any{map[string]any{"n": float64(0), "content_type": "image/png",
			"size_bytes": float64(len(png)), "status": "stored"}}, m["attachments"])
		got := hs.call("GET", "/messages/"+itoa(int64(m["id"].(float64)))+"/attachments/0", nil, u.AccessToken)
		require.Equal(t, http.StatusOK, got.Code)
		assert.Equal(t, png, got.Body.String())

		// A picture alone stands for itself; a client that does not say
		// what it sends is judged by the bytes.
		body, ct = apitest.Upload(t, []apitest.File{{Name: "x", Content: png}})
		w = hs.call("POST", path, body, u.AccessToken, ct)
		require.Equal(t, http.StatusCreated, w.Code, w.Body.String())
		assert.Equal(t, domain.PictureText, decode(t, w)["content"])

		before := messages()
		entries, err := os.ReadDir(dir)
		require.NoError(t, err)
		for name, tc := range map[string]struct {
			files []apitest.File
			code  int
		}{
			"a page called a picture": {[]apitest.File{{Name: "a.png", Content: png}, {Name: "b.png", Content: "<html><script>", Type: "image/png"}}, 422},
			"a type not kept":         {[]apitest.File{{Name: "doc.pdf", Content: "%PDF-1.7", Type: "application/pdf"}}, 422},
			"too large":               {[]apitest.File{{Name: "big.png", Content: png + strings.Repeat("x", 4096), Type: "image/png"}}, 413},
			"no file":                 {nil, 422},
			"eleven files":            {slices.Repeat([]apitest.File{{Name: "p.png", Content: png, Type: "image/png"}}, 11), 422},
		} {
			body, ct := apitest.Upload(t, tc.files, "content", "x")
			w := hs.call("POST", path, body, u.AccessToken, ct)
			assert.Equal(t, tc.code, w.Code, "%s: %s", name, w.Body.String())
		}
		assert.Equal(t, before, messages(), "nothing stored from a refused request")
		after, err := os.ReadDir(dir)
		require.NoError(t, err)
		assert.Len(t, after, len(entries), "no file left behind")
		other := hs.user("other")
		w = hs.call("POST", "/auth/conversations/"+domain.AIConversationID(other.UserID())+"/files", body, u.AccessToken, ct)
		assert.Equal(t, http.StatusNotFound, w.Code, "not a conversation of hers")
	})
}
