package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	twclient "github.com/twilio/twilio-go/client"
	twapi "github.com/twilio/twilio-go/rest/api/v2010"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// SMSLimit is the longest body Twilio takes in one message.
const SMSLimit = 1600

// NewTwilio builds the client of Twilio's Messages API (the 2010 API
// alone: the package of every Twilio product would add 60 packages and
// 10 MB of code to the binary). baseURL, when set, sends its requests to
// another host (a fake speaking Twilio's API in tests).
func NewTwilio(accountSID, authToken, baseURL string) (*twapi.ApiService, error) {
	hc := &http.Client{Timeout: 20 * time.Second}
	if baseURL != "" {
		u, err := url.Parse(baseURL)
		if err != nil || u.Host == "" {
			return nil, fmt.Errorf("twilio api base url %q: invalid", baseURL)
		}
		hc.Transport = redirect{to: u, next: http.DefaultTransport}
	}
	c := &twclient.Client{Credentials: twclient.NewCredentials(accountSID, authToken), HTTPClient: hc}
	c.SetAccountSid(accountSID)
	return twapi.NewApiServiceWithClient(c), nil
}

// redirect sends every request to another scheme and host, path kept.
type redirect struct {
	to   *url.URL
	next http.RoundTripper
}

func (r redirect) RoundTrip(req *http.Request) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL.Scheme, out.URL.Host, out.Host = r.to.Scheme, r.to.Host, r.to.Host
	return r.next.RoundTrip(out)
}

// TwilioSender delivers replies by SMS, or WhatsApp when the person wrote
// from a whatsapp: address, through Twilio's Messages API.
type TwilioSender struct {
	API  *twapi.ApiService
	DB   *bun.DB
	From string
	// MessagingServiceSID, when set, replaces From: Twilio picks the sender.
	MessagingServiceSID string
	// StatusCallback is the public URL of POST /twilio_status.
	StatusCallback string
	// WhatsAppTemplateSID is the approved template (WHATSAPP_TEMPLATE_SID)
	// a WhatsApp reply goes out as outside the 24-hour window; empty: such
	// a reply is not sent.
	WhatsAppTemplateSID string
}

// WhatsAppWindow is how long after a person's last message WhatsApp takes
// free-form messages to them; past it, only an approved template.
const WhatsAppWindow = 24 * time.Hour

// TemplatePreviewLimit is the longest start of a reply a WhatsApp template
// carries (its variable {{1}}), in characters.
const TemplatePreviewLimit = 100

// twilioOutsideWindow is Twilio's error for a free-form WhatsApp message
// outside the 24-hour window.
const twilioOutsideWindow = 63016

// Twilio errors no retry can fix: invalid number, not a mobile number,
// unverified number, unsubscribed recipient, outside WhatsApp's window.
var permanentTwilioCodes = map[int]bool{21211: true, 21614: true, 21608: true, 21610: true, twilioOutsideWindow: true}

// twilioContent is what one message carries: a Body, or a template
// (ContentSID with its Variables, as JSON). sentAs says whether a message
// Twilio lists is this one.
type twilioContent struct {
	Body       string
	ContentSID string
	Variables  string
	preview    string
}

func (c twilioContent) sentAs(body string) bool {
	if c.ContentSID != "" {
		return strings.Contains(body, c.preview)
	}
	return body == c.Body
}

