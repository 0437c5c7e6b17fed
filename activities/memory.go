package activities

import (
	"context"
	"errors"
	"strings"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/shared"

	"github.com/aimsg/aimsg/domain"
)

// maxSummarised bounds the messages one summary request reads: a
// conversation far past the window is summarised from its newest older
// messages.
const maxSummarised = 200

// summaryPrompt asks for the memory of a conversation.
const summaryPrompt = "You keep the memory of a conversation between a user and an AI assistant. " +
	"Write a concise summary, at most 200 words, of what the assistant must remember to answer the user later: " +
	"who they are, what they asked and were told, facts, decisions, reports mentioned and open questions. " +
	"If a summary so far is given, fold the new messages into it. Write only the summary."

// memoryIntro introduces the summary to the model answering the turn.
const memoryIntro = "Summary of the conversation before the messages below:\n"

// recall is the summary of the conversation before the window (which
// starts at message windowStart), written or refreshed first when refresh
// is set and it is due: missing while older messages exist, or
// SummaryEvery messages behind the window. It never fails: without a
// summary the turn goes on with the window alone.
func (a *Activities) recall(ctx context.Context, userID int64, conversation string, windowStart int64,
	endpoint Endpoint, refresh bool) string {
	if a.SummaryEvery <= 0 || conversation == "" {
		return ""
	}
	mem, err := domain.MemoryOf(ctx, a.DB, conversation)
	if err != nil {
		a.Logger.Warn("conversation summary not read", "conversation_id", conversation, "error", err)
		return ""
	}
	current := ""
	after := int64(0)
	if mem != nil {
		current, after = mem.Content, mem.UpTo
	}
	if !refresh {
		return current
	}
	older, err := domain.MessagesBefore(ctx, a.DB, conversation, after, windowStart, maxSummarised)
	if err != nil {
		a.Logger.Warn("messages to summarise not read", "conversation_id", conversation, "error", err)
		return current
	}
	if len(older) == 0 || (mem != nil && len(older) < a.SummaryEvery) {
		return current
	}
	text, model, err := a.summarise(ctx, userID, conversation, endpoint, current, older)
	if err != nil {
		a.Logger.Warn("conversation not summarised; answering without it", "conversation_id", conversation, "error", err)
		return current
	}
	err = domain.SaveMemory(ctx, a.DB, &domain.Memory{ConversationID: conversation, UserID: userID,
		UpTo: older[len(older)-1].ID, Content: text, Model: model})
	if err != nil {
		a.Logger.Warn("conversation summary not saved", "conversation_id", conversation, "error", err)
	}
	return text
}

// summarise asks the LLM to fold older messages into the summary so far.
// Its tokens are the user's, like the reply's.
func (a *Activities) summarise(ctx context.Context, userID int64, conversation string, endpoint Endpoint,
	current string, older []domain.Message) (summary, model string, err error) {
	var transcript strings.Builder
	if current != "" {
		transcript.WriteString("Summary so far:\n" + current + "\n\nNew messages:\n")
	}
	for _, m := range older {
		switch {
		case m.SenderID == userID:
			transcript.WriteString("User: ")
		case m.AgentID != nil:
			transcript.WriteString("Support team: ")
		default:
			transcript.WriteString("Assistant: ")
		}
		transcript.WriteString(m.Content + "\n")
	}
	params := openai.ChatCompletionNewParams{Model: shared.ChatModel(endpoint.Model), Messages: []openai.ChatCompletionMessageParamUnion{
		openai.SystemMessage(summaryPrompt), openai.UserMessage(transcript.String()),
	}}
	start := time.Now()
	sctx, span := startChatSpan(ctx, endpoint)
	out, err := endpoint.Client.Chat.Completions.New(sctx, params)
	call := llmCall{userID: userID, conversation: conversation, purpose: domain.PurposeSummary, endpoint: endpoint,
		start: start, err: err}
	if err == nil {
		call.out = CallLLMResult{PromptTokens: out.Usage.PromptTokens, CompletionTokens: out.Usage.CompletionTokens, Model: out.Model}
		if len(out.Choices) == 0 || strings.TrimSpace(out.Choices[0].Message.Content) == "" {
			call.err = errors.New("llm answered the summary request with nothing")
		}
	} else {
		call.err = classifyLLMError(err)
	}
	a.recordCall(ctx, span, call)
	if call.err != nil {
		return "", "", call.err
	}
	model = out.Model
	if model == "" {
		model = endpoint.Model
	}
	return strings.TrimSpace(out.Choices[0].Message.Content), model, nil
}
