package domain

import (
	"context"
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// AuditEntry is one administrative or support action: who did what to
// which thing, from where, changing what.
type AuditEntry struct {
	bun.BaseModel `bun:"table:audit_log,alias:al"`

	ID         int64          `bun:"id,pk,autoincrement" json:"id"`
	At         time.Time      `bun:"at,notnull" json:"at"`
	ActorID    *int64         `bun:"actor_id" json:"actor_id"`
	Action     AuditAction    `bun:"action,type:varchar(64),notnull" json:"action"`
	TargetType string         `bun:"target_type,type:varchar(32),notnull" json:"target_type"`
	TargetID   string         `bun:"target_id,type:varchar(64),notnull" json:"target_id"`
	IP         string         `bun:"ip,type:varchar(64),notnull" json:"ip"`
	Changes    map[string]any `bun:"changes,type:text" json:"changes"`
}

// AuditAction names an audited action.
type AuditAction string

// The audited actions.
const (
	AuditUserCreate AuditAction = "user.create"
	AuditUserDelete AuditAction = "user.delete"
	// AuditUserSelfDelete is a person erasing their own account.
	AuditUserSelfDelete AuditAction = "user.self_delete"
	AuditUserDisable    AuditAction = "user.disable"
	AuditUserEnable     AuditAction = "user.enable"
	AuditUserSuperuser  AuditAction = "user.superuser"
	AuditRoleCreate     AuditAction = "role.create"
	AuditRoleDelete     AuditAction = "role.delete"
	AuditRoleAssign     AuditAction = "role.assign"
	AuditReportComment  AuditAction = "report.comment"
	AuditReportResolve  AuditAction = "report.resolve"
	AuditTakeover       AuditAction = "conversation.takeover"
	AuditResume         AuditAction = "conversation.resume"
	AuditWebhookCreate  AuditAction = "webhook.create"
	AuditWebhookDelete  AuditAction = "webhook.delete"
	AuditArticleCreate  AuditAction = "article.create"
	AuditArticleReplace AuditAction = "article.replace"
	AuditArticleDelete  AuditAction = "article.delete"
	// AuditToolApprove and AuditToolReject are a person's decision on a
	// tool call that waited for approval.
	AuditToolApprove  AuditAction = "tool.approve"
	AuditToolReject   AuditAction = "tool.reject"
	AuditAgentCreate  AuditAction = "agent.create"
	AuditAgentReplace AuditAction = "agent.replace"
	AuditAgentDelete  AuditAction = "agent.delete"
	// AuditPasswordRefused is a signed-in person's wrong password where a
	// change asks for it (a new password, erasing the account): repeated,
	// a sign that someone holding their token is guessing.
	AuditPasswordRefused AuditAction = "user.password_refused"
)

// AuditActions are all the audited actions.
var AuditActions = []AuditAction{AuditUserCreate, AuditUserDelete, AuditUserSelfDelete, AuditUserDisable, AuditUserEnable, AuditUserSuperuser,
	AuditRoleCreate, AuditRoleDelete, AuditRoleAssign, AuditReportComment, AuditReportResolve, AuditTakeover, AuditResume,
	AuditWebhookCreate, AuditWebhookDelete, AuditPasswordRefused, AuditArticleCreate, AuditArticleReplace, AuditArticleDelete,
	AuditToolApprove, AuditToolReject,
	AuditAgentCreate, AuditAgentReplace, AuditAgentDelete}

// RecordAudit stores an entry, stamped now.
func RecordAudit(ctx context.Context, db bun.IDB, e *AuditEntry) error {
	e.At = Now()
	if e.Changes == nil {
		e.Changes = map[string]any{}
	}
	if _, err := db.NewInsert().Model(e).Exec(ctx); err != nil {
		return fmt.Errorf("record audit entry: %w", err)
	}
	return nil
}

// AuditFilter narrows the audit log.
type AuditFilter struct {
	ActorID *int64
	Action  AuditAction
	Since   *time.Time
	Page
}

// ListAudit is one page of the audit log, newest first, and how many
// entries match in all.
func ListAudit(ctx context.Context, db bun.IDB, f AuditFilter) ([]AuditEntry, int, error) {
	entries := []AuditEntry{}
	q := db.NewSelect().Model(&entries)
	if f.ActorID != nil {
		q = q.Where("actor_id = ?", *f.ActorID)
	}
	if f.Action != "" {
		q = q.Where("action = ?", f.Action)
	}
	if f.Since != nil {
		q = q.Where("at >= ?", *f.Since)
	}
	n, err := q.Order("id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list audit log: %w", err)
	}
	return entries, int(n), nil
}
