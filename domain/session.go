package domain

import (
	"time"

	"github.com/uptrace/bun"
)

// Session is one login of a user on one device. Access tokens name their
// session, so ending the session ends them.
type Session struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID           int64     `bun:"id,pk,autoincrement" json:"id"`
	UserID       int64     `bun:"user_id,notnull" json:"user_id"`
	SessionToken string    `bun:"session_token,type:varchar(255),notnull,unique" json:"-"`
	DeviceInfo   *string   `bun:"device_info,type:varchar(255)" json:"device_info"`
	IPAddress    *string   `bun:"ip_address,type:varchar(50)" json:"ip_address"`
	IsActive     bool      `bun:"is_active,notnull,default:true" json:"is_active"`
	ExpiresAt    time.Time `bun:"expires_at,notnull" json:"expires_at"`
	Timestamps
}

// RefreshToken is a single-use refresh token of a session, stored as a hash.
type RefreshToken struct {
	bun.BaseModel `bun:"table:refresh_tokens,alias:rt"`

	ID        int64     `bun:"id,pk,autoincrement" json:"id"`
	UserID    int64     `bun:"user_id,notnull" json:"user_id"`
	SessionID int64     `bun:"session_id,notnull" json:"session_id"`
	Token     string    `bun:"token,type:varchar(255),notnull,unique" json:"-"`
	ExpiresAt time.Time `bun:"expires_at,notnull" json:"expires_at"`
	IsUsed    bool      `bun:"is_used,notnull,default:false" json:"is_used"`
	Timestamps
}
