package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"
)

// The human side of a conversation with the assistant: who answers it
// (the AI or a person on the support team), the support inbox, and the
// messages people write as the assistant. The support feature lives in a
// file named support.go in each layer: here (rules and queries),
// api/support.go (the /support routes), activities/support.go (what the
// conversation workflow records and tells), with the mode itself decided
// by workflows/conversation.go and carried there by dispatch.SetMode.
// Mode is the one owner of the mode words.

// Mode says who answers a conversation with the assistant.
type Mode string

// The modes: the AI (the default), or a person (handed off).
const (
	ModeAI    Mode = "ai"
	ModeHuman Mode = "human"
)

// ParseMode checks a mode name.
func ParseMode(s string) (Mode, error) {
	switch m := Mode(s); m {
	case ModeAI, ModeHuman:
		return m, nil
	}
	return "", invalid("mode must be ai or human")
}

// ConversationState is a conversation's mode as its workflow last
// recorded it (the workflow holds the truth), and how far the support
// team has read it. Conversations without a row are in ai mode.
type ConversationState struct {
	bun.BaseModel `bun:"table:conversation_states,alias:cs"`

	ConversationID string     `bun:"conversation_id,pk,type:varchar(100)" json:"conversation_id"`
	UserID         int64      `bun:"user_id,notnull" json:"user_id"`
	Mode           Mode       `bun:"mode,type:varchar(10),notnull,default:'ai'" json:"mode"`
	Reason         *string    `bun:"reason,type:varchar(500)" json:"reason"`
	AgentID        *int64     `bun:"agent_id" json:"agent_id"`
	HandedOffAt    *time.Time `bun:"handed_off_at" json:"handed_off_at"`
	// AgentReadUpTo is the newest message the support team has read.
	AgentReadUpTo int64 `bun:"agent_read_up_to,notnull,default:0" json:"-"`
	// AIAgent is the configured agent that answers the conversation (the
	// last turn's, after its transfers); empty: the entry agent.
	AIAgent string `bun:"ai_agent,type:varchar(48),notnull,default:''" json:"ai_agent"`
	Timestamps
}

// MaxHandoffReason bounds a handoff's reason, in characters.
const MaxHandoffReason = 500

// ModeChange is a conversation's new mode, as its workflow decided it.
type ModeChange struct {
	ConversationID string
	UserID         int64
	Mode           Mode
	// Reason, AgentID and Since describe a handoff; empty for ai mode.
	Reason  string
	AgentID int64
	Since   time.Time
}

// RecordMode writes down a conversation's mode.
func RecordMode(ctx context.Context, db bun.IDB, ch ModeChange) error {
	now := Now()
	st := &ConversationState{ConversationID: ch.ConversationID, UserID: ch.UserID, Mode: ch.Mode,
		Timestamps: Timestamps{CreatedAt: now, UpdatedAt: now}}
	if ch.Mode == ModeHuman {
		since := ch.Since.UTC().Truncate(time.Microsecond)
		st.HandedOffAt = &since
		st.Reason = truncated(ch.Reason, MaxHandoffReason)
		if ch.AgentID != 0 {
			st.AgentID = &ch.AgentID
		}
	}
	_, err := db.NewInsert().Model(st).
		On("CONFLICT (conversation_id) DO UPDATE").
		Set("mode = EXCLUDED.mode, reason = EXCLUDED.reason, agent_id = EXCLUDED.agent_id").
		Set("handed_off_at = EXCLUDED.handed_off_at, updated_at = EXCLUDED.updated_at").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("record mode of %s: %w", ch.ConversationID, err)
	}
	return nil
}

// RecordAIAgent records the configured agent that answers a
// conversation from now on.
func RecordAIAgent(ctx context.Context, db bun.IDB, conversationID string, userID int64, agent string) error {
	now := Now()
	st := &ConversationState{ConversationID: conversationID, UserID: userID, Mode: ModeAI, AIAgent: agent,
		Timestamps: Timestamps{CreatedAt: now, UpdatedAt: now}}
	_, err := db.NewInsert().Model(st).
		On("CONFLICT (conversation_id) DO UPDATE").
		Set("ai_agent = EXCLUDED.ai_agent").
		Where("cs.ai_agent <> EXCLUDED.ai_agent").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("record the agent of %s: %w", conversationID, err)
	}
	return nil
}

