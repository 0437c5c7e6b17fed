package api

import (
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// usageResponse is a user's LLM usage today (UTC) against the daily
// limit, and with ?days= the days before it too.
type usageResponse struct {
	Date             string `json:"date"`
	PromptTokens     int64  `json:"prompt_tokens"`
	CompletionTokens int64  `json:"completion_tokens"`
	TotalTokens      int64  `json:"total_tokens"`
	// CostUSD is what today's tokens cost by LLM_PRICES.
	CostUSD float64 `json:"cost_usd"`
	// DailyLimit is LLM_USER_DAILY_TOKENS, null without one; Remaining
	// what is left of it today.
	DailyLimit *int64 `json:"daily_limit"`
	Remaining  *int64 `json:"remaining"`
	// Days are the last ?days= UTC days, today included, oldest first.
	Days []domain.DailyUsage `json:"days,omitempty"`
}

// maxUsageDays bounds ?days=.
const maxUsageDays = 366

// getMyUsage is the signed-in user's usage today.
func (s *Server) getMyUsage(c *gin.Context) {
	s.usageOf(c, currentUser(c).ID)
}

// getUserUsage is anyone's usage, for superusers; ?days=N adds one entry
// per day.
func (s *Server) getUserUsage(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	if _, err := domain.UserByID(c.Request.Context(), s.db, id); err != nil {
		s.fail(c, err)
		return
	}
	s.usageOf(c, id)
}

func (s *Server) usageOf(c *gin.Context, userID int64) {
	days := 1
	raw, withDays := c.GetQuery("days")
	if withDays {
		n, err := strconv.Atoi(raw)
		if err != nil || n < 1 || n > maxUsageDays {
			invalidInput(c, fieldError{Loc: []any{"query", "days"},
				Msg: "Input should be an integer from 1 to " + strconv.Itoa(maxUsageDays), Type: "value_error"})
			return
		}
		days = n
	}
	byDay, err := domain.UsageByDay(c.Request.Context(), s.db, userID, domain.Now(), days, domain.PricesOf(s.cfg.LLMPrices))
	if err != nil {
		s.fail(c, err)
		return
	}
	today := byDay[len(byDay)-1]
	out := usageResponse{Date: today.Date, PromptTokens: today.PromptTokens,
		CompletionTokens: today.CompletionTokens, TotalTokens: today.TotalTokens, CostUSD: today.CostUSD}
	if limit := s.cfg.LLMUserDailyTokens; limit > 0 {
		remaining := max(limit-today.TotalTokens, 0)
		out.DailyLimit, out.Remaining = &limit, &remaining
	}
	if withDays {
		out.Days = byDay
	}
	c.JSON(http.StatusOK, out)
}
