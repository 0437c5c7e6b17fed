package evals

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestJudge(t *testing.T) {
	url := "https://help.example.com/lockers"
	turn := Turn{Reply: "A locker keeps your parcel for 72 Hours [1].", Tokens: 56, Agents: []string{"general", "billing"},
		Citations: []Citation{{N: 1, ArticleID: 7, Title: "Parcel lockers", URL: &url}}}
	yes, no := true, false
	for name, tc := range map[string]struct {
		expect    Expect
		handedOff *bool
		want      []string
	}{
		"nothing asked":            {Expect{}, nil, nil},
		"contains, any case":       {Expect{Contains: Strings{"72 hours", "PARCEL"}}, nil, nil},
		"lacks":                    {Expect{Contains: Strings{"48 hours"}}, nil, []string{`reply lacks "48 hours"`}},
		"not_contains":             {Expect{NotContains: Strings{"bitcoin", "LOCKER"}}, nil, []string{`reply contains "LOCKER"`}},
		"cites by title, any case": {Expect{Cites: Strings{"parcel lockers"}}, nil, nil},
		"cites by url":             {Expect{Cites: Strings{url}}, nil, nil},
		"cites another": {Expect{Cites: Strings{"Returns"}}, nil,
			[]string{`no citation of "Returns" (cited: "Parcel lockers")`}},
		"transfers":      {Expect{TransfersTo: "billing"}, nil, nil},
		"no transfer":    {Expect{TransfersTo: "general"}, nil, []string{"no transfer to general (calls by: general, billing)"}},
		"handed off":     {Expect{HandsOff: &yes}, &yes, nil},
		"not handed off": {Expect{HandsOff: &yes}, &no, []string{"not handed off to a person"}},
		"unwanted":       {Expect{HandsOff: &no}, &yes, []string{"handed off to a person"}},
		"within budget":  {Expect{MaxTokens: 56}, nil, nil},
		"over budget":    {Expect{MaxTokens: 55}, nil, []string{"56 tokens, over max_tokens 55"}},
		"several": {Expect{Contains: Strings{"refund"}, MaxTokens: 10}, nil,
			[]string{`reply lacks "refund"`, "56 tokens, over max_tokens 10"}},
	} {
		t.Run(name, func(t *testing.T) {
			assert.Equal(t, tc.want, judge(tc.expect, turn, tc.handedOff))
		})
	}
}

func TestTransferNeedsAnotherAgentFirst(t *testing.T) {
	assert.False(t, transferredTo([]string{"billing"}, "billing"), "the agent that had the conversation already")
	assert.False(t, transferredTo([]string{"billing", "billing"}, "billing"))
	assert.True(t, transferredTo([]string{"general", "billing", "general"}, "billing"))
	assert.False(t, transferredTo(nil, "billing"))
	assert.Equal(t, []string{"no citation of \"x\" (cited: none)"}, judge(Expect{Cites: Strings{"x"}}, Turn{}, nil))
}
