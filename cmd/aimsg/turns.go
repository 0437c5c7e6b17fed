package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"
	"github.com/uptrace/bun"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/workflows"
)

func newTurnsCmd(p *program) *cobra.Command {
	var user string
	list := &cobra.Command{
		Use:   "list --user NAME",
		Short: "A user's recent turns and their outcome",
		Args:  positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, _ []string) error {
			return turnsList(ctx, e, user)
		}),
	}
	list.Flags().StringVar(&user, "user", "", "the user whose turns to list, by `NAME` (required)")
	return group(&cobra.Command{
		Use:     "turns",
		Short:   "List, show and retry AI turns",
		GroupID: groupAdmin,
	},
		list,
		&cobra.Command{
			Use:   "show MESSAGE_ID",
			Short: "The turn that answers a message: state, step, activities",
			Args:  positional(cobra.ExactArgs(1)),
			RunE:  p.needs(config.NoTokens, turnsShow),
		},
		&cobra.Command{
			Use:   "retry MESSAGE_ID",
			Short: "Run the turn of a message again if it failed or never ran",
			Args:  positional(cobra.ExactArgs(1)),
			RunE:  p.needs(config.NoTokens, turnsRetry),
		},
	)
}

// parseMessageID reads the MESSAGE_ID argument of `turns show` and `turns retry`.
func parseMessageID(arg string) (int64, error) {
	id, err := strconv.ParseInt(arg, 10, 64)
	if err != nil {
		return 0, usageError(fmt.Sprintf("MESSAGE_ID %q is not a number", arg))
	}
	return id, nil
}

// openTurns opens what the turns commands work on, the database and
// Temporal; done closes both.
func openTurns(ctx context.Context, e *env) (db *bun.DB, tc client.Client, done func(), err error) {
	_, db, err = e.open(ctx)
	if err != nil {
		return nil, nil, nil, err
	}
	tc, err = dialOnce(ctx, e, e.cfg)
	if err != nil {
		db.Close()
		return nil, nil, nil, err
	}
	return db, tc, func() { tc.Close(); db.Close() }, nil
}

// turnsList lists a user's recent turns, found by search attribute.
func turnsList(ctx context.Context, e *env, username string) error {
	if username == "" {
		return usageError("turns list needs --user")
	}
	db, tc, done, err := openTurns(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	u, err := domain.UserByUsername(ctx, db, username)
	if err != nil {
		return fmt.Errorf("user %q: %w", username, err)
	}
	resp, err := tc.ListWorkflow(ctx, &workflowservice.ListWorkflowExecutionsRequest{
		Query:    fmt.Sprintf(`WorkflowType = %q AND %s = "%d"`, workflows.TurnWorkflowName, workflows.UserIDKey.GetName(), u.ID),
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

// turnsShow prints the turn that answers a message: its state, its step
// while it runs, its outcome once it ended, and the steps it took.
func turnsShow(ctx context.Context, e *env, args []string) error {
	messageID, err := parseMessageID(args[0])
	if err != nil {
		return err
	}
	payloads, err := codec.Parse(e.cfg.TemporalPayloadKey)
	if err != nil {
		return err
	}
	dc := codec.DataConverter(payloads)
	_, tc, done, err := openTurns(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	id := workflows.TurnWorkflowID(messageID)
	desc, err := tc.DescribeWorkflow(ctx, id, "")
	if err != nil {
		return fmt.Errorf("turn %s: %w", id, err)
	}
	info := desc.RawResponse.GetWorkflowExecutionInfo()
	fmt.Fprintf(e.stdout, "turn      %s\nstatus    %s\nstarted   %s\n", id, info.GetStatus(),
		info.GetStartTime().AsTime().UTC().Format(time.RFC3339))
	if info.GetStatus() == enums.WORKFLOW_EXECUTION_STATUS_RUNNING {
		if agent, ok := desc.TypedSearchAttributes.GetKeyword(workflows.AgentKey); ok {
			fmt.Fprintf(e.stdout, "agent     %s (at the start)\n", agent)
		}
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
			if res.Agent != "" {
				fmt.Fprintf(e.stdout, "agent     %s (%d transfers)\n", res.Agent, res.Transfers)
			}
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

// turnsRetry runs the turn of a message again, on its own: a turn that
// completed is not run twice (its reply is saved), one that failed or never
// ran is. Saving the reply is idempotent, so a retry never doubles it.
func turnsRetry(ctx context.Context, e *env, args []string) error {
	messageID, err := parseMessageID(args[0])
	if err != nil {
		return err
	}
	db, tc, done, err := openTurns(ctx, e)
	if err != nil {
		return err
	}
	defer done()
	m, err := domain.MessageByID(ctx, db, messageID)
	if err != nil {
		return fmt.Errorf("message %d: %w", messageID, err)
	}
	if m.TurnStatus == nil || m.ConversationID == nil {
		return fmt.Errorf("message %d is not a message to the assistant", m.ID)
	}
	in := workflows.TurnInput{ConversationID: *m.ConversationID, UserID: m.SenderID, Channel: string(m.Channel),
		MessageIDs: []int64{m.ID}, Revision: workflows.TurnRevision}
	id := workflows.TurnWorkflowID(m.ID)
	_, err = tc.ExecuteWorkflow(ctx, workflows.TurnStartOptions(in, e.cfg.TemporalTaskQueue), workflows.TurnWorkflowName, in)
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
