package api

import (
	"context"
	"errors"
	"math"
	"net/http"
	"strconv"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
)

// errorBody is the error shape the web client already speaks: {"detail": "..."}.
type errorBody struct {
	Detail string `json:"detail"`
}

// abort ends the request with status and a detail message.
func abort(c *gin.Context, status int, detail string) {
	c.AbortWithStatusJSON(status, errorBody{Detail: detail})
}

// fail maps an error from below to its HTTP status, in this one place.
// Errors of unknown kind are logged and answered with a bare 500, so that no
// internal detail reaches the client.
func (s *Server) fail(c *gin.Context, err error) {
	if errors.Is(err, domain.ErrInvalid) {
		invalidInput(c, fieldError{Loc: []any{"body"}, Msg: domain.Reason(err), Type: "value_error"})
		return
	}
	var throttled *domain.Throttled
	if errors.As(err, &throttled) {
		c.Header("Retry-After", strconv.Itoa(int(math.Ceil(throttled.RetryAfter.Seconds()))))
		abort(c, http.StatusTooManyRequests, throttled.Reason)
		return
	}
	status, detail := statusOf(err)
	if status == http.StatusInternalServerError {
		s.log(c).ErrorContext(c.Request.Context(), "request failed", "error", err)
	}
	abort(c, status, detail)
}

func statusOf(err error) (int, string) {
	var tooLarge *http.MaxBytesError
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return http.StatusNotFound, "Not found"
	case errors.Is(err, domain.ErrForbidden):
		return http.StatusForbidden, "Not enough permissions"
	case errors.Is(err, domain.ErrConflict):
		return http.StatusConflict, domain.Reason(err)
	case errors.As(err, &tooLarge):
		return http.StatusRequestEntityTooLarge, "Request body too large"
	case errors.Is(err, context.DeadlineExceeded), database.Unreachable(err), errors.Is(err, errWorkflowsUnavailable),
		errors.Is(err, errStopping):
		return http.StatusServiceUnavailable, "Service temporarily unavailable"
	}
	return http.StatusInternalServerError, "Internal Server Error"
}
