package main

import (
	"fmt"
	"strings"
	"time"

	"github.com/aimsg/aimsg/codec"
)

// payloadKeyCmd prints a fresh key for TEMPORAL_PAYLOAD_KEY, named by its
// argument or by today's date. To rotate, put it first and keep the old
// keys after it until no history needs them.
func payloadKeyCmd(e *env, args []string) error {
	id := time.Now().UTC().Format("20060102")
	switch len(args) {
	case 0:
	case 1:
		id = args[0]
	default:
		return usageError("usage: aimsg payload-key [ID]")
	}
	if id == "" || strings.ContainsAny(id, ",: ") {
		return usageError("usage: aimsg payload-key [ID]: the id may not contain , or :")
	}
	fmt.Fprintln(e.stdout, codec.NewKey(id))
	return nil
}
