package tracing_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"

	"github.com/aimsg/aimsg/tracing"
)

func TestSpansAreExportedByOTLPWhenConfigured(t *testing.T) {
	var posts atomic.Int32
	collector := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/v1/traces" && r.Method == http.MethodPost {
			posts.Add(1)
		}
		w.WriteHeader(http.StatusOK)
	}))
	defer collector.Close()
	prev := otel.GetTracerProvider()
	defer otel.SetTracerProvider(prev)

	shutdown, err := tracing.Setup(context.Background(), collector.URL, "aimsg-test")
	require.NoError(t, err)
	_, span := otel.Tracer("test").Start(context.Background(), "work")
	span.End()
	require.NoError(t, shutdown(context.Background()))
	assert.Positive(t, posts.Load(), "the span reached the collector")
}

func TestTracingIsOffWithoutAnEndpoint(t *testing.T) {
	prev := otel.GetTracerProvider()
	shutdown, err := tracing.Setup(context.Background(), "", "aimsg-test")
	require.NoError(t, err)
	assert.Equal(t, prev, otel.GetTracerProvider(), "no provider installed")
	require.NoError(t, shutdown(context.Background()))
}
