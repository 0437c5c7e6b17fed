package domain

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// WebhookEvent names what an outbound webhook tells a receiver.
type WebhookEvent string

// The events a subscription may ask for.
const (
	EventMessageReceived     WebhookEvent = "message.received"
	EventMessageReplied      WebhookEvent = "message.replied"
	EventReportCreated       WebhookEvent = "report.created"
	EventReportStatusChanged WebhookEvent = "report.status_changed"
	EventHandedOff           WebhookEvent = "conversation.handed_off"
	EventResumed             WebhookEvent = "conversation.resumed"
	// EventKnowledgeChanged: an article of the knowledge base was
	// created, replaced or deleted.
	EventKnowledgeChanged WebhookEvent = "knowledge.article.changed"
	// EventFeedbackCreated: the person an answer was for rated it (or
	// rated it again).
	EventFeedbackCreated WebhookEvent = "feedback.created"
)

// WebhookEvents are all of them.
var WebhookEvents = []WebhookEvent{EventMessageReceived, EventMessageReplied, EventReportCreated,
	EventReportStatusChanged, EventHandedOff, EventResumed, EventKnowledgeChanged, EventFeedbackCreated}

// WebhookSubscription is a receiver of outbound webhooks: its URL, the
// events it wants and the secret its deliveries are signed with.
type WebhookSubscription struct {
	bun.BaseModel `bun:"table:webhook_subscriptions,alias:ws"`

	ID     int64     `bun:"id,pk,autoincrement" json:"id"`
	URL    string    `bun:"url,type:varchar(2048),notnull" json:"url"`
	Events EventList `bun:"events,type:varchar(512),notnull" json:"events"`
	// Secret signs deliveries; shown once, when the subscription is made.
	Secret    string `bun:"secret,type:varchar(128),notnull" json:"-"`
	IsActive  bool   `bun:"is_active,notnull,default:true" json:"is_active"`
	CreatedBy *int64 `bun:"created_by" json:"created_by"`
	// FailingSince is the first failed attempt since the last success; a
	// subscription failing for WebhookGiveUp is disabled.
	FailingSince *time.Time `bun:"failing_since" json:"failing_since"`
	// LastDeliveredAt is the last time the receiver accepted a delivery.
	LastDeliveredAt *time.Time `bun:"last_delivered_at" json:"last_delivered_at"`
	DisabledAt      *time.Time `bun:"disabled_at" json:"disabled_at"`
	DisabledReason  *string    `bun:"disabled_reason,type:varchar(255)" json:"disabled_reason"`
	Timestamps
}

// EventList is a subscription's events, stored comma-separated.
type EventList []WebhookEvent

// Value stores the list.
func (l EventList) Value() (driver.Value, error) {
	names := make([]string, len(l))
	for i, e := range l {
		names[i] = string(e)
	}
	return strings.Join(names, ","), nil
}

// Scan reads the list.
func (l *EventList) Scan(src any) error {
	var raw string
	switch v := src.(type) {
	case string:
		raw = v
	case []byte:
		raw = string(v)
	default:
		return fmt.Errorf("event list from %T", src)
	}
	*l = nil
	for _, e := range strings.Split(raw, ",") {
		if e != "" {
			*l = append(*l, WebhookEvent(e))
		}
	}
	return nil
}

// WebhookOutbox is an event waiting to be fanned out to the subscriptions
// that want it. Database triggers write it in the transaction of the
// change itself (a message, a report, a handoff), so no event is lost
// between a commit and a crash; the worker's dispatcher reads and deletes
// it. Nothing is written while no subscription is active.
type WebhookOutbox struct {
	bun.BaseModel `bun:"table:webhook_outbox,alias:wo"`

	ID             int64        `bun:"id,pk,autoincrement"`
	Type           WebhookEvent `bun:"type,type:varchar(64),notnull"`
	ObjectID       string       `bun:"object_id,type:varchar(100),notnull"`
	ConversationID *string      `bun:"conversation_id,type:varchar(100)"`
	// Detail is what the event changed from (a report's previous status).
	Detail    *string   `bun:"detail,type:varchar(64)"`
	CreatedAt time.Time `bun:"created_at,notnull"`
}

// DeliveryState is where a webhook delivery stands.
type DeliveryState string