// StateOf reads a conversation's state; one never handed off is in ai mode.
func StateOf(ctx context.Context, db bun.IDB, conversationID string) (*ConversationState, error) {
	st := new(ConversationState)
	err := db.NewSelect().Model(st).Where("conversation_id = ?", conversationID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return &ConversationState{ConversationID: conversationID, Mode: ModeAI}, nil
	}
	if err != nil {
		return nil, fmt.Errorf("state of %s: %w", conversationID, err)
	}
	return st, nil
}

// MarkAgentRead records that the support team has read a conversation up
// to a message.
func MarkAgentRead(ctx context.Context, db bun.IDB, conversationID string, userID, upTo int64) error {
	now := Now()
	st := &ConversationState{ConversationID: conversationID, UserID: userID, Mode: ModeAI, AgentReadUpTo: upTo,
		Timestamps: Timestamps{CreatedAt: now, UpdatedAt: now}}
	_, err := db.NewInsert().Model(st).
		On("CONFLICT (conversation_id) DO UPDATE").
		Set("agent_read_up_to = EXCLUDED.agent_read_up_to").
		Where("cs.agent_read_up_to < EXCLUDED.agent_read_up_to").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("mark %s read by the support team: %w", conversationID, err)
	}
	return nil
}

// AsksForHuman says whether a text message is the keyword that asks for a
// person (AGENT or HUMAN, in any case, punctuation aside).
func AsksForHuman(content string) bool {
	w := strings.ToUpper(strings.TrimFunc(content, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	return w == "AGENT" || w == "HUMAN"
}

// WantsPerson says whether a short message asks, in words, to talk to a
// person ("can I speak to a human", "real person please", "get me an
// agent"). It errs on the side of the AI: a message that only mentions
// people or agents ("how do your agents work?") is not a request.
func WantsPerson(content string) bool {
	text := strings.ToLower(strings.Join(strings.Fields(content), " "))
	if text == "" || len(strings.Fields(text)) > 16 {
		return false
	}
	return personRequest.MatchString(text)
}

// personRequest is the ways people ask for a person: a verb of talking or
// getting, then a person; or a person, then please.
var personRequest = regexp.MustCompile(`(?:` +
	`\b(?:talk|speak|chat)(?:ing)? (?:to|with) (?:a |an |the |some |your )?(?:real |live |actual )?` +
	`(?:human|person|agent|representative|rep|operator|someone|somebody|staff|support team)\b` +
	`|\b(?:need|want|get me|give me|connect me(?: to| with)?|transfer me(?: to)?|put me through to|let me talk to)` +
	` (?:to talk to |to speak (?:to|with) )?(?:a |an |to a |to an |with a )?(?:real |live |actual )?` +
	`(?:human|person|agent|representative|operator)\b` +
	`|\b(?:real person|live agent|human being|representative|a human|an agent|a person),? please\b` +
	`)`)

// Outbound is a message the assistant's side sends that is not an AI
// reply: a person's answer, or a notice (a handoff's acknowledgement).
type Outbound struct {
	UserID  int64
	Content string
	// AgentID is the person who wrote it; zero for a notice.
	AgentID int64
	// Key makes a notice idempotent: saved twice, it is stored once.
	Key string
}

// SaveOutbound stores a message from the assistant's side to a user, in
// their assistant conversation, for the channel they last wrote from (the
// web when they never wrote from another), pending delivery.
func SaveOutbound(ctx context.Context, db bun.IDB, in Outbound) (*Message, error) {
	if err := CheckContent(in.Content); err != nil {
		return nil, err
	}
	assistant, err := Assistant(ctx, db)
	if err != nil {
		return nil, err
	}
	conv := AIConversationID(in.UserID)
	to, err := routeTo(ctx, db, in.UserID, 0)
	if err != nil {
		return nil, err
	}
	pending := DeliveryPending
	m := &Message{SenderID: assistant.ID, RecipientID: in.UserID, Content: in.Content, ConversationID: &conv,
		Channel: to.Channel, Address: to.Address, DeliveryStatus: &pending}
	if in.AgentID != 0 {
		m.AgentID = &in.AgentID
	}
	if in.Key != "" {
		m.ExternalID = &in.Key
	}
	out, _, err := storeOnce(ctx, db, m)
	if err != nil {
		return nil, fmt.Errorf("save outbound message: %w", err)
	}
	return out, nil
}

// HoldForPerson leaves a conversation's waiting inbound messages up to
// upTo to a person: no AI turn answers them.
func HoldForPerson(ctx context.Context, db bun.IDB, conversationID string, upTo int64) error {
	return settleTurns(ctx, db, conversationID, upTo, TurnHuman)
}

// PendingAgentReplies lists people's answers still waiting for delivery
// whose dispatch may have been lost, as PendingTurns does for inbound
// messages.
func PendingAgentReplies(ctx context.Context, db bun.IDB, olderThan, staleBefore time.Time, limit int) ([]Message, error) {
	var msgs []Message
	err := db.NewSelect().Model(&msgs).
		Where("agent_id IS NOT NULL AND delivery_status = ?", DeliveryPending).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("dispatched_at IS NULL AND created_at < ?", olderThan.UTC()).
				WhereOr("dispatched_at < ?", staleBefore.UTC())
		}).
		Order("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending agent replies: %w", err)
	}
	return msgs, nil
}

