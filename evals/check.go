package evals

import (
	"fmt"
	"strings"
)

// Turn is what one message of a case got back, as the API shows it to the
// user who sent it.
type Turn struct {
	MessageID int64      `json:"message_id"`
	ReplyID   int64      `json:"reply_id"`
	Reply     string     `json:"reply"`
	Citations []Citation `json:"citations,omitempty"`
	// LatencyMS is the time from sending the message to reading the reply.
	LatencyMS int64 `json:"latency_ms"`
	// Tokens are the LLM tokens of the turn's calls; Agents the agent of
	// each call, in order ("" where no agents are configured).
	Tokens int64    `json:"tokens"`
	Agents []string `json:"agents,omitempty"`
}

// Citation is a source a reply cites (the message's citations).
type Citation struct {
	N         int     `json:"n"`
	ArticleID int64   `json:"article_id"`
	Title     string  `json:"title"`
	URL       *string `json:"url"`
}

// judge says why the last turn of a case does not meet its expectations;
// none: it does. handedOff is whether the conversation went to a person,
// nil when the case did not ask.
func judge(e Expect, last Turn, handedOff *bool) []string {
	var why []string
	text := strings.ToLower(last.Reply)
	for _, s := range e.Contains {
		if !strings.Contains(text, strings.ToLower(s)) {
			why = append(why, fmt.Sprintf("reply lacks %q", s))
		}
	}
	for _, s := range e.NotContains {
		if strings.Contains(text, strings.ToLower(s)) {
			why = append(why, fmt.Sprintf("reply contains %q", s))
		}
	}
	for _, s := range e.Cites {
		if !cites(last.Citations, s) {
			why = append(why, fmt.Sprintf("no citation of %q (cited: %s)", s, citedList(last.Citations)))
		}
	}
	if e.TransfersTo != "" && !transferredTo(last.Agents, e.TransfersTo) {
		why = append(why, fmt.Sprintf("no transfer to %s (calls by: %s)", e.TransfersTo, orNone(strings.Join(last.Agents, ", "))))
	}
	if e.HandsOff != nil && handedOff != nil && *e.HandsOff != *handedOff {
		if *e.HandsOff {
			why = append(why, "not handed off to a person")
		} else {
			why = append(why, "handed off to a person")
		}
	}
	if e.MaxTokens > 0 && last.Tokens > e.MaxTokens {
		why = append(why, fmt.Sprintf("%d tokens, over max_tokens %d", last.Tokens, e.MaxTokens))
	}
	return why
}

// cites says whether one of the citations is the article named by its
// title (ignoring case) or its url.
func cites(list []Citation, want string) bool {
	for _, c := range list {
		if strings.EqualFold(c.Title, want) || (c.URL != nil && *c.URL == want) {
			return true
		}
	}
	return false
}

func citedList(list []Citation) string {
	var out []string
	for _, c := range list {
		out = append(out, fmt.Sprintf("%q", c.Title))
	}
	return orNone(strings.Join(out, ", "))
}

// transferredTo says whether the turn's calls went over to agent: a call
// by it follows a call by another agent.
func transferredTo(agents []string, agent string) bool {
	for i := 1; i < len(agents); i++ {
		if agents[i] == agent && agents[i-1] != agent {
			return true
		}
	}
	return false
}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
