package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// TelegramLink ties a Telegram chat to a user, one chat per user.
type TelegramLink struct {
	bun.BaseModel `bun:"table:telegram_links,alias:tl"`

	ID     int64 `bun:"id,pk,autoincrement" json:"id"`
	UserID int64 `bun:"user_id,notnull,unique" json:"user_id"`
	ChatID int64 `bun:"chat_id,notnull,unique" json:"chat_id"`
	Timestamps
}

// TelegramLinkCode is a one-time code a user sends to the bot (/start
// <code>) to link their chat.
type TelegramLinkCode struct {
	bun.BaseModel `bun:"table:telegram_link_codes,alias:tlc"`

	ID        int64      `bun:"id,pk,autoincrement"`
	Code      string     `bun:"code,type:varchar(64),notnull,unique"`
	UserID    int64      `bun:"user_id,notnull"`
	ExpiresAt time.Time  `bun:"expires_at,notnull"`
	UsedAt    *time.Time `bun:"used_at"`
	Timestamps
}

// NewTelegramLinkCode stores a one-time code for a user.
func NewTelegramLinkCode(ctx context.Context, db bun.IDB, userID int64, code string, ttl time.Duration) (*TelegramLinkCode, error) {
	c := &TelegramLinkCode{Code: code, UserID: userID, ExpiresAt: Now().Add(ttl)}
	if _, err := db.NewInsert().Model(c).Exec(ctx); err != nil {
		return nil, fmt.Errorf("store link code: %w", err)
	}
	return c, nil
}

// ErrLinkCodeInvalid: the code is unknown, used or expired.
var ErrLinkCodeInvalid = fmt.Errorf("link code unknown, used or expired: %w", ErrNotFound)

// LinkTelegramChat spends a link code and ties chatID to its user, in place
// of any earlier link of that user or of that chat.
func LinkTelegramChat(ctx context.Context, db bun.IDB, code string, chatID int64) (int64, error) {
	var userID int64
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := Now()
		res, err := tx.NewUpdate().Model((*TelegramLinkCode)(nil)).Set("used_at = ?", now).Set("updated_at = ?", now).
			Where("code = ? AND used_at IS NULL AND expires_at > ?", code, now).Exec(ctx)
		if err != nil {
			return fmt.Errorf("spend link code: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrLinkCodeInvalid
		}
		if err := tx.NewSelect().Model((*TelegramLinkCode)(nil)).Column("user_id").Where("code = ?", code).Scan(ctx, &userID); err != nil {
			return fmt.Errorf("read link code: %w", err)
		}
		if _, err := tx.NewDelete().Model((*TelegramLink)(nil)).Where("user_id = ? OR chat_id = ?", userID, chatID).Exec(ctx); err != nil {
			return fmt.Errorf("unlink: %w", err)
		}
		if _, err := tx.NewInsert().Model(&TelegramLink{UserID: userID, ChatID: chatID}).Exec(ctx); err != nil {
			return fmt.Errorf("link chat: %w", err)
		}
		return nil
	})
	return userID, err
}

// UserByTelegramChat finds the active user linked to a chat.
func UserByTelegramChat(ctx context.Context, db bun.IDB, chatID int64) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Join("JOIN telegram_links AS tl ON tl.user_id = u.id").
		Where("tl.chat_id = ? AND u.is_active = ?", chatID, true).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("user by telegram chat: %w", err)
	}
	return u, nil
}