// The states of a delivery.
const (
	WebhookPending   DeliveryState = "pending"
	WebhookDelivered DeliveryState = "delivered"
	// WebhookFailed: retried until the give-up time, never accepted.
	WebhookFailed DeliveryState = "failed"
	// WebhookCancelled: its subscription was deleted or disabled first.
	WebhookCancelled DeliveryState = "cancelled"
)

// WebhookDelivery is one event for one subscription: the body, signed at
// each attempt, and how the attempts went. EventID is the same for every
// subscription and attempt, for receivers to drop duplicates.
type WebhookDelivery struct {
	bun.BaseModel `bun:"table:webhook_deliveries,alias:wd"`

	ID             int64         `bun:"id,pk,autoincrement" json:"id"`
	SubscriptionID int64         `bun:"subscription_id,notnull,unique:webhook_deliveries_subscription_event_key" json:"subscription_id"`
	EventID        string        `bun:"event_id,type:varchar(64),notnull,unique:webhook_deliveries_subscription_event_key" json:"event_id"`
	Event          WebhookEvent  `bun:"event,type:varchar(64),notnull" json:"event"`
	ConversationID *string       `bun:"conversation_id,type:varchar(100)" json:"conversation_id"`
	Body           string        `bun:"body,type:text,notnull" json:"-"`
	State          DeliveryState `bun:"state,type:varchar(16),notnull" json:"state"`
	Attempts       int           `bun:"attempts,notnull,default:0" json:"attempts"`
	ResponseStatus *int          `bun:"response_status" json:"response_status"`
	LastError      *string       `bun:"last_error,type:varchar(512)" json:"last_error"`
	// StartedAt is when its workflow was started; the dispatcher starts
	// the ones without.
	StartedAt   *time.Time `bun:"started_at" json:"-"`
	DeliveredAt *time.Time `bun:"delivered_at" json:"delivered_at"`
	Timestamps
}

// ParseWebhookEvents checks a subscription's events: known, at least one,
// each once.
func ParseWebhookEvents(in []string) (EventList, error) {
	var out EventList
	for _, s := range in {
		e := WebhookEvent(s)
		if !slices.Contains(WebhookEvents, e) {
			return nil, invalid(fmt.Sprintf("unknown event %q", s))
		}
		if !slices.Contains(out, e) {
			out = append(out, e)
		}
	}
	if len(out) == 0 {
		return nil, invalid("events must name at least one event")
	}
	return out, nil
}

// CreateWebhook stores a subscription.
func CreateWebhook(ctx context.Context, db bun.IDB, url string, events EventList, secret string, by int64) (*WebhookSubscription, error) {
	s := &WebhookSubscription{URL: url, Events: events, Secret: secret, IsActive: true, CreatedBy: &by}
	if _, err := db.NewInsert().Model(s).Exec(ctx); err != nil {
		return nil, fmt.Errorf("create webhook: %w", err)
	}
	return s, nil
}

// ListWebhooks is every subscription, oldest first.
func ListWebhooks(ctx context.Context, db bun.IDB) ([]WebhookSubscription, error) {
	subs := []WebhookSubscription{}
	if err := db.NewSelect().Model(&subs).Order("id").Scan(ctx); err != nil {
		return nil, fmt.Errorf("list webhooks: %w", err)
	}
	return subs, nil
}

// WebhookByID is one subscription.
func WebhookByID(ctx context.Context, db bun.IDB, id int64) (*WebhookSubscription, error) {
	s := new(WebhookSubscription)
	err := db.NewSelect().Model(s).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read webhook %d: %w", id, err)
	}
	return s, nil
}

