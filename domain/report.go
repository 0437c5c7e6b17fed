package domain

import (
	"fmt"
	"time"

	"github.com/uptrace/bun"
)

// ReportStatus is where a report (support ticket) stands.
type ReportStatus string

// Report states; a report moves open -> in_progress -> resolved.
const (
	ReportOpen       ReportStatus = "open"
	ReportInProgress ReportStatus = "in_progress"
	ReportResolved   ReportStatus = "resolved"
)

// ParseReportStatus checks a status name.
func ParseReportStatus(s string) (ReportStatus, error) {
	switch st := ReportStatus(s); st {
	case ReportOpen, ReportInProgress, ReportResolved:
		return st, nil
	}
	return "", fmt.Errorf("unknown report status %q: %w", s, ErrInvalid)
}

// Report is a support ticket filed by a user and handled by superusers.
type Report struct {
	bun.BaseModel `bun:"table:reports,alias:rep"`

	ID         int64        `bun:"id,pk,autoincrement" json:"id"`
	ReporterID int64        `bun:"reporter_id,notnull" json:"reporter_id"`
	Title      string       `bun:"title,type:varchar(255),notnull" json:"title"`
	Content    string       `bun:"content,type:text,notnull" json:"content"`
	Status     ReportStatus `bun:"status,type:varchar(50),notnull,default:'open'" json:"status"`
	Comment    *string      `bun:"comment,type:text" json:"comment"`
	ResolvedAt *time.Time   `bun:"resolved_at" json:"resolved_at"`
	ResolvedBy *int64       `bun:"resolved_by" json:"resolved_by"`
	Timestamps
}
