package activities

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/metrics"
)

// NewLLM builds the client of an OpenAI-compatible endpoint. It never
// retries by itself: the activity's retry policy owns retries.
func NewLLM(baseURL, apiKey string, timeout time.Duration) *openai.Client {
	c := openai.NewClient(
		option.WithBaseURL(baseURL),
		option.WithAPIKey(apiKey),
		option.WithMaxRetries(0),
		option.WithRequestTimeout(timeout),
	)
	return &c
}

// HumanLabel starts the assistant-side messages a person wrote, in the
// history the LLM is given: it knows they were not its own.
const HumanLabel = "[written by a person on the support team] "

// CallLLMInput is one LLM call of a turn: the fixed history, and the tool
// rounds so far.
type CallLLMInput struct {
	UserID     int64   `json:"user_id"`
	Agent      string  `json:"agent"`
	HistoryIDs []int64 `json:"history_ids"`
	Steps      []Step  `json:"steps,omitempty"`
}

// CallLLMResult is the LLM's answer: text, or tool calls to run first.
type CallLLMResult struct {
	Content          string     `json:"content"`
	ToolCalls        []ToolCall `json:"tool_calls,omitempty"`
	PromptTokens     int64      `json:"prompt_tokens"`
	CompletionTokens int64      `json:"completion_tokens"`
}

// CallLLM asks the model for the next step of the turn.
func (a *Activities) CallLLM(ctx context.Context, in CallLLMInput) (CallLLMResult, error) {
	agent, err := a.Agents.Get(in.Agent)
	if err != nil {
		return CallLLMResult{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownAgent, err)
	}
	// The LLM's attempts are for the LLM: a database restarting meanwhile is
	// waited for here instead of spending them.
	var (
		user    *domain.User
		perms   domain.Permissions
		history []domain.Message
	)
	err = database.WaitReachable(ctx, databaseWait, func() { activity.RecordHeartbeat(ctx) }, func() (err error) {
		if user, err = domain.UserByID(ctx, a.DB, in.UserID); err != nil {
			return fmt.Errorf("load user: %w", err)
		}
		if perms, err = domain.PermissionsOf(ctx, a.DB, user); err != nil {
			return err
		}
		history, err = domain.MessagesByID(ctx, a.DB, in.HistoryIDs)
		return err
	})
	if err != nil {
		return CallLLMResult{}, err
	}
	msgs := []openai.ChatCompletionMessageParamUnion{openai.SystemMessage(agent.Prompt(user, perms))}
	for _, m := range history {
		switch {
		case m.SenderID == user.ID:
			msgs = append(msgs, openai.UserMessage(m.Content))
		case m.AgentID != nil:
			// A person answered while the conversation was handed over.
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
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(a.Model), Messages: msgs}
	for _, t := range agent.ToolsFor(perms) {
		params.Tools = append(params.Tools, openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name: t.Name, Description: openai.String(t.Description), Parameters: t.Parameters,
		}))
	}
	conversation, typist, address := a.whereTo(history)
	live := a.replyStream(ctx, conversation)
	if activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1 {
		live.reset(ctx) // an earlier attempt may have streamed text
	}
	stopTyping := a.typing(ctx, conversation, typist, address)
	stop := heartbeat(ctx, heartbeatEvery)
	start := time.Now()
	out, err := a.streamCompletion(ctx, params, live)
	stop()
	stopTyping()
	if err != nil {
		a.Metrics.LLMLatency.WithLabelValues("error").Observe(metrics.Since(start))
		if live.started() {
			live.reset(ctx)
		}
		return CallLLMResult{}, err
	}
	a.Metrics.LLMLatency.WithLabelValues("ok").Observe(metrics.Since(start))
	a.Metrics.LLMTokens.WithLabelValues("prompt").Add(float64(out.PromptTokens))
	a.Metrics.LLMTokens.WithLabelValues("completion").Add(float64(out.CompletionTokens))
	if len(out.ToolCalls) > 0 && live.started() {
		live.reset(ctx) // the text was a preamble to tool calls; the reply comes later
	} else {
		live.flush(ctx)
	}
	return out, nil
}

// streamCompletion asks for the completion as a stream, publishes its text
// as it arrives, and assembles the answer: text, tool calls and usage.
func (a *Activities) streamCompletion(ctx context.Context, params openai.ChatCompletionNewParams, live *replyStream) (CallLLMResult, error) {
	params.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := a.LLM.Chat.Completions.NewStreaming(ctx, params)
	defer stream.Close()
	var acc openai.ChatCompletionAccumulator
	for stream.Next() {
		chunk := stream.Current()
		acc.AddChunk(chunk)
		if len(chunk.Choices) > 0 && chunk.Choices[0].Delta.Content != "" {
			live.add(ctx, chunk.Choices[0].Delta.Content)
		}
	}
	if err := stream.Err(); err != nil {
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
	out := CallLLMResult{Content: msg.Content, PromptTokens: acc.Usage.PromptTokens, CompletionTokens: acc.Usage.CompletionTokens}
	for _, tc := range msg.ToolCalls {
		out.ToolCalls = append(out.ToolCalls, ToolCall{ID: tc.ID, Name: tc.Function.Name, Arguments: tc.Function.Arguments})
	}
	return out, nil
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
