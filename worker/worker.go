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
}

// New returns a worker on taskQueue with every workflow and activity registered.
func New(c client.Client, taskQueue string, acts *activities.Activities, o Options) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{
		MaxConcurrentActivityExecutionSize:      o.MaxConcurrentActivities,
		MaxConcurrentLocalActivityExecutionSize: o.MaxConcurrentActivities,
		MaxConcurrentWorkflowTaskExecutionSize:  o.MaxConcurrentWorkflowTasks,
		WorkerStopTimeout:                       o.StopTimeout,
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
}

// RegisterWorkflows puts aimsg's workflows on r under their contract names.
func RegisterWorkflows(r WorkflowRegistry) {
	r.RegisterWorkflowWithOptions(workflows.ConversationWorkflow, workflow.RegisterOptions{Name: workflows.ConversationWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.TurnWorkflow, workflow.RegisterOptions{Name: workflows.TurnWorkflowName})
	r.RegisterWorkflowWithOptions(workflows.WebhookWorkflow, workflow.RegisterOptions{Name: workflows.WebhookWorkflowName})
}
