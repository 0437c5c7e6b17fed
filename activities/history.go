package activities

import (
	"context"
	"fmt"

	"github.com/aimsg/aimsg/domain"
)

// LoadHistoryInput names the conversation and the newest message to answer.
type LoadHistoryInput struct {
	ConversationID string `json:"conversation_id"`
	UpTo           int64  `json:"up_to"`
}

// LoadHistory fixes the turn's memory: the ids of the last HistoryMax
// messages of the conversation, oldest first. The database is the memory;
// the texts stay there, out of the workflow's history.
func (a *Activities) LoadHistory(ctx context.Context, in LoadHistoryInput) ([]int64, error) {
	ids, err := domain.HistoryWindow(ctx, a.DB, in.ConversationID, in.UpTo, a.HistoryMax)
	if err != nil {
		return nil, fmt.Errorf("load history: %w", err)
	}
	return ids, nil
}