// DeleteWebhook removes a subscription and its deliveries; deliveries
// still retrying stop at their next attempt.
func DeleteWebhook(ctx context.Context, db bun.IDB, id int64) error {
	res, err := db.NewDelete().Model((*WebhookSubscription)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("delete webhook %d: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return ErrNotFound
	}
	return nil
}

// ListWebhookDeliveries is one page of a subscription's deliveries,
// newest first, and how many it has.
func ListWebhookDeliveries(ctx context.Context, db bun.IDB, subscriptionID int64, p Page) ([]WebhookDelivery, int, error) {
	out := []WebhookDelivery{}
	total, err := db.NewSelect().Model(&out).Where("subscription_id = ?", subscriptionID).
		Order("id DESC").Limit(int64(p.Limit)).Offset(int64(p.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list deliveries: %w", err)
	}
	return out, int(total), nil
}

// WebhookEnvelope is the JSON body of every delivery.
type WebhookEnvelope struct {
	ID        string       `json:"id"`
	Type      WebhookEvent `json:"type"`
	CreatedAt time.Time    `json:"created_at"`
	Data      any          `json:"data"`
}

// ModeEvent is the data of conversation.handed_off and
// conversation.resumed: who answers the conversation from At on.
type ModeEvent struct {
	ConversationID string    `json:"conversation_id"`
	Mode           Mode      `json:"mode"`
	AgentID        *int64    `json:"agent_id"`
	At             time.Time `json:"at"`
}

// ReportStatusChange is the data of report.status_changed.
type ReportStatusChange struct {
	Report
	PreviousStatus ReportStatus `json:"previous_status"`
}

// FanOutWebhooks turns up to limit outbox events, oldest first, into one
// delivery per active subscription that wants each, with the body built
// now, and deletes them from the outbox, in one transaction. Two
// dispatchers at once make each delivery once (the event id is unique
// per subscription). It reports how many events it took.
func FanOutWebhooks(ctx context.Context, db bun.IDB, limit int) (int, error) {
	var n int
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var events []WebhookOutbox
		if err := tx.NewSelect().Model(&events).Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
			return fmt.Errorf("read outbox: %w", err)
		}
		n = len(events)
		if n == 0 {
			return nil
		}
		var subs []WebhookSubscription
		if err := tx.NewSelect().Model(&subs).Where("is_active = ?", true).Scan(ctx); err != nil {
			return fmt.Errorf("read subscriptions: %w", err)
		}
		for _, ev := range events {
			if err := fanOut(ctx, tx, ev, subs); err != nil {
				return err
			}
		}
		ids := make([]int64, n)
		for i, ev := range events {
			ids[i] = ev.ID
		}
		if _, err := tx.NewDelete().Model((*WebhookOutbox)(nil)).Where("id IN (?)", bun.List(ids)).Exec(ctx); err != nil {
			return fmt.Errorf("clear outbox: %w", err)
		}
		return nil
	})
	return n, err
}

func fanOut(ctx context.Context, tx bun.Tx, ev WebhookOutbox, subs []WebhookSubscription) error {
	var wanting []WebhookSubscription
	for _, s := range subs {
		if slices.Contains(s.Events, ev.Type) {
			wanting = append(wanting, s)
		}
	}
	if len(wanting) == 0 {
		return nil
	}
	data, err := eventData(ctx, tx, ev)
	if errors.Is(err, ErrNotFound) {
		return nil // gone before it could be told (deleted with its user)
	}
	if err != nil {
		return err
	}
	id := "evt_" + strconv.FormatInt(ev.ID, 10)
	body, err := json.Marshal(WebhookEnvelope{ID: id, Type: ev.Type, CreatedAt: ev.CreatedAt, Data: data})
	if err != nil {
		return fmt.Errorf("encode event %s: %w", id, err)
	}
	deliveries := make([]WebhookDelivery, len(wanting))
	for i, s := range wanting {
		deliveries[i] = WebhookDelivery{SubscriptionID: s.ID, EventID: id, Event: ev.Type,
			ConversationID: ev.ConversationID, Body: string(body), State: WebhookPending}
	}
	if _, err := tx.NewInsert().Model(&deliveries).
		On("CONFLICT (subscription_id, event_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("store deliveries of %s: %w", id, err)
	}
	return nil
}

