package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

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
	// SMSOptOut is set by STOP (or a carrier's 21610): no SMS may go to them.
	SMSOptOut bool `bun:"sms_opt_out,notnull,default:false" json:"sms_opt_out"`
	Timestamps
}

// AssistantUsername is the system user that speaks for the AI. The migrations
// create it, so every AI message has a real sender and recipient.
const AssistantUsername = "assistant"

func scanUser(ctx context.Context, q *bun.SelectQuery, what string) (*User, error) {
	u := new(User)
	err := q.Model(u).Limit(1).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", what, err)
	}
	return u, nil
}

// UserByUsername finds a user by username, in any case and however it is
// typed (UsernameKey); usernames are unique that way.
func UserByUsername(ctx context.Context, db bun.IDB, username string) (*User, error) {
	return scanUser(ctx, db.NewSelect().Where("lower(username) = ?", UsernameKey(username)), "user by username")
}

// UserByID finds a person by id; system users are not found.
func UserByID(ctx context.Context, db bun.IDB, id int64) (*User, error) {
	return scanUser(ctx, db.NewSelect().Where("id = ? AND is_system = ?", id, false), "user by id")
}

// UserByLogin finds the person who logs in as login: a username or an email
// address, in any case. System users are not found.
func UserByLogin(ctx context.Context, db bun.IDB, login string) (*User, error) {
	q := db.NewSelect().Where("is_system = ?", false)
	if strings.Contains(login, "@") {
		q = q.Where("email = ?", strings.ToLower(login))
	} else {
		q = q.Where("lower(username) = ?", UsernameKey(login))
	}
	return scanUser(ctx, q, "user by login")
}

// Assistant returns the AI's system user.
func Assistant(ctx context.Context, db bun.IDB) (*User, error) {
	u, err := UserByUsername(ctx, db, AssistantUsername)
	if err != nil {
		return nil, fmt.Errorf("assistant user: %w", err)
	}
	return u, nil
}

// NewUser is a validated account to create; the password is already hashed.
type NewUser struct {
	Username       string
	Email          string
	HashedPassword string
	FullName       *string
	Bio            *string
	PhoneNumber    *string
	IsSuperuser    bool
}

// CreateUser adds an active account, its username in NormalizeUsername
// form. A taken username (in any case), email or phone number is a
// conflict, which does not say which.
func CreateUser(ctx context.Context, db bun.IDB, in NewUser) (*User, error) {
	u := &User{
		Username: NormalizeUsername(in.Username), Email: strings.ToLower(in.Email), HashedPassword: in.HashedPassword,
		FullName: in.FullName, Bio: in.Bio, PhoneNumber: in.PhoneNumber,
		IsActive: true, IsSuperuser: in.IsSuperuser,
	}
	if _, err := db.NewInsert().Model(u).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, conflict("username, email or phone number already registered")
		}
		return nil, fmt.Errorf("create user: %w", err)
	}
	return u, nil
}

// ProfileUpdate changes what a user may change about themselves; nil fields
// stay as they are.
type ProfileUpdate struct {
	Email    *string
	FullName *string
	Bio      *string
}

// UpdateProfile applies a profile update and returns the user as it now is.
func UpdateProfile(ctx context.Context, db bun.IDB, id int64, in ProfileUpdate) (*User, error) {
	u, err := UserByID(ctx, db, id)
	if err != nil {
		return nil, err
	}
	if in.Email != nil {
		u.Email = strings.ToLower(*in.Email)
	}
	if in.FullName != nil {
		u.FullName = in.FullName
	}
	if in.Bio != nil {
		u.Bio = in.Bio
	}
	if _, err := db.NewUpdate().Model(u).Column("email", "full_name", "bio", "updated_at").WherePK().Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, conflict("email already registered")
		}
		return nil, fmt.Errorf("update profile: %w", err)
	}
	return u, nil
}

// SetPhone stores a normalised phone number, or clears it with nil. A
// number that belongs to someone else is a conflict.
func SetPhone(ctx context.Context, db bun.IDB, id int64, phone *string) (*User, error) {
	u, err := UserByID(ctx, db, id)
	if err != nil {
		return nil, err
	}
	u.PhoneNumber = phone
	if _, err := db.NewUpdate().Model(u).Column("phone_number", "updated_at").WherePK().Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, conflict("phone number already registered")
		}
		return nil, fmt.Errorf("set phone: %w", err)
	}
	return u, nil
}

// SetPassword stores a new password hash and ends every session of the user
// but keepSession (the one that changed it).
func SetPassword(ctx context.Context, db bun.IDB, userID int64, hash string, keepSession int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		res, err := tx.NewUpdate().Model((*User)(nil)).
			Set("hashed_password = ?", hash).Set("updated_at = ?", Now()).
			Where("id = ?", userID).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set password: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		_, err = EndSessions(ctx, tx, userID, keepSession)
		return err
	})
}

// UserFilter selects users for the admin list.
type UserFilter struct {
	// Search matches part of the username, email or full name, in any case.
	Search string
	Page
}

