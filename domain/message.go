package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Channel is where a message came from or goes to.
type Channel string

// The channels people use to reach the assistant.
const (
	ChannelWeb      Channel = "web"
	ChannelTwilio   Channel = "twilio"
	ChannelTelegram Channel = "telegram"
)

// ParseChannel checks a channel name.
func ParseChannel(s string) (Channel, error) {
	if channelName.MatchString(s) {
		return Channel(s), nil
	}
	return "", fmt.Errorf("unknown channel %q: %w", s, ErrInvalid)
}

// channelName is what a channel may be called: web, twilio, telegram, or
// another channel's adapter's name.
var channelName = regexp.MustCompile(`^[a-z][a-z0-9_]{1,19}$`)

// DeliveryStatus is how far an outbound AI reply got with its provider.
type DeliveryStatus string

// Delivery states, in the order they normally happen; failed and undelivered are final.
const (
	DeliveryPending     DeliveryStatus = "pending"
	DeliveryQueued      DeliveryStatus = "queued"
	DeliverySent        DeliveryStatus = "sent"
	DeliveryDelivered   DeliveryStatus = "delivered"
	DeliveryUndelivered DeliveryStatus = "undelivered"
	DeliveryFailed      DeliveryStatus = "failed"
)

// TurnStatus is where an inbound message to the assistant stands.
type TurnStatus string

// Turn states: pending until the AI's reply is saved (or the turn gave
// up), or until the message is left to a person (human: the conversation
// is handed off to the support team).
const (
	TurnPending TurnStatus = "pending"
	TurnReplied TurnStatus = "replied"
	TurnFailed  TurnStatus = "failed"
	TurnHuman   TurnStatus = "human"
)

// Message is one message between two users; the assistant is a user too.
// Inbound messages from a provider keep the provider's id in ExternalID,
// unique per channel, so a webhook delivered twice stores one message.
type Message struct {
	bun.BaseModel `bun:"table:messages,alias:m"`

	ID                int64           `bun:"id,pk,autoincrement" json:"id"`
	SenderID          int64           `bun:"sender_id,notnull" json:"sender_id"`
	RecipientID       int64           `bun:"recipient_id,notnull" json:"recipient_id"`
	Content           string          `bun:"content,type:text,notnull" json:"content"`
	IsRead            bool            `bun:"is_read,notnull,default:false" json:"is_read"`
	ParentID          *int64          `bun:"parent_id" json:"parent_id"`
	ConversationID    *string         `bun:"conversation_id,type:varchar(100)" json:"conversation_id"`
	Channel           Channel         `bun:"channel,type:varchar(20),notnull,default:'web',unique:messages_channel_external_id_key" json:"channel"`
	ExternalID        *string         `bun:"external_id,type:varchar(255),unique:messages_channel_external_id_key" json:"-"`
	DeliveryStatus    *DeliveryStatus `bun:"delivery_status,type:varchar(20)" json:"delivery_status,omitempty"`
	ProviderMessageID *string         `bun:"provider_message_id,type:varchar(255)" json:"-"`
	// DeliveryError says why a message was not delivered (delivery_status
	// failed): a short code such as gave_up, outside_whatsapp_window or
	// twilio_21211 (FailDelivery).
	DeliveryError *string `bun:"delivery_error,type:varchar(64)" json:"delivery_error,omitempty"`
	// Address is the provider's address of the person on that channel (an
	// SMS number, "whatsapp:+...", a Telegram chat id): replies go back there.
	Address *string `bun:"address,type:varchar(64)" json:"-"`
	// TurnStatus is set on messages to the assistant: the AI's turn for them.
	TurnStatus *TurnStatus `bun:"turn_status,type:varchar(20)" json:"turn_status,omitempty"`
	// DispatchedAt is when the message was dispatched to its conversation's
	// workflow; the reconciler dispatches the others.
	DispatchedAt *time.Time `bun:"dispatched_at" json:"-"`
	// AgentID is the person on the support team who wrote a message sent
	// as the assistant while a person had the conversation.
	AgentID *int64 `bun:"agent_id" json:"agent_id,omitempty"`
	// Model is the LLM model that wrote an AI reply.
	Model *string `bun:"model,type:varchar(255)" json:"model,omitempty"`
	// Citations are the knowledge base passages an AI reply cites.
	Citations []Citation `bun:"citations,type:text,nullzero" json:"citations,omitempty"`
	// Attachments are the files an inbound message carried (pictures,
	// voice notes), when it carried any.
	Attachments []Attachment `bun:"-" json:"attachments,omitempty"`
	// Feedback is the rating the person an answer was for gave it.
	Feedback *Feedback `bun:"-" json:"feedback,omitempty"`
	// Survey marks the message that asks the person how the assistant
	// did, with their score once they gave it.
	Survey *Survey `bun:"-" json:"survey,omitempty"`
	Timestamps
}

