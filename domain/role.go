package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/uptrace/bun"
)

// Role is a named permission set that superusers assign to users.
type Role struct {
	bun.BaseModel `bun:"table:roles,alias:r"`

	ID          int64   `bun:"id,pk,autoincrement" json:"id"`
	Name        string  `bun:"name,type:varchar(100),notnull,unique" json:"name"`
	Description *string `bun:"description,type:varchar(255)" json:"description"`
	Timestamps
}

// UserRole links a user to a role; a pair appears once.
type UserRole struct {
	bun.BaseModel `bun:"table:user_roles,alias:ur"`

	ID     int64 `bun:"id,pk,autoincrement" json:"id"`
	UserID int64 `bun:"user_id,notnull,unique:user_roles_user_id_role_id_key" json:"user_id"`
	RoleID int64 `bun:"role_id,notnull,unique:user_roles_user_id_role_id_key" json:"role_id"`
	Timestamps
}

// ListRoles returns every role by name.
func ListRoles(ctx context.Context, db bun.IDB) ([]Role, error) {
	roles := []Role{}
	if err := db.NewSelect().Model(&roles).Order("name").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list roles: %w", err)
	}
	return roles, nil
}

// CreateRole adds a role; a taken name is a conflict.
func CreateRole(ctx context.Context, db bun.IDB, name string, description *string) (*Role, error) {
	r := &Role{Name: strings.TrimSpace(name), Description: description}
	if _, err := db.NewInsert().Model(r).Exec(ctx); err != nil {
		if isUniqueViolation(err) {
			return nil, conflict(fmt.Sprintf("role %q already exists", r.Name))
		}
		return nil, fmt.Errorf("create role: %w", err)
	}
	return r, nil
}

// DeleteRole removes a role and, through the foreign key, its
// assignments. The built-in roles stay.
func DeleteRole(ctx context.Context, db bun.IDB, id int64) error {
	var name string
	err := db.NewSelect().Model((*Role)(nil)).Column("name").Where("id = ?", id).Scan(ctx, &name)
	if errors.Is(err, sql.ErrNoRows) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("read role: %w", err)
	}
	if IsBuiltinRole(name) {
		return conflict(fmt.Sprintf("role %q is built in and cannot be deleted", name))
	}
	res, err := db.NewDelete().Model((*Role)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete role: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// RolesOfUser lists the roles assigned to a person, by name.
func RolesOfUser(ctx context.Context, db bun.IDB, userID int64) ([]Role, error) {
	if _, err := UserByID(ctx, db, userID); err != nil {
		return nil, err
	}
	roles := []Role{}
	err := db.NewSelect().Model(&roles).
		Join("JOIN user_roles AS ur ON ur.role_id = r.id").
		Where("ur.user_id = ?", userID).Order("r.name").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("roles of user: %w", err)
	}
	return roles, nil
}

// SetUserRoles makes roleIDs exactly the roles of a person.
func SetUserRoles(ctx context.Context, db bun.IDB, userID int64, roleIDs []int64) ([]Role, error) {
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if _, err := UserByID(ctx, tx, userID); err != nil {
			return err
		}
		seen := map[int64]bool{}
		for _, id := range roleIDs {
			if seen[id] {
				continue
			}
			seen[id] = true
			if err := tx.NewSelect().Model((*Role)(nil)).Column("id").Where("id = ?", id).Scan(ctx, new(int64)); err != nil {
				if errors.Is(err, sql.ErrNoRows) {
					return invalid(fmt.Sprintf("role %d does not exist", id))
				}
				return fmt.Errorf("check role: %w", err)
			}
		}
		var removed []int64
		err := tx.NewDelete().Model((*UserRole)(nil)).Where("user_id = ?", userID).Returning("role_id").Scan(ctx, &removed)
		if err != nil {
			return fmt.Errorf("clear roles: %w", err)
		}
		for id := range seen {
			if _, err := tx.NewInsert().Model(&UserRole{UserID: userID, RoleID: id}).Exec(ctx); err != nil {
				return fmt.Errorf("assign role: %w", err)
			}
		}
		for _, id := range removed {
			if !seen[id] {
				// A role taken away: what it granted ends now, everywhere.
				return AnnounceUserChanged(ctx, tx, userID)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return RolesOfUser(ctx, db, userID)
}
