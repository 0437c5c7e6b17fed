package domain

import "github.com/uptrace/bun"

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
