package domain

import "github.com/uptrace/bun"

// MessageCount is how many messages a user sent and received. Triggers on
// messages keep it (migration message_counts), so the total of a message
// list costs one row read instead of counting the user's whole history.
type MessageCount struct {
	bun.BaseModel `bun:"table:message_counts"`

	UserID   int64 `bun:"user_id,pk"`
	Sent     int64 `bun:"sent,notnull,default:0"`
	Received int64 `bun:"received,notnull,default:0"`
}

// ConversationCount is how many messages a conversation holds, kept by the
// same triggers.
type ConversationCount struct {
	bun.BaseModel `bun:"table:conversation_counts"`

	ConversationID string `bun:"conversation_id,pk,type:varchar(100)"`
	Total          int64  `bun:"total,notnull,default:0"`
}

// UserConversation is one line of a user's conversation list: the newest
// message the user has in it and how many they have not read. Triggers on
// messages keep it, so a list page reads the user's newest 50 lines instead
// of aggregating their whole history. The assistant has no lines for its
// conversations with users (nobody lists them).
type UserConversation struct {
	bun.BaseModel `bun:"table:user_conversations"`

	UserID         int64  `bun:"user_id,pk"`
	ConversationID string `bun:"conversation_id,pk,type:varchar(100)"`
	LastMessageID  int64  `bun:"last_message_id,notnull"`
	Unread         int64  `bun:"unread,notnull,default:0"`
}
