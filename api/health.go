package api

import (
	"context"
	"net/http"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
)

// healthTimeout bounds each dependency check, so /health answers even when
// a dependency hangs.
const healthTimeout = 2 * time.Second

// root is the spec's greeting.
func (s *Server) root(c *gin.Context) {
	c.JSON(http.StatusOK, messageResponse{Message: "Hello World"})
}

// healthReport is the body of GET /health.
type healthReport struct {
	Status   string `json:"status"`
	Database string `json:"database"`
	Temporal string `json:"temporal"`
}

// health checks the database and Temporal in parallel; 503 if either is down.
func (s *Server) health(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), healthTimeout)
	defer cancel()
	var (
		wg          sync.WaitGroup
		dbErr, tErr error
	)
	wg.Go(func() { dbErr = domain.Ping(ctx, s.db) })
	wg.Go(func() { _, tErr = s.temporal.CheckHealth(ctx, &client.CheckHealthRequest{}) })
	wg.Wait()
	report := healthReport{Status: "ok", Database: "ok", Temporal: "ok"}
	status := http.StatusOK
	if dbErr != nil {
		s.log(c).Warn("health: database down", "error", dbErr)
		report.Database, report.Status, status = "unavailable", "degraded", http.StatusServiceUnavailable
	}
	if tErr != nil {
		s.log(c).Warn("health: temporal down", "error", tErr)
		report.Temporal, report.Status, status = "unavailable", "degraded", http.StatusServiceUnavailable
	}
	c.JSON(status, report)
}

// dbTest runs a query, as the spec's connection test does. Anyone may
// call it, so the answer says whether the database answers and nothing of
// what it is: the type goes to the log only, when the test fails.
func (s *Server) dbTest(c *gin.Context) {
	ctx, cancel := context.WithTimeout(c.Request.Context(), healthTimeout)
	defer cancel()
	if err := domain.Ping(ctx, s.db); err != nil {
		s.log(c).Warn("db-test failed", "dialect", string(database.Dialect(s.db)), "error", err)
		abort(c, http.StatusServiceUnavailable, "Database connection failed")
		return
	}
	c.JSON(http.StatusOK, dbTestResponse{Status: "ok", Message: "Database connection successful"})
}

// dbTestResponse is the body of GET /db-test.
type dbTestResponse struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}
