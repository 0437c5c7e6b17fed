package activities

import (
	"context"
	"errors"

	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// TurnPolicy answers with how this worker runs a turn of the named agent:
// its configured limits, the agent the turn runs and its tools. When
// agents are configured (domain.Agent), the turn runs the current
// revision of the one named, or of the entry agent when it names the
// built-in one or one deleted since; otherwise this worker's built-in
// agent of that name. The revision is fixed for the whole turn.
func (a *Activities) TurnPolicy(ctx context.Context, agent string) (TurnPolicy, error) {
	p := a.Policy
	p.Fallback = a.Fallback != nil
	configured, err := a.configuredAgent(ctx, agent)
	if err != nil {
		return TurnPolicy{}, err
	}
	var ag *Agent
	if configured != nil {
		p.Agent, p.AgentRevision = configured.Name, configured.Revision
		ag = a.fromSpec(&configured.AgentSpec)
	} else {
		if _, builtin := a.Agents[agent]; !builtin && a.DB != nil {
			// A configured agent, all of them deleted since: the
			// built-in assistant answers again.
			was, err := domain.AgentWasDefined(ctx, a.DB, agent)
			if err != nil {
				return TurnPolicy{}, err
			}
			if was {
				agent = DefaultAgent
			}
		}
		if ag, err = a.Agents.Get(agent); err != nil {
			return TurnPolicy{}, temporal.NewNonRetryableApplicationError(err.Error(), ErrUnknownAgent, err)
		}
	}
	p.Tools = make([]string, 0, len(ag.Tools))
	for _, t := range ag.Tools {
		p.Tools = append(p.Tools, t.Name)
	}
	if configured != nil {
		for _, to := range configured.Transfers {
			p.Tools = append(p.Tools, domain.TransferToolPrefix+to)
		}
		for _, t := range configured.Tools {
			if t.Approval == domain.ApprovalRequired {
				name := t.Name
				if mcp, ok := a.mcpTool(t.Name); ok {
					name = mcp.Name
				}
				p.Approvals = append(p.Approvals, name)
			}
		}
	}
	return p, nil
}

// configuredAgent is the configured agent a turn asking for name runs,
// or nil when no agent is configured.
func (a *Activities) configuredAgent(ctx context.Context, name string) (*domain.Agent, error) {
	if a.DB == nil {
		return nil, nil // a worker without a database (workflow tests)
	}
	if _, builtin := a.Agents[name]; !builtin {
		ag, err := domain.AgentByName(ctx, a.DB, name)
		if err == nil {
			return ag, nil
		}
		if !errors.Is(err, domain.ErrNotFound) {
			return nil, err
		}
		a.Logger.WarnContext(ctx, "the turn's agent is gone; the entry agent answers", "agent", name)
	}
	ag, err := domain.EntryAgent(ctx, a.DB)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	return ag, err
}
