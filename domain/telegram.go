package domain

import "github.com/uptrace/bun"

// TelegramLink ties a Telegram chat to a user, one chat per user.
type TelegramLink struct {
	bun.BaseModel `bun:"table:telegram_links,alias:tl"`

	ID     int64 `bun:"id,pk,autoincrement" json:"id"`
	UserID int64 `bun:"user_id,notnull,unique" json:"user_id"`
	ChatID int64 `bun:"chat_id,notnull,unique" json:"chat_id"`
	Timestamps
}
