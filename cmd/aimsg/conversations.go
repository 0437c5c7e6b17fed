package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/workflows"
)

func newConversationsCmd(p *program) *cobra.Command {
	var mode string
	list := &cobra.Command{
		Use:   "list [--mode ai|human]",
		Short: "Conversations with the assistant, latest first",
		Args:  positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, _ []string) error {
			return conversationsList(ctx, e, mode)
		}),
	}
	list.Flags().StringVar(&mode, "mode", "", "only the conversations in this `MODE`: ai or human")
	_ = list.RegisterFlagCompletionFunc("mode", cobra.FixedCompletions([]string{"ai", "human"}, cobra.ShellCompDirectiveNoFileComp))
	return group(&cobra.Command{
		Use:   "conversations",
		Short: "The support inbox, takeover and resume",
		Long: `The support inbox, from the database; takeover and resume signal the
conversation's workflow, which applies the change in order with the messages.`,
		GroupID: groupAdmin,
	},
		list,
		&cobra.Command{
			Use:   "takeover USER [REASON]",
			Short: "Hand USER's conversation to a person (the AI stops)",
			Args:  positional(cobra.RangeArgs(1, 2)),
			RunE:  p.needs(config.NoTokens, conversationsMode(true)),
		},
		&cobra.Command{
			Use:   "resume USER",
			Short: "Give USER's conversation back to the AI",
			Args:  positional(cobra.ExactArgs(1)),
			RunE:  p.needs(config.NoTokens, conversationsMode(false)),
		},
	)
}

// conversationsList prints the support inbox, in one mode or all.
func conversationsList(ctx context.Context, e *env, mode string) error {
	f := domain.InboxFilter{Page: domain.Page{Limit: domain.MaxPageSize}}
	if mode != "" {
		m, err := domain.ParseMode(mode)
		if err != nil {
			return usageError(fmt.Sprintf("--mode is ai or human, not %q", mode))
		}
		f.Mode = &m
	}
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	list, total, err := domain.SupportInbox(ctx, db, f)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "CONVERSATION\tUSER\tMODE\tHANDED OFF\tREASON\tUNREAD")
	for _, c := range list {
		user, since, reason := "", "", ""
		if c.User != nil {
			user = c.User.Username
		}
		if c.HandedOffAt != nil {
			since = c.HandedOffAt.Format("2006-01-02 15:04:05")
		}
		if c.Reason != nil {
			reason = *c.Reason
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%d\n", c.ConversationID, user, c.Mode, since, reason, c.UnreadCount)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if total > len(list) {
		fmt.Fprintf(e.stdout, "(%d of %d)\n", len(list), total)
	}
	return nil
}

// conversationsMode is the action of takeover (a person answers) and resume (the AI
// does): a signal to the conversation's workflow, which applies it in
// order with the messages.
func conversationsMode(takeover bool) action {
	return func(ctx context.Context, e *env, args []string) error {
		cfg, db, err := e.open(ctx)
		if err != nil {
			return err
		}
		defer db.Close()
		u, err := domain.UserByUsername(ctx, db, args[0])
		if err != nil {
			return fmt.Errorf("user %q: %w", args[0], err)
		}
		r, action := workflows.ModeRequest{Mode: "ai", Reason: "handed back by an operator"}, domain.AuditResume
		if takeover {
			r, action = workflows.ModeRequest{Mode: "human", Reason: "taken over by an operator"}, domain.AuditTakeover
			if len(args) == 2 {
				r.Reason = args[1]
			}
		}
		tc, err := dialOnce(ctx, e, cfg)
		if err != nil {
			return err
		}
		defer tc.Close()
		conversations := &dispatch.Conversations{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, Debounce: cfg.TurnDebounce}
		if err := conversations.SetMode(ctx, u.ID, r); err != nil {
			return err
		}
		e.logs.Area(logs.Support).Info("mode requested by an operator", "conversation_id", domain.AIConversationID(u.ID),
			"mode", r.Mode, "reason", r.Reason)
		auditCLI(ctx, e, db, action, "conversation", domain.AIConversationID(u.ID), map[string]any{"mode": r.Mode, "reason": r.Reason})
		fmt.Fprintf(e.stdout, "%s: %s requested; its workflow applies it in order with the messages\n",
			domain.AIConversationID(u.ID), r.Mode)
		return nil
	}
}
