package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

func newUsersCmd(p *program) *cobra.Command {
	return group(&cobra.Command{
		Use:   "users",
		Short: "List, disable, enable, superuser, usage",
		Long: `The common admin tasks on people, run on the database directly with the
same rules as the admin API (the last active superuser stays).`,
		GroupID: groupAdmin,
	},
		&cobra.Command{
			Use:   "list [SEARCH]",
			Short: "People, with their state",
			Args:  positional(cobra.MaximumNArgs(1)),
			RunE:  p.needs(config.NoTokens, usersList),
		},
		&cobra.Command{
			Use:   "disable NAME",
			Short: "Disable an account (ends its sessions)",
			Args:  positional(cobra.ExactArgs(1)),
			RunE:  p.needs(config.NoTokens, usersChange("disable")),
		},
		&cobra.Command{
			Use:   "enable NAME",
			Short: "Enable it again",
			Args:  positional(cobra.ExactArgs(1)),
			RunE:  p.needs(config.NoTokens, usersChange("enable")),
		},
		&cobra.Command{
			Use:   "superuser NAME on|off",
			Short: "Grant or withdraw superuser rights",
			Args:  positional(cobra.ExactArgs(2)),
			ValidArgsFunction: func(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
				if len(args) == 1 {
					return []cobra.Completion{"on", "off"}, cobra.ShellCompDirectiveNoFileComp
				}
				return nil, cobra.ShellCompDirectiveNoFileComp
			},
			RunE: p.needs(config.NoTokens, usersChange("superuser")),
		},
		&cobra.Command{
			Use:   "usage NAME [DAYS]",
			Short: "LLM tokens per UTC day (7 days by default)",
			Args:  positional(cobra.RangeArgs(1, 2)),
			RunE:  p.needs(config.NoTokens, usersUsage),
		},
	)
}

// usersList lists people, with their state; system users are left out.
func usersList(ctx context.Context, e *env, args []string) error {
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	search := ""
	if len(args) == 1 {
		search = args[0]
	}
	users, total, err := domain.ListUsers(ctx, db, domain.UserFilter{Search: search, Page: domain.Page{Limit: domain.MaxPageSize}})
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tUSERNAME\tEMAIL\tACTIVE\tSUPERUSER")
	for _, u := range users {
		fmt.Fprintf(w, "%d\t%s\t%s\t%t\t%t\n", u.ID, u.Username, u.Email, u.IsActive, u.IsSuperuser)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "%d of %d\n", len(users), total)
	return nil
}

// openUser opens the database and finds the user NAME; the caller closes
// the database.
func openUser(ctx context.Context, e *env, name string) (*bun.DB, *domain.User, error) {
	_, db, err := e.open(ctx)
	if err != nil {
		return nil, nil, err
	}
	u, err := domain.UserByUsername(ctx, db, name)
	if err != nil || u.IsSystem {
		db.Close()
		return nil, nil, fmt.Errorf("user %q: %w", name, domain.ErrNotFound)
	}
	return db, u, nil
}

// usersChange is the action of disable, enable and superuser: it makes
// the change, with the admin API's rules, and records it in the audit log.
func usersChange(change string) action {
	return func(ctx context.Context, e *env, args []string) error {
		if change == "superuser" && args[1] != "on" && args[1] != "off" {
			return usageError(fmt.Sprintf("superuser takes on or off, not %q", args[1]))
		}
		db, u, err := openUser(ctx, e, args[0])
		if err != nil {
			return err
		}
		defer db.Close()
		var (
			action  domain.AuditAction
			changes map[string]any
		)
		switch change {
		case "disable":
			_, err = domain.SetActive(ctx, db, u.ID, false)
			action, changes = domain.AuditUserDisable, map[string]any{"is_active": false}
		case "enable":
			_, err = domain.SetActive(ctx, db, u.ID, true)
			action, changes = domain.AuditUserEnable, map[string]any{"is_active": true}
		case "superuser":
			_, err = domain.SetSuperuser(ctx, db, u.ID, args[1] == "on")
			action, changes = domain.AuditUserSuperuser, map[string]any{"is_superuser": args[1] == "on"}
		}
		if err != nil {
			return fmt.Errorf("%s %s: %w", change, u.Username, err)
		}
		auditCLI(ctx, e, db, action, "user", u.ID, changes)
		fmt.Fprintf(e.stdout, "%s: %s done\n", u.Username, change)
		return nil
	}
}

// usersUsage shows a user's LLM tokens per UTC day, today last.
func usersUsage(ctx context.Context, e *env, args []string) error {
	days := 7
	if len(args) == 2 {
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > 366 {
			return usageError(fmt.Sprintf("DAYS is from 1 to 366, not %q", args[1]))
		}
		days = n
	}
	db, u, err := openUser(ctx, e, args[0])
	if err != nil {
		return err
	}
	defer db.Close()
	dailyLimit := e.cfg.LLMUserDailyTokens
	byDay, err := domain.UsageByDay(ctx, db, u.ID, domain.Now(), days, domain.PricesOf(e.cfg.LLMPrices))
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "DATE\tCALLS\tPROMPT\tCOMPLETION\tTOTAL\tCOST USD\t")
	for _, d := range byDay {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t%.6f\t\n", d.Date, d.Calls, d.PromptTokens, d.CompletionTokens, d.TotalTokens, d.CostUSD)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if dailyLimit > 0 {
		today := byDay[len(byDay)-1].TotalTokens
		fmt.Fprintf(e.stdout, "daily limit %d, %d left today\n", dailyLimit, max(dailyLimit-today, 0))
	} else {
		fmt.Fprintln(e.stdout, "no daily limit (LLM_USER_DAILY_TOKENS)")
	}
	return nil
}

// auditCLI records an operator's action from the command line in the
// audit log: no actor (the database's own access), address "cli".
func auditCLI(ctx context.Context, e *env, db bun.IDB, action domain.AuditAction, targetType string, targetID any, changes map[string]any) {
	entry := &domain.AuditEntry{Action: action, TargetType: targetType, TargetID: fmt.Sprint(targetID), IP: "cli", Changes: changes}
	if err := domain.RecordAudit(ctx, db, entry); err != nil {
		e.logs.Root.Error("audit entry not stored", "action", action, "error", err)
	}
	e.logs.Area(logs.Audit).Info(string(action), "target_type", targetType, "target_id", entry.TargetID, "ip", "cli", "changes", changes)
}
