package activities

import (
	"context"

	"go.temporal.io/sdk/temporal"
)

// TurnPolicy answers with how this worker runs a turn of the named agent:
// its configured limits and the agent's tools it registered.
func (a *Activities) TurnPolicy(_ context.Context, agent string) (TurnPolicy, error) {
	ag, err := a.Agents.Get(agent)
	if err != nil {
		return TurnPolicy{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownAgent, err)
	}
	p := a.Policy
	p.Fallback = a.Fallback != nil
	p.Tools = make([]string, 0, len(ag.Tools))
	for _, t := range ag.Tools {
		p.Tools = append(p.Tools, t.Name)
	}
	return p, nil
}