// Deliver sends a reply in parts of at most SMSLimit characters. Each part
// is recorded before it is sent and gets Twilio's SID once accepted; a
// retried delivery skips the parts that went out, and for a part whose
// answer was lost it asks Twilio whether the message exists before sending
// it again. A WhatsApp reply past the 24-hour window since the person last
// wrote goes out as the template, in one message, or not at all.
func (s *TwilioSender) Deliver(ctx context.Context, reply *domain.Message) (string, error) {
	if reply.Address == nil || *reply.Address == "" {
		return "", refusal(ErrTwilioRejected, ReasonNoAddress, errors.New("reply has no SMS address"))
	}
	to := *reply.Address
	recipient, err := domain.UserByID(ctx, s.DB, reply.RecipientID)
	if err != nil {
		return "", fmt.Errorf("load recipient: %w", err)
	}
	if recipient.SMSOptOut {
		return "", refusal(ErrTwilioRejected, ReasonOptedOut, errors.New("recipient opted out of SMS"))
	}
	from := s.From
	whatsapp := strings.HasPrefix(to, "whatsapp:")
	if whatsapp {
		if !strings.HasPrefix(from, "whatsapp:") {
			from = "whatsapp:" + from
		}
		last, err := domain.LastInboundAt(ctx, s.DB, domain.ChannelTwilio, to)
		if err != nil {
			return "", err
		}
		if domain.Now().Sub(last) >= WhatsAppWindow {
			return s.deliverTemplate(ctx, reply, to, from, "the person last wrote more than 24 hours ago")
		}
	}
	bodies := SplitMessage(SMSText(reply), SMSLimit)
	parts, err := domain.StartDeliveries(ctx, s.DB, reply.ID, len(bodies))
	if err != nil {
		return "", err
	}
	var first string
	for i, body := range bodies {
		sid, err := s.sendPart(ctx, reply, &parts[i], to, from, twilioContent{Body: body})
		if i == 0 && whatsapp && twilioCode(err) == twilioOutsideWindow {
			// Twilio's clock says the window closed where ours said open.
			return s.deliverTemplate(ctx, reply, to, from, "twilio answered 63016")
		}
		if err != nil {
			return "", err
		}
		if i == 0 {
			first = sid
		}
	}
	return first, nil
}

// deliverTemplate sends a WhatsApp reply outside the 24-hour window as
// the configured template, its variable the start of the reply, in one
// message; without a template the reply is refused for good.
func (s *TwilioSender) deliverTemplate(ctx context.Context, reply *domain.Message, to, from, why string) (string, error) {
	if s.WhatsAppTemplateSID == "" {
		return "", refusal(ErrTwilioRejected, ReasonOutsideWhatsAppWindow,
			fmt.Errorf("outside WhatsApp's 24-hour window (%s) and WHATSAPP_TEMPLATE_SID is not set", why))
	}
	preview := TemplatePreview(SMSText(reply), TemplatePreviewLimit)
	vars, err := json.Marshal(map[string]string{"1": preview})
	if err != nil {
		return "", fmt.Errorf("template variables: %w", err)
	}
	parts, err := domain.StartDeliveries(ctx, s.DB, reply.ID, 1)
	if err != nil {
		return "", err
	}
	// A free-form attempt may have recorded more parts: one message goes.
	if err := domain.DropUnsentParts(ctx, s.DB, reply.ID, 1); err != nil {
		return "", err
	}
	return s.sendPart(ctx, reply, &parts[0], to, from,
		twilioContent{ContentSID: s.WhatsAppTemplateSID, Variables: string(vars), preview: preview})
}

// TemplatePreview is the start of text in at most limit characters, cut
// at a word, with an ellipsis when something was cut.
func TemplatePreview(text string, limit int) string {
	runes := []rune(strings.Join(strings.Fields(text), " "))
	if len(runes) <= limit {
		return string(runes)
	}
	cut := runes[:limit-1]
	if i := lastIndex(cut, unicode.IsSpace); i >= limit/2 {
		cut = cut[:i]
	}
	return strings.TrimRightFunc(string(cut), func(r rune) bool { return unicode.IsSpace(r) || unicode.IsPunct(r) }) + "…"
}

func (s *TwilioSender) sendPart(ctx context.Context, reply *domain.Message, d *domain.Delivery, to, from string, c twilioContent) (string, error) {
	if d.ProviderID != nil {
		return *d.ProviderID, nil
	}
	if activity.IsActivity(ctx) && activity.GetInfo(ctx).Attempt > 1 {
		// An earlier attempt may have been accepted with its answer lost.
		if sid, ok := s.findSent(to, from, c, d.SentAt); ok {
			return sid, domain.AcceptDelivery(ctx, s.DB, d.ID, sid, domain.DeliveryQueued)
		}
	}
	params := (&twapi.CreateMessageParams{}).SetTo(to)
	if c.ContentSID != "" {
		params.SetContentSid(c.ContentSID).SetContentVariables(c.Variables)
	} else {
		params.SetBody(c.Body)
	}
	if s.MessagingServiceSID != "" && !strings.HasPrefix(to, "whatsapp:") {
		params.SetMessagingServiceSid(s.MessagingServiceSID)
	} else {
		params.SetFrom(from)
	}
	if s.StatusCallback != "" {
		params.SetStatusCallback(s.StatusCallback)
	}
	msg, err := s.API.CreateMessage(params)
	if err != nil {
		return "", s.classify(ctx, reply, err)
	}
	if msg.Sid == nil {
		return "", errors.New("twilio accepted the message without a sid")
	}
	status := domain.DeliveryQueued
	if msg.Status != nil {
		if st, ok := domain.ParseDeliveryStatus(*msg.Status); ok {
			status = st
		}
	}
	return *msg.Sid, domain.AcceptDelivery(ctx, s.DB, d.ID, *msg.Sid, status)
}

