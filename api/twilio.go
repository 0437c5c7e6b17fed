package api

import (
	"encoding/xml"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"
	twclient "github.com/twilio/twilio-go/client"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/logs"
)

// SMS keywords handled without the AI, as carriers expect.
var (
	stopWords  = map[string]bool{"STOP": true, "STOPALL": true, "UNSUBSCRIBE": true, "CANCEL": true, "END": true, "QUIT": true}
	startWords = map[string]bool{"START": true, "YES": true, "UNSTOP": true}
	helpWords  = map[string]bool{"HELP": true, "INFO": true}
)

// maxSIDLength bounds a provider message id (Twilio's are 34 characters).
const maxSIDLength = 64

// helpText answers HELP by SMS.
const helpText = "This is the AI assistant. Write your question and it will answer. Reply STOP to stop messages, START to resume."

// twiml answers Twilio: an empty <Response/>, or one message to send back.
func twiml(c *gin.Context, message string) {
	type msg struct {
		XMLName xml.Name `xml:"Response"`
		Message string   `xml:"Message,omitempty"`
	}
	b, _ := xml.Marshal(msg{Message: message})
	c.Data(http.StatusOK, "text/xml; charset=utf-8", append([]byte(xml.Header), b...))
}

// twilioLog is Twilio's webhook log (twilio_webhook.log).
func (s *Server) twilioLog(c *gin.Context) *slog.Logger {
	return s.areaLog(c, logs.Twilio)
}

// twilioSigned checks X-Twilio-Signature against the public URL of the
// request and every POST parameter. Behind a proxy the internal URL never
// matches, so the URL is AI_MESSAGE_PUBLIC_URL plus the path and query.
func (s *Server) twilioSigned(c *gin.Context) bool {
	sig := c.GetHeader("X-Twilio-Signature")
	if sig == "" || s.cfg.TwilioAuthToken == "" {
		return false
	}
	if err := c.Request.ParseForm(); err != nil {
		return false
	}
	params := make(map[string]string, len(c.Request.PostForm))
	for k, v := range c.Request.PostForm {
		params[k] = strings.Join(v, "")
	}
	v := twclient.NewRequestValidator(s.cfg.TwilioAuthToken)
	return v.Validate(s.cfg.PublicURL+c.Request.URL.RequestURI(), params, sig)
}

// refuseUnsigned answers 403 to a request that is not from Twilio.
func (s *Server) refuseUnsigned(c *gin.Context) bool {
	if s.twilioSigned(c) {
		return false
	}
	s.twilioLog(c).Warn("twilio request refused: missing or wrong signature", "path", c.Request.URL.Path,
		"client_ip", c.ClientIP())
	abort(c, http.StatusForbidden, "Invalid signature")
	return true
}

// twilioWebhook takes an SMS (or WhatsApp message) from Twilio: the sender
// must be a known user (by phone number); the message is stored once per
// MessageSid and a turn started; Twilio gets an empty TwiML answer at once.
// Strangers get the same answer and nothing else.
func (s *Server) twilioWebhook(c *gin.Context) {
	if s.refuseUnsigned(c) {
		return
	}
	ctx := c.Request.Context()
	log := s.twilioLog(c)
	form := c.Request.PostForm
	sid, from, body := form.Get("MessageSid"), form.Get("From"), form.Get("Body")
	if sid == "" || from == "" || len(sid) > maxSIDLength || unstorableText(sid) {
		log.Warn("twilio webhook without a usable MessageSid or From")
		twiml(c, "")
		return
	}
	// Keep what the user wrote, even bytes no database stores as text.
	body = strings.ToValidUTF8(strings.ReplaceAll(body, "\x00", "\uFFFD"), "\uFFFD")
	number, whatsapp := strings.CutPrefix(from, "whatsapp:")
	phone, err := domain.NormalizePhone(number)
	if err != nil {
		log.Info("twilio message from an address that is not a phone number", "message_sid", sid)
		twiml(c, "")
		return
	}
	// Replies go back the way the message came, to the number in E.164.
	from = phone
	if whatsapp {
		from = "whatsapp:" + phone
	}
	user, err := domain.ActiveUserByPhone(ctx, s.db, phone)
	if errors.Is(err, domain.ErrNotFound) {
		log.Info("twilio message from an unknown number: not answered", "message_sid", sid, "number_suffix", suffix(phone))
		twiml(c, "")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	keyword := strings.ToUpper(strings.TrimSpace(body))
	in := domain.NewMessage{SenderID: user.ID, Content: body, Channel: domain.ChannelTwilio,
		ExternalID: &sid, Address: &from}
	in.NoTurn = stopWords[keyword] || startWords[keyword] || helpWords[keyword] || (user.SMSOptOut && !startWords[keyword])
	if strings.TrimSpace(body) == "" {
		in.Content, in.NoTurn = "(empty message)", true
	}
	notice := ""
	if !in.NoTurn {
		in.NoTurn, notice = s.limitChannelInbound(c, user.ID)
	}
	m, repeated, err := s.storeInbound(c, in)
	if err != nil {
		s.fail(c, err)
		return
	}
	if repeated {
		// Twilio retried a webhook we have: answer as before, start nothing new.
		log.Info("twilio webhook repeated", "message_sid", sid)
	}
	switch {
	case stopWords[keyword]:
		err = domain.SetSMSOptOut(ctx, s.db, user.ID, true)
		s.sessions.forget(user.ID)
		log.Info("sms opt-out", "user_id", user.ID)
	case startWords[keyword]:
		err = domain.SetSMSOptOut(ctx, s.db, user.ID, false)
		s.sessions.forget(user.ID)
		log.Info("sms opt-in", "user_id", user.ID)
	case helpWords[keyword]:
		twiml(c, helpText)
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	log.Info("twilio message stored", "message_id", m.ID, "message_sid", sid, "user_id", user.ID, "awaits_ai", m.TurnStatus != nil)
	if m.TurnStatus != nil && *m.TurnStatus == domain.TurnPending {
		s.queueDispatch(c, m)
	}
	twiml(c, notice)
}

// twilioStatus applies Twilio's delivery status callbacks, idempotently and
// never backwards.
func (s *Server) twilioStatus(c *gin.Context) {
	if s.refuseUnsigned(c) {
		return
	}
	form := c.Request.PostForm
	sid, raw := form.Get("MessageSid"), form.Get("MessageStatus")
	status, ok := domain.ParseDeliveryStatus(raw)
	if sid == "" || !ok {
		s.twilioLog(c).Warn("twilio status callback not understood", "message_sid", sid, "status", raw)
		c.Status(http.StatusNoContent)
		return
	}
	if err := domain.UpdateDeliveryStatus(c.Request.Context(), s.db, sid, status); err != nil {
		s.fail(c, err)
		return
	}
	s.twilioLog(c).Info("twilio delivery status", "message_sid", sid, "status", raw, "error_code", form.Get("ErrorCode"))
	c.Status(http.StatusNoContent)
}

// suffix keeps the last digits of a number: enough to find it in a log,
// too little to identify anyone.
func suffix(phone string) string {
	if len(phone) <= 4 {
		return phone
	}
	return "…" + phone[len(phone)-4:]
}
