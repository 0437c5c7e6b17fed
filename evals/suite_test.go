package evals

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestParseReadsCasesAndTheirExpectations(t *testing.T) {
	s, err := Parse([]byte(`
- name: one
  messages: ["hello", "how long?"]
  expect:
    contains: "72 hours"
    not_contains: [no idea, "I don't know"]
    cites: [Parcel lockers, https://help.example.com/lockers]
    transfers_to: billing
    hands_off: false
    max_tokens: 500
- name: two
  channel: web
  messages: [hi]
`))
	require.NoError(t, err)
	require.Len(t, s.Cases, 2)
	c := s.Cases[0]
	assert.Equal(t, []string{"hello", "how long?"}, c.Messages)
	assert.Equal(t, Strings{"72 hours"}, c.Expect.Contains, "one string is a list of one")
	assert.Equal(t, Strings{"no idea", "I don't know"}, c.Expect.NotContains)
	assert.Equal(t, Strings{"Parcel lockers", "https://help.example.com/lockers"}, c.Expect.Cites)
	assert.Equal(t, "billing", c.Expect.TransfersTo)
	require.NotNil(t, c.Expect.HandsOff)
	assert.False(t, *c.Expect.HandsOff)
	assert.EqualValues(t, 500, c.Expect.MaxTokens)
	assert.Nil(t, s.Cases[1].Expect.HandsOff, "not asked")
}

func TestParseRefusesWhatItCannotRunOrJudge(t *testing.T) {
	for name, tc := range map[string]struct{ yaml, err string }{
		"empty":          {``, "no cases"},
		"empty list":     {`[]`, "no cases"},
		"not a list":     {`name: x`, "cannot unmarshal"},
		"no name":        {`[{messages: [hi]}]`, "case #1: a name is required"},
		"no message":     {`[{name: a}]`, "case a: at least one message is required"},
		"blank message":  {`[{name: a, messages: ["hi", " "]}]`, "case a: message 2 is empty"},
		"twice":          {`[{name: a, messages: [hi]}, {name: a, messages: [hi]}]`, "case a: the name is used twice"},
		"misspelt":       {`[{name: a, messages: [hi], expect: {contain: x}}]`, "field contain not found"},
		"sms":            {`[{name: a, channel: sms, messages: [hi]}]`, `channel "sms": only web is reachable through the API`},
		"telegram":       {`[{name: a, channel: telegram, messages: [hi]}]`, `channel "telegram": only web`},
		"tool calls":     {`[{name: a, messages: [hi], expect: {calls_tool: search_knowledge}}]`, "calls_tool is not checkable through the API"},
		"empty contains": {`[{name: a, messages: [hi], expect: {contains: [""]}}]`, "empty string"},
		"negative":       {`[{name: a, messages: [hi], expect: {max_tokens: -1}}]`, "max_tokens must be above zero"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Parse([]byte(tc.yaml))
			require.Error(t, err)
			assert.Contains(t, err.Error(), tc.err)
		})
	}
}

// The example suite stays readable by the runner it documents.
func TestTheExampleSuiteParses(t *testing.T) {
	_, file, _, _ := runtime.Caller(0)
	s, err := Load(filepath.Join(filepath.Dir(file), "examples", "assistant.yaml"))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, len(s.Cases), 5)
}

func TestLoadNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "s.yaml")
	require.NoError(t, os.WriteFile(path, []byte(`[{name: a}]`), 0o644))
	_, err := Load(path)
	assert.ErrorContains(t, err, "suite "+path+": case a")
	_, err = Load(filepath.Join(t.TempDir(), "missing.yaml"))
	assert.ErrorContains(t, err, "read suite")
}
