package domain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// Status reports arrive in any order, even before the provider's id is
// recorded; the result is the most advanced status, and final ones stay.
func TestDeliveryStatusReports(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "sms", false), assistant(t, db)
		in, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "hello",
			Channel: domain.ChannelTwilio})
		require.NoError(t, err)
		reply, err := domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
			AnswersUpTo: in.ID, Content: "hi"})
		require.NoError(t, err)
		assert.Equal(t, a.ID, reply.SenderID)
		status := func() domain.DeliveryStatus {
			m, err := domain.MessageByID(ctx, db, reply.ID)
			require.NoError(t, err)
			return *m.DeliveryStatus
		}

		// The sender records both parts before it sends the first.
		parts, err := domain.StartDeliveries(ctx, db, reply.ID, 2)
		require.NoError(t, err)
		require.Len(t, parts, 2)
		again, err := domain.StartDeliveries(ctx, db, reply.ID, 2)
		require.NoError(t, err)
		assert.Equal(t, parts[1].ID, again[1].ID, "recording again keeps the records")

		// "delivered" arrives before the SID is recorded, then "sent".
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM1", domain.DeliveryDelivered))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM1", domain.DeliverySent))
		require.NoError(t, domain.AcceptDelivery(ctx, db, parts[0].ID, "SM1", domain.DeliveryQueued))
		part := func(i int) domain.DeliveryStatus {
			var d domain.Delivery
			require.NoError(t, db.NewSelect().Model(&d).Where("id = ?", parts[i].ID).Scan(ctx))
			return d.Status
		}
		assert.Equal(t, domain.DeliveryDelivered, part(0), "the early report was applied")
		assert.Equal(t, domain.DeliveryPending, status(), "the reply waits for its second part")

		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM1", domain.DeliveryQueued))
		assert.Equal(t, domain.DeliveryDelivered, part(0), "never backwards")

		// The reply is as far as its least advanced part, and failed is final.
		require.NoError(t, domain.AcceptDelivery(ctx, db, parts[1].ID, "SM2", domain.DeliveryQueued))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliverySent))
		assert.Equal(t, domain.DeliverySent, status())
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliveryDelivered))
		assert.Equal(t, domain.DeliveryDelivered, status())
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliveryFailed))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliveryDelivered))
		assert.Equal(t, domain.DeliveryFailed, status())

		// The sender's own record of what it did comes last: it keeps the id, not its status.
		require.NoError(t, domain.AdvanceDelivery(ctx, db, reply.ID, domain.DeliverySent, ptr("SM1")))
		assert.Equal(t, domain.DeliveryFailed, status())
		m, err := domain.MessageByID(ctx, db, reply.ID)
		require.NoError(t, err)
		assert.Equal(t, "SM1", *m.ProviderMessageID)
	})
}

// A delivery receipt that arrives between the provider's answer and the
// sender's record of it is not undone by that record: the reply stays
// delivered.
func TestAnEarlyReceiptIsNotOverwrittenBySent(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u := newUser(t, db, "sms", false)
		in, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: assistant(t, db).ID,
			Content: "hello"})
		require.NoError(t, err)
		reply, err := domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
			AnswersUpTo: in.ID, Content: "hi"})
		require.NoError(t, err)

		parts, err := domain.StartDeliveries(ctx, db, reply.ID, 1)
		require.NoError(t, err)
		require.NoError(t, domain.AcceptDelivery(ctx, db, parts[0].ID, "SM9", domain.DeliveryQueued))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM9", domain.DeliveryDelivered))
		require.NoError(t, domain.AdvanceDelivery(ctx, db, reply.ID, domain.DeliverySent, ptr("SM9")))

		m, err := domain.MessageByID(ctx, db, reply.ID)
		require.NoError(t, err)
		assert.Equal(t, domain.DeliveryDelivered, *m.DeliveryStatus)
		assert.Equal(t, "SM9", *m.ProviderMessageID)
	})
}