// findSent looks for a message Twilio took from an earlier attempt.
func (s *TwilioSender) findSent(to, from string, c twilioContent, since time.Time) (string, bool) {
	msgs, err := s.API.ListMessage((&twapi.ListMessageParams{}).SetTo(to).SetFrom(from).
		SetDateSentAfter(since.Add(-time.Minute)).SetLimit(50))
	if err != nil {
		return "", false
	}
	for _, m := range msgs {
		if m.Body != nil && c.sentAs(*m.Body) && m.Sid != nil {
			return *m.Sid, true
		}
	}
	return "", false
}

// classify lets rate limits and server errors retry and stops on the rest,
// with the reason the reply is recorded failed for; an unsubscribed
// recipient (21610) is also marked opted out.
func (s *TwilioSender) classify(ctx context.Context, reply *domain.Message, err error) error {
	var te *twclient.TwilioRestError
	if !errors.As(err, &te) {
		return fmt.Errorf("twilio: %w", err)
	}
	if te.Code == 21610 {
		if err := domain.SetSMSOptOut(ctx, s.DB, reply.RecipientID, true); err != nil {
			return err
		}
	}
	if permanentTwilioCodes[te.Code] || (te.Status >= 400 && te.Status < 500 && te.Status != http.StatusTooManyRequests) {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("twilio refused the message (%d)", te.Code),
			ErrTwilioRejected, err, TwilioReason(strconv.Itoa(te.Code)))
	}
	return fmt.Errorf("twilio unavailable (%d): %w", te.Status, err)
}

// TwilioReason is the delivery_error of a Twilio error code, whether the
// API refused the message or a status callback reported it.
func TwilioReason(code string) string {
	if code == "" || len(code) > 10 || strings.Trim(code, "0123456789") != "" {
		return "twilio_error"
	}
	switch code {
	case strconv.Itoa(twilioOutsideWindow):
		return ReasonOutsideWhatsAppWindow
	case "21610":
		return ReasonOptedOut
	}
	return "twilio_" + code
}

// twilioCode is the code of the Twilio error in err's chain (0: none).
func twilioCode(err error) int {
	var te *twclient.TwilioRestError
	if errors.As(err, &te) {
		return te.Code
	}
	return 0
}

// SplitMessage cuts text into parts of at most limit characters, at a
// paragraph, line, sentence or word boundary where one is near the end.
func SplitMessage(text string, limit int) []string {
	runes := []rune(strings.TrimSpace(text))
	var parts []string
	for len(runes) > limit {
		cut := limit
		for _, isBreak := range []func(r rune) bool{
			func(r rune) bool { return r == '\n' },
			func(r rune) bool { return r == '.' || r == '!' || r == '?' },
			unicode.IsSpace,
		} {
			if i := lastIndex(runes[:limit], isBreak); i >= limit/2 {
				cut = i + 1
				break
			}
		}
		parts = append(parts, strings.TrimSpace(string(runes[:cut])))
		runes = []rune(strings.TrimSpace(string(runes[cut:])))
	}
	if len(runes) > 0 || len(parts) == 0 {
		parts = append(parts, string(runes))
	}
	return parts
}

func lastIndex(runes []rune, match func(rune) bool) int {
	for i := len(runes) - 1; i >= 0; i-- {
		if match(runes[i]) {
			return i
		}
	}
	return -1
}
