package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// ReportStatus is where a report (support ticket) stands.
type ReportStatus string

// Report states. A report moves open -> in_progress -> resolved, never
// back: a resolved report is final, and a problem that returns is a new
// report.
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
	return "", invalid(fmt.Sprintf("status must be open, in_progress or resolved, not %q", s))
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

// Limits of a report's text, in characters.
const (
	MaxReportTitle   = 255
	MaxReportContent = 20000
	MaxReportComment = 20000
)

// The report operations below are the only way reports change, for the REST
// API and the AI's report agent alike: each takes the acting user and applies
// the permission rules itself. A report the actor may not see is
// ErrNotFound; one they see but may not change is ErrForbidden.

func checkReportText(title, content *string) error {
	for field, text := range map[string]*string{"title": title, "content": content} {
		if text != nil {
			if err := checkStorable(field, *text); err != nil {
				return err
			}
		}
	}
	if title != nil {
		if n := utf8.RuneCountInString(strings.TrimSpace(*title)); n < 1 || n > MaxReportTitle {
			return invalid(fmt.Sprintf("title must be 1 to %d characters", MaxReportTitle))
		}
	}
	if content != nil {
		if strings.TrimSpace(*content) == "" || utf8.RuneCountInString(*content) > MaxReportContent {
			return invalid(fmt.Sprintf("content must be 1 to %d characters", MaxReportContent))
		}
	}
	return nil
}

// CreateReport files a report for the actor.
func CreateReport(ctx context.Context, db bun.IDB, actor *User, title, content string) (*Report, error) {
	if err := checkReportText(&title, &content); err != nil {
		return nil, err
	}
	r := &Report{ReporterID: actor.ID, Title: strings.TrimSpace(title), Content: content, Status: ReportOpen}
	if _, err := db.NewInsert().Model(r).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create report: %w", err)
	}
	return r, nil
}

// ReportFilter narrows a report list.
type ReportFilter struct {
	Status *ReportStatus
	// ReporterID keeps one reporter's reports (admin list only).
	ReporterID *int64
	Page
}

func listReports(ctx context.Context, db bun.IDB, f ReportFilter) ([]Report, int, error) {
	reports := []Report{}
	q := db.NewSelect().Model(&reports)
	if f.ReporterID != nil {
		q = q.Where("reporter_id = ?", *f.ReporterID)
	}
	if f.Status != nil {
		q = q.Where("status = ?", *f.Status)
	}
	total, err := q.Order("id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list reports: %w", err)
	}
	return reports, int(total), nil
}

// ListMyReports lists the actor's own reports, newest first.
func ListMyReports(ctx context.Context, db bun.IDB, actor *User, f ReportFilter) ([]Report, int, error) {
	f.ReporterID = &actor.ID
	return listReports(ctx, db, f)
}

// ListAllReports lists everyone's reports, for those who triage them.
func ListAllReports(ctx context.Context, db bun.IDB, actor *User, f ReportFilter) ([]Report, int, error) {
	if err := require(ctx, db, actor, PermTriageReports, "listing all reports"); err != nil {
		return nil, 0, err
	}
	return listReports(ctx, db, f)
}

// GetReport returns a report to its reporter or to those who triage reports.
func GetReport(ctx context.Context, db bun.IDB, actor *User, id int64) (*Report, error) {
	r := new(Report)
	err := db.NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read report: %w", err)
	}
	if r.ReporterID != actor.ID {
		if ok, err := Can(ctx, db, actor, PermTriageReports); err != nil || !ok {
			if err == nil {
				err = ErrNotFound
			}
			return nil, err
		}
	}
	return r, nil
}

// ReportUpdate is what a reporter may change; nil fields stay.
type ReportUpdate struct {
	Title   *string
	Content *string
}

// UpdateReport lets the reporter change their report while it is open.
func UpdateReport(ctx context.Context, db bun.IDB, actor *User, id int64, in ReportUpdate) (*Report, error) {
	if err := checkReportText(in.Title, in.Content); err != nil {
		return nil, err
	}
	return changeReport(ctx, db, actor, id, func(r *Report) ([]string, error) {
		if r.ReporterID != actor.ID {
			return nil, fmt.Errorf("only the reporter edits a report: %w", ErrForbidden)
		}
		if r.Status != ReportOpen {
			return nil, conflict(fmt.Sprintf("report is %s; only open reports can be edited", r.Status))
		}
		if in.Title != nil {
			r.Title = strings.TrimSpace(*in.Title)
		}
		if in.Content != nil {
			r.Content = *in.Content
		}
		return []string{"title", "content"}, nil
	})
}

// CommentReport sets a triager's comment and, when startWork is true,
// moves an open report to in_progress.
func CommentReport(ctx context.Context, db bun.IDB, actor *User, id int64, comment string, startWork bool) (*Report, error) {
	if strings.TrimSpace(comment) == "" || utf8.RuneCountInString(comment) > MaxReportComment {
		return nil, invalid(fmt.Sprintf("comment must be 1 to %d characters", MaxReportComment))
	}
	if err := checkStorable("comment", comment); err != nil {
		return nil, err
	}
	if err := require(ctx, db, actor, PermTriageReports, "only support staff comment on reports"); err != nil {
		return nil, err
	}
	return changeReport(ctx, db, actor, id, func(r *Report) ([]string, error) {
		r.Comment = &comment
		cols := []string{"comment"}
		if startWork {
			switch r.Status {
			case ReportOpen:
				r.Status = ReportInProgress
				cols = append(cols, "status")
			case ReportResolved:
				return nil, conflict("report is resolved; a resolved report cannot be reopened")
			}
		}
		return cols, nil
	})
}

// ResolveReport closes a report for good, recording who and when; an
// optional comment is stored with it.
func ResolveReport(ctx context.Context, db bun.IDB, actor *User, id int64, comment *string) (*Report, error) {
	if comment != nil && utf8.RuneCountInString(*comment) > MaxReportComment {
		return nil, invalid(fmt.Sprintf("comment must be at most %d characters", MaxReportComment))
	}
	if comment != nil {
		if err := checkStorable("comment", *comment); err != nil {
			return nil, err
		}
	}
	if err := require(ctx, db, actor, PermTriageReports, "only support staff resolve reports"); err != nil {
		return nil, err
	}
	return changeReport(ctx, db, actor, id, func(r *Report) ([]string, error) {
		if r.Status == ReportResolved {
			return nil, conflict("report is already resolved")
		}
		now := Now()
		r.Status, r.ResolvedAt, r.ResolvedBy = ReportResolved, &now, &actor.ID
		cols := []string{"status", "resolved_at", "resolved_by"}
		if comment != nil && strings.TrimSpace(*comment) != "" {
			r.Comment = comment
			cols = append(cols, "comment")
		}
		return cols, nil
	})
}

// changeReport reads the report as actor, lets change decide and modify
// it, and writes the columns change names, only if the status is still the
// one change saw: of two concurrent changes, the second finds a conflict.
func changeReport(ctx context.Context, db bun.IDB, actor *User, id int64, change func(*Report) ([]string, error)) (*Report, error) {
	r, err := GetReport(ctx, db, actor, id)
	if err != nil {
		return nil, err
	}
	seen := r.Status
	cols, err := change(r)
	if err != nil {
		return nil, err
	}
	res, err := db.NewUpdate().Model(r).Column(append(cols, "updated_at")...).
		WherePK().Where("status = ?", seen).Exec(ctx)
	if err != nil {
		return nil, fmt.Errorf("update report: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil, conflict("report changed meanwhile; reload and try again")
	}
	return r, nil
}
