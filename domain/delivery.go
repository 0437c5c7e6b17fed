package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/uptrace/bun"
)

// Delivery is one provider message carrying (part of) a reply: a long reply
// goes out as several SMS. A part is recorded before it is sent, and gets
// the provider's id once accepted, so a retried delivery knows what went out.
type Delivery struct {
	bun.BaseModel `bun:"table:deliveries,alias:d"`

	ID         int64          `bun:"id,pk,autoincrement"`
	MessageID  int64          `bun:"message_id,notnull,unique:deliveries_message_id_part_key"`
	Part       int            `bun:"part,notnull,unique:deliveries_message_id_part_key"`
	ProviderID *string        `bun:"provider_id,type:varchar(64),unique"`
	Status     DeliveryStatus `bun:"status,type:varchar(20),notnull"`
	// SentAt is when the part was first handed to the provider.
	SentAt time.Time `bun:"sent_at,notnull"`
	Timestamps
}

// StartDeliveries records the parts of a reply about to be sent (status
// pending), all of them before the first goes out, so the reply's status,
// which follows its least advanced part, never runs ahead of a part not
// yet sent. Called again, it keeps the records there are, and returns them
// in part order.
func StartDeliveries(ctx context.Context, db bun.IDB, messageID int64, parts int) ([]Delivery, error) {
	now := Now()
	rows := make([]Delivery, parts)
	for i := range rows {
		rows[i] = Delivery{MessageID: messageID, Part: i, Status: DeliveryPending, SentAt: now,
			Timestamps: Timestamps{CreatedAt: now, UpdatedAt: now}}
	}
	if _, err := db.NewInsert().Model(&rows).On("CONFLICT (message_id, part) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("start deliveries: %w", err)
	}
	var out []Delivery
	if err := db.NewSelect().Model(&out).Where("message_id = ? AND part < ?", messageID, parts).
		Order("part").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read deliveries: %w", err)
	}
	if len(out) != parts {
		return nil, fmt.Errorf("read deliveries: %d of %d parts recorded", len(out), parts)
	}
	return out, nil
}

// EarlyReport is a provider's status report that arrived before the
// provider's id was recorded (the callback can beat the API's answer).
type EarlyReport struct {
	bun.BaseModel `bun:"table:early_delivery_reports,alias:edr"`

	ID         int64          `bun:"id,pk,autoincrement"`
	ProviderID string         `bun:"provider_id,type:varchar(64),notnull,unique"`
	Status     DeliveryStatus `bun:"status,type:varchar(20),notnull"`
	// Reason is why the provider could not deliver, when it said so
	// (NoteDeliveryError before the id was recorded).
	Reason *string `bun:"reason,type:varchar(64)"`
	Timestamps
}

// AcceptDelivery records the provider's id and status for a part, then
// applies any status report for that id that came first.
func AcceptDelivery(ctx context.Context, db bun.IDB, id int64, providerID string, status DeliveryStatus) error {
	if _, err := db.NewUpdate().Model((*Delivery)(nil)).Set("provider_id = ?", providerID).
		Set("updated_at = ?", Now()).Where("id = ?", id).Exec(ctx); err != nil {
		return fmt.Errorf("accept delivery: %w", err)
	}
	if _, err := advance(ctx, db, (*Delivery)(nil), "status", status, "id = ?", id); err != nil {
		return fmt.Errorf("accept delivery: %w", err)
	}
	var early []EarlyReport
	if err := db.NewSelect().Model(&early).Where("provider_id = ?", providerID).Scan(ctx); err != nil {
		return fmt.Errorf("read early reports: %w", err)
	}
	for _, r := range early {
		if err := UpdateDeliveryStatus(ctx, db, providerID, r.Status); err != nil {
			return err
		}
		if r.Reason != nil {
			if err := NoteDeliveryError(ctx, db, providerID, *r.Reason); err != nil {
				return err
			}
		}
	}
	if len(early) > 0 {
		if _, err := db.NewDelete().Model((*EarlyReport)(nil)).Where("provider_id = ?", providerID).Exec(ctx); err != nil {
			return fmt.Errorf("delete early reports: %w", err)
		}
	}
	return nil
}

// keepEarlyReport stores a report for an id not recorded yet, keeping the
// most advanced status if several arrive.
func keepEarlyReport(ctx context.Context, db bun.IDB, providerID string, status DeliveryStatus) error {
	if _, err := db.NewInsert().Model(&EarlyReport{ProviderID: providerID, Status: status}).
		On("CONFLICT (provider_id) DO NOTHING").Exec(ctx); err != nil {
		return fmt.Errorf("keep early report: %w", err)
	}
	if _, err := advance(ctx, db, (*EarlyReport)(nil), "status", status, "provider_id = ?", providerID); err != nil {
		return fmt.Errorf("keep early report: %w", err)
	}
	return nil
}

