package domain_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// A reply not delivered is recorded failed once, with the first reason
// given (the sender's refusal before the workflow's giving up), and a
// reply that went out is never marked failed.
func TestFailDeliveryKeepsTheFirstReason(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "sms", false), assistant(t, db)
		reply := func(text string) *domain.Message {
			in, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: text,
				Channel: domain.ChannelTwilio})
			require.NoError(t, err)
			m, err := domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
				AnswersUpTo: in.ID, Content: "re: " + text})
			require.NoError(t, err)
			return m
		}
		read := func(id int64) *domain.Message {
			m, err := domain.MessageByID(ctx, db, id)
			require.NoError(t, err)
			return m
		}

		refused := reply("one")
		ok, err := domain.FailDelivery(ctx, db, refused.ID, "twilio_21211")
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = domain.FailDelivery(ctx, db, refused.ID, "gave_up")
		require.NoError(t, err)
		assert.False(t, ok, "recorded once")
		m := read(refused.ID)
		assert.Equal(t, domain.DeliveryFailed, *m.DeliveryStatus)
		assert.Equal(t, "twilio_21211", *m.DeliveryError)

		// Failed before the reasons were recorded: the reason is added.
		old := reply("two")
		require.NoError(t, domain.AdvanceDelivery(ctx, db, old.ID, domain.DeliveryFailed, nil))
		ok, err = domain.FailDelivery(ctx, db, old.ID, "gave_up")
		require.NoError(t, err)
		assert.True(t, ok)
		assert.Equal(t, "gave_up", *read(old.ID).DeliveryError)

		sid := "SM1"
		sent := reply("three")
		require.NoError(t, domain.AdvanceDelivery(ctx, db, sent.ID, domain.DeliverySent, &sid))
		ok, err = domain.FailDelivery(ctx, db, sent.ID, "gave_up")
		require.NoError(t, err)
		assert.False(t, ok, "it went out")
		m = read(sent.ID)
		assert.Equal(t, domain.DeliverySent, *m.DeliveryStatus)
		assert.Nil(t, m.DeliveryError)
	})
}

// The last inbound time of an address counts the person's messages to
// the assistant from it, not the replies sent there nor other addresses.
func TestLastInboundAt(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "wa", false), assistant(t, db)
		addr, other := "whatsapp:+14155552671", "whatsapp:+14155550000"
		at, err := domain.LastInboundAt(ctx, db, domain.ChannelTwilio, addr)
		require.NoError(t, err)
		assert.True(t, at.IsZero(), "never wrote")

		in, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "hi",
			Channel: domain.ChannelTwilio, Address: &addr})
		require.NoError(t, err)
		long := domain.Now().Add(-25 * time.Hour)
		_, err = db.NewUpdate().Model((*domain.Message)(nil)).Set("created_at = ?", long).Where("id = ?", in.ID).Exec(ctx)
		require.NoError(t, err)
		_, err = domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
			AnswersUpTo: in.ID, Content: "hello"})
		require.NoError(t, err)
		_, err = domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "other phone",
			Channel: domain.ChannelTwilio, Address: &other})
		require.NoError(t, err)

		at, err = domain.LastInboundAt(ctx, db, domain.ChannelTwilio, addr)
		require.NoError(t, err)
		assert.True(t, at.Equal(long), "%v, want %v", at, long)
	})
}

// Twilio's report that it could not deliver can come before the SID of
// the message is recorded: its reason is kept with it, and lands on the
// reply when the SID does.
func TestAnEarlyReportKeepsItsReason(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "sms", false), assistant(t, db)
		in, err := domain.SendMessage(ctx, db, domain.NewMessage{SenderID: u.ID, RecipientID: a.ID, Content: "hi",
			Channel: domain.ChannelTwilio})
		require.NoError(t, err)
		reply, err := domain.SaveReply(ctx, db, domain.Reply{ConversationID: domain.AIConversationID(u.ID), UserID: u.ID,
			AnswersUpTo: in.ID, Content: "hello"})
		require.NoError(t, err)
		parts, err := domain.StartDeliveries(ctx, db, reply.ID, 1)
		require.NoError(t, err)

		require.NoError(t, domain.UpdateDeliveryStatus(ctx, db, "SM-early", domain.DeliveryUndelivered))
		require.NoError(t, domain.NoteDeliveryError(ctx, db, "SM-early", "twilio_30003"))
		require.NoError(t, domain.AcceptDelivery(ctx, db, parts[0].ID, "SM-early", domain.DeliveryQueued))

		m, err := domain.MessageByID(ctx, db, reply.ID)
		require.NoError(t, err)
		assert.Equal(t, domain.DeliveryUndelivered, *m.DeliveryStatus)
		require.NotNil(t, m.DeliveryError)
		assert.Equal(t, "twilio_30003", *m.DeliveryError)
	})
}