// MaxMessageLength bounds a message's content, in characters.
const MaxMessageLength = 10000

// Box selects messages by the user's part in them.
type Box int

// The boxes of the message lists.
const (
	BoxAll Box = iota
	BoxSent
	BoxReceived
)

// MessageFilter narrows a message list.
type MessageFilter struct {
	Box Box
	// ConversationID, when set, keeps one conversation's messages.
	ConversationID string
	Page
}

// ListMessages returns one page of a user's messages, newest first, and how
// many match in all. Only messages the user sent or received are listed.
func ListMessages(ctx context.Context, db bun.IDB, userID int64, f MessageFilter) ([]Message, int, error) {
	total, counted, err := countedTotal(ctx, db, userID, f)
	if err != nil {
		return nil, 0, err
	}
	if f.Box == BoxAll && f.ConversationID == "" {
		msgs, err := listAllMessages(ctx, db, userID, f.Page)
		return msgs, total, err
	}
	msgs := []Message{}
	q := db.NewSelect().Model(&msgs)
	switch f.Box {
	case BoxSent:
		q = q.Where("sender_id = ?", userID)
	case BoxReceived:
		q = q.Where("recipient_id = ?", userID)
	default:
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("sender_id = ?", userID).WhereOr("recipient_id = ?", userID)
		})
	}
	if f.ConversationID != "" {
		q = q.Where("conversation_id = ?", f.ConversationID)
	}
	q = q.Order("id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset))
	if counted {
		err = q.Scan(ctx)
	} else {
		var n int64
		n, err = q.ScanAndCount(ctx)
		total = int(n)
	}
	if err != nil {
		return nil, 0, fmt.Errorf("list messages: %w", err)
	}
	return msgs, total, withDetails(ctx, db, msgs)
}

// countedTotal reads a list's total from the counters the database keeps
// (MessageCount, ConversationCount) when they answer it: the user's sent,
// received or all messages, or a whole conversation they take part in.
// counted is false for the rare mix of a box and a conversation.
func countedTotal(ctx context.Context, db bun.IDB, userID int64, f MessageFilter) (total int, counted bool, err error) {
	if f.ConversationID != "" {
		if f.Box != BoxAll {
			return 0, false, nil
		}
		conv, err := ParseConversationID(f.ConversationID)
		if err != nil || !conv.Has(userID) {
			return 0, true, nil // nothing of this user's is in it
		}
		err = db.NewSelect().Model((*ConversationCount)(nil)).Column("total").
			Where("conversation_id = ?", f.ConversationID).Scan(ctx, &total)
		if errors.Is(err, sql.ErrNoRows) {
			return 0, true, nil
		}
		if err != nil {
			return 0, false, fmt.Errorf("count conversation: %w", err)
		}
		return total, true, nil
	}
	var c MessageCount
	err = db.NewSelect().Model(&c).Where("user_id = ?", userID).Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, false, fmt.Errorf("count messages: %w", err)
	}
	switch f.Box {
	case BoxSent:
		return int(c.Sent), true, nil
	case BoxReceived:
		return int(c.Received), true, nil
	}
	return int(c.Sent + c.Received), true, nil
}

