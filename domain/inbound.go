package domain

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/uptrace/bun"
)

// Inbound is a message as a channel's webhook carried it, whatever the
// channel: the one shape every channel adapter reads its requests into.
type Inbound struct {
	Channel Channel
	// Address is where the sender is on the channel, as replies go back
	// to it (an E.164 number, "whatsapp:+…", a Telegram chat id).
	Address string
	// ExternalID is the provider's id of the message; a provider that
	// sends it again gets the same answer and changes nothing.
	ExternalID string
	Text       string
	// Media are the files the message carries, not fetched yet.
	Media []InboundMedia
	// ReceivedAt is when the provider says it came (zero: now).
	ReceivedAt time.Time
}

// InboundMedia is a file a message carries, where the provider keeps it.
type InboundMedia struct {
	URL         string `json:"url"`
	ContentType string `json:"content_type"`
}

// Keyword is a message the assistant's side acts on without the AI.
type Keyword string

// The keywords, on every channel but the web (which has buttons).
const (
	KeywordNone  Keyword = ""
	KeywordStop  Keyword = "stop"
	KeywordStart Keyword = "start"
	KeywordHelp  Keyword = "help"
	// KeywordHuman asks for a person; the conversation hands off when
	// the message arrives, however busy its turn is.
	KeywordHuman Keyword = "human"
)

var keywords = map[string]Keyword{
	"STOP": KeywordStop, "STOPALL": KeywordStop, "UNSUBSCRIBE": KeywordStop, "CANCEL": KeywordStop,
	"END": KeywordStop, "QUIT": KeywordStop,
	"START": KeywordStart, "YES": KeywordStart, "UNSTOP": KeywordStart,
	"HELP": KeywordHelp, "INFO": KeywordHelp,
	"AGENT": KeywordHuman, "HUMAN": KeywordHuman,
}

// KeywordOf says which keyword a text message is, if any (in any case,
// spaces and punctuation around it aside).
func KeywordOf(text string) Keyword {
	w := strings.ToUpper(strings.TrimFunc(text, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }))
	return keywords[w]
}

// What the assistant's side answers by itself.
const (
	HelpText = "This is the AI assistant. Write your question and it will answer. " +
		"Reply AGENT for a person, STOP to stop messages, START to resume."
	StopText  = "You will get no more messages from the assistant. Reply START to resume."
	StartText = "Welcome back. Write your question and the assistant will answer."
	// InboundLimitNotice is what a user writing past the inbound limit
	// is told, at most once a minute.
	InboundLimitNotice = "You are writing faster than I can answer. I have kept your messages; " +
		"pause for a minute and I will reply to the next one."
)

// InboundLimit bounds what one user sends the assistant, by any channel.
type InboundLimit struct {
	PerMinute int
}

// For is the limit of one user's messages.
func (l InboundLimit) For(userID int64) Limit {
	return Limit{Key: "inbound:user:" + strconv.FormatInt(userID, 10), Max: l.PerMinute, Window: time.Minute}
}

// TooManyInbound is the reason a message to the assistant waits.
const TooManyInbound = "Too many messages to the assistant; wait a moment"

// Received is what became of an inbound message.
type Received struct {
	Message *Message
	// Repeated is a message stored before (a retried webhook): nothing
	// was written, and the answer is the first one's, notices aside.
	Repeated bool
	Keyword  Keyword
	// Limited is a message past the sender's inbound limit: kept, not
	// answered.
	Limited bool
	// Answer is what the webhook answers at once ("": nothing).
	Answer string
	// OptOutChanged says the user's opt-out changed (sessions cache it).
	OptOutChanged bool
	// Scored says the message answered the satisfaction survey.
	Scored bool
}

// Dispatch says whether the message waits for the AI: it is to be handed
// to its conversation.
func (r *Received) Dispatch() bool {
	return !r.Repeated && r.Message.TurnStatus != nil && *r.Message.TurnStatus == TurnPending
}

