package channels

import (
	"context"
	"encoding/xml"
	"errors"
	"net/http"
	"strconv"
	"strings"

	twclient "github.com/twilio/twilio-go/client"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// Twilio is SMS and WhatsApp through Twilio's Messaging webhooks: form
// posts signed with the account's auth token, answered with TwiML.
type Twilio struct {
	DB        bun.IDB
	AuthToken string
	// PublicURL is the address Twilio posts to: behind a proxy the
	// request's own URL never matches the signature's.
	PublicURL string
}

// Channel is twilio, for SMS and WhatsApp alike.
func (t *Twilio) Channel() domain.Channel { return domain.ChannelTwilio }

// ErrBadSignature is a request Twilio did not sign.
var ErrBadSignature = errors.New("invalid signature")

// Verify checks X-Twilio-Signature against the public URL of the request
// and every POST parameter.
func (t *Twilio) Verify(r *http.Request) error {
	sig := r.Header.Get("X-Twilio-Signature")
	if sig == "" || t.AuthToken == "" {
		return ErrBadSignature
	}
	if err := r.ParseForm(); err != nil {
		return ErrBadSignature
	}
	params := make(map[string]string, len(r.PostForm))
	for k, v := range r.PostForm {
		params[k] = strings.Join(v, "")
	}
	v := twclient.NewRequestValidator(t.AuthToken)
	if !v.Validate(t.PublicURL+r.URL.RequestURI(), params, sig) {
		return ErrBadSignature
	}
	return nil
}

// maxMedia is the most files Twilio attaches to one message.
const maxMedia = 10

// Parse reads an incoming-message webhook. Replies go back the way the
// message came, to the number in E.164 (with WhatsApp's prefix).
func (t *Twilio) Parse(_ context.Context, r *http.Request) (domain.Inbound, error) {
	if err := r.ParseForm(); err != nil { // done by Verify already; kept
		return domain.Inbound{}, &Ignored{Reason: "not a form"}
	}
	form := r.PostForm
	sid, from := form.Get("MessageSid"), form.Get("From")
	if sid == "" || from == "" {
		return domain.Inbound{}, &Ignored{Reason: "no usable MessageSid or From"}
	}
	number, whatsapp := strings.CutPrefix(from, "whatsapp:")
	phone, err := domain.NormalizePhone(number)
	if err != nil {
		return domain.Inbound{}, &Ignored{Reason: "from an address that is not a phone number"}
	}
	address := phone
	if whatsapp {
		address = "whatsapp:" + phone
	}
	in := domain.Inbound{Channel: domain.ChannelTwilio, Address: address, ExternalID: sid, Text: form.Get("Body"),
		ReceivedAt: domain.Now()}
	n, _ := strconv.Atoi(form.Get("NumMedia"))
	for i := range min(n, maxMedia) {
		u := form.Get("MediaUrl" + strconv.Itoa(i))
		if u != "" {
			in.Media = append(in.Media, domain.InboundMedia{URL: u, ContentType: form.Get("MediaContentType" + strconv.Itoa(i))})
		}
	}
	return in, nil
}

// Sender is the active user with the message's phone number.
func (t *Twilio) Sender(ctx context.Context, in domain.Inbound) (int64, error) {
	u, err := domain.ActiveUserByPhone(ctx, t.DB, strings.TrimPrefix(in.Address, "whatsapp:"))
	if err != nil {
		return 0, err
	}
	return u.ID, nil
}

// Answer is TwiML: empty, or one message sent back. Strangers get the
// empty answer; STOP and START too, as Twilio's own opt-out handling
// confirms them to the sender.
func (t *Twilio) Answer(w http.ResponseWriter, a Answer) {
	type msg struct {
		XMLName xml.Name `xml:"Response"`
		Message string   `xml:"Message,omitempty"`
	}
	text := a.Text
	if a.Stranger || a.Keyword == domain.KeywordStop || a.Keyword == domain.KeywordStart {
		text = ""
	}
	b, _ := xml.Marshal(msg{Message: text})
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(append([]byte(xml.Header), b...))
}