// eventData is what a receiver gets about the event's object.
func eventData(ctx context.Context, tx bun.Tx, ev WebhookOutbox) (any, error) {
	id, _ := strconv.ParseInt(ev.ObjectID, 10, 64)
	switch ev.Type {
	case EventMessageReceived, EventMessageReplied:
		return MessageByID(ctx, tx, id)
	case EventReportCreated, EventReportStatusChanged:
		r := new(Report)
		err := tx.NewSelect().Model(r).Where("id = ?", id).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return nil, ErrNotFound
		}
		if err != nil {
			return nil, fmt.Errorf("read report %d: %w", id, err)
		}
		if ev.Type == EventReportCreated {
			return r, nil
		}
		var previous ReportStatus
		if ev.Detail != nil {
			previous = ReportStatus(*ev.Detail)
		}
		return ReportStatusChange{Report: *r, PreviousStatus: previous}, nil
	case EventHandedOff, EventResumed:
		// The change itself, not the conversation's state now: it may have
		// changed again since.
		change := ModeEvent{ConversationID: ev.ObjectID, Mode: ModeAI, At: ev.CreatedAt}
		if ev.Type == EventHandedOff {
			change.Mode = ModeHuman
		}
		if ev.Detail != nil {
			if agent, err := strconv.ParseInt(*ev.Detail, 10, 64); err == nil {
				change.AgentID = &agent
			}
		}
		return change, nil
	case EventKnowledgeChanged:
		change := ArticleChange{ArticleID: id, At: ev.CreatedAt}
		if ev.Detail != nil {
			change.Change = ArticleChangeKind(*ev.Detail)
		}
		if change.Change != ArticleDeleted {
			a, err := ArticleByID(ctx, tx, id)
			if err != nil && !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			change.Article = a // nil: deleted since
		}
		return change, nil
	case EventFeedbackCreated:
		// The rating as it is now (nil: taken back since), and the answer.
		f, err := FeedbackOn(ctx, tx, id)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return nil, err
		}
		m, err := MessageByID(ctx, tx, id)
		if err != nil {
			return nil, err
		}
		return FeedbackEvent{Feedback: f, Message: m}, nil
	}
	return nil, fmt.Errorf("unknown event type %q", ev.Type)
}

// FeedbackEvent is the data of feedback.created: the rating (null once
// taken back) and the answer it rates.
type FeedbackEvent struct {
	Feedback *Feedback `json:"feedback"`
	Message  *Message  `json:"message"`
}

// ArticleChangeKind is what happened to an article.
type ArticleChangeKind string

// The changes of an article.
const (
	ArticleCreated  ArticleChangeKind = "created"
	ArticleReplaced ArticleChangeKind = "replaced"
	ArticleDeleted  ArticleChangeKind = "deleted"
)

// ArticleChange is the data of knowledge.article.changed: the change,
// and the article as it is when the event is sent (null once deleted).
type ArticleChange struct {
	ArticleID int64             `json:"article_id"`
	Change    ArticleChangeKind `json:"change"`
	At        time.Time         `json:"at"`
	Article   *Article          `json:"article"`
}

// tellWebhooks queues an event the database triggers do not write (they
// cover messages, reports and handoffs), in the transaction of the change,
// when some active subscription may want it.
func tellWebhooks(ctx context.Context, tx bun.Tx, event WebhookEvent, objectID, detail string) error {
	_, err := tx.NewRaw(`INSERT INTO webhook_outbox (type, object_id, detail, created_at)
		SELECT ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM webhook_subscriptions WHERE is_active)`,
		event, objectID, detail, Now()).Exec(ctx)
	if err != nil {
		return fmt.Errorf("queue %s event: %w", event, err)
	}
	return nil
}

// UnstartedWebhookDeliveries are deliveries whose workflow was not started
// yet, oldest first.
func UnstartedWebhookDeliveries(ctx context.Context, db bun.IDB, limit int) ([]WebhookDelivery, error) {
	var out []WebhookDelivery
	if err := db.NewSelect().Model(&out).Column("id").
		Where("started_at IS NULL AND state = ?", WebhookPending).Order("id").Limit(int64(limit)).Scan(ctx); err != nil {
		return nil, fmt.Errorf("unstarted deliveries: %w", err)
	}
	return out, nil
}

// MarkWebhookStarted records that a delivery's workflow runs.
func MarkWebhookStarted(ctx context.Context, db bun.IDB, id int64) error {
	if _, err := db.NewUpdate().Model((*WebhookDelivery)(nil)).Set("started_at = ?", Now()).
		Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("mark delivery %d started: %w", id, err)
	}
	return nil
}

// WebhookDeliveryByID is a delivery with its subscription; ErrNotFound
// when either is gone.
func WebhookDeliveryByID(ctx context.Context, db bun.IDB, id int64) (*WebhookDelivery, *WebhookSubscription, error) {
	d := new(WebhookDelivery)
	err := db.NewSelect().Model(d).Where("id = ?", id).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil, ErrNotFound
	}
	if err != nil {
		return nil, nil, fmt.Errorf("read delivery %d: %w", id, err)
	}
	s, err := WebhookByID(ctx, db, d.SubscriptionID)
	if err != nil {
		return nil, nil, err
	}
	return d, s, nil
}

