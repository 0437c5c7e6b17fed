package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/codec"
	"github.com/aimsg/aimsg/config"
)

func newPayloadKeyCmd(p *program) *cobra.Command {
	return &cobra.Command{
		Use:   "payload-key [ID]",
		Short: "Print a new TEMPORAL_PAYLOAD_KEY entry",
		Long: `Print a new TEMPORAL_PAYLOAD_KEY entry, named ID or today's date. To
rotate, put it first and keep the old keys after it until no history
needs them.`,
		GroupID: groupAdmin,
		Args:    positional(cobra.MaximumNArgs(1)),
		RunE:    p.needs(config.NoTokens, runPayloadKey),
	}
}

// runPayloadKey prints a fresh key for TEMPORAL_PAYLOAD_KEY, named by its
// argument or by today's date.
func runPayloadKey(_ context.Context, e *env, args []string) error {
	id := time.Now().UTC().Format("20060102")
	if len(args) == 1 {
		id = args[0]
	}
	if id == "" || strings.ContainsAny(id, ",: ") {
		return usageError("the id of a payload key may not be empty or contain a comma, colon or space")
	}
	fmt.Fprintln(e.stdout, codec.NewKey(id))
	return nil
}
