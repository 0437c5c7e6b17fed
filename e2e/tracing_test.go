package e2e_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/propagation"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
)

// One trace runs from the HTTP request through the Temporal client into
// the conversation and turn workflows and their activities.
func TestATurnIsOneTrace(t *testing.T) {
	rec := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(rec))
	prev := otel.GetTracerProvider()
	otel.SetTracerProvider(tp)
	otel.SetTextMapPropagator(propagation.TraceContext{})
	t.Cleanup(func() { otel.SetTracerProvider(prev); _ = tp.Shutdown(t.Context()) })

	s := newStack(t, "sqlite:///:memory:", fakellm.Echo, nil)
	u := s.User("traced")
	q := s.ask(u, "follow me")
	s.replyTo(u, apitest.ID(q), 30*time.Second)
	s.turnOutcome(apitest.ID(q))

	var root trace.TraceID
	for _, sp := range rec.Ended() {
		if sp.Name() == "POST /auth/conversations/:id/messages" {
			root = sp.SpanContext().TraceID()
		}
	}
	require.True(t, root.IsValid(), "the request has a span")
	require.EventuallyWithT(t, func(c *assert.CollectT) {
		names := map[string]bool{}
		for _, sp := range rec.Ended() {
			if sp.SpanContext().TraceID() == root {
				names[sp.Name()] = true
			}
		}
		for _, want := range []string{"SignalWithStartWorkflow:ConversationWorkflow", "HandleSignal:inbound", "StartChildWorkflow:TurnWorkflow",
			"RunWorkflow:TurnWorkflow", "RunActivity:CallLLM", "chat openai/gpt-4o-mini", "RunActivity:SaveReply"} {
			assert.True(c, names[want], "%s in the request's trace; have %v", want, names)
		}
	}, 10*time.Second, 100*time.Millisecond)

	// The LLM request's span speaks the OpenTelemetry GenAI conventions.
	for _, sp := range rec.Ended() {
		if sp.Name() != "chat openai/gpt-4o-mini" {
			continue
		}
		attrs := map[string]any{}
		for _, kv := range sp.Attributes() {
			attrs[string(kv.Key)] = kv.Value.AsInterface()
		}
		assert.Equal(t, trace.SpanKindClient, sp.SpanKind())
		assert.Equal(t, "chat", attrs["gen_ai.operation.name"])
		assert.Equal(t, "openai", attrs["gen_ai.provider.name"])
		assert.Equal(t, "openai/gpt-4o-mini", attrs["gen_ai.request.model"])
		assert.EqualValues(t, 20, attrs["gen_ai.usage.input_tokens"])
		assert.EqualValues(t, 8, attrs["gen_ai.usage.output_tokens"])
	}
}