// WebhookAttempt is how one attempt of a delivery went.
type WebhookAttempt struct {
	DeliveryID int64
	// Status is the receiver's HTTP status, 0 when none came.
	Status int
	Err    string
	At     time.Time
	// GiveUpAfter disables a subscription failing for that long.
	GiveUpAfter time.Duration
}

// RecordWebhookAttempt notes an attempt on the delivery and its
// subscription: a success ends the subscription's failing spell, a failure
// starts one or, past GiveUpAfter, disables the subscription. disabled
// reports that this attempt disabled it.
func RecordWebhookAttempt(ctx context.Context, db bun.IDB, a WebhookAttempt) (disabled bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, s, err := WebhookDeliveryByID(ctx, tx, a.DeliveryID)
		if err != nil {
			return err
		}
		q := tx.NewUpdate().Model(d).Set("attempts = attempts + 1").Set("updated_at = ?", a.At)
		if a.Status != 0 {
			q = q.Set("response_status = ?", a.Status)
		}
		if a.Err == "" {
			q = q.Set("state = ?", WebhookDelivered).Set("delivered_at = ?", a.At).Set("last_error = NULL")
		} else {
			q = q.Set("last_error = ?", truncated(a.Err, 512))
		}
		if _, err := q.WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("record attempt of delivery %d: %w", d.ID, err)
		}
		sq := tx.NewUpdate().Model(s).Set("updated_at = ?", a.At)
		switch {
		case a.Err == "":
			sq = sq.Set("failing_since = NULL").Set("last_delivered_at = ?", a.At)
		case s.FailingSince == nil:
			sq = sq.Set("failing_since = ?", a.At)
		case a.At.Sub(*s.FailingSince) >= a.GiveUpAfter && s.IsActive:
			reason := *truncated("failing since "+s.FailingSince.Format(time.RFC3339)+": "+a.Err, 255)
			sq = sq.Set("is_active = ?", false).Set("disabled_at = ?", a.At).Set("disabled_reason = ?", reason)
			disabled = true
		default:
			return nil
		}
		if _, err := sq.WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("record attempt on webhook %d: %w", s.ID, err)
		}
		return nil
	})
	return disabled, err
}

// EndWebhookDelivery gives a delivery its final state when it stops
// without success.
func EndWebhookDelivery(ctx context.Context, db bun.IDB, id int64, state DeliveryState) error {
	if _, err := db.NewUpdate().Model((*WebhookDelivery)(nil)).Set("state = ?", state).
		Set("updated_at = ?", Now()).Where("id = ? AND state = ?", id, WebhookPending).Exec(ctx); err != nil {
		return fmt.Errorf("end delivery %d: %w", id, err)
	}
	return nil
}

// GiveUpWebhookDelivery marks a delivery failed once it was retried for
// its whole budget. If its subscription accepted nothing since the
// delivery was made, the receiver has been failing that long: the
// subscription is disabled (disabled reports it).
func GiveUpWebhookDelivery(ctx context.Context, db bun.IDB, id int64, at time.Time) (disabled bool, err error) {
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d, s, err := WebhookDeliveryByID(ctx, tx, id)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if err := EndWebhookDelivery(ctx, tx, id, WebhookFailed); err != nil {
			return err
		}
		if !s.IsActive || (s.LastDeliveredAt != nil && !s.LastDeliveredAt.Before(d.CreatedAt)) {
			return nil
		}
		reason := "gave up on delivery " + d.EventID
		if d.LastError != nil {
			reason += ": " + *d.LastError
		}
		if _, err := tx.NewUpdate().Model(s).Set("is_active = ?", false).Set("disabled_at = ?", at).
			Set("disabled_reason = ?", *truncated(reason, 255)).Set("updated_at = ?", at).WherePK().Exec(ctx); err != nil {
			return fmt.Errorf("disable webhook %d: %w", s.ID, err)
		}
		disabled = true
		return nil
	})
	return disabled, err
}

// ErrPrivateAddress refuses a webhook to this network's own machines.
var ErrPrivateAddress = errors.New("webhook URL resolves to a loopback, private or link-local address")

