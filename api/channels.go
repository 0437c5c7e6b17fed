package api

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/channels"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// channelSet is the channels whose webhooks this API takes: Twilio and
// Telegram at their own paths, any other at /channels/{name}/webhook.
type channelSet struct {
	mu    sync.RWMutex
	extra map[domain.Channel]channels.Adapter
}

// AddChannel takes a channel's webhooks at /channels/{name}/webhook.
func (h *Handler) AddChannel(a channels.Adapter) {
	h.s.channels.mu.Lock()
	defer h.s.channels.mu.Unlock()
	if h.s.channels.extra == nil {
		h.s.channels.extra = map[domain.Channel]channels.Adapter{}
	}
	h.s.channels.extra[a.Channel()] = a
}

// anyChannelWebhook takes the webhook of a channel added with AddChannel;
// a request for any other is refused like an unsigned one.
func (s *Server) anyChannelWebhook(c *gin.Context) {
	s.channels.mu.RLock()
	a, ok := s.channels.extra[domain.Channel(c.Param("channel"))]
	s.channels.mu.RUnlock()
	if !ok {
		// No adapter can tell the request came from a provider.
		abort(c, http.StatusForbidden, "No channel of that name takes webhooks here")
		return
	}
	s.channelWebhook(a)(c)
}

// channelLog is the log of a channel's webhook: Twilio and Telegram have
// their own files, other channels use the root log.
func (s *Server) channelLog(c *gin.Context, ch domain.Channel) *slog.Logger {
	switch ch {
	case domain.ChannelTwilio:
		return s.areaLog(c, logs.Twilio)
	case domain.ChannelTelegram:
		return s.areaLog(c, logs.Telegram)
	}
	return s.log(c).With("channel", ch)
}

// channelWebhook is the one way a message from a channel gets in: the
// adapter checks the request came from the provider, reads it and says
// who sent it; domain.Receive does the rest the same way for every
// channel, and a message that waits for the AI is handed to its
// conversation once stored. A retried request is answered as the first
// and changes nothing; a stranger gets the channel's answer for
// strangers and nothing is stored.
func (s *Server) channelWebhook(a channels.Adapter) gin.HandlerFunc {
	return func(c *gin.Context) {
		ctx := c.Request.Context()
		log := s.channelLog(c, a.Channel())
		if err := a.Verify(c.Request); err != nil {
			log.Warn("webhook refused", "path", c.Request.URL.Path, "client_ip", c.ClientIP(), "error", err)
			abort(c, http.StatusForbidden, capitalized(err.Error()))
			return
		}
		in, err := a.Parse(ctx, c.Request)
		if ig, ok := channels.IsIgnored(err); ok {
			log.Info("webhook carries no message", "reason", ig.Reason)
			a.Answer(c.Writer, channels.Answer{})
			return
		}
		if h, ok := channels.IsHandled(err); ok {
			log.Info("webhook answered by the channel", "note", h.Note)
			a.Answer(c.Writer, h.Answer)
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		userID, err := a.Sender(ctx, in)
		if errors.Is(err, domain.ErrNotFound) {
			log.Info("message from an unknown address: not answered", "external_id", in.ExternalID,
				"address_suffix", suffix(in.Address))
			a.Answer(c.Writer, channels.Answer{Address: in.Address, Stranger: true})
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		assistant, err := s.assistantID(c)
		if err != nil {
			s.fail(c, err)
			return
		}
		res, err := domain.Receive(ctx, s.db, userID, assistant, in, domain.InboundLimit{PerMinute: s.cfg.InboundMaxPerMinute})
		if errors.Is(err, domain.ErrInvalid) {
			log.Warn("webhook message not usable", "error", err)
			a.Answer(c.Writer, channels.Answer{})
			return
		}
		if err != nil {
			s.fail(c, err)
			return
		}
		if res.OptOutChanged {
			s.sessions.forget(userID)
			log.Info("opt-out changed", "user_id", userID, "keyword", res.Keyword)
		}
		if res.Repeated {
			log.Info("webhook repeated", "external_id", in.ExternalID)
		} else {
			log.Info("message stored", "message_id", res.Message.ID, "external_id", in.ExternalID, "user_id", userID,
				"awaits_ai", res.Dispatch(), "limited", res.Limited)
		}
		if res.Dispatch() {
			s.queueDispatch(c, res.Message)
		}
		a.Answer(c.Writer, channels.Answer{Address: in.Address, Text: res.Answer, Keyword: res.Keyword})
	}
}

// capitalized is a message with its first letter upper case.
func capitalized(s string) string {
	r, n := utf8.DecodeRuneInString(s)
	return string(unicode.ToUpper(r)) + s[n:]
}

// suffix keeps the last characters of an address: enough to find it in a
// log, too little to identify anyone.
func suffix(address string) string {
	if len(address) <= 4 {
		return address
	}
	return "…" + address[len(address)-4:]
}
