package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// Memory is the assistant's memory of a conversation past the history
// window: an LLM's summary of the conversation's messages up to UpTo.
type Memory struct {
	bun.BaseModel `bun:"table:conversation_memories,alias:mem"`

	ConversationID string `bun:"conversation_id,pk,type:varchar(64)" json:"conversation_id"`
	UserID         int64  `bun:"user_id,notnull" json:"user_id"`
	// UpTo is the newest message the summary covers.
	UpTo      int64     `bun:"up_to,notnull" json:"up_to"`
	Content   string    `bun:"content,type:text,notnull" json:"content"`
	Model     string    `bun:"model,type:varchar(255),notnull" json:"model"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// MemoryOf is a conversation's summary, nil when it has none.
func MemoryOf(ctx context.Context, db bun.IDB, conversationID string) (*Memory, error) {
	s := new(Memory)
	err := db.NewSelect().Model(s).Where("conversation_id = ?", conversationID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read summary: %w", err)
	}
	return s, nil
}

// SaveMemory stores a conversation's summary, unless one covering more is
// there already (two turns summarising at once keep the newer).
func SaveMemory(ctx context.Context, db bun.IDB, s *Memory) error {
	s.UpdatedAt = Now()
	_, err := db.NewInsert().Model(s).
		On("CONFLICT (conversation_id) DO UPDATE").
		Set("up_to = EXCLUDED.up_to, content = EXCLUDED.content, model = EXCLUDED.model, updated_at = EXCLUDED.updated_at").
		Where("mem.up_to < EXCLUDED.up_to").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("save summary: %w", err)
	}
	return nil
}

// MessagesBefore are the newest messages of a conversation after id
// after and before id before, at most limit, oldest first: what a summary
// has yet to cover.
func MessagesBefore(ctx context.Context, db bun.IDB, conversationID string, after, before int64, limit int) ([]Message, error) {
	var msgs []Message
	err := db.NewSelect().Model(&msgs).
		Where("conversation_id = ? AND id > ? AND id < ?", conversationID, after, before).
		Order("id DESC").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("messages before the window: %w", err)
	}
	for i, j := 0, len(msgs)-1; i < j; i, j = i+1, j-1 {
		msgs[i], msgs[j] = msgs[j], msgs[i]
	}
	return msgs, nil
}
