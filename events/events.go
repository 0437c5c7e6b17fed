// Package events is aimsg's live path: what happens in a conversation (a
// message stored, a turn typing, reply text as the LLM writes it, a
// streamed attempt abandoned) and the end of a session travel from
// whoever produces them, the API or the worker, to every API process, and
// there to the streams open on that conversation or session.
//
// The stored message stays the truth: events carry ids and short
// fragments, a stream reads the message itself, and a client that missed
// events loses nothing it cannot read again.
//
// Transports: PostgreSQL's LISTEN/NOTIFY (triggers announce stored
// messages and ended sessions; one listening connection per API
// process); in one process (`aimsg dev`), the hub itself; separate
// processes on SQLite, one poller per API process over the messages and a
// table of written-down events.
package events

import (
	"context"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// Kind names an event, as the SSE "event:" field says it.
type Kind string

// The kinds of events.
const (
	// KindMessage: a message was stored (MessageID, ConversationID).
	KindMessage Kind = "message"
	// KindTyping: a turn started or stopped working (Active).
	KindTyping Kind = "typing"
	// KindDelta: a fragment of the reply being written (TurnID, Seq, Text).
	KindDelta Kind = "delta"
	// KindReset: the reply being written was abandoned (TurnID): drop it.
	KindReset Kind = "reset"
	// KindSessionEnded: a session ended (SessionID): its streams close.
	KindSessionEnded Kind = "session_ended"
	// KindMode: who answers the conversation changed (Text: ai or human).
	KindMode Kind = "mode"
	// KindApproval: a tool call of the conversation started or stopped
	// waiting for a person's decision (Text: the call's id).
	KindApproval Kind = "approval"
	// KindDelivery: a message was recorded not delivered (MessageID; Text:
	// why, as its delivery_error says).
	KindDelivery Kind = "delivery"
	// KindUserChanged: what a user may do changed (UserID): their roles,
	// superuser flag or status. Their streams close (a client reconnects
	// and is authorised again) and every process forgets their cached
	// sessions. domain.AnnounceUserChanged sends it.
	KindUserChanged Kind = "user_changed"
)

// Event is one event, small enough for a NOTIFY payload.
type Event struct {
	Kind           Kind   `json:"k"`
	ConversationID string `json:"c,omitempty"`
	MessageID      int64  `json:"m,omitempty"`
	SessionID      int64  `json:"s,omitempty"`
	UserID         int64  `json:"u,omitempty"`
	TurnID         string `json:"t,omitempty"`
	Seq            int    `json:"q,omitempty"`
	Text           string `json:"x,omitempty"`
	Active         bool   `json:"a,omitempty"`
}

// MaxText is the longest fragment one delta carries, in bytes: NOTIFY
// payloads stay far below PostgreSQL's 8,000-byte limit.
const MaxText = 2000

// Publisher sends events to every API process.
type Publisher interface {
	Publish(ctx context.Context, ev Event) error
}

// encode is the wire form of an event.
func encode(ev Event) (string, error) {
	if len(ev.Text) > MaxText {
		return "", fmt.Errorf("event text of %d bytes is over %d", len(ev.Text), MaxText)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return "", fmt.Errorf("encode event: %w", err)
	}
	return string(b), nil
}

func decode(payload string) (Event, error) {
	var ev Event
	if err := json.Unmarshal([]byte(payload), &ev); err != nil {
		return Event{}, fmt.Errorf("decode event: %w", err)
	}
	return ev, nil
}

// Split cuts text into fragments of at most MaxText bytes, at rune
// boundaries, for deltas.
func Split(text string) []string {
	var out []string
	for len(text) > MaxText {
		cut := MaxText
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}
