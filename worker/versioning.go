package worker

import (
	"context"
	"log/slog"
	"time"

	"go.temporal.io/sdk/client"
)

// PromoteFirst makes buildID the current version of deployment when the
// deployment has none yet (its first versioned workers), so a new
// installation answers without an operator's step. A later build becomes
// current only when an operator promotes it (`temporal worker deployment
// set-current-version`, or the Temporal Worker Controller): until then it
// is sent nothing, and rolling back is promoting the old build again.
// It tries until it is done, someone else promoted a version, or ctx ends.
func PromoteFirst(ctx context.Context, tc client.Client, deployment, buildID string, logger *slog.Logger) {
	h := tc.WorkerDeploymentClient().GetHandle(deployment)
	for {
		// Not found until the server has seen this worker poll.
		desc, err := h.Describe(ctx, client.WorkerDeploymentDescribeOptions{})
		if err == nil {
			if cur := desc.Info.RoutingConfig.CurrentVersion; cur != nil {
				if cur.BuildID != buildID {
					logger.Info("worker version waits to be promoted", "deployment", deployment,
						"build_id", buildID, "current", cur.BuildID)
				}
				return
			}
			_, err = h.SetCurrentVersion(ctx, client.WorkerDeploymentSetCurrentVersionOptions{
				BuildID: buildID, ConflictToken: desc.ConflictToken})
			if err == nil {
				logger.Info("worker version promoted: the deployment had none", "deployment", deployment, "build_id", buildID)
				return
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Second):
		}
	}
}