// specialRange is a block of addresses a webhook may not go to.
type specialRange struct {
	prefix netip.Prefix
	name   string
	// carried, for the forms of IPv6 address that carry an IPv4 one,
	// decodes it, so a refusal can name the range of the address meant.
	carried func(netip.Addr) netip.Addr
}

// specialRanges are the blocks of IANA's IPv4 and IPv6 Special-Purpose
// Address Registries (RFC 6890; iana.org/assignments/iana-ipv4-special-registry
// and iana-ipv6-special-registry, as of 2025), whether or not the registry
// calls them globally reachable, with what the registries leave out:
// multicast (224.0.0.0/4, ff00::/8), the deprecated IPv4-compatible
// (::/96) and site-local (fec0::/10) forms, and all of IPv6 outside
// 2000::/3, the only block IANA allocates as global unicast. IPv4-mapped
// addresses (::ffff:0:0/96) are not here: they are their IPv4 address
// (the resolver answers IPv4 in that form and the dialer connects over
// IPv4), and are checked as one. The longest prefix that holds an
// address names it.
var specialRanges = []specialRange{
	{prefix: netip.MustParsePrefix("0.0.0.0/8"), name: "this network, RFC 791"},
	{prefix: netip.MustParsePrefix("10.0.0.0/8"), name: "private, RFC 1918"},
	{prefix: netip.MustParsePrefix("100.64.0.0/10"), name: "shared address space (carrier-grade NAT), RFC 6598"},
	{prefix: netip.MustParsePrefix("127.0.0.0/8"), name: "loopback, RFC 1122"},
	{prefix: netip.MustParsePrefix("169.254.0.0/16"), name: "link-local, RFC 3927"},
	{prefix: netip.MustParsePrefix("172.16.0.0/12"), name: "private, RFC 1918"},
	{prefix: netip.MustParsePrefix("192.0.0.0/24"), name: "IETF protocol assignments, RFC 6890"},
	{prefix: netip.MustParsePrefix("192.0.2.0/24"), name: "documentation (TEST-NET-1), RFC 5737"},
	{prefix: netip.MustParsePrefix("192.31.196.0/24"), name: "AS112-v4, RFC 7535"},
	{prefix: netip.MustParsePrefix("192.52.193.0/24"), name: "AMT, RFC 7450"},
	{prefix: netip.MustParsePrefix("192.88.99.0/24"), name: "deprecated 6to4 relay anycast, RFC 7526"},
	{prefix: netip.MustParsePrefix("192.168.0.0/16"), name: "private, RFC 1918"},
	{prefix: netip.MustParsePrefix("192.175.48.0/24"), name: "direct delegation AS112 service, RFC 7534"},
	{prefix: netip.MustParsePrefix("198.18.0.0/15"), name: "benchmarking, RFC 2544"},
	{prefix: netip.MustParsePrefix("198.51.100.0/24"), name: "documentation (TEST-NET-2), RFC 5737"},
	{prefix: netip.MustParsePrefix("203.0.113.0/24"), name: "documentation (TEST-NET-3), RFC 5737"},
	{prefix: netip.MustParsePrefix("224.0.0.0/4"), name: "multicast, RFC 5771"},
	{prefix: netip.MustParsePrefix("240.0.0.0/4"), name: "reserved, RFC 1112"},
	{prefix: netip.MustParsePrefix("255.255.255.255/32"), name: "limited broadcast, RFC 919"},

	{prefix: netip.MustParsePrefix("::/128"), name: "unspecified, RFC 4291"},
	{prefix: netip.MustParsePrefix("::1/128"), name: "loopback, RFC 4291"},
	{prefix: netip.MustParsePrefix("::/96"), name: "IPv4-compatible (deprecated), RFC 4291", carried: last32},
	{prefix: netip.MustParsePrefix("64:ff9b::/96"), name: "NAT64, RFC 6052", carried: last32},
	{prefix: netip.MustParsePrefix("64:ff9b:1::/48"), name: "local-use NAT64, RFC 8215"},
	{prefix: netip.MustParsePrefix("100::/64"), name: "discard-only, RFC 6666"},
	{prefix: netip.MustParsePrefix("2001::/23"), name: "IETF protocol assignments, RFC 2928"},
	{prefix: netip.MustParsePrefix("2001::/32"), name: "Teredo, RFC 4380", carried: teredoClient},
	{prefix: netip.MustParsePrefix("2001:db8::/32"), name: "documentation, RFC 3849"},
	{prefix: netip.MustParsePrefix("2002::/16"), name: "6to4, RFC 3056", carried: sixToFour},
	{prefix: netip.MustParsePrefix("2620:4f:8000::/48"), name: "direct delegation AS112 service, RFC 7534"},
	{prefix: netip.MustParsePrefix("3fff::/20"), name: "documentation, RFC 9637"},
	{prefix: netip.MustParsePrefix("5f00::/16"), name: "segment routing (SRv6) SIDs, RFC 9602"},
	{prefix: netip.MustParsePrefix("fc00::/7"), name: "unique local, RFC 4193"},
	{prefix: netip.MustParsePrefix("fe80::/10"), name: "link-local, RFC 4291"},
	{prefix: netip.MustParsePrefix("fec0::/10"), name: "site-local (deprecated), RFC 3879"},
	{prefix: netip.MustParsePrefix("ff00::/8"), name: "multicast, RFC 4291"},
	{prefix: netip.MustParsePrefix("::/3"), name: "not global unicast (2000::/3)"},
	{prefix: netip.MustParsePrefix("4000::/2"), name: "not global unicast (2000::/3)"},
	{prefix: netip.MustParsePrefix("8000::/1"), name: "not global unicast (2000::/3)"},
}

