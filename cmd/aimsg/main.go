// Command aimsg is the one binary of the service: the API, the Temporal
// worker, migrations, a dev mode that runs everything, and admin tasks.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/joho/godotenv"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/logs"
)

const usage = `usage: aimsg <command> [arguments]

commands:
  serve            run the HTTP API
  worker           run the Temporal worker
  dev              run Temporal dev server (if none answers), migrations, API and worker
  migrate          apply or inspect database migrations (aimsg migrate for more)
  createsuperuser  create or update a superuser (flags or AIMSG_SUPERUSER_* variables)
  health           exit 0 if the local API answers /health with 200 (container probes)
  telegram         set-webhook: register the bot's webhook with its secret token
  turns            list, show and retry AI turns (aimsg turns for more)
  users            list, disable, enable, superuser (aimsg users for more)
  conversations    the support inbox, takeover and resume (aimsg conversations for more)
  chat             talk to the assistant as a user: chat --user NAME [--message TEXT]
  payload-key      print a new TEMPORAL_PAYLOAD_KEY entry: payload-key [ID]

Settings come from the environment and from .env when present; see .env.example.`

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

// env is what every subcommand receives: the environment, its
// configuration (read once, for the command's mode), the output and the
// loggers.
type env struct {
	getenv config.Getenv
	cfg    config.Config
	stdout io.Writer
	logs   *logs.Set
}

// modes says what each command needs from the configuration: serve signs
// tokens with a real key, dev may use the development key, the others sign
// none.
var modes = map[string]config.Mode{
	"serve": config.Production, "dev": config.Dev,
	"worker": config.NoTokens, "migrate": config.NoTokens, "createsuperuser": config.NoTokens,
	"health": config.NoTokens, "telegram": config.NoTokens, "turns": config.NoTokens,
	"users": config.NoTokens, "chat": config.NoTokens, "conversations": config.NoTokens,
	"payload-key": config.NoTokens,
}

// run is the whole program; main only supplies the process's context,
// arguments, environment and output.
func run(ctx context.Context, args []string, getenv config.Getenv, stdout io.Writer) error {
	if len(args) < 2 {
		return usageError(usage)
	}
	cmd, rest := args[1], args[2:]
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		fmt.Fprintln(stdout, usage)
		return nil
	}
	mode, ok := modes[cmd]
	if !ok {
		return usageError(usage)
	}
	getenv, err := withDotEnv(getenv, ".env")
	if err != nil {
		return err
	}
	cfg, err := config.Load(getenv, mode)
	if err != nil {
		return err
	}
	logSet, err := logs.New(stdout, cfg.LogsFolder, cfg.LogLevel)
	if err != nil {
		return err
	}
	defer logSet.Close()
	e := &env{getenv: getenv, cfg: cfg, stdout: stdout, logs: logSet}
	switch cmd {
	case "serve":
		return serveCmd(ctx, e)
	case "worker":
		return workerCmd(ctx, e)
	case "dev":
		return devCmd(ctx, e)
	case "migrate":
		return migrateCmd(ctx, e, rest)
	case "createsuperuser":
		return createSuperuserCmd(ctx, e, rest)
	case "health":
		return healthCmd(ctx, e)
	case "telegram":
		return telegramCmd(ctx, e, rest)
	case "turns":
		return turnsCmd(ctx, e, rest)
	case "users":
		return usersCmd(ctx, e, rest)
	case "conversations":
		return conversationsCmd(ctx, e, rest)
	case "chat":
		return chatCmd(ctx, e, rest)
	case "payload-key":
		return payloadKeyCmd(e, rest)
	}
	return usageError(usage)
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
