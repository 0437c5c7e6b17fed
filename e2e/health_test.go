package e2e_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
)

// /health asks the real Temporal server (the API's unit tests fake it).
func TestHealthAsksTheRealTemporal(t *testing.T) {
	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	w := s.Call("GET", "/health", nil, "")
	require.Equal(t, http.StatusOK, w.Code, w.Body.String())
	assert.Equal(t, map[string]any{"status": "ok", "database": "ok", "temporal": "ok"}, apitest.Decode(t, w))
}