// Receive is the one way a message from a channel gets in, the same for
// every channel: a message stored before is answered as before and
// changes nothing; keywords (STOP, START, HELP, AGENT, HUMAN) are
// applied; an opted-out user's message is kept, not answered; past the
// inbound limit likewise, with a notice at most once a minute; and the
// message, its files (pending: the worker fetches them), the opt-out and
// the limit's count are written in one transaction. The sender is userID,
// whom the channel identified by the address; the recipient is the
// assistant.
func Receive(ctx context.Context, db *bun.DB, userID, assistantID int64, in Inbound, limit InboundLimit) (*Received, error) {
	if in.ExternalID == "" || !StorableText(in.ExternalID) || len(in.ExternalID) > maxExternalIDLength {
		return nil, invalid("the provider's message id is missing or not usable")
	}
	// Keep what the user wrote, even bytes no database stores as text.
	text := strings.ToValidUTF8(strings.ReplaceAll(in.Text, "\x00", "\uFFFD"), "\uFFFD")
	kw := KeywordOf(text)
	out := &Received{Keyword: kw}
	if m, err := MessageByExternalID(ctx, db, in.Channel, in.ExternalID); err == nil {
		out.Message, out.Repeated, out.Answer = m, true, keywordAnswer(kw)
		if out.Scored, err = answeredSurvey(ctx, db, m); err != nil {
			return nil, err
		} else if out.Scored {
			out.Answer = SurveyThanks
		}
		return out, nil
	} else if !errors.Is(err, ErrNotFound) {
		return nil, err
	}
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		user, err := UserByID(ctx, tx, userID)
		if err != nil {
			return err
		}
		noTurn := kw == KeywordStop || kw == KeywordStart || kw == KeywordHelp || (user.SMSOptOut && kw != KeywordStart)
		if strings.TrimSpace(text) == "" && len(in.Media) == 0 {
			text, noTurn = EmptyText, true
		} else if strings.TrimSpace(text) == "" {
			text = MediaOnlyText(in.Media)
		}
		var scored *Episode
		if score := SurveyScore(text); !noTurn && score > 0 && len(in.Media) == 0 {
			// The answer to "How did we do?": recorded, not the AI's.
			ep, err := openSurvey(ctx, tx, userID, Now())
			if err != nil {
				return err
			}
			if ep != nil {
				err := scoreSurvey(ctx, tx, ep, score)
				if err != nil && !errors.Is(err, ErrConflict) {
					return err
				}
				// A conflict is a copy of this request, alongside, that
				// scored it first: this one is that message again.
				noTurn, out.Answer, out.Scored, scored = true, SurveyThanks, true, ep
				if err != nil {
					scored = nil
				}
			}
		}
		if !noTurn {
			out.Limited, out.Answer, err = takeInbound(ctx, tx, userID, limit)
			if err != nil {
				return err
			}
			noTurn = out.Limited
		}
		address := in.Address
		m, repeated, err := ReceiveMessage(ctx, tx, NewMessage{SenderID: userID, RecipientID: assistantID, Content: text,
			Channel: in.Channel, ExternalID: &in.ExternalID, Address: &address, NoTurn: noTurn})
		if err != nil {
			return err
		}
		out.Message, out.Repeated = m, repeated
		if repeated {
			// Stored by a copy of this request that ran alongside.
			out.Limited = false
			if !out.Scored {
				out.Answer = keywordAnswer(kw)
			}
			return nil
		}
		if scored != nil {
			if _, err := tx.NewUpdate().Model((*Episode)(nil)).Set("csat_response_id = ?", m.ID).
				Where("id = ?", scored.ID).Exec(ctx); err != nil {
				return fmt.Errorf("record the survey's answer: %w", err)
			}
		}
		if err := addAttachments(ctx, tx, m.ID, in.Media); err != nil {
			return err
		}
		if a := keywordAnswer(kw); a != "" && !out.Scored {
			out.Answer = a
		}
		if optOut := kw == KeywordStop; (kw == KeywordStop || kw == KeywordStart) && user.SMSOptOut != optOut {
			out.OptOutChanged = true
			return SetSMSOptOut(ctx, tx, userID, optOut)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("receive %s message: %w", in.Channel, err)
	}
	return out, nil
}

// maxExternalIDLength bounds a provider's message id (Twilio's are 34
// characters).
const maxExternalIDLength = 64

func keywordAnswer(kw Keyword) string {
	switch kw {
	case KeywordStop:
		return StopText
	case KeywordStart:
		return StartText
	case KeywordHelp:
		return HelpText
	}
	return ""
}

// takeInbound counts a message to the assistant against the sender's
// inbound limit; past it, the message is kept without a turn and the
// notice is due at most once a minute. A limit that cannot be checked
// counts as within it: the message is answered rather than dropped.
func takeInbound(ctx context.Context, db bun.Tx, userID int64, limit InboundLimit) (limited bool, notice string, err error) {
	err = Take(ctx, db, limit.For(userID), TooManyInbound)
	var throttled *Throttled
	if !errors.As(err, &throttled) {
		return false, "", nil
	}
	due := Limit{Key: "inbound-notice:user:" + strconv.FormatInt(userID, 10), Max: 1, Window: time.Minute}
	if Take(ctx, db, due, "notice sent") != nil {
		return true, "", nil
	}
	return true, InboundLimitNotice, nil
}
