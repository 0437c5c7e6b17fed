package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/uptrace/bun"
)

// The queries of the AI turn: what the worker reads and writes while it
// answers a conversation.

// HistoryWindow returns the ids of the last limit messages of a conversation
// up to and including upTo, oldest first: the memory the LLM is given. It is
// fixed when a turn starts, so a retried LLM call sees the same history.
func HistoryWindow(ctx context.Context, db bun.IDB, conversationID string, upTo int64, limit int) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*Message)(nil)).Column("id").
		Where("conversation_id = ? AND id <= ?", conversationID, upTo).
		Order("id DESC").Limit(int64(limit)).Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("history window: %w", err)
	}
	for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
		ids[i], ids[j] = ids[j], ids[i]
	}
	return ids, nil
}

// MessagesByID reads messages in the order of ids.
func MessagesByID(ctx context.Context, db bun.IDB, ids []int64) ([]Message, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var msgs []Message
	if err := db.NewSelect().Model(&msgs).Where("id IN (?)", bun.List(ids)).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("messages by id: %w", err)
	}
	return msgs, nil
}

// Reply is the AI's answer to the inbound messages of one turn.
type Reply struct {
	ConversationID string
	UserID         int64
	// AnswersUpTo is the newest inbound message the reply answers.
	AnswersUpTo int64
	Content     string
	// Failed marks an apology: the AI could not really answer.
	Failed bool
	// Model is the LLM model that wrote it; empty when none did.
	Model string
	// Citations are the sources it cites.
	Citations []Citation
	// Agent is the configured agent that wrote it, which answers the
	// conversation from now on ("": none configured).
	Agent string
}

// SaveReply stores the AI's reply once per turn: a retried save finds the
// reply it stored before (same channel and external id) and returns it. It
// goes back where the message it answers came from (routeTo). The inbound
// messages it answers, and any earlier ones still waiting in the
// conversation, stop waiting.
func SaveReply(ctx context.Context, db bun.IDB, in Reply) (*Message, error) {
	assistant, err := Assistant(ctx, db)
	if err != nil {
		return nil, err
	}
	key := "reply:" + strconv.FormatInt(in.AnswersUpTo, 10)
	conv := in.ConversationID
	parent := in.AnswersUpTo
	status := TurnReplied
	if in.Failed {
		status = TurnFailed
	}
	var reply *Message
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		to, err := routeTo(ctx, tx, in.UserID, in.AnswersUpTo)
		if err != nil {
			return err
		}
		// A web reply is delivered once saved: the client reads it here.
		delivery := DeliveryPending
		if to.Channel == ChannelWeb {
			delivery = DeliveryDelivered
		}
		m := &Message{SenderID: assistant.ID, RecipientID: in.UserID, Content: in.Content,
			ConversationID: &conv, ParentID: &parent, Channel: to.Channel, ExternalID: &key,
			DeliveryStatus: &delivery, Address: to.Address, Citations: in.Citations}
		if in.Model != "" {
			m.Model = &in.Model
		}
		if reply, _, err = storeOnce(ctx, tx, m); err != nil {
			return err
		}
		if in.Agent != "" {
			if err := RecordAIAgent(ctx, tx, conv, in.UserID, in.Agent); err != nil {
				return err
			}
		}
		return settleTurns(ctx, tx, conv, in.AnswersUpTo, status)
	})
	if err != nil {
		return nil, fmt.Errorf("save reply: %w", err)
	}
	return reply, nil
}

// settleTurns ends the wait of a conversation's inbound messages up to upTo.
func settleTurns(ctx context.Context, db bun.IDB, conversationID string, upTo int64, status TurnStatus) error {
	_, err := db.NewUpdate().Model((*Message)(nil)).
		Set("turn_status = ?", status).Set("updated_at = ?", Now()).
		Where("conversation_id = ? AND id <= ? AND turn_status = ?", conversationID, upTo, TurnPending).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("settle turns: %w", err)
	}
	return nil
}

// MessageByID reads one message, whoever it belongs to (the worker's view).
func MessageByID(ctx context.Context, db bun.IDB, id int64) (*Message, error) {
	m := new(Message)
	err := db.NewSelect().Model(m).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	return m, nil
}

// MessageShown is a message as people see it: with its files and its
// rating, for the live path's streams.
func MessageShown(ctx context.Context, db bun.IDB, id int64) (*Message, error) {
	m, err := MessageByID(ctx, db, id)
	if err != nil {
		return nil, err
	}
	return detailed(ctx, db, m)
}

// PendingTurns lists inbound messages to the assistant still waiting for a
// reply whose turn may never have started: never dispatched and stored
// before olderThan, or dispatched before staleBefore (the workflow may
// have lost it; dispatching again is harmless).
func PendingTurns(ctx context.Context, db bun.IDB, olderThan, staleBefore time.Time, limit int) ([]Message, error) {
	var msgs []Message
	err := db.NewSelect().Model(&msgs).
		Where("turn_status = ?", TurnPending).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("dispatched_at IS NULL AND created_at < ?", olderThan.UTC()).
				WhereOr("dispatched_at < ?", staleBefore.UTC())
		}).
		Order("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending turns: %w", err)
	}
	return msgs, nil
}

// MarkDispatched records that a message was dispatched to its workflow.
func MarkDispatched(ctx context.Context, db bun.IDB, id int64) error {
	_, err := db.NewUpdate().Model((*Message)(nil)).Set("dispatched_at = ?", Now()).
		Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark message %d dispatched: %w", id, err)
	}
	return nil
}

// NewerWaiting says whether the user wrote to the conversation after
// message after, and that message waits for the AI: a turn still
// retrying the LLM for older messages gives way to one that answers all.
func NewerWaiting(ctx context.Context, db bun.IDB, conversationID string, userID, after int64) (bool, error) {
	ok, err := db.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ? AND sender_id = ? AND id > ? AND turn_status = ?", conversationID, userID, after, TurnPending).
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("newer messages waiting: %w", err)
	}
	return ok, nil
}