// last32 is the IPv4 address in the last 32 bits (NAT64, IPv4-compatible).
func last32(ip netip.Addr) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte(b[12:]))
}

// sixToFour is the IPv4 address of a 6to4 site, 2002:AABB:CCDD::/48.
func sixToFour(ip netip.Addr) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte(b[2:6]))
}

// teredoClient is the IPv4 address of a Teredo client, stored inverted in
// the last 32 bits.
func teredoClient(ip netip.Addr) netip.Addr {
	b := ip.As16()
	return netip.AddrFrom4([4]byte{^b[12], ^b[13], ^b[14], ^b[15]})
}

// specialRangeOf is the most specific special range holding ip, if any.
func specialRangeOf(ip netip.Addr) (specialRange, bool) {
	var found specialRange
	for _, r := range specialRanges {
		if r.prefix.Contains(ip) && (!found.prefix.IsValid() || r.prefix.Bits() > found.prefix.Bits()) {
			found = r
		}
	}
	return found, found.prefix.IsValid()
}

// CheckWebhookAddress refuses an address a webhook may not go to: one of
// specialRanges, or not an address. The error wraps ErrPrivateAddress and
// names the range; for an IPv6 form carrying an IPv4 address, the range of
// that address when it has one. New subscriptions and the sender, at each
// connection, both check with it.
func CheckWebhookAddress(ip netip.Addr) error {
	if !ip.IsValid() {
		return fmt.Errorf("%w: not an IP address", ErrPrivateAddress)
	}
	// Prefixes never hold an address with a zone; the zone only says
	// which link it is on.
	ip = ip.WithZone("").Unmap()
	r, ok := specialRangeOf(ip)
	if !ok {
		return nil
	}
	why := fmt.Sprintf("%s (%s)", r.prefix, r.name)
	if r.carried != nil {
		if inner, ok := specialRangeOf(r.carried(ip)); ok {
			why += fmt.Sprintf(" carrying an IPv4 address in %s (%s)", inner.prefix, inner.name)
		}
	}
	return fmt.Errorf("%w: %s", ErrPrivateAddress, why)
}

// CheckWebhookURL refuses a URL a webhook may not go to, from what the URL
// says: not absolute http(s), credentials or a fragment in it, or, unless
// allowPrivate, plain http or an IP address CheckWebhookAddress refuses.
// The domain does no network I/O: a host given by name comes back as name,
// for the caller to resolve and check each of its addresses with
// CheckWebhookAddress; name is "" when nothing is left to check. The
// sender checks the address again when it connects.
func CheckWebhookURL(raw string, allowPrivate bool) (name string, err error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil || u.Fragment != "" {
		return "", invalid("url must be an absolute http(s) URL without credentials")
	}
	if allowPrivate {
		return "", nil
	}
	if u.Scheme != "https" {
		return "", invalid("url must use https")
	}
	host := u.Hostname()
	if host == "" {
		return "", invalid("url's host does not resolve")
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host, nil
	}
	if err := CheckWebhookAddress(ip); err != nil {
		return "", invalid(err.Error())
	}
	return "", nil
}
