package activities

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// SearchKnowledgeTool searches the knowledge base for the assistant.
const SearchKnowledgeTool = "search_knowledge"

// knowledgeHits is how many passages one search shows the LLM: enough to
// answer from, few enough to keep the prompt short.
const knowledgeHits = 5

// NoPassages is the tool's answer when nothing in the knowledge base
// matches.
const NoPassages = "No passage of the knowledge base matches this question."

// Passages is a tool's answer made of knowledge base passages: RunTool
// numbers them on from the turn's earlier ones and shows them as text.
type Passages []domain.SearchHit

// numbered is the text the LLM reads, each passage as
//
//	[n] title — heading
//	text
//	URL: url
//
// and the sources those numbers stand for.
func (p Passages) numbered(first int) (string, []domain.Citation) {
	if len(p) == 0 {
		return NoPassages, nil
	}
	var b strings.Builder
	sources := make([]domain.Citation, len(p))
	for i, h := range p {
		n := first + i
		sources[i] = domain.Citation{N: n, ArticleID: h.ArticleID, Title: h.Title, URL: h.URL, Heading: h.HeadingPath}
		if i > 0 {
			b.WriteString("\n\n")
		}
		b.WriteString("[" + strconv.Itoa(n) + "] " + h.Title)
		if h.HeadingPath != "" {
			b.WriteString(" — " + h.HeadingPath)
		}
		b.WriteString("\n" + strings.TrimSpace(h.Text))
		if h.URL != nil {
			b.WriteString("\nURL: " + *h.URL)
		}
	}
	return b.String(), sources
}

// knowledgeTool searches the help articles as the person in the
// conversation (domain.SearchForAssistant decides which collections),
// reading the question with the text search configuration lang.
func knowledgeTool(lang string) Tool {
	return Tool{
		Name: SearchKnowledgeTool,
		Description: "Search the team's help articles. Returns numbered passages with their titles and URLs; " +
			"answer from them and cite each fact with its number in brackets, like [1].",
		Parameters: object([]string{"query"}, map[string]any{
			"query": map[string]any{"type": "string", "maxLength": domain.MaxSearchChars,
				"description": "the question, in the user's words or rephrased as a search"},
		}),
		Run: func(ctx context.Context, db bun.IDB, actor *domain.User, raw json.RawMessage) (any, error) {
			var args struct {
				Query string `json:"query"`
			}
			if err := decodeArgs(raw, &args); err != nil {
				return nil, err
			}
			hits, err := domain.SearchForAssistant(ctx, db, actor, domain.SearchQuery{
				Text: args.Query, Limit: knowledgeHits, Language: lang})
			if err != nil {
				return nil, fmt.Errorf("search knowledge: %w", err)
			}
			return Passages(hits), nil
		},
	}
}