// listAllMessages pages through everything a user sent or received. A
// "sender OR recipient" condition defeats both indexes; instead each side
// reads only its newest offset+limit rows from its own index, and the two
// short lists are merged. No message is in both: nobody writes to themselves.
func listAllMessages(ctx context.Context, db bun.IDB, userID int64, p Page) ([]Message, error) {
	window := int64(p.Offset + p.Limit)
	side := func(col string) *bun.SelectQuery {
		return db.NewSelect().Model((*Message)(nil)).Where("? = ?", bun.Ident(col), userID).Order("id DESC").Limit(window)
	}
	msgs := []Message{}
	err := db.NewRaw("SELECT * FROM (SELECT * FROM (?) AS s UNION ALL SELECT * FROM (?) AS r) AS m ORDER BY id DESC LIMIT ? OFFSET ?",
		side("sender_id"), side("recipient_id"), p.Limit, p.Offset).Scan(ctx, &msgs)
	if err != nil {
		return nil, fmt.Errorf("list messages: %w", err)
	}
	return msgs, withDetails(ctx, db, msgs)
}

// MessageFor returns a message its sender or recipient asks for; to anyone
// else it does not exist.
func MessageFor(ctx context.Context, db bun.IDB, userID, id int64) (*Message, error) {
	m := new(Message)
	err := db.NewSelect().Model(m).Where("id = ?", id).
		WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("sender_id = ?", userID).WhereOr("recipient_id = ?", userID)
		}).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	return detailed(ctx, db, m)
}

// CheckContent applies the rules every message follows.
func CheckContent(content string) error {
	switch {
	case strings.TrimSpace(content) == "":
		return invalid("content must not be empty")
	case utf8.RuneCountInString(content) > MaxMessageLength:
		return invalid(fmt.Sprintf("content must be at most %d characters", MaxMessageLength))
	}
	return checkStorable("content", content)
}

// NewMessage is a message to store.
type NewMessage struct {
	SenderID    int64
	RecipientID int64
	Content     string
	ParentID    *int64
	Channel     Channel
	// ExternalID is the provider's id of an inbound message (Twilio MessageSid).
	ExternalID *string
	// Address is where the sender is on the channel.
	Address *string
	// NoTurn stores a message to the assistant without asking it for a reply
	// (STOP and other keywords).
	NoTurn bool
}

// ErrRecipientNotFound: there is nobody active to send to.
var ErrRecipientNotFound = fmt.Errorf("recipient not found: %w", ErrNotFound)

// SendMessage stores a message in the conversation of its two users. A
// message to the assistant is an inbound turn for the AI and is marked
// pending until its reply is saved. One that a channel delivered before
// (its external id is stored) is a conflict.
func SendMessage(ctx context.Context, db bun.IDB, in NewMessage) (*Message, error) {
	m, repeated, err := ReceiveMessage(ctx, db, in)
	if err != nil {
		return nil, err
	}
	if repeated {
		return nil, conflict("message already received")
	}
	return m, nil
}

