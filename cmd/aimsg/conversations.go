package main

import (
	"context"
	"fmt"
	"text/tabwriter"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/handover"
	"github.com/aimsg/aimsg/logs"
	"github.com/aimsg/aimsg/workflows"
)

const conversationsUsage = `usage: aimsg conversations <command>

  list [--mode ai|human]     conversations with the assistant, latest first
  takeover USER [REASON]     hand USER's conversation to a person (the AI stops)
  resume USER                give USER's conversation back to the AI`

// conversationsCmd runs `aimsg conversations ...`: the support inbox from
// the database, mode changes by signal to the conversation's workflow.
func conversationsCmd(ctx context.Context, e *env, args []string) error {
	if len(args) < 1 {
		return usageError(conversationsUsage)
	}
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	switch {
	case args[0] == "list" && (len(args) == 1 || len(args) == 3 && args[1] == "--mode"):
		f := domain.InboxFilter{Page: domain.Page{Limit: domain.MaxPageSize}}
		if len(args) == 3 {
			m, err := domain.ParseMode(args[2])
			if err != nil {
				return usageError(conversationsUsage)
			}
			f.Mode = &m
		}
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
	case (args[0] == "takeover" && (len(args) == 2 || len(args) == 3)) || (args[0] == "resume" && len(args) == 2):
		u, err := domain.UserByUsername(ctx, db, args[1])
		if err != nil {
			return fmt.Errorf("user %q: %w", args[1], err)
		}
		r := workflows.ModeRequest{Mode: workflows.ModeAI, Reason: "handed back by an operator"}
		if args[0] == "takeover" {
			r = workflows.ModeRequest{Mode: workflows.ModeHuman, Reason: "taken over by an operator"}
			if len(args) == 3 {
				r.Reason = args[2]
			}
		}
		tc, err := dialOnce(ctx, e, cfg)
		if err != nil {
			return err
		}
		defer tc.Close()
		conversations := &handover.Conversations{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db}
		if err := conversations.SetMode(ctx, u.ID, r); err != nil {
			return err
		}
		e.logs.Area(logs.Support).Info("mode requested by an operator", "conversation_id", domain.AIConversationID(u.ID),
			"mode", r.Mode, "reason", r.Reason)
		action := domain.AuditTakeover
		if r.Mode == workflows.ModeAI {
			action = domain.AuditResume
		}
		auditCLI(ctx, e, db, action, "conversation", domain.AIConversationID(u.ID), map[string]any{"mode": r.Mode, "reason": r.Reason})
		fmt.Fprintf(e.stdout, "%s: %s requested; its workflow applies it in order with the messages\n",
			domain.AIConversationID(u.ID), r.Mode)
		return nil
	}
	return usageError(conversationsUsage)
}
