package api

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// The agents' routes: staff with the support permission read the agents
// (they answer beside them), superusers define them. The domain checks
// that the agents hold together (known tools, transfers to agents that
// exist, one entry agent) and writes each change, with its revision, in
// one transaction.

// agentRequest is an agent's definition as a client sends it: the
// fields of domain.AgentSpec, in its order, so that one converts to the
// other.
type agentRequest struct {
	Name         string            `json:"name" binding:"required"`
	Description  string            `json:"description"`
	Instructions string            `json:"instructions" binding:"required"`
	Model        string            `json:"model"`
	Tools        domain.AgentTools `json:"tools"`
	Transfers    []string          `json:"transfers"`
	Entry        bool              `json:"entry"`
}

// UnmarshalJSON reads the definition strictly: a misspelt field ("tool",
// "transfer") is refused, not left out of the agent unnoticed.
func (r *agentRequest) UnmarshalJSON(raw []byte) error {
	type plain agentRequest // without this method
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	err := dec.Decode((*plain)(r))
	var syntax *json.SyntaxError
	var typeErr *json.UnmarshalTypeError
	if err != nil && !errors.As(err, &syntax) && !errors.As(err, &typeErr) {
		// The decoder's "json: unknown field" says the client's mistake
		// in its own words.
		return errors.New(strings.TrimPrefix(err.Error(), "json: "))
	}
	return err
}

// agentNameParam is the agent of a path.
var agentNameParam = openapi3.NewPathParameter("name").WithSchema(openapi3.NewStringSchema()).
	WithDescription("The agent's name: lower-case letters, digits and '_', starting with a letter")

// agentDescription says what every write of an agent checks.
const agentDescription = "The body is the agent's definition: name, description, instructions (its system prompt), model (empty: LITELLM_MODEL), " +
	"tools [{name, approval}] among the worker's built-in tools, transfers (the agents it may hand a turn to) and entry (the agent that answers first). " +
	"The agents must hold together after the change: known tools, transfers to agents that exist, exactly one entry agent; else 422 and nothing changes. " +
	"Each change makes a new revision: a turn finishes with the definition it started with. Audited."

// agentChanges is what the audit log keeps of an agent write (the
// instructions are in its revision).
func agentChanges(a *domain.Agent) map[string]any {
	return map[string]any{"revision": a.Revision, "model": a.Model, "tools": a.Tools.Names(),
		"transfers": a.Transfers, "entry": a.Entry}
}

// pathAgent is the agent name of the path; a name no database could hold
// names no agent: 404.
func pathAgent(c *gin.Context) (string, bool) {
	name := c.Param("name")
	if !domain.StorableText(name) {
		abort(c, http.StatusNotFound, "Not found")
		return "", false
	}
	return name, true
}

func (s *Server) listAgents(c *gin.Context) {
	agents, err := domain.ListAgents(c.Request.Context(), s.db)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, agents)
}

func (s *Server) getAgent(c *gin.Context) {
	name, ok := pathAgent(c)
	if !ok {
		return
	}
	a, err := domain.AgentByName(c.Request.Context(), s.db, name)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, a)
}

func (s *Server) createAgent(c *gin.Context) {
	var in agentRequest
	if !s.bind(c, &in) {
		return
	}
	a, err := domain.CreateAgent(c.Request.Context(), s.db, domain.AgentSpec(in), s.agentTools, &currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditAgentCreate, "agent", a.Name, agentChanges(a))
	c.JSON(http.StatusCreated, a)
}

func (s *Server) replaceAgent(c *gin.Context) {
	var in agentRequest
	if !s.bind(c, &in) {
		return
	}
	// A rename would be a delete and a create: the path says which agent.
	if name := c.Param("name"); strings.TrimSpace(in.Name) != name {
		invalidInput(c, bodyError("name", fmt.Sprintf("name must be the agent's name in the path (%q)", name), "value_error"))
		return
	}
	a, err := domain.ReplaceAgent(c.Request.Context(), s.db, domain.AgentSpec(in), s.agentTools, &currentUser(c).ID)
	if err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditAgentReplace, "agent", a.Name, agentChanges(a))
	c.JSON(http.StatusOK, a)
}

func (s *Server) deleteAgent(c *gin.Context) {
	name, ok := pathAgent(c)
	if !ok {
		return
	}
	ctx := c.Request.Context()
	a, err := domain.AgentByName(ctx, s.db, name)
	if err != nil {
		s.fail(c, err)
		return
	}
	if err := domain.DeleteAgent(ctx, s.db, name); err != nil {
		s.fail(c, err)
		return
	}
	s.audit(c, domain.AuditAgentDelete, "agent", name, agentChanges(a))
	c.JSON(http.StatusOK, messageResponse{Message: "Agent deleted"})
}