// ReceiveMessage stores a message as SendMessage does, once per external
// id: a channel that delivers it again (a retried webhook) gets the
// message stored the first time, and repeated.
func ReceiveMessage(ctx context.Context, db bun.IDB, in NewMessage) (m *Message, repeated bool, err error) {
	if err := CheckContent(in.Content); err != nil {
		return nil, false, err
	}
	if in.SenderID == in.RecipientID {
		return nil, false, invalid("you cannot send a message to yourself")
	}
	recipient := new(User)
	err = db.NewSelect().Model(recipient).Where("id = ? AND is_active = ?", in.RecipientID, true).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, ErrRecipientNotFound
	}
	if err != nil {
		return nil, false, fmt.Errorf("read recipient: %w", err)
	}
	convID := DirectConversationID(in.SenderID, in.RecipientID)
	var turn *TurnStatus
	if recipient.IsSystem {
		convID = AIConversationID(in.SenderID)
		if !in.NoTurn {
			pending := TurnPending
			turn = &pending
		}
	}
	if in.ParentID != nil {
		parent, err := MessageFor(ctx, db, in.SenderID, *in.ParentID)
		if errors.Is(err, ErrNotFound) || (err == nil && (parent.ConversationID == nil || *parent.ConversationID != convID)) {
			return nil, false, invalid("parent_id must be a message of the same conversation")
		}
		if err != nil {
			return nil, false, err
		}
	}
	if in.Channel == "" {
		in.Channel = ChannelWeb
	}
	m = &Message{SenderID: in.SenderID, RecipientID: in.RecipientID, Content: in.Content,
		ParentID: in.ParentID, ConversationID: &convID, Channel: in.Channel, ExternalID: in.ExternalID,
		Address: in.Address, TurnStatus: turn}
	return storeOnce(ctx, db, m)
}

// storeOnce inserts m, once: a message with an external id already stored
// for its channel (a retried webhook, a retried save of a reply or a
// notice) is not stored again; the stored one is returned, and repeated.
// Every message aimsg stores is stored here.
func storeOnce(ctx context.Context, db bun.IDB, m *Message) (stored *Message, repeated bool, err error) {
	if m.ExternalID == nil {
		if _, err := db.NewInsert().Model(m).Exec(ctx); err != nil {
			return nil, false, fmt.Errorf("insert message: %w", err)
		}
		return m, false, nil
	}
	res, err := db.NewInsert().Model(m).On("CONFLICT (channel, external_id) DO NOTHING").Exec(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("insert message: %w", err)
	}
	if n, err := res.RowsAffected(); err == nil && n == 1 {
		return m, false, nil
	}
	stored, err = MessageByExternalID(ctx, db, m.Channel, *m.ExternalID)
	if err != nil {
		return nil, false, err
	}
	return stored, true, nil
}

// route is where a message from the assistant's side goes: a channel,
// and the address on it (a phone number, a Telegram chat) when the
// channel has several.
type route struct {
	Channel Channel `bun:"channel"`
	Address *string `bun:"address"`
}

// routeTo decides where a message from the assistant's side to userID
// goes, for the reply and every other message alike: back where the
// message it answers came from (answering, when not zero and still
// stored), else where the user last wrote to the assistant from, else
// the web.
func routeTo(ctx context.Context, db bun.IDB, userID, answering int64) (route, error) {
	var r route
	q := db.NewSelect().Model((*Message)(nil)).Column("channel", "address")
	if answering != 0 {
		err := q.Where("id = ?", answering).Scan(ctx, &r)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return route{}, fmt.Errorf("route of the answer to %d: %w", answering, err)
		}
		q = db.NewSelect().Model((*Message)(nil)).Column("channel", "address")
	}
	err := q.Where("conversation_id = ? AND sender_id = ?", AIConversationID(userID), userID).
		Order("id DESC").Limit(1).Scan(ctx, &r)
	if errors.Is(err, sql.ErrNoRows) {
		return route{Channel: ChannelWeb}, nil
	}
	if err != nil {
		return route{}, fmt.Errorf("last channel of user %d: %w", userID, err)
	}
	return r, nil
}

