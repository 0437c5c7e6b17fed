package activities

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"github.com/prometheus/client_golang/prometheus"
	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/metrics"
)

// Endpoint is an OpenAI-compatible LLM endpoint and the model asked there.
type Endpoint struct {
	Client *openai.Client
	Model  string
	// Provider is the gen_ai.provider.name of the model: the prefix of a
	// "provider/model" name (the LiteLLM convention), else "openai" (the
	// protocol). Server is the endpoint's host and port.
	Provider string
	Server   string
	// Timeout caps one whole request (LLM_TIMEOUT_SECONDS), a streamed
	// answer included unless StreamMax is set.
	Timeout time.Duration
	// StreamMax caps a whole streamed answer (LLM_STREAM_MAX_SECONDS):
	// a stream is cut on silence (LLM_IDLE_TIMEOUT_SECONDS), not on
	// length, up to this.
	StreamMax time.Duration
}

// NewEndpoint builds the client of an OpenAI-compatible endpoint. It never
// retries by itself: the activity's retry policy owns retries. timeout
// caps a whole request, reading a streamed answer included; the HTTP
// client itself has no timeout of its own to cut a long stream sooner.
func NewEndpoint(baseURL, apiKey, model string, timeout time.Duration) Endpoint {
	c := openai.NewClient(
		option.WithBaseURL(baseURL),
		option.WithAPIKey(apiKey),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	)
	e := Endpoint{Client: &c, Model: model, Provider: "openai", Timeout: timeout}
	if p, _, ok := strings.Cut(model, "/"); ok && p != "" {
		e.Provider = p
	}
	if u, err := url.Parse(baseURL); err == nil {
		e.Server = u.Host
	}
	return e
}

// HumanLabel starts the assistant-side messages a person wrote, in the
// history the LLM is given: it knows they were not its own.
const HumanLabel = "[written by a person on the support team] "

// CallLLMInput is one LLM call of a turn: the fixed history, and the tool
// rounds so far.
type CallLLMInput struct {
	UserID int64  `json:"user_id"`
	Agent  string `json:"agent"`
	// AgentRevision is the configured agent's revision the turn runs; 0
	// is the worker's built-in agent of that name.
	AgentRevision int64   `json:"agent_revision,omitempty"`
	HistoryIDs    []int64 `json:"history_ids"`
	Steps         []Step  `json:"steps,omitempty"`
	// Endpoint is EndpointPrimary (also when empty) or EndpointFallback.
	Endpoint string `json:"endpoint,omitempty"`
}

