package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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

// DeliveryFor reads the record of one part of a reply, ErrNotFound if none.
func DeliveryFor(ctx context.Context, db bun.IDB, messageID int64, part int) (*Delivery, error) {
	d := new(Delivery)
	err := db.NewSelect().Model(d).Where("message_id = ? AND part = ?", messageID, part).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read delivery: %w", err)
	}
	return d, nil
}

// StartDelivery records that a part is about to be sent (status pending).
// Called again for the same part, it keeps the first record.
func StartDelivery(ctx context.Context, db bun.IDB, messageID int64, part int) (*Delivery, error) {
	d := &Delivery{MessageID: messageID, Part: part, Status: DeliveryPending, SentAt: Now()}
	if _, err := db.NewInsert().Model(d).On("CONFLICT (message_id, part) DO NOTHING").Exec(ctx); err != nil {
		return nil, fmt.Errorf("start delivery: %w", err)
	}
	return DeliveryFor(ctx, db, messageID, part)
}

// EarlyReport is a provider's status report that arrived before the
// provider's id was recorded (the callback can beat the API's answer).
type EarlyReport struct {
	bun.BaseModel `bun:"table:early_delivery_reports,alias:edr"`

	ID         int64          `bun:"id,pk,autoincrement"`
	ProviderID string         `bun:"provider_id,type:varchar(64),notnull,unique"`
	Status     DeliveryStatus `bun:"status,type:varchar(20),notnull"`
	Timestamps
}

// AcceptDelivery records the provider's id and status for a part, then
// applies any status report for that id that came first.
func AcceptDelivery(ctx context.Context, db bun.IDB, id int64, providerID string, status DeliveryStatus) error {
	if _, err := db.NewUpdate().Model((*Delivery)(nil)).Set("provider_id = ?", providerID).
		Set("status = ?", status).Set("updated_at = ?", Now()).Where("id = ?", id).Exec(ctx); err != nil {
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
	var cur EarlyReport
	err := db.NewSelect().Model(&cur).Where("provider_id = ?", providerID).Scan(ctx)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		_, err = db.NewInsert().Model(&EarlyReport{ProviderID: providerID, Status: status}).
			On("CONFLICT (provider_id) DO NOTHING").Exec(ctx)
	case err == nil && deliveryRank[status] > deliveryRank[cur.Status] && deliveryRank[cur.Status] < deliveryRank[DeliveryUndelivered]:
		_, err = db.NewUpdate().Model((*EarlyReport)(nil)).Set("status = ?", status).Set("updated_at = ?", Now()).
			Where("id = ?", cur.ID).Exec(ctx)
	}
	if err != nil {
		return fmt.Errorf("keep early report: %w", err)
	}
	return nil
}

// deliveryRank orders the states a provider reports; failures are final.
var deliveryRank = map[DeliveryStatus]int{
	DeliveryPending: 0, DeliveryQueued: 1, "accepted": 1, "sending": 2, DeliverySent: 3,
	DeliveryDelivered: 4, "read": 5, DeliveryUndelivered: 6, DeliveryFailed: 6,
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
// final state (delivered, undelivered, failed) stays. The reply's own
// delivery status follows its least advanced part. A report for an id not
// recorded yet is kept and applied when it is.
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
		if deliveryRank[status] <= deliveryRank[d.Status] || deliveryRank[d.Status] >= deliveryRank[DeliveryUndelivered] {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*Delivery)(nil)).Set("status = ?", status).Set("updated_at = ?", Now()).
			Where("id = ?", d.ID).Exec(ctx); err != nil {
			return fmt.Errorf("update delivery: %w", err)
		}
		var parts []Delivery
		if err := tx.NewSelect().Model(&parts).Where("message_id = ?", d.MessageID).Scan(ctx); err != nil {
			return fmt.Errorf("read parts: %w", err)
		}
		least := status
		for _, p := range parts {
			st := p.Status
			if p.ID == d.ID {
				st = status
			}
			if deliveryRank[st] < deliveryRank[least] || deliveryRank[st] >= deliveryRank[DeliveryUndelivered] {
				least = st
				if deliveryRank[st] >= deliveryRank[DeliveryUndelivered] {
					break
				}
			}
		}
		return SetDelivery(ctx, tx, d.MessageID, least, nil)
	})
}
