package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

const usersUsage = `usage: aimsg users <command>

  list [SEARCH]            people, with their state
  disable NAME             disable an account (ends its sessions)
  enable NAME              enable it again
  superuser NAME on|off    grant or withdraw superuser rights
  usage NAME [DAYS]        LLM tokens per UTC day (7 days by default)`

// usersCmd runs the common admin tasks on the database directly, with the
// same rules as the admin API (the last active superuser stays).
func usersCmd(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usageError(usersUsage)
	}
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	if args[0] == "list" && len(args) <= 2 {
		search := ""
		if len(args) == 2 {
			search = args[1]
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
	if len(args) < 2 {
		return usageError(usersUsage)
	}
	u, err := domain.UserByUsername(ctx, db, args[1])
	if err != nil || u.IsSystem {
		return fmt.Errorf("user %q: %w", args[1], domain.ErrNotFound)
	}
	if args[0] == "usage" && len(args) <= 3 {
		return printUsage(ctx, e, db, u, cfg.LLMUserDailyTokens, args[2:])
	}
	var (
		action  domain.AuditAction
		changes map[string]any
	)
	switch {
	case args[0] == "disable" && len(args) == 2:
		_, err = domain.SetActive(ctx, db, u.ID, false)
		action, changes = domain.AuditUserDisable, map[string]any{"is_active": false}
	case args[0] == "enable" && len(args) == 2:
		_, err = domain.SetActive(ctx, db, u.ID, true)
		action, changes = domain.AuditUserEnable, map[string]any{"is_active": true}
	case args[0] == "superuser" && len(args) == 3 && (args[2] == "on" || args[2] == "off"):
		_, err = domain.SetSuperuser(ctx, db, u.ID, args[2] == "on")
		action, changes = domain.AuditUserSuperuser, map[string]any{"is_superuser": args[2] == "on"}
	default:
		return usageError(usersUsage)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", args[0], u.Username, err)
	}
	auditCLI(ctx, e, db, action, "user", u.ID, changes)
	fmt.Fprintf(e.stdout, "%s: %s done\n", u.Username, args[0])
	return nil
}

// printUsage shows a user's LLM tokens per UTC day, today last.
func printUsage(ctx context.Context, e *env, db bun.IDB, u *domain.User, dailyLimit int64, args []string) error {
	days := 7
	if len(args) == 1 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n < 1 || n > 366 {
			return usageError(usersUsage)
		}
		days = n
	}
	byDay, err := domain.UsageByDay(ctx, db, u.ID, domain.Now(), days)
	if err != nil {
		return err
	}
	w := tabwriter.NewWriter(e.stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(w, "DATE\tCALLS\tPROMPT\tCOMPLETION\tTOTAL\t")
	for _, d := range byDay {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%d\t\n", d.Date, d.Calls, d.PromptTokens, d.CompletionTokens, d.TotalTokens)
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