// deliveryRank orders the delivery states: a status only ever moves to a
// higher rank, so reports that arrive late or twice change nothing, and
// the failures, ranked highest, are final.
var deliveryRank = []DeliveryStatus{
	DeliveryPending, DeliveryQueued, DeliverySent, DeliveryDelivered, DeliveryUndelivered, DeliveryFailed,
}

func rankOf(s DeliveryStatus) int {
	if s == DeliveryFailed {
		return slices.Index(deliveryRank, DeliveryUndelivered)
	}
	return slices.Index(deliveryRank, s)
}

// rankSQL is the rank of the status in column, in SQL (-1 when NULL).
func rankSQL(column string) string {
	var b strings.Builder
	b.WriteString("CASE " + column)
	for _, s := range deliveryRank {
		fmt.Fprintf(&b, " WHEN '%s' THEN %d", s, rankOf(s))
	}
	b.WriteString(" ELSE -1 END")
	return b.String()
}

// advance is the one place a delivery status is written: it moves the
// status column of the rows of model matching where to status if that is a
// step forward, in one statement (concurrent writers cannot step back
// between a read and a write), and says whether it did.
func advance(ctx context.Context, db bun.IDB, model any, column string, status DeliveryStatus, where string, args ...any) (bool, error) {
	res, err := db.NewUpdate().Model(model).
		Set(column+" = ?", status).Set("updated_at = ?", Now()).
		Where(where, args...).Where(rankSQL(column)+" < ?", rankOf(status)).Exec(ctx)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// AdvanceDelivery records how far a reply got with its channel: its
// status moves forward only (a status report may have taken it further
// already: a delivery receipt can arrive before the sender records the
// provider's answer). The provider's id, when given, is recorded whatever
// the status.
func AdvanceDelivery(ctx context.Context, db bun.IDB, messageID int64, status DeliveryStatus, providerID *string) error {
	if providerID != nil {
		if _, err := db.NewUpdate().Model((*Message)(nil)).Set("provider_message_id = ?", *providerID).
			Set("updated_at = ?", Now()).Where("id = ?", messageID).Exec(ctx); err != nil {
			return fmt.Errorf("record provider id: %w", err)
		}
	}
	if _, err := advance(ctx, db, (*Message)(nil), "delivery_status", status, "id = ?", messageID); err != nil {
		return fmt.Errorf("advance delivery: %w", err)
	}
	return nil
}

// ParseDeliveryStatus maps a provider's status word to ours.
func ParseDeliveryStatus(s string) (DeliveryStatus, bool) {
	switch s {
	case "accepted", "scheduled", "queued":
		return DeliveryQueued, true
	case "sending", "sent":
		return DeliverySent, true
	case "delivered", "read":
		return DeliveryDelivered, true
	case "undelivered":
		return DeliveryUndelivered, true
	case "failed", "canceled":
		return DeliveryFailed, true
	}
	return "", false
}

// UpdateDeliveryStatus applies a provider's status report for providerID,
// idempotently and never backwards: reports arrive out of order, and a
// failure stays. The reply's own delivery status follows its least
// advanced part (a sender records every part before it sends the first).
// A report for an id not recorded yet is kept and applied when it is.
func UpdateDeliveryStatus(ctx context.Context, db bun.IDB, providerID string, status DeliveryStatus) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		d := new(Delivery)
		err := tx.NewSelect().Model(d).Where("provider_id = ?", providerID).Scan(ctx)
		if errors.Is(err, sql.ErrNoRows) {
			return keepEarlyReport(ctx, tx, providerID, status)
		}
		if err != nil {
			return fmt.Errorf("read delivery: %w", err)
		}
		moved, err := advance(ctx, tx, (*Delivery)(nil), "status", status, "id = ?", d.ID)
		if err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		if !moved {
			return nil
		}
		var parts []Delivery
		if err := tx.NewSelect().Model(&parts).Where("message_id = ?", d.MessageID).Scan(ctx); err != nil {
			return fmt.Errorf("read parts: %w", err)
		}
		least := parts[0].Status
		for _, p := range parts {
			if rankOf(p.Status) >= rankOf(DeliveryUndelivered) {
				least = p.Status
				break
			}
			if rankOf(p.Status) < rankOf(least) {
				least = p.Status
			}
		}
		return AdvanceDelivery(ctx, tx, d.MessageID, least, nil)
	})
}