// InboxEntry is one conversation in the support inbox.
type InboxEntry struct {
	ConversationID string       `json:"conversation_id"`
	User           *Participant `json:"user"`
	Mode           Mode         `json:"mode"`
	HandedOffAt    *time.Time   `json:"handed_off_at"`
	Reason         *string      `json:"reason"`
	AgentID        *int64       `json:"agent_id"`
	LastMessage    *Message     `json:"last_message"`
	// AIAgent is the configured agent answering it ("" : the entry agent,
	// or none configured).
	AIAgent string `json:"agent"`
	// PendingApprovals are its tool calls waiting for a person's decision.
	PendingApprovals []ToolApproval `json:"pending_approvals"`
	// UnreadCount is the user's messages the support team has not read.
	UnreadCount int64 `json:"unread_count"`
}

// InboxFilter narrows the support inbox.
type InboxFilter struct {
	Mode *Mode
	// WithoutStaff leaves out the conversations of staff, for a viewer
	// who is not a superuser (SupportReaches).
	WithoutStaff bool
	Page
}

// SupportInbox lists the conversations with the assistant, latest message
// first, with their mode and what the support team has not read.
func SupportInbox(ctx context.Context, db bun.IDB, f InboxFilter) ([]InboxEntry, int, error) {
	assistant, err := Assistant(ctx, db)
	if err != nil {
		return nil, 0, err
	}
	var rows []struct {
		ConversationID string `bun:"conversation_id"`
		LastID         int64  `bun:"last_id"`
		Unread         int64  `bun:"unread"`
	}
	q := db.NewSelect().TableExpr("messages AS m").
		Join("LEFT JOIN conversation_states AS cs ON cs.conversation_id = m.conversation_id").
		ColumnExpr("m.conversation_id, MAX(m.id) AS last_id").
		ColumnExpr("SUM(CASE WHEN m.recipient_id = ? AND m.id > COALESCE(cs.agent_read_up_to, 0) THEN 1 ELSE 0 END) AS unread", assistant.ID).
		Where("m.conversation_id LIKE 'ai:%'").
		Group("m.conversation_id")
	if f.Mode != nil {
		q = q.Where("COALESCE(cs.mode, ?) = ?", ModeAI, *f.Mode)
	}
	if f.WithoutStaff {
		q = q.Where("m.conversation_id NOT IN (SELECT 'ai:' || CAST(su.id AS TEXT) FROM users AS su"+
			" WHERE su.is_superuser = ? OR su.id IN (SELECT ur.user_id FROM user_roles AS ur"+
			" JOIN roles AS r ON r.id = ur.role_id WHERE r.name IN (?)))", true, bun.List(rolesGranting(PermSupport)))
	}
	total, err := q.OrderExpr("last_id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx, &rows)
	if err != nil {
		return nil, 0, fmt.Errorf("support inbox: %w", err)
	}
	if len(rows) == 0 {
		return []InboxEntry{}, int(total), nil
	}
	convs := make([]string, 0, len(rows))
	lastIDs := make([]int64, 0, len(rows))
	userIDs := make([]int64, 0, len(rows))
	for _, r := range rows {
		convs = append(convs, r.ConversationID)
		lastIDs = append(lastIDs, r.LastID)
		if c, err := ParseConversationID(r.ConversationID); err == nil {
			userIDs = append(userIDs, c.UserA)
		}
	}
	var (
		states []ConversationState
		last   []Message
		users  []User
	)
	if err := db.NewSelect().Model(&states).Where("conversation_id IN (?)", bun.List(convs)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("inbox states: %w", err)
	}
	if err := db.NewSelect().Model(&last).Where("id IN (?)", bun.List(lastIDs)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("inbox last messages: %w", err)
	}
	if err := db.NewSelect().Model(&users).Where("id IN (?)", bun.List(userIDs)).Scan(ctx); err != nil {
		return nil, 0, fmt.Errorf("inbox users: %w", err)
	}
	stateOf := map[string]*ConversationState{}
	for i := range states {
		stateOf[states[i].ConversationID] = &states[i]
	}
	msgOf := map[int64]*Message{}
	for i := range last {
		msgOf[last[i].ID] = &last[i]
	}
	userOf := map[int64]*User{}
	for i := range users {
		userOf[users[i].ID] = &users[i]
	}
	pending, err := PendingApprovals(ctx, db, convs)
	if err != nil {
		return nil, 0, err
	}
	out := make([]InboxEntry, 0, len(rows))
	for _, r := range rows {
		e := InboxEntry{ConversationID: r.ConversationID, Mode: ModeAI, LastMessage: msgOf[r.LastID], UnreadCount: r.Unread,
			PendingApprovals: pending[r.ConversationID]}
		if e.PendingApprovals == nil {
			e.PendingApprovals = []ToolApproval{}
		}
		if c, err := ParseConversationID(r.ConversationID); err == nil {
			if u := userOf[c.UserA]; u != nil {
				e.User = participantOf(u)
			}
		}
		if st := stateOf[r.ConversationID]; st != nil {
			e.Mode, e.HandedOffAt, e.Reason, e.AgentID, e.AIAgent = st.Mode, st.HandedOffAt, st.Reason, st.AgentID, st.AIAgent
		}
		out = append(out, e)
	}
	return out, int(total), nil
}

// Who support reaches. Support staff read and answer people's
// conversations with the assistant; staff talk to it too, about the
// service and its users, and that stays among those who run the service:
// superusers reach every conversation, other holders of the support
// permission those of people who are neither superusers nor support
// staff (their own included: they use the assistant as a person).

// SupportReaches says whether agent, who holds the support permission,
// may read, answer, take over or follow owner's conversation with the
// assistant.
func SupportReaches(ctx context.Context, db bun.IDB, agent, owner *User) (bool, error) {
	if agent.IsSuperuser {
		return true, nil
	}
	staff, err := isStaff(ctx, db, owner)
	return !staff, err
}

// StaffConversation says whether a conversation with the assistant is a
// staff member's, which support staff who are not superusers do not see.
// Any other conversation is not.
func StaffConversation(ctx context.Context, db bun.IDB, conversationID string) (bool, error) {
	c, err := ParseConversationID(conversationID)
	if err != nil || !c.AI {
		return false, nil
	}
	owner, err := UserByID(ctx, db, c.UserA)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return isStaff(ctx, db, owner)
}

// isStaff: a superuser, or a holder of the support permission.
func isStaff(ctx context.Context, db bun.IDB, u *User) (bool, error) {
	p, err := PermissionsOf(ctx, db, u)
	if err != nil {
		return false, err
	}
	return p.Has(PermSupport), nil
}
