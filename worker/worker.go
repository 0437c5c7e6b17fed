// Package worker builds the Temporal worker that runs aimsg's workflows and
// activities. Production (`aimsg worker`, `aimsg dev`) and the integration
// tests build it with the same function.
package worker

import (
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/workflows"
)

// Options size the worker.
type Options struct {
	MaxConcurrentActivities    int
	MaxConcurrentWorkflowTasks int
	// StopTimeout is how long Stop lets running activities finish.
	StopTimeout time.Duration
	// Deployment and BuildID, when set, put the worker under Worker
	// Versioning (see Versioning).
	Deployment, BuildID string
}

// Versioning is how a worker of deployment and buildID takes part in
// Temporal's Worker Versioning: it is sent only the tasks of workflows on
// its version, and workflows say how they move between versions (see
// RegisterWorkflows). Empty names: an unversioned worker.
func Versioning(deployment, buildID string) sdkworker.DeploymentOptions {
	if deployment == "" {
		return sdkworker.DeploymentOptions{}
	}
	return sdkworker.DeploymentOptions{
		UseVersioning: true,
		Version:       sdkworker.WorkerDeploymentVersion{DeploymentName: deployment, BuildID: buildID},
	}
}

// New returns a worker on taskQueue with every workflow and activity registered.
func New(c client.Client, taskQueue string, acts *activities.Activities, o Options) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:      o.MaxConcurrentActivities,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize:  o.MaxConcurrentWorkflowTasks,
		WorkerStopTimeout:                       o.StopTimeout,
		DeploymentOptions:                       Versioning(o.Deployment, o.BuildID),
	})
	Register(w, acts)
	return w
}

// Registry is where workflows and activities are registered: a worker, a
// test environment.
type Registry interface {
	WorkflowRegistry
	RegisterActivity(any)
	RegisterActivityWithOptions(any, activity.RegisterOptions)
}

// WorkflowRegistry is where workflows alone are registered: a replayer.
type WorkflowRegistry interface {
	RegisterWorkflowWithOptions(any, workflow.RegisterOptions)
}

// Register puts aimsg's workflows and activities on r.
func Register(r Registry, acts *activities.Activities) {
	RegisterWorkflows(r)
	r.RegisterActivity(acts)
	// Each tool is an activity of its own name, so the Web UI shows which ran.
	for _, name := range acts.Agents.ToolNames() {
		r.RegisterActivityWithOptions(acts.RunTool, activity.RegisterOptions{Name: activities.ToolActivityName(name)})
	}
	// Every MCP server's tool runs as one activity: they come and go
	// with the servers, the registrations cannot.
	r.RegisterActivityWithOptions(acts.RunMCPTool, activity.RegisterOptions{Name: activities.MCPToolActivity})
}

// RegisterWorkflows puts aimsg's workflows on r under their contract names.
// Under Worker Versioning a turn (seconds long) is pinned: it ends on the
// build it started on, whatever changed since, so a change to
// TurnWorkflow needs no patch. A conversation (waiting up to
// HANDOFF_IDLE_MINUTES and longer) and a webhook delivery (retrying up to
// WEBHOOK_GIVE_UP_MINUTES) move to the current build at their next task,
// so a change to them is patched (their input's revision, or
// workflow.GetVersion) and the replay tests keep guarding it. Unversioned
// workers ignore both.
func RegisterWorkflows(r WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.ConversationWorkflow, workflow.RegisterOptions{
		Name: workflows.ConversationWorkflowName, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
	r.RegisterWorkflowWithOptions(workflows.TurnWorkflow, workflow.RegisterOptions{
		Name: workflows.TurnWorkflowName, VersioningBehavior: workflow.VersioningBehaviorPinned})
	r.RegisterWorkflowWithOptions(workflows.WebhookWorkflow, workflow.RegisterOptions{
		Name: workflows.WebhookWorkflowName, VersioningBehavior: workflow.VersioningBehaviorAutoUpgrade})
}
