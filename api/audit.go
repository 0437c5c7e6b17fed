package api

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// audit records an administrative or support action of the signed-in
// user: a row of the audit log and a line of audit.log (and, for the
// admin's own actions on users and roles, of auth.log as before). The
// action is done already; an entry that cannot be stored is logged as an
// error, the line is written all the same.
func (s *Server) audit(c *gin.Context, action domain.AuditAction, targetType string, targetID any, changes map[string]any) {
	actor := currentUser(c).ID
	s.record(c, &domain.AuditEntry{ActorID: &actor, Action: action, TargetType: targetType,
		TargetID: fmt.Sprint(targetID), Changes: changes})
}

// record stores an audit entry from this request's address and writes its
// lines. An entry without an actor is one whose actor is gone with it (a
// person who erased their own account).
func (s *Server) record(c *gin.Context, e *domain.AuditEntry) {
	e.IP = c.ClientIP()
	if err := domain.RecordAudit(c.Request.Context(), s.db, e); err != nil {
		s.log(c).Error("audit entry not stored", "action", e.Action, "error", err)
	}
	var actor any
	if e.ActorID != nil {
		actor = *e.ActorID
	}
	attrs := []any{"actor_id", actor, "target_type", e.TargetType, "target_id", e.TargetID, "ip", e.IP, "changes", e.Changes}
	s.areaLog(c, logs.Audit).Info(string(e.Action), attrs...)
	switch {
	case e.ActorID == nil:
		s.authLog(c).Info(string(e.Action), attrs...)
	case e.TargetType == "user" || e.TargetType == "role":
		s.authLog(c).Info("admin: "+string(e.Action), attrs...)
	}
}

// listAudit is the audit log for superusers, newest first:
// ?actor_id=&action=&since= (RFC 3339), paginated.
func (s *Server) listAudit(c *gin.Context) {
	p, ok := page(c)
	if !ok {
		return
	}
	f := domain.AuditFilter{Page: p, Action: domain.AuditAction(c.Query("action"))}
	if f.Action != "" && !slices.Contains(domain.AuditActions, f.Action) {
		invalidInput(c, fieldError{Loc: []any{"query", "action"}, Msg: "Input should be an audited action", Type: "enum"})
		return
	}
	if raw, ok := c.GetQuery("actor_id"); ok {
		id, err := strconv.ParseInt(raw, 10, 64)
		if err != nil || id <= 0 {
			invalidInput(c, fieldError{Loc: []any{"query", "actor_id"}, Msg: "Input should be a valid integer", Type: "int_parsing"})
			return
		}
		f.ActorID = &id
	}
	if raw, ok := c.GetQuery("since"); ok {
		t, err := time.Parse(time.RFC3339, strings.ReplaceAll(raw, " ", "+"))
		if err != nil {
			invalidInput(c, fieldError{Loc: []any{"query", "since"}, Msg: "Input should be a time like 2026-11-30T08:00:00Z", Type: "datetime_parsing"})
			return
		}
		f.Since = &t
	}
	entries, total, err := domain.ListAudit(c.Request.Context(), s.db, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	setTotal(c, total)
	c.JSON(http.StatusOK, entries)
}
