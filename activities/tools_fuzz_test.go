package activities_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// FuzzRunTool: whatever arguments the LLM makes up, a tool call comes back
// as a JSON result for the LLM (an error result when refused), never as a
// failure of the activity; and a user's calls never touch another user's
// report.
func FuzzRunTool(f *testing.F) {
	ctx := context.Background()
	db := testenv.Migrated(f, "sqlite:///:memory:")
	newUser := func(name string) *domain.User {
		u, err := domain.CreateUser(ctx, db, domain.NewUser{Username: name, Email: name + "@example.com", HashedPassword: "x"})
		if err != nil {
			f.Fatal(err)
		}
		return u
	}
	alice, bob := newUser("alice"), newUser("bob")
	bobsReport, err := domain.CreateReport(ctx, db, bob, "Bob's report", "private to bob")
	if err != nil {
		f.Fatal(err)
	}
	a := &activities.Activities{DB: db, Agents: activities.DefaultAgents(activities.AgentSettings{}), Logger: testenv.Logger()}
	tools := a.Agents.ToolNames()

	for i, args := range []string{`{}`, `{"report_id":1}`, `{"title":"t","content":"c"}`, `{"status":"open"}`,
		`{"report_id":"1"}`, `{"report_id":-1}`, `{"report_id":1e30}`, `{"title":"\u0000"}`, `{"comment":"x","extra":1}`,
		`null`, `[]`, `{`, ``, `{"report_id":1,"title":"` + "\xff" + `"}`} {
		f.Add(uint8(i), args)
	}
	f.Fuzz(func(t *testing.T, tool uint8, args string) {
		call := activities.ToolCall{ID: "call_1", Name: tools[int(tool)%len(tools)], Arguments: args}
		res, err := a.RunTool(ctx, activities.RunToolInput{UserID: alice.ID, Agent: activities.DefaultAgent, Call: call})
		if err != nil {
			t.Fatalf("%s(%s) failed the activity: %v", call.Name, args, err)
		}
		if !json.Valid([]byte(res.Content)) || res.CallID != "call_1" {
			t.Fatalf("%s(%s) gave %+v", call.Name, args, res)
		}
		after, err := domain.GetReport(ctx, db, bob, bobsReport.ID)
		if err != nil {
			t.Fatal(err)
		}
		if after.Title != bobsReport.Title || after.Content != bobsReport.Content || after.Status != bobsReport.Status || after.Comment != nil {
			t.Fatalf("%s(%s) by alice changed bob's report: %+v", call.Name, args, after)
		}
	})
}
