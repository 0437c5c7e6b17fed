package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/uptrace/bun"
)

// Conversation ids have one scheme, so a client can name a conversation
// without asking the server, and the server can tell its participants from
// the id alone:
//
//	ai:<user id>                     a user's conversation with the assistant
//	dm:<smaller id>:<larger id>      the conversation of two users
type Conversation struct {
	// AI is a user's thread with the assistant; then UserB is zero.
	AI           bool
	UserA, UserB int64
}

// AIConversationID names a user's conversation with the assistant.
func AIConversationID(userID int64) string {
	return "ai:" + strconv.FormatInt(userID, 10)
}

// DirectConversationID names the conversation of two users, the same whoever writes.
func DirectConversationID(a, b int64) string {
	a, b = min(a, b), max(a, b)
	return "dm:" + strconv.FormatInt(a, 10) + ":" + strconv.FormatInt(b, 10)
}

// ErrBadConversationID is returned for ids outside the scheme.
var ErrBadConversationID = invalid("conversation id must be ai:<user id> or dm:<user id>:<user id>")

// ParseConversationID checks an id against the scheme.
func ParseConversationID(s string) (Conversation, error) {
	kind, rest, _ := strings.Cut(s, ":")
	parse := func(p string) (int64, bool) {
		n, err := strconv.ParseInt(p, 10, 64)
		return n, err == nil && n > 0 && strconv.FormatInt(n, 10) == p
	}
	switch kind {
	case "ai":
		if id, ok := parse(rest); ok {
			return Conversation{AI: true, UserA: id}, nil
		}
	case "dm":
		a, b, _ := strings.Cut(rest, ":")
		ia, okA := parse(a)
		ib, okB := parse(b)
		if okA && okB && ia < ib {
			return Conversation{UserA: ia, UserB: ib}, nil
		}
	}
	return Conversation{}, ErrBadConversationID
}

// ID is the conversation's id in the scheme.
func (c Conversation) ID() string {
	if c.AI {
		return AIConversationID(c.UserA)
	}
	return DirectConversationID(c.UserA, c.UserB)
}

// Has reports whether userID takes part (the assistant aside).
func (c Conversation) Has(userID int64) bool {
	return c.UserA == userID || (!c.AI && c.UserB == userID)
}

// Other is the participant who is not userID; for an AI thread, the
// assistant, whose id the caller supplies.
func (c Conversation) Other(userID, assistantID int64) int64 {
	switch {
	case c.AI:
		return assistantID
	case c.UserA == userID:
		return c.UserB
	}
	return c.UserA
}

// ConversationSummary is one line of a user's conversation list.
type ConversationSummary struct {
	ConversationID string       `json:"conversation_id"`
	IsAssistant    bool         `json:"is_assistant"`
	OtherUser      *Participant `json:"other_user"`
	LastMessage    *Message     `json:"last_message"`
	UnreadCount    int64        `json:"unread_count"`
	// Mode, on the conversation with the assistant, says who answers it;
	// AIAgent which configured agent, when agents are configured ("": the
	// entry agent).
	Mode    Mode   `json:"mode,omitempty"`
	AIAgent string `json:"agent,omitempty"`
}

// Participant is what one user sees of another.
type Participant struct {
	ID       int64   `json:"id"`
	Username string  `json:"username"`
	FullName *string `json:"full_name"`
	// Badge, in the conversation list, marks the real assistant and real
	// staff; the server sets it, no name can.
	Badge Badge `json:"badge,omitempty"`
}

func participantOf(u *User) *Participant {
	return &Participant{ID: u.ID, Username: u.Username, FullName: u.FullName}
}

