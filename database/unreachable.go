package database

import (
	"context"
	"time"
)

// WaitReachable runs read, and again with growing pauses while the
// database is unreachable, for up to patience; beat is called before each
// new try (an activity heartbeats there).
func WaitReachable(ctx context.Context, patience time.Duration, beat func(), read func() error) error {
	deadline := time.Now().Add(patience)
	pause := 100 * time.Millisecond
	for {
		err := read()
		if err == nil || !Unreachable(err) || time.Now().Add(pause).After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
		beat()
		pause = min(2*pause, 5*time.Second)
	}
}
