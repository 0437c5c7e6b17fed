// Command aimsg is the one binary of the service: the API, the Temporal
// worker, migrations, a dev mode that runs everything, and admin tasks.
// Each command is a cobra command built in a file of its own.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/joho/godotenv"
	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/logs"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args, os.Getenv, os.Stdout)
	stop()
	var u usageError
	switch {
	case errors.As(err, &u):
		fmt.Fprintln(os.Stderr, u)
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, "aimsg:", err)
		os.Exit(1)
	}
}

// run is the whole program; main only supplies the process's context,
// arguments, environment and output.
func run(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	root := newRootCmd(&program{getenv: getenv, stdout: stdout})
	// Never nil: cobra would read os.Args instead.
	root.SetArgs(append([]string{}, args[min(1, len(args)):]...))
	cmd, err := root.ExecuteContextC(ctx)
	var u usageError
	if errors.As(err, &u) {
		return usageError(fmt.Sprintf("aimsg: %s\n\n%s", string(u), strings.TrimSuffix(cmd.UsageString(), "\n")))
	}
	return err
}

// Command groups of the root's help.
const (
	groupRun   = "run"
	groupAdmin = "admin"
)

// newRootCmd builds the command tree: help, flags, completion and usage
// errors work the same way for every command.
func newRootCmd(p *program) *cobra.Command {
	root := &cobra.Command{
		Use:   "aimsg",
		Short: "The aimsg service and its admin tasks",
		Long: `aimsg is the one binary of the service: the API, the Temporal worker,
migrations, a dev mode that runs everything, and admin tasks.

Settings come from the environment and from .env when present; see .env.example.`,
		// run returns errors and usage to main, which prints them once.
		SilenceErrors: true,
		SilenceUsage:  true,
	}
	group(root)
	root.SetOut(p.stdout)
	root.SetUsageTemplate(usageTemplate)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err.Error()) })
	root.AddGroup(&cobra.Group{ID: groupRun, Title: "Run the service:"},
		&cobra.Group{ID: groupAdmin, Title: "Administer it:"})
	root.AddCommand(
		newServeCmd(p), newWorkerCmd(p), newDevCmd(p), newMigrateCmd(p), newHealthCmd(p),
		newCreateSuperuserCmd(p), newUsersCmd(p), newConversationsCmd(p), newTurnsCmd(p),
		newChatCmd(p), newTelegramCmd(p), newPayloadKeyCmd(p),
		newKnowledgeCmd(p),
		newAgentsCmd(p), newEvalCmd(p),
	)
	// cobra's completion command, made now to refuse an unknown shell as
	// the others refuse an unknown command.
	root.InitDefaultCompletionCmd()
	if completion, _, err := root.Find([]string{"completion"}); err == nil {
		group(completion)
	}
	return root
}

// program is what run received from the process; the commands are built
// on it.
type program struct {
	getenv config.Getenv
	stdout io.Writer
}

// env is what every command's action receives: the environment, its
// configuration (read once, for the command's mode), the output and the
// loggers.
type env struct {
	getenv config.Getenv
	cfg    config.Config
	stdout io.Writer
	logs   *logs.Set
}

// action is a command's work, given its configuration and the positional
// arguments.
type action func(ctx context.Context, e *env, args []string) error

// needs is where each command says what it needs from the configuration:
// serve signs tokens with a real key, dev may use the development key,
// the others sign none. The RunE it makes reads the configuration once,
// for that mode, before the action runs.
func (p *program) needs(mode config.Mode, do action) func(*cobra.Command, []string) error {
	return func(cmd *cobra.Command, args []string) error {
		getenv, err := withDotEnv(p.getenv, ".env")
		if err != nil {
			return err
		}
		cfg, err := config.Load(getenv, mode)
		if err != nil {
			return err
		}
		logSet, err := logs.New(p.stdout, cfg.LogsFolder, cfg.LogLevel)
		if err != nil {
			return err
		}
		defer logSet.Close()
		return do(cmd.Context(), &env{getenv: getenv, cfg: cfg, stdout: p.stdout, logs: logSet}, args)
	}
}

// withDotEnv lets variables in a .env file fill in what the environment
// does not set; the real environment always wins.
func withDotEnv(getenv config.Getenv, path string) (config.Getenv, error) {
	vars, err := godotenv.Read(path)
	if errors.Is(err, os.ErrNotExist) {
		return getenv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, nil
}

// usageError is a wrong command line; run adds the command's usage, main
// prints both and exits with 2.
type usageError string

func (u usageError) Error() string { return string(u) }

// positional makes a failed check of a command's positional arguments a
// usage error.
func positional(check cobra.PositionalArgs) cobra.PositionalArgs {
	return func(cmd *cobra.Command, a []string) error {
		if err := check(cmd, a); err != nil {
			return usageError(err.Error())
		}
		return nil
	}
}

// group makes cmd a command that only holds subcommands: alone, or
// followed by a word that names none of them, it is a usage error (cobra
// would print its help and succeed).
func group(cmd *cobra.Command, subcommands ...*cobra.Command) *cobra.Command {
	cmd.Args = cobra.ArbitraryArgs
	cmd.RunE = func(c *cobra.Command, a []string) error {
		if len(a) == 0 {
			return usageError("missing command")
		}
		msg := fmt.Sprintf("unknown command %q for %q", a[0], c.CommandPath())
		if s := c.SuggestionsFor(a[0]); len(s) > 0 {
			msg += "; did you mean " + strings.Join(s, " or ") + "?"
		}
		return usageError(msg)
	}
	cmd.SuggestionsMinimumDistance = 2
	cmd.AddCommand(subcommands...)
	return cmd
}

// usageTemplate is cobra's own but for one line: a command that only
// holds subcommands is shown as `aimsg migrate [command]`, not also as
// runnable alone (group makes it runnable to refuse that).
const usageTemplate = `Usage:{{if and .Runnable (not .HasAvailableSubCommands)}}
  {{.UseLine}}{{end}}{{if .HasAvailableSubCommands}}
  {{.CommandPath}} [command]{{end}}{{if gt (len .Aliases) 0}}

Aliases:
  {{.NameAndAliases}}{{end}}{{if .HasExample}}

Examples:
{{.Example}}{{end}}{{if .HasAvailableSubCommands}}{{$cmds := .Commands}}{{if eq (len .Groups) 0}}

Available Commands:{{range $cmds}}{{if (or .IsAvailableCommand (eq .Name "help"))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{else}}{{range $group := .Groups}}

{{.Title}}{{range $cmds}}{{if (and (eq .GroupID $group.ID) (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{if not .AllChildCommandsHaveGroup}}

Additional Commands:{{range $cmds}}{{if (and (eq .GroupID "") (or .IsAvailableCommand (eq .Name "help")))}}
  {{rpad .Name .NamePadding }} {{.Short}}{{end}}{{end}}{{end}}{{end}}{{end}}{{if .HasAvailableLocalFlags}}

Flags:
{{.LocalFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasAvailableInheritedFlags}}

Global Flags:
{{.InheritedFlags.FlagUsages | trimTrailingWhitespaces}}{{end}}{{if .HasHelpSubCommands}}

Additional help topics:{{range .Commands}}{{if .IsAdditionalHelpTopicCommand}}
  {{rpad .CommandPath .CommandPathPadding}} {{.Short}}{{end}}{{end}}{{end}}{{if .HasAvailableSubCommands}}

Use "{{.CommandPath}} [command] --help" for more information about a command.{{end}}
`
