package main

import (
	"cmp"
	"context"
	"fmt"
	"net/mail"
	"strings"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
)

// superuserFlags name the superuser; each falls back on its environment
// variable.
type superuserFlags struct {
	username, email, password string
}

func newCreateSuperuserCmd(p *program) *cobra.Command {
	var f superuserFlags
	cmd := &cobra.Command{
		Use:   "createsuperuser --username NAME --email ADDRESS",
		Short: "Create or update a superuser (flags or AIMSG_SUPERUSER_* variables)",
		Long: `Create the superuser, or update the user of that name to be one, without
prompting: safe to run on every deploy. The password comes from
AIMSG_SUPERUSER_PASSWORD.`,
		GroupID: groupAdmin,
		Args:    positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, _ []string) error {
			return runCreateSuperuser(ctx, e, f)
		}),
	}
	cmd.Flags().StringVar(&f.username, "username", "", "`NAME` of the superuser (default: AIMSG_SUPERUSER_USERNAME)")
	cmd.Flags().StringVar(&f.email, "email", "", "email `ADDRESS` (default: AIMSG_SUPERUSER_EMAIL)")
	cmd.Flags().StringVar(&f.password, "password", "", "`PASSWORD`; prefer AIMSG_SUPERUSER_PASSWORD, flags show in the process list")
	return cmd
}

// runCreateSuperuser creates the superuser, or updates the user of that
// name to be one, without prompting: safe to run on every deploy.
func runCreateSuperuser(ctx context.Context, e *env, f superuserFlags) error {
	username := strings.TrimSpace(cmp.Or(f.username, e.getenv("AIMSG_SUPERUSER_USERNAME")))
	email := strings.TrimSpace(cmp.Or(f.email, e.getenv("AIMSG_SUPERUSER_EMAIL")))
	password := cmp.Or(f.password, e.getenv("AIMSG_SUPERUSER_PASSWORD"))
	if username == "" || email == "" || password == "" {
		return usageError("createsuperuser needs a username, an email and a password: --username and --email" +
			" (or AIMSG_SUPERUSER_USERNAME and AIMSG_SUPERUSER_EMAIL), AIMSG_SUPERUSER_PASSWORD")
	}
	// The API's form of a username, normalised the same way; the system
	// words it reserves stay open to the operator ("admin"), whose
	// superusers carry the staff badge. The assistant's name is taken.
	username = domain.NormalizeUsername(username)
	if err := domain.CheckUsernameForm(username); err != nil {
		return fmt.Errorf("username %q: %s", username, domain.Reason(err))
	}
	if addr, err := mail.ParseAddress(email); err != nil || addr.Address != email {
		return fmt.Errorf("email %q is not a valid address", email)
	}
	cfg := e.cfg
	hash, err := auth.HashPassword(password, cfg.BcryptCost)
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, created, err := domain.EnsureSuperuser(ctx, db, domain.SuperuserInput{
		Username: username, Email: email, HashedPassword: hash,
	})
	if err != nil {
		return err
	}
	verb := "updated"
	if created {
		verb = "created"
	}
	fmt.Fprintf(e.stdout, "%s superuser %s (id %d)\n", verb, u.Username, u.ID)
	return nil
}
