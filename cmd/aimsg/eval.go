package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/evals"
)

// evalFlags say where a suite runs, as whom, and what counts as passing.
type evalFlags struct {
	api, user, passwordEnv, prefix, jsonPath string
	register, keepUsers                      bool
	parallel                                 int
	timeout, settle                          time.Duration
	minPass                                  float64
}

func newEvalCmd(p *program) *cobra.Command {
	f := evalFlags{api: "http://localhost:8000", prefix: evals.DefaultPrefix, parallel: 4,
		timeout: 2 * time.Minute, settle: 3 * time.Second, minPass: 1}
	cmd := &cobra.Command{
		Use:   "eval FILE.yaml (--user NAME | --register)",
		Short: "Play scripted conversations against a running API and check the answers",
		Long: `Play the cases of FILE.yaml against a running aimsg through its public API,
as a user of the web app would, and check the assistant's last answer of
each: words it must and must not say, articles it must cite, an agent it
must transfer to, a handoff to a person, a token budget.

Each case runs in a fresh conversation of a throwaway user, made by --user
(a superuser; its password from --password-env, or typed when asked) or,
with --register, registered by the case itself (limited per address by
REGISTRATIONS_PER_ADDRESS), and deleted afterwards unless --keep-users.

It prints a table and, with --json, writes a report. It exits 1 when the
pass rate is below --min-pass or the run could not happen. See
docs/commands.md#aimsg-eval for the suite's format.`,
		Example: `  # EVAL_PASSWORD holds evalbot's password (a CI secret, or read -rs EVAL_PASSWORD; export EVAL_PASSWORD)
  aimsg eval our-suite.yaml --api https://staging.example.com \
    --user evalbot --password-env EVAL_PASSWORD --json before.json`,
		GroupID: groupAdmin,
		Args:    positional(cobra.ExactArgs(1)),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runEval(cmd.Context(), p, args[0], f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.api, "api", f.api, "base `URL` of the aimsg API")
	fl.StringVar(&f.user, "user", "", "a superuser, by `NAME`, who creates a throwaway user per case")
	fl.StringVar(&f.passwordEnv, "password-env", "", "the environment variable, by `NAME`, holding --user's password (otherwise asked)")
	fl.BoolVar(&f.register, "register", false, "let each case's user register itself instead of --user")
	fl.StringVar(&f.prefix, "prefix", f.prefix, "start the throwaway users' names with `PREFIX`")
	fl.BoolVar(&f.keepUsers, "keep-users", false, "keep the throwaway users, to read their conversations after")
	fl.IntVar(&f.parallel, "parallel", f.parallel, "run at most `N` cases at once")
	fl.DurationVar(&f.timeout, "timeout", f.timeout, "how long a case may take, all its messages included")
	fl.DurationVar(&f.settle, "settle", f.settle, "how long hands_off: false watches for a handoff after the reply")
	fl.StringVar(&f.jsonPath, "json", "", "write the report as JSON to `FILE`")
	fl.Float64Var(&f.minPass, "min-pass", f.minPass, "the pass rate, 0 to 1, below which the command fails")
	return cmd
}

// runEval runs a suite and reports on it; the error says why the command
// fails (a usage error exits 2, anything else 1).
func runEval(ctx context.Context, p *program, path string, f evalFlags) error {
	switch {
	case (f.user == "") == !f.register:
		return usageError("eval needs --user NAME (a superuser) or --register, not both")
	case f.minPass < 0 || f.minPass > 1:
		return usageError("--min-pass is a rate from 0 to 1")
	case f.parallel < 1:
		return usageError("--parallel must be at least 1")
	case f.passwordEnv != "" && f.user == "":
		return usageError("--password-env is --user's password")
	}
	suite, err := evals.Load(path)
	if err != nil {
		return err
	}
	opts := evals.Options{API: f.api, Prefix: f.prefix, KeepUsers: f.keepUsers, Parallel: f.parallel,
		Timeout: f.timeout, Settle: f.settle, Log: slog.New(slog.NewTextHandler(os.Stderr, nil))}
	if f.user != "" {
		password, err := evalPassword(ctx, p, f)
		if err != nil {
			return err
		}
		opts.Admin = &evals.Credentials{Username: f.user, Password: password}
	}
	report, err := evals.Run(ctx, suite, opts)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	report.Suite = path
	if err := report.WriteTable(p.stdout); err != nil {
		return err
	}
	if f.jsonPath != "" {
		if err := report.WriteJSON(f.jsonPath); err != nil {
			return err
		}
	}
	if report.PassRate < f.minPass {
		return fmt.Errorf("eval: pass rate %.2f is below --min-pass %.2f", report.PassRate, f.minPass)
	}
	return nil
}

// evalPassword is --user's password: from the variable --password-env
// names (the environment, or .env), else typed at a terminal without
// echo, else the first line of standard input. Never a flag: flags show
// in the process list and the shell's history.
func evalPassword(ctx context.Context, p *program, f evalFlags) (string, error) {
	if f.passwordEnv != "" {
		getenv, err := withDotEnv(p.getenv, ".env")
		if err != nil {
			return "", err
		}
		if pw := getenv(f.passwordEnv); pw != "" {
			return pw, nil
		}
		return "", usageError(fmt.Sprintf("--password-env: %s is not set", f.passwordEnv))
	}
	if st, err := os.Stdin.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
		fmt.Fprintf(os.Stderr, "Password for %s: ", f.user)
		pw, err := readSecret(ctx, os.Stdin)
		fmt.Fprintln(os.Stderr)
		return pw, err
	}
	return firstLine(os.Stdin)
}

// firstLine reads a password piped in.
func firstLine(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		if err != nil && err != io.EOF {
			return "", fmt.Errorf("read password: %w", err)
		}
		return "", usageError("no password: set --password-env, or type or pipe it in")
	}
	return line, nil
}
