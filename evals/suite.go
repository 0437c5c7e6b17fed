// Package evals plays scripted conversations against a running aimsg
// through its public API and checks the assistant's answers: a team that
// changes its prompt, model or agents runs a suite before and after and
// sees whether the assistant got better or worse. Suites are YAML
// (suite.go), a run signs in, gives each case a throwaway user and a
// fresh conversation (run.go), the checks read only what the API shows a
// user (check.go), and the report is a table and JSON (report.go).
//
// It is a client of the API and nothing else: it imports no database,
// Temporal or worker code, so it runs from a laptop against any
// deployment. `aimsg eval` (cmd/aimsg/eval.go) is its command line.
package evals

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Suite is a list of cases, run each in a conversation of its own.
type Suite struct {
	Cases []Case
}

// Case is one scripted conversation: its messages are sent in order, each
// after the assistant answered the one before, and Expect is checked on
// the last turn (the answer to the last message).
type Case struct {
	Name string `yaml:"name"`
	// Channel is where the user writes from: only "web" (the default) is
	// reachable through the API; SMS and Telegram arrive by webhooks the
	// providers sign.
	Channel  string   `yaml:"channel"`
	Messages []string `yaml:"messages"`
	Expect   Expect   `yaml:"expect"`
}

// Expect is what the last turn must show. Every field is optional; an
// empty Expect only asks for a reply in time.
type Expect struct {
	// Contains and NotContains are matched in the reply's text, ignoring
	// case; each may be one string or a list.
	Contains    Strings `yaml:"contains"`
	NotContains Strings `yaml:"not_contains"`
	// Cites are articles the reply's citations must include, each by its
	// title or its url.
	Cites Strings `yaml:"cites"`
	// TransfersTo is an agent the turn transferred to: a call of the turn
	// was made by it after a call by another agent.
	TransfersTo string `yaml:"transfers_to"`
	// HandsOff, when set, says whether the conversation went to a person
	// (its mode became human) after the turn.
	HandsOff *bool `yaml:"hands_off"`
	// MaxTokens, when above zero, bounds the LLM tokens of the turn.
	MaxTokens int64 `yaml:"max_tokens"`

	// CallsTool is refused when the suite is read: the tools a turn called
	// are in its Temporal history only, which no API route shows.
	CallsTool any `yaml:"calls_tool"`
}

// Strings is a YAML string or list of strings.
type Strings []string

// UnmarshalYAML takes one string as a list of one.
func (s *Strings) UnmarshalYAML(n *yaml.Node) error {
	if n.Kind == yaml.ScalarNode {
		var one string
		if err := n.Decode(&one); err != nil {
			return err
		}
		*s = Strings{one}
		return nil
	}
	var many []string
	if err := n.Decode(&many); err != nil {
		return err
	}
	*s = many
	return nil
}

// errNoToolCalls is the answer to calls_tool; the two tools whose effect
// the API shows have expectations of their own.
var errNoToolCalls = errors.New("calls_tool is not checkable through the API: the tools a turn called are in its " +
	"Temporal history only (`aimsg turns show`, for operators); use transfers_to for transfer_to_<agent>, " +
	"hands_off for handoff_to_human, cites for search_knowledge")

// Load reads a suite file.
func Load(path string) (*Suite, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read suite: %w", err)
	}
	s, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("suite %s: %w", path, err)
	}
	return s, nil
}

// Parse reads a suite: a YAML list of cases. Unknown keys are refused,
// so a misspelt expectation cannot pass by being ignored.
func Parse(b []byte) (*Suite, error) {
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var cases []Case
	if err := dec.Decode(&cases); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("no cases")
		}
		return nil, err
	}
	if len(cases) == 0 {
		return nil, errors.New("no cases")
	}
	seen := map[string]bool{}
	for i := range cases {
		c := &cases[i]
		if err := c.check(); err != nil {
			label := c.Name
			if label == "" {
				label = fmt.Sprintf("#%d", i+1)
			}
			return nil, fmt.Errorf("case %s: %w", label, err)
		}
		if seen[c.Name] {
			return nil, fmt.Errorf("case %s: the name is used twice", c.Name)
		}
		seen[c.Name] = true
	}
	return &Suite{Cases: cases}, nil
}

// check refuses a case the runner could not play or judge honestly.
func (c *Case) check() error {
	switch {
	case strings.TrimSpace(c.Name) == "":
		return errors.New("a name is required")
	case c.Channel != "" && c.Channel != "web":
		return fmt.Errorf("channel %q: only web is reachable through the API; SMS, WhatsApp and Telegram "+
			"messages arrive by webhooks their providers sign", c.Channel)
	case len(c.Messages) == 0:
		return errors.New("at least one message is required")
	case c.Expect.CallsTool != nil:
		return errNoToolCalls
	case c.Expect.MaxTokens < 0:
		return errors.New("max_tokens must be above zero")
	}
	for i, m := range c.Messages {
		if strings.TrimSpace(m) == "" {
			return fmt.Errorf("message %d is empty", i+1)
		}
	}
	for _, list := range []Strings{c.Expect.Contains, c.Expect.NotContains, c.Expect.Cites} {
		for _, s := range list {
			if strings.TrimSpace(s) == "" {
				return errors.New("an expectation holds an empty string, which every reply matches")
			}
		}
	}
	return nil
}
