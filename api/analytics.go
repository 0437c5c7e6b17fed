package api

import (
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// defaultAnalyticsDays is the period analytics cover without from.
const defaultAnalyticsDays = 30

// getAnalyticsSummary is what the episodes of a period came to.
func (s *Server) getAnalyticsSummary(c *gin.Context) {
	f, ok := analyticsFilter(c)
	if !ok {
		return
	}
	sum, err := domain.Summarize(c.Request.Context(), s.db, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, sum)
}

// getAnalyticsDaily is the same per UTC day.
func (s *Server) getAnalyticsDaily(c *gin.Context) {
	f, ok := analyticsFilter(c)
	if !ok {
		return
	}
	days, err := domain.SummarizeDaily(c.Request.Context(), s.db, f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, days)
}

// analyticsFilter reads ?from=&to=&agent=&channel=: from and to are UTC
// dates (to included) or RFC 3339 times (to excluded); without them the
// period is the last 30 days, today included.
func analyticsFilter(c *gin.Context) (domain.AnalyticsFilter, bool) {
	today := domain.Day(domain.Now())
	f := domain.AnalyticsFilter{To: today.AddDate(0, 0, 1)}
	if raw := c.Query("to"); raw != "" {
		t, date, ok := analyticsTime(c, "to", raw)
		if !ok {
			return f, false
		}
		if date {
			t = t.AddDate(0, 0, 1)
		}
		f.To = t
	}
	f.From = domain.Day(f.To.Add(-time.Nanosecond)).AddDate(0, 0, 1-defaultAnalyticsDays)
	if raw := c.Query("from"); raw != "" {
		t, _, ok := analyticsTime(c, "from", raw)
		if !ok {
			return f, false
		}
		f.From = t
	}
	if agent, set := c.GetQuery("agent"); set {
		f.Agent = &agent
	}
	if raw, set := c.GetQuery("channel"); set {
		ch, err := domain.ParseChannel(raw)
		if err != nil {
			invalidInput(c, fieldError{Loc: []any{"query", "channel"}, Msg: "Input should be a channel name (web, twilio, telegram...)", Type: "value_error"})
			return f, false
		}
		f.Channel = &ch
	}
	if err := f.Check(); err != nil {
		invalidInput(c, fieldError{Loc: []any{"query", "from"}, Msg: domain.Reason(err), Type: "value_error"})
		return f, false
	}
	return f, true
}

// analyticsTime reads a date (date true) or an RFC 3339 time.
func analyticsTime(c *gin.Context, name, raw string) (t time.Time, date, ok bool) {
	if d, err := time.Parse(time.DateOnly, raw); err == nil {
		return d, true, true
	}
	if t, err := time.Parse(time.RFC3339, raw); err == nil {
		return t.UTC(), false, true
	}
	invalidInput(c, fieldError{Loc: []any{"query", name}, Msg: "Input should be a date (2026-12-31) or an RFC 3339 time", Type: "value_error"})
	return time.Time{}, false, false
}

// surveyAnswer is a score for the satisfaction survey.
type surveyAnswer struct {
	Score int `json:"score" binding:"required,min=1,max=5"`
}

// answerSurvey records the score the person a survey question was for
// gives the episode it asks about; once.
func (s *Server) answerSurvey(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	var in surveyAnswer
	if !s.bind(c, &in) {
		return
	}
	ep, err := domain.AnswerSurvey(c.Request.Context(), s.db, currentUser(c).ID, id, in.Score)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.messagesLog(c).Info("survey answered", "message_id", id, "score", in.Score)
	c.JSON(http.StatusOK, domain.Survey{Score: ep.CSATScore})
}