// Conversations is one page of a user's conversations and how many they
// have: the one with the assistant first, always (the first entry of the
// first page, counted in the total), then the others by latest message.
func Conversations(ctx context.Context, db bun.IDB, userID int64, p Page) ([]ConversationSummary, int, error) {
	assistant, err := Assistant(ctx, db)
	if err != nil {
		return nil, 0, err
	}
	aiID := AIConversationID(userID)
	// The other conversations' page and their number in one read of the
	// user's lines (by primary key; a user has one line per conversation).
	offset, limit := p.Offset-1, p.Limit
	if p.Offset == 0 {
		// The assistant's conversation takes the first place.
		offset, limit = 0, p.Limit-1
	}
	var rows []struct {
		UserConversation `bun:",extend"`
		Others           int `bun:"others"`
	}
	others := 0
	if limit > 0 {
		err = db.NewSelect().Model(&rows).ColumnExpr("*, count(*) OVER () AS others").
			Where("user_id = ? AND conversation_id <> ?", userID, aiID).
			OrderExpr("last_message_id DESC").Limit(int64(limit)).Offset(int64(offset)).Scan(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("list conversations: %w", err)
		}
	}
	if len(rows) > 0 {
		others = rows[0].Others
	} else {
		n, err := db.NewSelect().Model((*UserConversation)(nil)).Where("user_id = ? AND conversation_id <> ?", userID, aiID).Count(ctx)
		if err != nil {
			return nil, 0, fmt.Errorf("count conversations: %w", err)
		}
		others = int(n)
	}
	total := others + 1
	lines := make([]UserConversation, 0, len(rows)+1)
	for _, r := range rows {
		lines = append(lines, r.UserConversation)
	}
	var out []ConversationSummary
	if p.Offset == 0 {
		ai := UserConversation{ConversationID: aiID}
		err := db.NewSelect().Model(&ai).Where("user_id = ? AND conversation_id = ?", userID, aiID).Scan(ctx)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return nil, 0, fmt.Errorf("assistant conversation: %w", err)
		}
		lines = append([]UserConversation{ai}, lines...)
		state, err := StateOf(ctx, db, aiID)
		if err != nil {
			return nil, 0, err
		}
		other := participantOf(assistant)
		other.Badge = badgeOf(assistant, false)
		out = append(out, ConversationSummary{ConversationID: aiID, IsAssistant: true, OtherUser: other,
			Mode: state.Mode, AIAgent: state.AIAgent})
	}
	lastIDs := make([]int64, 0, len(lines))
	for _, r := range lines {
		if r.LastMessageID != 0 {
			lastIDs = append(lastIDs, r.LastMessageID)
		}
	}
	last := map[int64]*Message{}
	if len(lastIDs) > 0 {
		var msgs []Message
		if err := db.NewSelect().Model(&msgs).Where("id IN (?)", bun.List(lastIDs)).Scan(ctx); err != nil {
			return nil, 0, fmt.Errorf("last messages: %w", err)
		}
		for i := range msgs {
			last[msgs[i].ID] = &msgs[i]
		}
	}
	var otherIDs []int64
	for _, r := range lines {
		c, err := ParseConversationID(r.ConversationID)
		if err != nil || !c.Has(userID) {
			continue
		}
		if r.ConversationID == aiID {
			out[0].LastMessage, out[0].UnreadCount = last[r.LastMessageID], r.Unread
			continue
		}
		other := c.Other(userID, assistant.ID)
		otherIDs = append(otherIDs, other)
		out = append(out, ConversationSummary{ConversationID: r.ConversationID, LastMessage: last[r.LastMessageID],
			UnreadCount: r.Unread, OtherUser: &Participant{ID: other}})
	}
	if len(otherIDs) > 0 {
		// Their badges come with them: whether each holds the agent role
		// is part of the same read.
		var users []struct {
			User  `bun:",extend"`
			Agent bool `bun:"agent"`
		}
		if err := db.NewSelect().Model(&users).Column("u.id", "u.username", "u.full_name", "u.is_system", "u.is_superuser").
			ColumnExpr("EXISTS (SELECT 1 FROM user_roles AS ur JOIN roles AS r ON r.id = ur.role_id"+
				" WHERE ur.user_id = u.id AND r.name = ?) AS agent", AgentRole).
			Where("u.id IN (?)", bun.List(otherIDs)).Scan(ctx); err != nil {
			return nil, 0, fmt.Errorf("conversation participants: %w", err)
		}
		byID := map[int64]*Participant{}
		for i := range users {
			p := participantOf(&users[i].User)
			p.Badge = badgeOf(&users[i].User, users[i].Agent)
			byID[p.ID] = p
		}
		for i := range out {
			if p := byID[out[i].OtherUser.ID]; p != nil && !out[i].IsAssistant {
				out[i].OtherUser = p
			}
		}
	}
	if out == nil {
		out = []ConversationSummary{}
	}
	return out, total, nil
}
