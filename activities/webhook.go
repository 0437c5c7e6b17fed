package activities

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"syscall"
	"time"

	"go.temporal.io/sdk/temporal"

	"github.com/aimsg/aimsg/domain"
)

// Webhooks posts outbound webhook deliveries.
type Webhooks struct {
	HTTP *http.Client
	// GiveUpAfter disables a subscription failing for that long.
	GiveUpAfter time.Duration
}

// The headers of a delivery.
const (
	SignatureHeader = "X-Aimsg-Signature"
	EventHeader     = "X-Aimsg-Event"
	EventIDHeader   = "X-Aimsg-Event-Id"
)

// webhookTimeout bounds one attempt: receivers are expected to answer at
// once and do their work later.
const webhookTimeout = 10 * time.Second

// NewWebhooks is the sender, refusing private addresses unless
// allowPrivate (WEBHOOK_ALLOW_PRIVATE): the check is made on the address
// actually dialled, so a name that resolves differently later (DNS
// rebinding) is caught too. Redirects are not followed.
func NewWebhooks(allowPrivate bool, giveUpAfter time.Duration) *Webhooks {
	dialer := &net.Dialer{Timeout: 5 * time.Second}
	if !allowPrivate {
		dialer.Control = func(_, address string, _ syscall.RawConn) error {
			ap, err := netip.ParseAddrPort(address)
			if err != nil {
				return fmt.Errorf("%w: %q is not an address", domain.ErrPrivateAddress, address)
			}
			return domain.CheckWebhookAddress(ap.Addr())
		}
	}
	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.DialContext = dialer.DialContext
	transport.Proxy = nil
	return &Webhooks{GiveUpAfter: giveUpAfter, HTTP: &http.Client{
		Timeout:       webhookTimeout,
		Transport:     transport,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

// Sign is the X-Aimsg-Signature of a body sent at t: the unix time and the
// hex HMAC-SHA256, under the subscription's secret, of "<unix time>.<body>".
// Receivers recompute it and refuse old timestamps (replays).
func Sign(secret string, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	mac := hmac.New(sha256.New, []byte(secret))
	mac.Write([]byte(ts))
	mac.Write([]byte("."))
	mac.Write(body)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac.Sum(nil))
}

// SendWebhook makes one attempt at a delivery and records it. A receiver
// that does not answer 2xx gets the delivery again later (the workflow's
// retry policy); a delivery whose subscription was deleted or disabled
// ends as cancelled. It returns the delivery's state.
func (a *Activities) SendWebhook(ctx context.Context, deliveryID int64) (domain.DeliveryState, error) {
	d, sub, err := domain.WebhookDeliveryByID(ctx, a.DB, deliveryID)
	if errors.Is(err, domain.ErrNotFound) {
		return domain.WebhookCancelled, nil
	}
	if err != nil {
		return "", err
	}
	if d.State != domain.WebhookPending {
		return d.State, nil
	}
	if !sub.IsActive {
		return domain.WebhookCancelled, domain.EndWebhookDelivery(ctx, a.DB, d.ID, domain.WebhookCancelled)
	}
	now := a.now()
	status, sendErr := a.Webhooks.post(ctx, sub, d, now)
	attempt := domain.WebhookAttempt{DeliveryID: d.ID, Status: status, At: now, GiveUpAfter: a.Webhooks.GiveUpAfter}
	if sendErr != nil {
		attempt.Err = sendErr.Error()
	}
	disabled, err := domain.RecordWebhookAttempt(ctx, a.DB, attempt)
	if err != nil {
		return "", err
	}
	a.countWebhook(sendErr == nil, disabled)
	switch {
	case sendErr == nil:
		return domain.WebhookDelivered, nil
	case disabled:
		a.Logger.Warn("webhook subscription disabled: failing too long", "subscription_id", sub.ID,
			"url", sub.URL, "error", sendErr)
		return domain.WebhookFailed, domain.EndWebhookDelivery(ctx, a.DB, d.ID, domain.WebhookFailed)
	case errors.Is(sendErr, domain.ErrPrivateAddress):
		return "", temporal.NewNonRetryableApplicationError(sendErr.Error(), ErrWebhookRefused, nil)
	}
	return "", temporal.NewApplicationError(sendErr.Error(), ErrWebhookFailed)
}

// post sends the delivery's body, signed now; err is nil for a 2xx answer.
func (w *Webhooks) post(ctx context.Context, sub *domain.WebhookSubscription, d *domain.WebhookDelivery, now time.Time) (int, error) {
	body := []byte(d.Body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.URL, bytes.NewReader(body))
	if err != nil {
		return 0, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "aimsg-webhooks/1")
	req.Header.Set(SignatureHeader, Sign(sub.Secret, now, body))
	req.Header.Set(EventHeader, string(d.Event))
	req.Header.Set(EventIDHeader, d.EventID)
	resp, err := w.HTTP.Do(req)
	if err != nil {
		// The dialer's refusal alone, naming the range refused.
		var opErr *net.OpError
		if errors.As(err, &opErr) && errors.Is(opErr.Err, domain.ErrPrivateAddress) {
			return 0, opErr.Err
		}
		if errors.Is(err, domain.ErrPrivateAddress) {
			return 0, domain.ErrPrivateAddress
		}
		return 0, fmt.Errorf("post: %w", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return resp.StatusCode, fmt.Errorf("receiver answered %d", resp.StatusCode)
	}
	return resp.StatusCode, nil
}

// EndWebhook marks a delivery failed once its workflow stopped retrying,
// and disables its subscription if nothing got through meanwhile.
func (a *Activities) EndWebhook(ctx context.Context, deliveryID int64) error {
	disabled, err := domain.GiveUpWebhookDelivery(ctx, a.DB, deliveryID, a.now())
	if disabled {
		a.Logger.Warn("webhook subscription disabled: a delivery was given up", "delivery_id", deliveryID)
		if a.Metrics != nil {
			a.Metrics.WebhookSubscriptionsDisabled.Inc()
		}
	}
	return err
}

// countWebhook counts an attempt at a delivery, and the subscription it
// disabled.
func (a *Activities) countWebhook(delivered, disabled bool) {
	if a.Metrics == nil {
		return
	}
	result := "failed"
	if delivered {
		result = "delivered"
	}
	a.Metrics.WebhookAttempts.WithLabelValues(result).Inc()
	if disabled {
		a.Metrics.WebhookSubscriptionsDisabled.Inc()
	}
}
