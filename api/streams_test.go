package api_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/api"
	"github.com/aimsg/aimsg/domain"
)

// CloseStreams, for a process that stops, returns once its streams ended
// and forgot their rows (the database is closed after it), and the
// process opens no more: a client is told to come back (503), to another.
func TestCloseStreamsForgetsThemAndAdmitsNoMore(t *testing.T) {
	hs := newHarness(t, "sqlite:///:memory:", nil)
	u := hs.user("leaving")
	events := "/auth/conversations/" + domain.AIConversationID(u.UserID()) + "/events"
	require.Equal(t, http.StatusOK, hs.stream(events, u.AccessToken))
	rows := func() int64 {
		n, err := hs.db.NewSelect().Model((*domain.EventStream)(nil)).Count(context.Background())
		require.NoError(t, err)
		return n
	}
	require.EqualValues(t, 1, rows(), "the stream is written down")

	hs.h.(*api.Handler).CloseStreams()
	assert.Zero(t, rows(), "forgotten by the time CloseStreams returns")
	assert.Equal(t, http.StatusServiceUnavailable, hs.stream(events, u.AccessToken), "no new stream")
	assert.Zero(t, rows())
}
