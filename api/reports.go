package api

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// Every rule about who may do what to a report lives in domain/; the
// handlers translate HTTP to those calls and back.

type reportRequest struct {
	Title   string `json:"title" binding:"required,min=1,max=255"`
	Content string `json:"content" binding:"required,max=20000"`
}

func (s *Server) createReport(c *gin.Context) {
	var in reportRequest
	if !s.bind(c, &in) {
		return
	}
	r, err := domain.CreateReport(c.Request.Context(), s.db, currentUser(c), in.Title, in.Content)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reportsLog(c).Info("report created", "report_id", r.ID)
	c.JSON(http.StatusCreated, r)
}

// reportFilter reads status (and, for the admin list, reporter_id) and the page.
func reportFilter(c *gin.Context, withReporter bool) (domain.ReportFilter, bool) {
	p, ok := page(c)
	if !ok {
		return domain.ReportFilter{}, false
	}
	f := domain.ReportFilter{Page: p}
	if raw, ok := c.GetQuery("status"); ok {
		st, err := domain.ParseReportStatus(raw)
		if err != nil {
			invalidInput(c, fieldError{Loc: []any{"query", "status"}, Msg: domain.Reason(err), Type: "enum"})
			return f, false
		}
		f.Status = &st
	}
	if raw, ok := c.GetQuery("reporter_id"); ok && withReporter {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			invalidInput(c, fieldError{Loc: []any{"query", "reporter_id"}, Msg: "Input should be a valid integer", Type: "int_parsing"})
			return f, false
		}
		f.ReporterID = &id
	}
	return f, true
}

func (s *Server) listMyReports(c *gin.Context) {
	f, ok := reportFilter(c, false)
	if !ok {
		return
	}
	reports, total, err := domain.ListMyReports(c.Request.Context(), s.db, currentUser(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, reports)
}

func (s *Server) listAllReports(c *gin.Context) {
	f, ok := reportFilter(c, true)
	if !ok {
		return
	}
	reports, total, err := domain.ListAllReports(c.Request.Context(), s.db, currentUser(c), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, reports)
}

func (s *Server) getReport(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	r, err := domain.GetReport(c.Request.Context(), s.db, currentUser(c), id)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, r)
}

type reportUpdateRequest struct {
	Title   *string `json:"title" binding:"omitempty,min=1,max=255"`
	Content *string `json:"content" binding:"omitempty,max=20000"`
}

func (s *Server) updateReport(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in reportUpdateRequest
	if !s.bind(c, &in) {
		return
	}
	r, err := domain.UpdateReport(c.Request.Context(), s.db, currentUser(c), id,
		domain.ReportUpdate{Title: in.Title, Content: in.Content})
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reportsLog(c).Info("report updated", "report_id", r.ID)
	c.JSON(http.StatusOK, r)
}

type commentRequest struct {
	Comment string `json:"comment" binding:"required,max=20000"`
	// Status may move an open report to in_progress; nothing else.
	Status *string `json:"status" binding:"omitempty,oneof=in_progress"`
}

func (s *Server) commentReport(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in commentRequest
	if !s.bind(c, &in) {
		return
	}
	r, err := domain.CommentReport(c.Request.Context(), s.db, currentUser(c), id, in.Comment, in.Status != nil)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reportsLog(c).Info("report commented", "report_id", r.ID, "status", r.Status)
	changes := map[string]any{}
	if in.Status != nil {
		changes["status"] = r.Status
	}
	s.audit(c, domain.AuditReportComment, "report", r.ID, changes)
	c.JSON(http.StatusOK, r)
}

type resolveRequest struct {
	Comment *string `json:"comment" binding:"omitempty,max=20000"`
}

func (s *Server) resolveReport(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in resolveRequest
	if c.Request.ContentLength != 0 && !s.bind(c, &in) {
		return
	}
	r, err := domain.ResolveReport(c.Request.Context(), s.db, currentUser(c), id, in.Comment)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.reportsLog(c).Info("report resolved", "report_id", r.ID)
	s.audit(c, domain.AuditReportResolve, "report", r.ID, map[string]any{"status": r.Status})
	c.JSON(http.StatusOK, r)
}

func (s *Server) reportsLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Reports).With("user_id", currentUser(c).ID)
}
