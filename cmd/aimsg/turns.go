package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

const turnsUsage = `usage: aimsg turns <command>

  list --user NAME      a user's recent turns and their outcome
  show MESSAGE_ID       the turn that answers a message: state, step, activities
  retry MESSAGE_ID      run the turn of a message again if it failed or never ran`

// turnsCmd runs `aimsg turns ...` against Temporal and the database.
func turnsCmd(ctx context.Context, e *env, args []string) error {
	if len(args) < 1 {
		return usageError(turnsUsage)
	}
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	tc, err := dialOnce(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	switch {
	case args[0] == "list" && len(args) == 3 && args[1] == "--user":
		u, err := domain.UserByUsername(ctx, db, args[2])
		if err != nil {
			return fmt.Errorf("user %q: %w", args[2], err)
		}
		return listTurns(ctx, e, tc, u.ID)
	case args[0] == "show" && len(args) == 2:
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return usageError(turnsUsage)
		}
		payloads, err := codec.Parse(cfg.TemporalPayloadKey)
		if err != nil {
			return err
		}
		return showTurn(ctx, e, tc, codec.DataConverter(payloads), id)
	case args[0] == "retry" && len(args) == 2:
		id, err := strconv.ParseInt(args[1], 10, 64)
		if err != nil {
			return usageError(turnsUsage)
		}
		m, err := domain.MessageByID(ctx, db, id)
		if err != nil {
			return fmt.Errorf("message %d: %w", id, err)
		}
		return retryTurn(ctx, e, tc, cfg.TemporalTaskQueue, m)
	}
	return usageError(turnsUsage)
}

func listTurns(ctx context.Context, e *env, tc client.Client, userID int64) error {
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    fmt.Sprintf(`WorkflowType = %q AND %s = "%d"`, workflows.TurnWorkflowName, workflows.UserIDKey.GetName(), userID),
		PageSize: 50,
	})
	if err != nil {
		return fmt.Errorf("list turns: %w", err)
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "WORKFLOW ID\tSTATUS\tOUTCOME\tCHANNEL\tSTARTED")
	for _, ex := range resp.GetExecutions() {
		attrs := ex.GetSearchAttributes().GetIndexedFields()
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\n", ex.GetExecution().GetWorkflowId(), ex.GetStatus(),
			keyword(attrs[workflows.OutcomeKey.GetName()].GetData()), keyword(attrs[workflows.ChannelKey.GetName()].GetData()),
			ex.GetStartTime().AsTime().UTC().Format(time.RFC3339))
	}
	return w.Flush()
}

// keyword decodes a Keyword search attribute payload (a JSON string).
func keyword(data []byte) string {
	if s, err := strconv.Unquote(string(data)); err == nil {
		return s
	}
	return "-"
}

func showTurn(ctx context.Context, e *env, tc client.Client, dc converter.DataConverter, messageID int64) error {
	id := workflows.TurnWorkflowID(messageID)
	desc, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return fmt.Errorf("turn %s: %w", id, err)
	}
	info := desc.RawResponse.GetWorkflowExecutionInfo()
	fmt.Fprintf(e.stdout, "turn      %s\nstatus    %s\nstarted   %s\n", id, info.GetStatus(),
		info.GetStartTime().AsTime().UTC().Format(time.RFC3339))
	if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if v, err := tc.QueryWorkflow(ctx, id, "", workflows.StepQuery); err == nil {
			var step workflows.TurnStep
			if v.Get(&step) == nil {
				fmt.Fprintf(e.stdout, "step      %s\n", step)
			}
		}
	} else {
		var res workflows.TurnResult
		if err := tc.GetWorkflow(ctx, id, "").Get(ctx, &res); err == nil {
			fmt.Fprintf(e.stdout, "outcome   %s\nreply     %d\nllm calls %d\ntools     %d\n", res.Outcome, res.ReplyID, res.LLMCalls, res.Tools)
		}
	}
	fmt.Fprintln(e.stdout, "steps:")
	iter := tc.GetWorkflowHistory(ctx, id, "", false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	for iter.HasNext() {
		ev, err := iter.Next()
		if err != nil {
			return fmt.Errorf("history of %s: %w", id, err)
		}
		if a := ev.GetActivityTaskScheduledEventAttributes(); a != nil {
			fmt.Fprintf(e.stdout, "  %s\n", a.GetActivityType().GetName())
		}
		if name, ok := workflows.LocalStep(ev, dc); ok {
			fmt.Fprintf(e.stdout, "  %s (local)\n", name)
		}
		if f := ev.GetActivityTaskFailedEventAttributes(); f != nil {
			fmt.Fprintf(e.stdout, "    failed: %s\n", f.GetFailure().GetMessage())
		}
	}
	return nil
}

// retryTurn runs the turn of a message again, on its own: a turn that
// completed is not run twice (its reply is saved), one that failed or never
// ran is. Saving the reply is idempotent, so a retry never doubles it.
func retryTurn(ctx context.Context, e *env, tc client.Client, taskQueue string, m *domain.Message) error {
	if m.TurnStatus == nil || m.ConversationID == nil {
		return fmt.Errorf("message %d is not a message to the assistant", m.ID)
	}
	in := workflows.TurnInput{ConversationID: *m.ConversationID, UserID: m.SenderID, Channel: string(m.Channel),
		MessageIDs: []int64{m.ID}, Revision: workflows.TurnRevision}
	id := workflows.TurnWorkflowID(m.ID)
	_, err := tc.ExecuteWorkflow(ctx, workflows.TurnStartOptions(in, taskQueue), workflows.TurnWorkflowName, in)
	var started *serviceerror.WorkflowExecutionAlreadyStarted
	if errors.As(err, &started) {
		fmt.Fprintf(e.stdout, "%s already ran (or is running); nothing to retry\n", id)
		return nil
	}
	if err != nil {
		return fmt.Errorf("retry %s: %w", id, err)
	}
	fmt.Fprintf(e.stdout, "%s started again\n", id)
	return nil
}
