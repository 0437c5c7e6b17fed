package activities

import (
	"context"
	"time"

	"github.com/aimsg/aimsg/domain"
)

// EndEpisodeInput is an episode of a conversation that ended, as the
// conversation workflow saw it.
type EndEpisodeInput struct {
	Key            string `json:"key"`
	ConversationID string `json:"conversation_id"`
	UserID         int64  `json:"user_id"`
	Channel        string `json:"channel"`
	// FirstMessageID is 0 for an episode a person began.
	FirstMessageID int64                `json:"first_message_id,omitempty"`
	Start          time.Time            `json:"start"`
	End            time.Time            `json:"end"`
	HandedOffAt    time.Time            `json:"handed_off_at,omitempty"`
	PersonAnswered bool                 `json:"person_answered,omitempty"`
	Ending         domain.EpisodeEnding `json:"ending"`
	Turns          int                  `json:"turns,omitempty"`
	Agents         []string             `json:"agents,omitempty"`
	// Survey is the question to ask ("": none).
	Survey string `json:"survey,omitempty"`
}

// EndEpisode records an episode's outcome, once, and counts it; it
// returns the survey question's message id for the workflow to deliver
// (0: none asked).
func (a *Activities) EndEpisode(ctx context.Context, in EndEpisodeInput) (int64, error) {
	ep, recorded, err := domain.RecordEpisode(ctx, a.DB, a.Prices, domain.EpisodeEnd{
		Key: in.Key, ConversationID: in.ConversationID, UserID: in.UserID, Channel: domain.Channel(in.Channel),
		FirstMessageID: in.FirstMessageID, Start: in.Start, End: in.End, HandedOffAt: in.HandedOffAt,
		PersonAnswered: in.PersonAnswered, Ending: in.Ending, Turns: in.Turns, Agents: in.Agents, Survey: in.Survey,
	})
	if err != nil {
		return 0, err
	}
	if recorded && a.Metrics != nil {
		a.Metrics.Outcomes.WithLabelValues(string(ep.Outcome), ep.Agent, string(ep.Channel)).Inc()
	}
	if ep.CSATMessageID == nil {
		return 0, nil
	}
	return *ep.CSATMessageID, nil
}
