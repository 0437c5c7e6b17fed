package channels

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// Answers the bot gives by itself, without the AI.
const (
	TelegramLinked   = "Your account is linked. Write to me here and I will answer."
	TelegramUnlinked = "To talk to the assistant here, open the link from your account page (Telegram section) in the web app."
	TelegramBadCode  = "This link is not valid any more. Ask for a new one in the web app."
)

// Telegram is a Telegram bot's webhook: JSON updates carrying the secret
// token set with setWebhook, answered with a Bot API call Telegram makes
// for the bot (its short answers need no request of their own). A chat
// talks to the assistant once /start <code> linked it to an account.
type Telegram struct {
	DB     bun.IDB
	Secret string
	// Log records the chats linked (the auth log).
	Log *slog.Logger
}

// Channel is telegram.
func (t *Telegram) Channel() domain.Channel { return domain.ChannelTelegram }

// ErrBadSecret is an update without the webhook's secret token.
var ErrBadSecret = errors.New("invalid secret token")

// Verify compares the secret token header, in constant time.
func (t *Telegram) Verify(r *http.Request) error {
	secret := r.Header.Get("X-Telegram-Bot-Api-Secret-Token")
	if t.Secret == "" || subtle.ConstantTimeCompare([]byte(secret), []byte(t.Secret)) != 1 {
		return ErrBadSecret
	}
	return nil
}

// Parse reads an update. Only messages count (edits, joins and the like
// are ignored); a photo's caption is its text, and the largest size of a
// photo, a voice note or an audio file is its media, by file id (the
// worker fetches it with getFile). /start <code> links the chat.
func (t *Telegram) Parse(ctx context.Context, r *http.Request) (domain.Inbound, error) {
	var up tgbotapi.Update
	if err := json.NewDecoder(r.Body).Decode(&up); err != nil {
		return domain.Inbound{}, fmt.Errorf("the update is not a Bot API update: %w", domain.ErrInvalid)
	}
	msg := up.Message
	if msg == nil || msg.Chat == nil {
		return domain.Inbound{}, &Ignored{Reason: "an update without a message"}
	}
	chat := strconv.FormatInt(msg.Chat.ID, 10)
	in := domain.Inbound{Channel: domain.ChannelTelegram, Address: chat, ExternalID: strconv.Itoa(up.UpdateID),
		Text: msg.Text, ReceivedAt: time.Unix(int64(msg.Date), 0).UTC()}
	if msg.Date == 0 {
		in.ReceivedAt = domain.Now()
	}
	if msg.Caption != "" && in.Text == "" {
		in.Text = msg.Caption
	}
	switch {
	case len(msg.Photo) > 0:
		in.Media = append(in.Media, domain.InboundMedia{URL: telegramFile(msg.Photo[len(msg.Photo)-1].FileID), ContentType: "image/jpeg"})
	case msg.Voice != nil:
		in.Media = append(in.Media, domain.InboundMedia{URL: telegramFile(msg.Voice.FileID), ContentType: orDefault(msg.Voice.MimeType, "audio/ogg")})
	case msg.Audio != nil:
		in.Media = append(in.Media, domain.InboundMedia{URL: telegramFile(msg.Audio.FileID), ContentType: orDefault(msg.Audio.MimeType, "audio/mpeg")})
	}
	if strings.TrimSpace(in.Text) == "" && len(in.Media) == 0 {
		return domain.Inbound{}, &Ignored{Reason: "a message with nothing to answer (a sticker, a join)"}
	}
	if code, ok := strings.CutPrefix(in.Text, "/start "); ok {
		return domain.Inbound{}, t.link(ctx, strings.TrimSpace(code), msg.Chat.ID)
	}
	return in, nil
}

// TelegramFilePrefix marks a media URL that is a Telegram file id.
const TelegramFilePrefix = "telegram-file:"

func telegramFile(id string) string { return TelegramFilePrefix + id }

func orDefault(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// link ties the chat to the account whose code it sent.
func (t *Telegram) link(ctx context.Context, code string, chatID int64) error {
	chat := strconv.FormatInt(chatID, 10)
	userID, err := domain.LinkTelegramChat(ctx, t.DB, code, chatID)
	if errors.Is(err, domain.ErrLinkCodeInvalid) {
		return &Handled{Answer: Answer{Address: chat, Text: TelegramBadCode}, Note: "link code refused"}
	}
	if err != nil {
		return err
	}
	t.Log.Info("telegram chat linked", "user_id", userID)
	return &Handled{Answer: Answer{Address: chat, Text: TelegramLinked}, Note: "chat linked"}
}

// Sender is the user the chat is linked to.
func (t *Telegram) Sender(ctx context.Context, in domain.Inbound) (int64, error) {
	chatID, err := strconv.ParseInt(in.Address, 10, 64)
	if err != nil {
		return 0, domain.ErrNotFound
	}
	u, err := domain.UserByTelegramChat(ctx, t.DB, chatID)
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// BotCall is a Bot API method call in a webhook answer.
type BotCall struct {
	Method string `json:"method"`
	ChatID int64  `json:"chat_id"`
	Text   string `json:"text"`
}

// Answer is a sendMessage call for Telegram to make, or 204 with nothing
// to say. A stranger is told how to link the chat.
func (t *Telegram) Answer(w http.ResponseWriter, a Answer) {
	text := a.Text
	if a.Stranger {
		text = TelegramUnlinked
	}
	chatID, err := strconv.ParseInt(a.Address, 10, 64)
	if text == "" || err != nil {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(BotCall{Method: "sendMessage", ChatID: chatID, Text: text})
}
