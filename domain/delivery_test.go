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
			AnswersUpTo: in.ID, Content: "hi", Channel: domain.ChannelTwilio})
		require.NoError(t, err)
		assert.Equal(t, a.ID, reply.SenderID)
		status := func() domain.DeliveryStatus {
			m, err := domain.MessageByID(ctx, db, reply.ID)
			require.NoError(t, err)
			return *m.DeliveryStatus
		}

		// "delivered" arrives before the SID is recorded, then "sent".
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM1", domain.DeliveryDelivered))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM1", domain.DeliverySent))
		d, err := domain.StartDelivery(ctx, db, reply.ID, 0)
		require.NoError(t, err)
		require.NoError(t, domain.AcceptDelivery(ctx, db, d.ID, "SM1", domain.DeliveryQueued))
		assert.Equal(t, domain.DeliveryDelivered, status(), "the early report was applied")

		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM1", domain.DeliveryQueued))
		assert.Equal(t, domain.DeliveryDelivered, status(), "never backwards")

		// A second part: the reply is as far as its least advanced part, and failed is final.
		d2, err := domain.StartDelivery(ctx, db, reply.ID, 1)
		require.NoError(t, err)
		require.NoError(t, domain.AcceptDelivery(ctx, db, d2.ID, "SM2", domain.DeliveryQueued))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliverySent))
		assert.Equal(t, domain.DeliverySent, status())
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliveryFailed))
		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM2", domain.DeliveryDelivered))
		assert.Equal(t, domain.DeliveryFailed, status())
	})
}
