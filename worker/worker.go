// Package worker builds the Temporal worker that runs aimsg's workflows and
// activities. Production (`aimsg worker`, `aimsg dev`) and the integration
// tests build it with the same function.
package worker

import (
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/client"
	sdkworker "go.temporal.io/sdk/worker"
)

// Deps are what the activities need.
type Deps struct {
	DB *bun.DB
}

// New returns a worker on taskQueue with every workflow and activity registered.
func New(c client.Client, taskQueue string, deps Deps) sdkworker.Worker {
	w := sdkworker.New(c, taskQueue, sdkworker.Options{})
	_ = deps
	return w
}
