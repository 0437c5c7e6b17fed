package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/dispatch"
	"github.com/aimsg/aimsg/domain"
)

// chatFlags say who talks, and what.
type chatFlags struct {
	username, message string
	wait              time.Duration
}

func newChatCmd(p *program) *cobra.Command {
	var f chatFlags
	cmd := &cobra.Command{
		Use:   "chat --user NAME [--message TEXT]",
		Short: "Talk to the assistant as a user, through the real pipeline",
		Long: `Talk to the assistant as a user from the terminal, through the real
pipeline: each line is stored as the user's message, handed to Temporal like
a web message, and the reply is printed once saved.`,
		GroupID: groupAdmin,
		Args:    positional(cobra.NoArgs),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, _ []string) error {
			return runChat(ctx, e, f)
		}),
	}
	cmd.Flags().StringVar(&f.username, "user", "", "the user to talk as, by `NAME` (required)")
	cmd.Flags().StringVar(&f.message, "message", "", "send one message, `TEXT`, and print the reply (otherwise read lines from stdin)")
	cmd.Flags().DurationVar(&f.wait, "wait", 2*time.Minute, "how long to wait for a reply")
	return cmd
}

// runChat talks to the assistant as a user from the terminal, through the
// real pipeline: each line is stored as the user's message, handed to
// Temporal like a web message, and the reply is printed once saved.
func runChat(ctx context.Context, e *env, f chatFlags) error {
	if f.username == "" {
		return usageError("chat needs --user")
	}
	cfg, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	user, err := domain.UserByUsername(ctx, db, f.username)
	if err != nil || user.IsSystem {
		return fmt.Errorf("user %q: %w", f.username, domain.ErrNotFound)
	}
	assistant, err := domain.Assistant(ctx, db)
	if err != nil {
		return err
	}
	tc, err := dialOnce(ctx, e, cfg)
	if err != nil {
		return err
	}
	defer tc.Close()
	conversations := &dispatch.Conversations{Temporal: tc, TaskQueue: cfg.TemporalTaskQueue, DB: db, Debounce: cfg.TurnDebounce}
	say := func(text string) error {
		m, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: user.ID, RecipientID: assistant.ID, Content: text})
		if err != nil {
			return err
		}
		if err := conversations.Dispatch(ctx, m); err != nil {
			return err
		}
		reply, err := awaitReply(ctx, e, db, m.ID, f.wait)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "assistant: %s\n", reply.Content)
		return nil
	}
	if f.message != "" {
		return say(f.message)
	}
	sc := bufio.NewScanner(os.Stdin)
	fmt.Fprint(e.stdout, "you: ")
	for sc.Scan() {
		if text := strings.TrimSpace(sc.Text()); text != "" {
			if err := say(text); err != nil {
				return err
			}
		}
		fmt.Fprint(e.stdout, "you: ")
	}
	return sc.Err()
}

// awaitReply polls for the reply to a message, printing a dot a second.
func awaitReply(ctx context.Context, e *env, db bun.IDB, messageID int64, wait time.Duration) (*domain.Message, error) {
	deadline := time.Now().Add(wait)
	lastDot := time.Now()
	for time.Now().Before(deadline) {
		var reply domain.Message
		err := db.NewSelect().Model(&reply).Where("parent_id = ?", messageID).Limit(1).Scan(ctx)
		if err == nil {
			return &reply, nil
		}
		if time.Since(lastDot) > time.Second {
			fmt.Fprint(e.stdout, ".")
			lastDot = time.Now()
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, errors.New("no reply in time: see `aimsg turns show` for the turn")
}
