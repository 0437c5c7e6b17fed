package main

import (
	"context"
	"flag"
	"fmt"
	"net/mail"
	"strings"

	"github.com/aimsg/aimsg/auth"
	"github.com/aimsg/aimsg/domain"
)

// createSuperuserCmd creates the superuser, or updates the user of that
// name to be one, without prompting: safe to run on every deploy.
func createSuperuserCmd(ctx context.Context, e *env, args []string) error {
	fs := flag.NewFlagSet("createsuperuser", flag.ContinueOnError)
	fs.SetOutput(e.stdout)
	username := fs.String("username", e.getenv("AIMSG_SUPERUSER_USERNAME"), "username (AIMSG_SUPERUSER_USERNAME)")
	email := fs.String("email", e.getenv("AIMSG_SUPERUSER_EMAIL"), "email (AIMSG_SUPERUSER_EMAIL)")
	password := fs.String("password", "", "password; prefer AIMSG_SUPERUSER_PASSWORD, flags show in the process list")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *password == "" {
		*password = e.getenv("AIMSG_SUPERUSER_PASSWORD")
	}
	*username, *email = strings.TrimSpace(*username), strings.TrimSpace(*email)
	if *username == "" || *email == "" || *password == "" {
		return usageError("usage: aimsg createsuperuser --username NAME --email ADDRESS (password in AIMSG_SUPERUSER_PASSWORD)")
	}
	// The API's form of a username, normalised the same way; the system
	// words it reserves stay open to the operator ("admin"), whose
	// superusers carry the staff badge. The assistant's name is taken.
	*username = domain.NormalizeUsername(*username)
	if err := domain.CheckUsernameForm(*username); err != nil {
		return fmt.Errorf("username %q: %s", *username, domain.Reason(err))
	}
	if addr, err := mail.ParseAddress(*email); err != nil || addr.Address != *email {
		return fmt.Errorf("email %q is not a valid address", *email)
	}
	cfg := e.cfg
	hash, err := auth.HashPassword(*password, cfg.BcryptCost)
	if err != nil {
		return err
	}
	db, err := openMigrated(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer db.Close()
	u, created, err := domain.EnsureSuperuser(ctx, db, domain.SuperuserInput{
		Username: *username, Email: *email, HashedPassword: hash,
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
