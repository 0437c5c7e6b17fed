package activities

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/aimsg/aimsg/domain"
)

// LoadHistoryInput names the conversation and the newest message to answer.
type LoadHistoryInput struct {
	ConversationID string `json:"conversation_id"`
	UpTo           int64  `json:"up_to"`
}

// History is the turn's memory: the ids of the messages the LLM is
// given, oldest first, and those of them whose files (pictures, voice
// notes) are still to be fetched.
type History struct {
	IDs   []int64
	Media []int64
}

// historyJSON is History's form when some media is pending.
type historyJSON struct {
	IDs   []int64 `json:"ids"`
	Media []int64 `json:"media"`
}

// MarshalJSON writes a history without pending media as the list of ids
// LoadHistory always returned, so turns that carry no files record what
// they recorded before.
func (h History) MarshalJSON() ([]byte, error) {
	if len(h.Media) == 0 {
		if h.IDs == nil {
			return []byte("null"), nil
		}
		return json.Marshal(h.IDs)
	}
	return json.Marshal(historyJSON(h))
}

// UnmarshalJSON reads both forms: a list of ids (every history recorded
// before media existed), or ids with media.
func (h *History) UnmarshalJSON(b []byte) error {
	var ids []int64
	if err := json.Unmarshal(b, &ids); err == nil {
		*h = History{IDs: ids}
		return nil
	}
	var v historyJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*h = History(v)
	return nil
}

// LoadHistory fixes the turn's memory: the ids of the last HistoryMax
// messages of the conversation, oldest first, and which of them carry
// files still to fetch. The database is the memory; the texts stay
// there, out of the workflow's history.
func (a *Activities) LoadHistory(ctx context.Context, in LoadHistoryInput) (History, error) {
	ids, err := domain.HistoryWindow(ctx, a.DB, in.ConversationID, in.UpTo, a.HistoryMax)
	if err != nil {
		return History{}, fmt.Errorf("load history: %w", err)
	}
	media, err := domain.PendingMedia(ctx, a.DB, ids)
	if err != nil {
		return History{}, fmt.Errorf("load history: %w", err)
	}
	return History{IDs: ids, Media: media}, nil
}
