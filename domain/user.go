package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/uptrace/bun"
)

// User is a person with an account, or the AI assistant (IsSystem).
type User struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	ID             int64   `bun:"id,pk,autoincrement" json:"id"`
	Username       string  `bun:"username,type:varchar(100),notnull,unique" json:"username"`
	Email          string  `bun:"email,type:varchar(255),notnull,unique" json:"email"`
	HashedPassword string  `bun:"hashed_password,type:varchar(255),notnull" json:"-"`
	IsActive       bool    `bun:"is_active,notnull,default:true" json:"is_active"`
	IsSuperuser    bool    `bun:"is_superuser,notnull,default:false" json:"is_superuser"`
	IsSystem       bool    `bun:"is_system,notnull,default:false" json:"-"`
	FullName       *string `bun:"full_name,type:varchar(255)" json:"full_name"`
	Bio            *string `bun:"bio,type:text" json:"bio"`
	PhoneNumber    *string `bun:"phone_number,type:varchar(20),unique" json:"phone_number"`
	Timestamps
}

// AssistantUsername is the system user that speaks for the AI. The migrations
// create it, so every AI message has a real sender and recipient.
const AssistantUsername = "assistant"

// UserByUsername finds a user by exact username.
func UserByUsername(ctx context.Context, db bun.IDB, username string) (*User, error) {
	u := new(User)
	err := db.NewSelect().Model(u).Where("username = ?", username).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("user by username: %w", err)
	}
	return u, nil
}

// Assistant returns the AI's system user.
func Assistant(ctx context.Context, db bun.IDB) (*User, error) {
	u, err := UserByUsername(ctx, db, AssistantUsername)
	if err != nil {
		return nil, fmt.Errorf("assistant user: %w", err)
	}
	return u, nil
}

// SuperuserInput is what createsuperuser needs.
type SuperuserInput struct {
	Username       string
	Email          string
	HashedPassword string
}

// EnsureSuperuser creates the superuser, or makes the existing user of that
// username an active superuser with the given email and password, so running
// it twice yields the same single account. created reports which happened.
func EnsureSuperuser(ctx context.Context, db bun.IDB, in SuperuserInput) (u *User, created bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		existing, err := UserByUsername(ctx, tx, in.Username)
		switch {
		case errors.Is(err, ErrNotFound):
			u = &User{Username: in.Username, Email: in.Email, HashedPassword: in.HashedPassword,
				IsActive: true, IsSuperuser: true}
			if _, err := tx.NewInsert().Model(u).Exec(ctx); err != nil {
				return fmt.Errorf("insert superuser: %w", err)
			}
			created = true
			return nil
		case err != nil:
			return err
		case existing.IsSystem:
			return fmt.Errorf("%q is a system account: %w", in.Username, ErrConflict)
		}
		existing.Email, existing.HashedPassword = in.Email, in.HashedPassword
		existing.IsActive, existing.IsSuperuser = true, true
		if _, err := tx.NewUpdate().Model(existing).
			Column("email", "hashed_password", "is_active", "is_superuser", "updated_at").
			WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("update superuser: %w", err)
		}
		u = existing
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("ensure superuser: %w", err)
	}
	return u, created, nil
}
