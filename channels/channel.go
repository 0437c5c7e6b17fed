// Package channels holds what is a messaging channel's own: checking that
// a webhook request came from the provider, reading it into the one
// inbound shape (domain.Inbound), telling who sent it, and how the
// webhook is answered. Everything else a message goes through (dedupe,
// keywords, opt-out, the inbound limit, storing it, handing it to its
// conversation) is domain.Receive and the API's one webhook handler, the
// same for every channel; sending replies is the worker's Deliverer of
// the channel. Adding a channel is writing an Adapter and a Deliverer.
package channels

import (
	"context"
	"errors"
	"net/http"

	"github.com/aimsg/aimsg/domain"
)

// Adapter is a channel's inbound side.
type Adapter interface {
	// Channel names the channel, as messages record it.
	Channel() domain.Channel
	// Verify says why a webhook request did not come from the provider
	// (nil: it did). It may read the body; Parse reads it after.
	Verify(r *http.Request) error
	// Parse reads a verified request: the message it carries, or an
	// *Ignored error for one that carries none (a status, an edit), or
	// a *Handled error for one the channel answered itself (a Telegram
	// chat linked). Any other error is the request's fault
	// (domain.ErrInvalid) or the server's.
	Parse(ctx context.Context, r *http.Request) (domain.Inbound, error)
	// Sender is the user who wrote from the message's address
	// (domain.ErrNotFound: nobody aimsg knows).
	Sender(ctx context.Context, in domain.Inbound) (userID int64, err error)
	// Answer writes the webhook's answer.
	Answer(w http.ResponseWriter, a Answer)
}

// Answer is what a webhook answers: a text sent back at once, as the
// channel can ("": nothing), for a message that was a keyword or came
// from a stranger.
type Answer struct {
	Address  string
	Text     string
	Keyword  domain.Keyword
	Stranger bool
}

// Ignored is a request that carries no message to store.
type Ignored struct{ Reason string }

func (e *Ignored) Error() string { return "ignored: " + e.Reason }

// Handled is a request the channel answered itself.
type Handled struct {
	Answer Answer
	// Note says what the channel did, for the log.
	Note string
}

func (e *Handled) Error() string { return "handled by the channel: " + e.Note }

// IsIgnored says whether err is an *Ignored.
func IsIgnored(err error) (*Ignored, bool) {
	var ig *Ignored
	return ig, errors.As(err, &ig)
}

// IsHandled says whether err is a *Handled.
func IsHandled(err error) (*Handled, bool) {
	var h *Handled
	return h, errors.As(err, &h)
}
