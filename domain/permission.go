package domain

import (
	"context"
	"fmt"
	"slices"

	"github.com/uptrace/bun"
)

// Permission is something a role lets its holders do. Superusers hold
// every permission; custom roles grant none (they label people).
type Permission string

// The permissions aimsg checks.
const (
	// PermSupport: work the support inbox (take over, answer, resume
	// conversations with the assistant).
	PermSupport Permission = "support"
	// PermTriageReports: see every report, comment on, start and resolve them.
	PermTriageReports Permission = "triage_reports"
	// PermKnowledge: write the knowledge base the assistant answers from
	// (articles: create, replace, delete, import).
	PermKnowledge Permission = "knowledge"
)

// AgentRole is the built-in role of support staff, created by a migration.
const AgentRole = "agent"

// builtinRoles are the roles the migrations create and what they grant.
// Administering users and roles stays with superusers.
var builtinRoles = map[string][]Permission{
	AgentRole: {PermSupport, PermTriageReports, PermKnowledge},
}

// IsBuiltinRole says whether a role name is one aimsg defines.
func IsBuiltinRole(name string) bool {
	_, ok := builtinRoles[name]
	return ok
}

// rolesGranting names the built-in roles that grant perm, in order.
func rolesGranting(perm Permission) []string {
	var names []string
	for name, perms := range builtinRoles {
		if slices.Contains(perms, perm) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}

// Permissions are what one person may do beyond their own things.
type Permissions struct {
	Superuser bool
	granted   []Permission
}

// allPermissions are every permission, as a superuser holds them.
var allPermissions = []Permission{PermSupport, PermTriageReports, PermKnowledge}

// List names what is granted.
func (p Permissions) List() []Permission {
	if p.Superuser {
		return slices.Clone(allPermissions)
	}
	return slices.Clone(p.granted)
}

// Has says whether p is granted.
func (p Permissions) Has(perm Permission) bool {
	return p.Superuser || slices.Contains(p.granted, perm)
}

// PermissionsOf reads what u's roles grant: no query for a superuser.
func PermissionsOf(ctx context.Context, db bun.IDB, u *User) (Permissions, error) {
	if u.IsSuperuser {
		return Permissions{Superuser: true}, nil
	}
	var names []string
	err := db.NewSelect().Model((*Role)(nil)).Column("r.name").
		Join("JOIN user_roles AS ur ON ur.role_id = r.id").
		Where("ur.user_id = ?", u.ID).Scan(ctx, &names)
	if err != nil {
		return Permissions{}, fmt.Errorf("permissions of user %d: %w", u.ID, err)
	}
	out := Permissions{granted: []Permission{}}
	for _, n := range names {
		for _, p := range builtinRoles[n] {
			if !slices.Contains(out.granted, p) {
				out.granted = append(out.granted, p)
			}
		}
	}
	return out, nil
}

// Can says whether u holds perm.
func Can(ctx context.Context, db bun.IDB, u *User, perm Permission) (bool, error) {
	p, err := PermissionsOf(ctx, db, u)
	if err != nil {
		return false, err
	}
	return p.Has(perm), nil
}

// require fails with ErrForbidden (and what) unless u holds perm.
func require(ctx context.Context, db bun.IDB, u *User, perm Permission, what string) error {
	ok, err := Can(ctx, db, u, perm)
	if err != nil {
		return err
	}
	if !ok {
		return fmt.Errorf("%s: %w", what, ErrForbidden)
	}
	return nil
}
