package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

	User *User `bun:"rel:belongs-to,join:user_id=id" json:"-"`
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

// Refresh token failures. Both end in 401; reuse also ended the session.
var (
	ErrRefreshInvalid = errors.New("refresh token invalid or expired")
	ErrRefreshReused  = errors.New("refresh token reused: session revoked")
)

// NewSession describes a login.
type NewSession struct {
	UserID       int64
	SessionToken string
	DeviceInfo   string
	IPAddress    string
	// ExpiresAt is absolute: refreshing does not extend it.
	ExpiresAt time.Time
	// RefreshHash is the hash of the session's first refresh token.
	RefreshHash string
}

// StartSession records a login and its first refresh token.
func StartSession(ctx context.Context, db bun.IDB, in NewSession) (*Session, error) {
	s := &Session{
		UserID: in.UserID, SessionToken: in.SessionToken, IsActive: true, ExpiresAt: in.ExpiresAt.UTC(),
		DeviceInfo: truncated(in.DeviceInfo, 255), IPAddress: truncated(in.IPAddress, 50),
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := tx.NewInsert().Model(s).Exec(ctx); err != nil {
			return fmt.Errorf("insert session: %w", err)
		}
		rt := &RefreshToken{UserID: in.UserID, SessionID: s.ID, Token: in.RefreshHash, ExpiresAt: s.ExpiresAt}
		if _, err := tx.NewInsert().Model(rt).Exec(ctx); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("start session: %w", err)
	}
	return s, nil
}

func truncated(s string, max int) *string {
	if s == "" {
		return nil
	}
	if r := []rune(s); len(r) > max {
		s = string(r[:max])
	}
	return &s
}

// ActiveSession returns a live session and its active user in one query:
// this runs on every authenticated request. Anything else is ErrNotFound.
func ActiveSession(ctx context.Context, db bun.IDB, sessionToken string) (*Session, *User, error) {
	s := new(Session)
	err := db.NewSelect().Model(s).Relation("User").
		Where("s.session_token = ?", sessionToken).
		Where("s.is_active = ? AND s.expires_at > ?", true, Now()).
		Where("?.is_active = ?", bun.Ident("user"), true).
		Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("active session: %w", err)
	}
	return s, s.User, nil
}

// EndSession logs out one session of a user; another user's is ErrNotFound.
func EndSession(ctx context.Context, db bun.IDB, userID, sessionID int64) error {
	res, err := db.NewUpdate().Model((*Session)(nil)).
		Set("is_active = ?", false).Set("updated_at = ?", Now()).
		Where("id = ? AND user_id = ? AND is_active = ?", sessionID, userID, true).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// EndSessions logs out every active session of a user except keep (0: all),
// and returns how many it ended.
func EndSessions(ctx context.Context, db bun.IDB, userID, keep int64) (int64, error) {
	res, err := db.NewUpdate().Model((*Session)(nil)).
		Set("is_active = ?", false).Set("updated_at = ?", Now()).
		Where("user_id = ? AND is_active = ? AND id <> ?", userID, true, keep).
		Exec(ctx)
	if err != nil {
		return 0, fmt.Errorf("end sessions: %w", err)
	}
	n, _ := res.RowsAffected()
	return n, nil
}

// ListSessions returns a user's live sessions, newest first.
func ListSessions(ctx context.Context, db bun.IDB, userID int64) ([]Session, error) {
	var out []Session
	err := db.NewSelect().Model(&out).
		Where("user_id = ? AND is_active = ? AND expires_at > ?", userID, true, Now()).
		Order("id DESC").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	return out, nil
}

// RotateRefresh spends the refresh token with hash oldHash and stores
// newHash as its successor in the same session, in one transaction. A token
// presented twice is a sign of theft: the session is revoked and
// ErrRefreshReused returned. Of concurrent rotations of one token exactly one
// succeeds.
func RotateRefresh(ctx context.Context, db bun.IDB, oldHash, newHash string) (*Session, *User, error) {
	var (
		s      *Session
		u      *User
		reused bool
	)
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		old := new(RefreshToken)
		err := tx.NewSelect().Model(old).Where("token = ?", oldHash).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return ErrRefreshInvalid
		}
		if err != nil {
			return fmt.Errorf("read refresh token: %w", err)
		}
		now := Now()
		res, err := tx.NewUpdate().Model((*RefreshToken)(nil)).
			Set("is_used = ?", true).Set("updated_at = ?", now).
			Where("id = ? AND is_used = ?", old.ID, false).Exec(ctx)
		if err != nil {
			return fmt.Errorf("spend refresh token: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			reused = true
			_, err := tx.NewUpdate().Model((*Session)(nil)).
				Set("is_active = ?", false).Set("updated_at = ?", now).
				Where("id = ?", old.SessionID).Exec(ctx)
			return err
		}
		if !old.ExpiresAt.After(now) {
			return ErrRefreshInvalid
		}
		var sess Session
		if err := tx.NewSelect().Model(&sess).Where("id = ?", old.SessionID).Scan(ctx); err != nil {
			return fmt.Errorf("read session: %w", err)
		}
		if s, u, err = ActiveSession(ctx, tx, sess.SessionToken); err != nil {
			if errors.Is(err, ErrNotFound) {
				return ErrRefreshInvalid
			}
			return err
		}
		next := &RefreshToken{UserID: old.UserID, SessionID: old.SessionID, Token: newHash, ExpiresAt: s.ExpiresAt}
		if _, err := tx.NewInsert().Model(next).Exec(ctx); err != nil {
			return fmt.Errorf("insert refresh token: %w", err)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, nil, err
	case reused:
		return nil, nil, ErrRefreshReused
	}
	return s, u, nil
}