// FailDelivery records that a message will not be delivered, and why
// (reason: a short code, see Message.DeliveryError). A message that went
// out (its status past pending: the provider took every part) keeps its
// status, and a reason recorded first stays: the sender that was refused
// knows better than the workflow that gave up after it. It says whether
// it recorded the failure.
func FailDelivery(ctx context.Context, db bun.IDB, messageID int64, reason string) (bool, error) {
	res, err := db.NewUpdate().Model((*Message)(nil)).
		Set("delivery_status = ?", DeliveryFailed).Set("delivery_error = ?", reason).Set("updated_at = ?", Now()).
		Where("id = ? AND delivery_error IS NULL", messageID).
		WhereGroup(" AND ", func(q *bun.UpdateQuery) *bun.UpdateQuery {
			return q.Where("delivery_status IS NULL").WhereOr("delivery_status IN (?)", bun.List([]DeliveryStatus{DeliveryPending, DeliveryFailed}))
		}).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("fail delivery: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("fail delivery: %w", err)
	}
	return n > 0, nil
}

// LastInboundAt is when the person at address last wrote to the assistant
// on channel (zero: never). WhatsApp lets a business answer freely only
// within 24 hours of that.
func LastInboundAt(ctx context.Context, db bun.IDB, ch Channel, address string) (time.Time, error) {
	var at []time.Time
	err := db.NewSelect().Model((*Message)(nil)).Column("created_at").
		Where("address = ? AND channel = ?", address, ch).
		Where("recipient_id = (?)", db.NewSelect().Model((*User)(nil)).Column("id").Where("username = ?", AssistantUsername)).
		Order("id DESC").Limit(1).Scan(ctx, &at)
	if err != nil {
		return time.Time{}, fmt.Errorf("last inbound message: %w", err)
	}
	if len(at) == 0 {
		return time.Time{}, nil
	}
	return at[0], nil
}

// DropUnsentParts forgets the parts of a reply from part keep on that
// were recorded but never sent: the reply goes out in fewer messages (a
// WhatsApp template instead of its text).
func DropUnsentParts(ctx context.Context, db bun.IDB, messageID int64, keep int) error {
	if _, err := db.NewDelete().Model((*Delivery)(nil)).
		Where("message_id = ? AND part >= ? AND provider_id IS NULL", messageID, keep).Exec(ctx); err != nil {
		return fmt.Errorf("drop unsent parts: %w", err)
	}
	return nil
}

// NoteDeliveryError records why the provider could not deliver the
// message it knows as providerID, when its status report said so after
// it took the message (WhatsApp's window, a handset unreachable). A
// reason recorded first stays.
func NoteDeliveryError(ctx context.Context, db bun.IDB, providerID, reason string) error {
	_, err := db.NewUpdate().Model((*Message)(nil)).
		Set("delivery_error = ?", reason).Set("updated_at = ?", Now()).
		Where("id = (?)", db.NewSelect().Model((*Delivery)(nil)).Column("message_id").Where("provider_id = ?", providerID)).
		Where("delivery_error IS NULL AND delivery_status IN (?)", bun.List([]DeliveryStatus{DeliveryFailed, DeliveryUndelivered})).
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("note delivery error: %w", err)
	}
	// A report that came before the id was recorded keeps its reason
	// until AcceptDelivery applies it.
	if _, err := db.NewUpdate().Model((*EarlyReport)(nil)).Set("reason = ?", reason).
		Where("provider_id = ? AND reason IS NULL", providerID).Exec(ctx); err != nil {
		return fmt.Errorf("note delivery error: %w", err)
	}
	return nil
}

// EarlierUndelivered says whether a message to the same person, in the
// same conversation and on the same channel, older than m and written
// since since, is still waiting for its provider to take it: m must wait
// for it, or the person would read the replies out of order.
func EarlierUndelivered(ctx context.Context, db bun.IDB, m *Message, since time.Time) (bool, error) {
	if m.ConversationID == nil {
		return false, nil
	}
	ok, err := db.NewSelect().Model((*Message)(nil)).
		Where("conversation_id = ? AND id < ? AND recipient_id = ? AND channel = ?", *m.ConversationID, m.ID, m.RecipientID, m.Channel).
		Where("delivery_status = ? AND created_at > ?", DeliveryPending, since.UTC()).
		Exists(ctx)
	if err != nil {
		return false, fmt.Errorf("earlier messages undelivered: %w", err)
	}
	return ok, nil
}