// EditMessage changes the content of a message its sender wrote. The
// recipient may read but not edit it; to anyone else it does not exist.
func EditMessage(ctx context.Context, db bun.IDB, userID, id int64, content string) (*Message, error) {
	if err := CheckContent(content); err != nil {
		return nil, err
	}
	m, err := MessageFor(ctx, db, userID, id)
	if err != nil {
		return nil, err
	}
	if m.SenderID != userID {
		return nil, fmt.Errorf("only the sender edits a message: %w", ErrForbidden)
	}
	m.Content = content
	if _, err := db.NewUpdate().Model(m).Column("content", "updated_at").WherePK().Exec(ctx); err != nil {
		return nil, fmt.Errorf("edit message: %w", err)
	}
	return m, nil
}

// MarkRead marks a message read for its recipient.
func MarkRead(ctx context.Context, db bun.IDB, userID, id int64) (*Message, error) {
	m, err := MessageFor(ctx, db, userID, id)
	if err != nil {
		return nil, err
	}
	if m.RecipientID != userID {
		return nil, fmt.Errorf("only the recipient marks a message read: %w", ErrForbidden)
	}
	if !m.IsRead {
		m.IsRead = true
		if _, err := db.NewUpdate().Model(m).Column("is_read", "updated_at").WherePK().Exec(ctx); err != nil {
			return nil, fmt.Errorf("mark read: %w", err)
		}
	}
	return m, nil
}

// DeleteMessage removes a message its sender wrote; replies to it stay,
// without their parent.
func DeleteMessage(ctx context.Context, db bun.IDB, userID, id int64) error {
	m, err := MessageFor(ctx, db, userID, id)
	if err != nil {
		return err
	}
	if m.SenderID != userID {
		return fmt.Errorf("only the sender deletes a message: %w", ErrForbidden)
	}
	if _, err := db.NewDelete().Model(m).WherePK().Exec(ctx); err != nil {
		return fmt.Errorf("delete message: %w", err)
	}
	return nil
}

// UnreadCount counts the messages a user received and has not read.
func UnreadCount(ctx context.Context, db bun.IDB, userID int64) (int, error) {
	n, err := db.NewSelect().Model((*Message)(nil)).
		Where("recipient_id = ? AND is_read = ?", userID, false).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("unread count: %w", err)
	}
	return int(n), nil
}

// MarkAllRead marks every message the user received read, in one
// conversation when conversationID is set, and says how many changed.
func MarkAllRead(ctx context.Context, db bun.IDB, userID int64, conversationID string) (int64, error) {
	q := db.NewUpdate().Model((*Message)(nil)).
		Set("is_read = ?", true).Set("updated_at = ?", Now()).
		Where("recipient_id = ? AND is_read = ?", userID, false)
	if conversationID != "" {
		q = q.Where("conversation_id = ?", conversationID)
	}
	res, err := q.Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("mark all read: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// MessagesAfter lists up to limit messages of a conversation newer than
// after, oldest first: what a live client has not seen yet.
func MessagesAfter(ctx context.Context, db bun.IDB, conversationID string, after int64, limit int) ([]Message, error) {
	var msgs []Message
	err := db.NewSelect().Model(&msgs).Where("conversation_id = ? AND id > ?", conversationID, after).
		Order("id").Limit(int64(limit)).Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("messages after: %w", err)
	}
	return msgs, withDetails(ctx, db, msgs)
}

// LatestMessageID is the id of a conversation's newest message, 0 if none.
func LatestMessageID(ctx context.Context, db bun.IDB, conversationID string) (int64, error) {
	var id int64
	err := db.NewSelect().Model((*Message)(nil)).ColumnExpr("COALESCE(MAX(id), 0)").
		Where("conversation_id = ?", conversationID).Scan(ctx, &id)
	if err != nil {
		return 0, fmt.Errorf("latest message: %w", err)
	}
	return id, nil
}

// MessageByExternalID finds an inbound message by its provider id.
func MessageByExternalID(ctx context.Context, db bun.IDB, ch Channel, externalID string) (*Message, error) {
	m := new(Message)
	err := db.NewSelect().Model(m).Where("channel = ? AND external_id = ?", ch, externalID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("message by external id: %w", err)
	}
	return m, nil
}
