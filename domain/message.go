package domain

import (
	"fmt"

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
	switch c := Channel(s); c {
	case ChannelWeb, ChannelTwilio, ChannelTelegram:
		return c, nil
	}
	return "", fmt.Errorf("unknown channel %q: %w", s, ErrInvalid)
}

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
	Timestamps
}
