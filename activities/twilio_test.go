package activities_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/aimsg/aimsg/activities"
)

func TestSplitMessage(t *testing.T) {
	assert.Equal(t, []string{"short"}, activities.SplitMessage("short", 1600))
	assert.Equal(t, []string{""}, activities.SplitMessage("", 1600))

	sentence := "This sentence is part of a long answer. "
	long := strings.Repeat(sentence, 100) // 4,000 characters
	parts := activities.SplitMessage(long, 1600)
	assert.Len(t, parts, 3)
	for _, p := range parts {
		assert.LessOrEqual(t, utf8.RuneCountInString(p), 1600)
		assert.True(t, strings.HasSuffix(p, "."), "cut at a sentence end: %q", p[len(p)-10:])
	}
	assert.Equal(t, strings.Join(strings.Fields(long), " "), strings.Join(strings.Fields(strings.Join(parts, " ")), " "),
		"nothing lost")

	// Characters, not bytes: 1,600 emoji are one message.
	emoji := strings.Repeat("🙂", 1600)
	assert.Equal(t, []string{emoji}, activities.SplitMessage(emoji, 1600))
	// No break at all: a hard cut.
	assert.Equal(t, []string{strings.Repeat("a", 10), strings.Repeat("a", 5)}, activities.SplitMessage(strings.Repeat("a", 15), 10))
}