// ListUsers returns one page of people (no system users), oldest first, and
// how many match in all.
func ListUsers(ctx context.Context, db bun.IDB, f UserFilter) ([]User, int, error) {
	var users []User
	q := db.NewSelect().Model(&users).Where("is_system = ?", false)
	if s := strings.TrimSpace(f.Search); s != "" {
		like := "%" + escapeLike(strings.ToLower(s)) + "%"
		q = q.WhereGroup(" AND ", func(q *bun.SelectQuery) *bun.SelectQuery {
			return q.Where("LOWER(username) LIKE ? ESCAPE '\\'", like).
				WhereOr("LOWER(email) LIKE ? ESCAPE '\\'", like).
				WhereOr("LOWER(COALESCE(full_name, '')) LIKE ? ESCAPE '\\'", like)
		})
	}
	total, err := q.Order("id").Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list users: %w", err)
	}
	return users, int(total), nil
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// lockActiveSuperusers serialises changes that could leave no active
// superuser; SQLite write transactions are serial already.
func lockActiveSuperusers(ctx context.Context, tx bun.Tx) (int, error) {
	q := tx.NewSelect().Model((*User)(nil)).Column("id").
		Where("is_superuser = ? AND is_active = ?", true, true)
	if tx.Dialect().Name().String() == "pg" {
		q = q.For("UPDATE")
	}
	var ids []int64
	if err := q.Scan(ctx, &ids); err != nil {
		return 0, fmt.Errorf("lock superusers: %w", err)
	}
	return len(ids), nil
}

// ErrLastSuperuser refuses to remove the last active superuser.
var ErrLastSuperuser = conflict("the last active superuser cannot be demoted, disabled or deleted")

// changeUser runs change on person id inside a transaction, refusing it when
// it would leave no active superuser.
func changeUser(ctx context.Context, db bun.IDB, id int64, removesSuperuser func(*User) bool,
	change func(context.Context, bun.Tx, *User) error) (*User, error) {
	var u *User
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		supers, err := lockActiveSuperusers(ctx, tx)
		if err != nil {
			return err
		}
		if u, err = UserByID(ctx, tx, id); err != nil {
			return err
		}
		if u.IsSuperuser && u.IsActive && removesSuperuser(u) && supers <= 1 {
			return ErrLastSuperuser
		}
		return change(ctx, tx, u)
	})
	if err != nil {
		return nil, err
	}
	return u, nil
}

// SetActive enables or disables a person. Disabling ends all their sessions.
func SetActive(ctx context.Context, db bun.IDB, id int64, active bool) (*User, error) {
	return changeUser(ctx, db, id, func(*User) bool { return !active },
		func(ctx context.Context, tx bun.Tx, u *User) error {
			u.IsActive = active
			if _, err := tx.NewUpdate().Model(u).Column("is_active", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("set active: %w", err)
			}
			if active {
				return nil
			}
			if _, err := EndSessions(ctx, tx, u.ID, 0); err != nil {
				return err
			}
			return AnnounceUserChanged(ctx, tx, u.ID)
		})
}

// SetSuperuser grants or withdraws superuser rights.
func SetSuperuser(ctx context.Context, db bun.IDB, id int64, superuser bool) (*User, error) {
	return changeUser(ctx, db, id, func(*User) bool { return !superuser },
		func(ctx context.Context, tx bun.Tx, u *User) error {
			u.IsSuperuser = superuser
			if _, err := tx.NewUpdate().Model(u).Column("is_superuser", "updated_at").WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("set superuser: %w", err)
			}
			if superuser {
				return nil // a grant waits for no stream: it shows within AUTH_CACHE_MS
			}
			return AnnounceUserChanged(ctx, tx, u.ID)
		})
}

// DeleteUser removes a person. Their sessions, tokens, role assignments,
// Telegram link, messages (sent and received) and reports go with them;
// reports they resolved keep the resolution without a resolver.
func DeleteUser(ctx context.Context, db bun.IDB, id int64) error {
	_, err := changeUser(ctx, db, id, func(*User) bool { return true },
		func(ctx context.Context, tx bun.Tx, u *User) error {
			if _, err := tx.NewDelete().Model(u).WherePK().Exec(ctx); err != nil {
				return fmt.Errorf("delete user: %w", err)
			}
			return AnnounceUserChanged(ctx, tx, u.ID)
		})
	return err
}

// SuperuserInput is what createsuperuser needs.
type SuperuserInput struct {
	Username       string
	Email          string
	HashedPassword string
}

// EnsureSuperuser creates the superuser, or makes the existing user of that
// username (in any case: UserByUsername) an active superuser with the given
// email and password, so running it twice yields the same single account.
// created reports which happened.
func EnsureSuperuser(ctx context.Context, db bun.IDB, in SuperuserInput) (u *User, created bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		existing, err := UserByUsername(ctx, tx, in.Username)
		switch {
		case errors.Is(err, ErrNotFound):
			u, err = CreateUser(ctx, tx, NewUser{Username: in.Username, Email: in.Email,
				HashedPassword: in.HashedPassword, IsSuperuser: true})
			created = err == nil
			return err
		case err != nil:
			return err
		case existing.IsSystem:
			return conflict(fmt.Sprintf("%q is a system account", in.Username))
		}
		existing.Email, existing.HashedPassword = strings.ToLower(in.Email), in.HashedPassword
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

// ActiveUserByPhone finds the active person with a phone number (E.164).
func ActiveUserByPhone(ctx context.Context, db bun.IDB, phone string) (*User, error) {
	return scanUser(ctx, db.NewSelect().Where("phone_number = ? AND is_active = ? AND is_system = ?", phone, true, false),
		"user by phone")
}

// SetSMSOptOut records that a user stopped (or restarted) SMS.
func SetSMSOptOut(ctx context.Context, db bun.IDB, userID int64, out bool) error {
	if _, err := db.NewUpdate().Model((*User)(nil)).Set("sms_opt_out = ?", out).Set("updated_at = ?", Now()).
		Where("id = ?", userID).Exec(ctx); err != nil {
		return fmt.Errorf("set sms opt-out: %w", err)
	}
	return nil
}
