package api_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
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
