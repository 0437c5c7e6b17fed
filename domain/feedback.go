package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Rating is what a person thought of an answer.
type Rating string

// The ratings: a thumb up or down.
const (
	RatingUp   Rating = "up"
	RatingDown Rating = "down"
)

// MaxFeedbackComment bounds a comment on an answer.
const MaxFeedbackComment = 2000

// Feedback is the rating the person an answer was for gave it, one per
// message: given again, it replaces the first.
type Feedback struct {
	bun.BaseModel `bun:"table:message_feedback,alias:mf"`

	ID        int64     `bun:"id,pk,autoincrement" json:"-"`
	MessageID int64     `bun:"message_id,notnull,unique" json:"message_id"`
	UserID    int64     `bun:"user_id,notnull" json:"user_id"`
	Rating    Rating    `bun:"rating,type:varchar(8),notnull" json:"rating"`
	Comment   *string   `bun:"comment,type:text" json:"comment,omitempty"`
	CreatedAt time.Time `bun:"created_at,notnull" json:"created_at"`
	UpdatedAt time.Time `bun:"updated_at,notnull" json:"updated_at"`
}

// ParseRating checks a rating.
func ParseRating(s string) (Rating, error) {
	switch r := Rating(s); r {
	case RatingUp, RatingDown:
		return r, nil
	}
	return "", invalid(`rating must be "up" or "down"`)
}

// answerFor is a message from the assistant's side to userID: the only
// messages a person rates. Someone else's message, or none, is
// ErrNotFound; one of the user's own conversations that is not the
// assistant's is invalid.
func answerFor(ctx context.Context, db bun.IDB, userID, messageID int64) (*Message, error) {
	m, err := MessageFor(ctx, db, userID, messageID)
	if err != nil {
		return nil, err
	}
	if m.RecipientID != userID {
		return nil, invalid("only an answer you received can be rated: this message is yours")
	}
	// To the user, in their conversation with the assistant: the
	// assistant's side wrote it.
	if m.ConversationID == nil || *m.ConversationID != AIConversationID(userID) {
		return nil, invalid("only the assistant's answers can be rated")
	}
	return m, nil
}

// RateAnswer records what userID thought of an answer the assistant's
// side gave them (an AI reply, or a person's answer in that
// conversation), replacing an earlier rating, and tells the webhooks
// (feedback.created) in the same transaction.
func RateAnswer(ctx context.Context, db *bun.DB, userID, messageID int64, rating Rating, comment *string) (*Feedback, error) {
	if comment != nil {
		if utf8.RuneCountInString(*comment) > MaxFeedbackComment {
			return nil, invalid(fmt.Sprintf("comment must be at most %d characters", MaxFeedbackComment))
		}
		if err := checkStorable("comment", *comment); err != nil {
			return nil, err
		}
	}
	f := &Feedback{MessageID: messageID, UserID: userID, Rating: rating, Comment: comment}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := answerFor(ctx, tx, userID, messageID); err != nil {
			return err
		}
		now := Now()
		f.CreatedAt, f.UpdatedAt = now, now
		if _, err := tx.NewInsert().Model(f).
			On("CONFLICT (message_id) DO UPDATE").
			Set("rating = EXCLUDED.rating, comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at").
			Returning("id, created_at").Exec(ctx); err != nil {
			return fmt.Errorf("rate answer %d: %w", messageID, err)
		}
		return tellWebhooks(ctx, tx, EventFeedbackCreated, strconv.FormatInt(messageID, 10), string(rating))
	})
	if err != nil {
		return nil, err
	}
	return f, nil
}

// TakeBackRating removes userID's rating of an answer (ErrNotFound when
// there is none).
func TakeBackRating(ctx context.Context, db bun.IDB, userID, messageID int64) error {
	if _, err := answerFor(ctx, db, userID, messageID); err != nil {
		return err
	}
	res, err := db.NewDelete().Model((*Feedback)(nil)).Where("message_id = ? AND user_id = ?", messageID, userID).Exec(ctx)
	if err != nil {
		return fmt.Errorf("take back rating of %d: %w", messageID, err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		return fmt.Errorf("no rating of message %d: %w", messageID, ErrNotFound)
	}
	return nil
}

// FeedbackOn is the rating of a message, if it has one.
func FeedbackOn(ctx context.Context, db bun.IDB, messageID int64) (*Feedback, error) {
	f := new(Feedback)
	err := db.NewSelect().Model(f).Where("message_id = ?", messageID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read feedback of %d: %w", messageID, err)
	}
	return f, nil
}

// withFeedback gives each message its rating, when it has one.
func withFeedback(ctx context.Context, db bun.IDB, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	var all []Feedback
	if err := db.NewSelect().Model(&all).Where("message_id IN (?)", bun.List(messageIDs(msgs))).Scan(ctx); err != nil {
		return fmt.Errorf("read feedback: %w", err)
	}
	by := make(map[int64]*Feedback, len(all))
	for i := range all {
		by[all[i].MessageID] = &all[i]
	}
	for i := range msgs {
		msgs[i].Feedback = by[msgs[i].ID]
	}
	return nil
}

// messageIDs are the ids of msgs, in order.
func messageIDs(msgs []Message) []int64 {
	ids := make([]int64, len(msgs))
	for i, m := range msgs {
		ids[i] = m.ID
	}
	return ids
}