// CallLLMResult is the LLM's answer: text, or tool calls to run first.
type CallLLMResult struct {
	Content          string     `json:"content"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	PromptTokens     int64      `json:"prompt_tokens"`
	CompletionTokens int64      `json:"completion_tokens"`
	// Model is the model that answered, as the provider named it (the
	// model asked for when it did not say).
	Model string `json:"model,omitempty"`
}

// CallLLM asks the model for the next step of the turn.
func (a *Activities) CallLLM(ctx context.Context, in CallLLMInput) (CallLLMResult, error) {
	agent, err := a.agent(ctx, in.Agent, in.AgentRevision)
	if err != nil {
		return CallLLMResult{}, err
	}
	endpoint := a.LLM
	if agent.Model != "" {
		endpoint.Model = agent.Model
	}
	if in.Endpoint == EndpointFallback {
		if a.Fallback == nil {
			return CallLLMResult{}, temporal.NewNonRetryableApplicationError("this worker has no fallback LLM", ErrNoFallback, nil)
		}
		endpoint = *a.Fallback
	}
	// The LLM's attempts are for the LLM: a database restarting meanwhile is
	// waited for here instead of spending them.
	var (
		user      *domain.User
		perms     domain.Permissions
		history   []domain.Message
		usedToday int64
	)
	err = database.WaitReachable(ctx, databaseWait, func() { activity.RecordHeartbeat(ctx) }, func() (err error) {
		if user, err = domain.UserByID(ctx, a.DB, in.UserID); err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if perms, err = domain.PermissionsOf(ctx, a.DB, user); err != nil {
			return err
		}
		if a.DailyTokens > 0 {
			if usedToday, err = domain.TokensToday(ctx, a.DB, user.ID, a.now()); err != nil {
				return err
			}
		}
		history, err = domain.MessagesByID(ctx, a.DB, in.HistoryIDs)
		return err
	})
	if err != nil {
		return CallLLMResult{}, err
	}
	if a.DailyTokens > 0 && usedToday >= a.DailyTokens {
		return CallLLMResult{}, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("the user's %d tokens of today reach LLM_USER_DAILY_TOKENS", usedToday), ErrBudgetExceeded, nil)
	}
	conversation, typist, address := a.whereTo(history)
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(agent.Prompt(user, perms))}
	if len(history) > 0 {
		// The first call of a turn brings the memory up to date.
		stop := heartbeat(ctx, heartbeatEvery)
		memory := a.recall(ctx, user.ID, conversation, history[0].ID, endpoint, len(in.Steps) == 0)
		stop()
		if memory != "" {
			msgs = append(msgs, openai.SystemMessage(memoryIntro+memory))
		}
	}
	media, err := a.historyMedia(ctx, history)
	if err != nil {
		return CallLLMResult{}, err
	}
	for _, m := range history {
		switch {
		case m.SenderID == user.ID:
			msgs = append(msgs, media.userMessage(m))
		case m.AgentID != nil:
			// A person answered while they had the conversation.
			msgs = append(msgs, openai.AssistantMessage(HumanLabel+m.Content))
		default:
			msgs = append(msgs, openai.AssistantMessage(m.Content))
		}
	}
	for _, st := range in.Steps {
		calls := make([]openai.ChatCompletionMessageToolCallUnionParam, 0, len(st.Calls))
		for _, c := range st.Calls {
			calls = append(calls, openai.ChatCompletionMessageToolCallUnionParam{
				OfFunction: &openai.ChatCompletionMessageFunctionToolCallParam{
					ID:       c.ID,
					Function: openai.ChatCompletionMessageFunctionToolCallFunctionParam{Name: c.Name, Arguments: c.Arguments},
				},
			})
		}
		msgs = append(msgs, openai.ChatCompletionMessageParamUnion{OfAssistant: &openai.ChatCompletionAssistantMessageParam{ToolCalls: calls}})
		for _, r := range st.Results {
			msgs = append(msgs, openai.ToolMessage(r.Content, r.CallID))
		}
	}
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(endpoint.Model), Messages: msgs}
	for _, t := range agent.ToolsFor(perms) {
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: t.Name, Description: openai.String(t.Description), Parameters: t.Parameters,
		}))
	}
	live := a.replyStream(ctx, conversation)
	if activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1 {
		live.reset(ctx) // an earlier attempt may have streamed text
	}
	stopTyping := a.typing(ctx, conversation, typist, address)
	stop := heartbeat(ctx, heartbeatEvery)
	start := time.Now()
	wctx, gaveWay := a.giveWay(ctx, conversation, user.ID, history)
	sctx, span := startChatSpan(wctx, endpoint)
	out, err := a.streamCompletion(sctx, endpoint, params, live)
	if interrupted := gaveWay(); interrupted != nil && err != nil {
		err = interrupted
	}
	stop()
	stopTyping()
	a.recordCall(ctx, span, llmCall{userID: user.ID, agent: agent.Name, conversation: conversation, purpose: domain.PurposeReply,
		endpoint: endpoint, start: start, out: out, err: err})
	if err != nil {
		if live.started() {
			live.reset(ctx)
		}
		return CallLLMResult{}, err
	}
	if out.Model == "" {
		out.Model = endpoint.Model
	}
	if len(out.ToolCalls) > 0 && live.started() {
		live.reset(ctx) // the text was a preamble to tool calls; the reply comes later
	} else {
		live.flush(ctx)
	}
	return out, nil
}

// streamCompletion asks for the completion as a stream, publishes its text
// as it arrives, and assembles the answer: text, tool calls and usage. The
// stream is cut when the model sends nothing for a.LLMIdleTimeout, however
// long it has been steadily answering; the endpoint's Timeout caps it whole.
func (a *Activities) streamCompletion(ctx context.Context, endpoint Endpoint, params openai.ChatCompletionNewParams,
	live *replyStream) (CallLLMResult, error) {
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	sctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	// The model gets LLM_TIMEOUT_SECONDS to start answering (it may
	// think first), then LLM_IDLE_TIMEOUT_SECONDS between chunks.
	first := a.LLMIdleTimeout
	if endpoint.StreamMax > 0 && endpoint.Timeout > 0 {
		first = endpoint.Timeout
	}
	started := false
	idle := newIdleTimer(first, a.LLMIdleTimeout, func() { cancel(errModelIdle) })
	defer idle.stop()
	limit, setting := endpoint.Timeout, "LLM_TIMEOUT_SECONDS"
	var opts []option.RequestOption
	if endpoint.StreamMax > 0 {
		limit, setting = endpoint.StreamMax, "LLM_STREAM_MAX_SECONDS"
		opts = append(opts, option.WithRequestTimeout(endpoint.StreamMax))
	}
	stream := endpoint.Client.Chat.Completions.NewStreaming(sctx, params, opts...)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		// Only the wait for the model counts, not our own publishing.
		idle.pause()
		started = true
		chunk := stream.Current()
		acc.AddChunk(chunk)
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			live.add(ctx, chunk.Choices[0].Delta.Content)
		}
		idle.restart()
	}
	err := stream.Err()
	if errors.Is(context.Cause(sctx), errModelIdle) && (err != nil || len(acc.Choices) == 0 || acc.Choices[0].FinishReason == "") {
		quiet := a.LLMIdleTimeout
		if !started {
			quiet = first
		}
		return CallLLMResult{}, temporal.NewApplicationErrorWithCause(
			fmt.Sprintf("the model sent nothing for %s", quiet), ErrLLMIdle, err)
	}
	if err != nil {
		if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil && limit > 0 {
			return CallLLMResult{}, fmt.Errorf("the model's answer took longer than %s (%s): %w", limit, setting, err)
		}
		return CallLLMResult{}, classifyLLMError(err)
	}
	if len(acc.Choices) == 0 {
		return CallLLMResult{}, errors.New("llm answered without choices")
	}
	if acc.Choices[0].FinishReason == "" {
		// The stream ended without saying why: cut off, not finished.
		return CallLLMResult{}, errors.New("llm stream ended before the answer was finished")
	}
	msg := acc.Choices[0].Message
	out := CallLLMResult{Content: msg.Content, PromptTokens: acc.Usage.PromptTokens,
		CompletionTokens: acc.Usage.CompletionTokens, Model: acc.Model}
	for _, tc := range msg.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	return out, nil
}

// errModelIdle is why a stream's context is cancelled when the model
// went quiet.
var errModelIdle = errors.New("the model went quiet")

// idleTimer calls fire once no restart came for d after the last one, or
// for first after it was made; a zero d never fires.
type idleTimer struct {
	d time.Duration
	t *time.Timer
}

func newIdleTimer(first, d time.Duration, fire func()) *idleTimer {
	if d <= 0 {
		return &idleTimer{}
	}
	if first <= 0 {
		first = d
	}
	return &idleTimer{d: d, t: time.AfterFunc(first, fire)}
}

// pause stops the count until restart.
func (i *idleTimer) pause() {
	if i.t != nil {
		i.t.Stop()
	}
}

// restart counts d again from now.
func (i *idleTimer) restart() {
	if i.t != nil {
		i.t.Reset(i.d)
	}
}

func (i *idleTimer) stop() { i.pause() }

// llmCall is one finished LLM request, to be counted.
type llmCall struct {
	userID       int64
	agent        string
	conversation string
	purpose      domain.LLMPurpose
	endpoint     Endpoint
	start        time.Time
	out          CallLLMResult
	err          error
}

// startChatSpan opens the span of one chat request to e, named and
// described by the OpenTelemetry GenAI conventions.
func startChatSpan(ctx context.Context, e Endpoint) (context.Context, trace.Span) {
	return otel.Tracer("github.com/aimsg/aimsg/activities").Start(ctx, "chat "+e.Model,
		trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(
			attribute.String("gen_ai.operation.name", "chat"),
			attribute.String("gen_ai.provider.name", e.Provider),
			attribute.String("gen_ai.request.model", e.Model),
			attribute.String("server.address", e.Server)))
}

// recordCall ends the call's span, counts it in the GenAI metrics and
// stores it for the user's usage. A failure to store it is logged, not
// returned: the call was made and answered, repeating it would cost twice.
func (a *Activities) recordCall(ctx context.Context, span trace.Span, c llmCall) {
	elapsed := time.Since(c.start)
	responseModel := c.out.Model
	outcome, errorType := domain.LLMOK, ""
	var appErr *temporal.ApplicationError
	switch {
	case c.err == nil:
	case errors.As(c.err, &appErr) && appErr.Type() == ErrLLMRejected:
		outcome, errorType = domain.LLMRejected, llmErrorType(c.err)
	default:
		outcome, errorType = domain.LLMFailed, llmErrorType(c.err)
	}
	labels := prometheus.Labels{metrics.GenAIOperation: "chat", metrics.GenAIProvider: c.endpoint.Provider,
		metrics.GenAIRequestModel: c.endpoint.Model, metrics.GenAIResponseModel: responseModel,
		metrics.GenAIAgent: c.agent, metrics.ServerAddress: c.endpoint.Server}
	duration := prometheus.Labels{metrics.ErrorType: errorType}
	maps.Copy(duration, labels)
	a.Metrics.GenAIDuration.With(duration).Observe(elapsed.Seconds())
	span.SetAttributes(attribute.String("gen_ai.response.model", responseModel),
		attribute.Int64("gen_ai.usage.input_tokens", c.out.PromptTokens),
		attribute.Int64("gen_ai.usage.output_tokens", c.out.CompletionTokens))
	if c.err != nil {
		span.SetAttributes(attribute.String("error.type", errorType))
		span.SetStatus(codes.Error, c.err.Error())
	}
	span.End()
	if c.err == nil {
		for kind, n := range map[string]int64{"input": c.out.PromptTokens, "output": c.out.CompletionTokens} {
			tokens := prometheus.Labels{metrics.GenAITokenType: kind}
			maps.Copy(tokens, labels)
			a.Metrics.GenAITokens.With(tokens).Observe(float64(n))
		}
	}
	row := &domain.LLMCall{CreatedAt: a.now(), UserID: c.userID, Agent: c.agent, ConversationID: c.conversation, Purpose: c.purpose,
		Provider: c.endpoint.Provider, Model: c.endpoint.Model, PromptTokens: c.out.PromptTokens,
		CompletionTokens: c.out.CompletionTokens, LatencyMS: elapsed.Milliseconds(), Outcome: outcome}
	if responseModel != "" {
		row.Model = responseModel
	}
	if activity.IsActivity(ctx) {
		row.TurnID = activity.GetInfo(ctx).WorkflowExecution.ID
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := domain.RecordLLMCall(sctx, a.DB, row); err != nil {
		a.Logger.Warn("llm call not recorded", "user_id", c.userID, "error", err)
	}
}

// llmErrorType is the error.type of a failed call: the provider's HTTP
// status, or what kind of failure it was.
func llmErrorType(err error) string {
	var apiErr *openai.Error
	var appErr *temporal.ApplicationError
	switch {
	case errors.As(err, &apiErr):
		return strconv.Itoa(apiErr.StatusCode)
	case errors.As(err, &appErr) && appErr.Type() == ErrLLMIdle, errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.Is(err, context.Canceled):
		return "cancelled"
	}
	return "_OTHER"
}

// now is the activities' clock.
func (a *Activities) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return domain.Now()
}

// whereTo is where a turn's live signs go: its conversation, and the
// channel and address of the person's last message when that channel can
// show typing.
func (a *Activities) whereTo(history []domain.Message) (conversation string, typist Typist, address string) {
	for i := len(history) - 1; i >= 0; i-- {
		m := history[i]
		if conversation == "" && m.ConversationID != nil {
			conversation = *m.ConversationID
		}
		if m.TurnStatus != nil { // the person's latest message to the assistant
			if t, ok := a.Deliverers[m.Channel].(Typist); ok && m.Address != nil {
				typist, address = t, *m.Address
			}
			break
		}
	}
	return conversation, typist, address
}

// databaseWait is how long CallLLM waits for an unreachable database.
const databaseWait = time.Minute

// heartbeatEvery keeps an activity that waits on another service (the LLM,
// a channel's API, the database) visibly alive; the workflow's heartbeat
// timeout notices a dead worker long before the activity's own timeout.
const heartbeatEvery = 2 * time.Second

// heartbeat records a heartbeat every interval until stop is called.
func heartbeat(ctx context.Context, every time.Duration) (stop func()) {
	if !activity.IsActivity(ctx) {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				activity.RecordHeartbeat(ctx)
			}
		}
	}()
	return func() { close(done) }
}

// classifyLLMError lets rate limits, server errors and timeouts retry, and
// stops at once on what retrying cannot fix.
func classifyLLMError(err error) error {
	var apiErr *openai.Error
	if errors.As(err, &apiErr) {
		switch code := apiErr.StatusCode; {
		case code == http.StatusTooManyRequests && apiErr.Code == "insufficient_quota":
			return temporal.NewNonRetryableApplicationError("llm quota exhausted", ErrLLMRejected, err)
		case code == http.StatusTooManyRequests, code == http.StatusRequestTimeout, code >= 500:
			return fmt.Errorf("llm unavailable (%d): %w", code, err)
		case code >= 400:
			return temporal.NewNonRetryableApplicationError(fmt.Sprintf("llm rejected the request (%d)", code), ErrLLMRejected, err)
		}
	}
	return fmt.Errorf("call llm: %w", err)
}
