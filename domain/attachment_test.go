package domain_test

import (
	"context"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

var (
	png  = []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
	jpeg = []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")
	ogg  = []byte("OggS\x00\x02\x00\x00\x00\x00\x00\x00")
	html = []byte("<!DOCTYPE html><html><body>hi</body></html>")
)

func TestMediaRulesKeepWhatIsAllowedAndWhatItClaimsToBe(t *testing.T) {
	rules := domain.MediaRules{MaxBytes: 1000, Types: config.DefaultMediaTypes}
	for _, tc := range []struct {
		name, declared string
		size           int64
		head           []byte
		want, reason   string
	}{
		{"a picture", "image/png", 500, png, "image/png", ""},
		{"in any case, with parameters", "Image/PNG; name=x.png", 500, png, "image/png", ""},
		{"a picture named for another format is what its bytes say", "image/png", 500, jpeg, "image/jpeg", ""},
		{"exactly the limit", "image/png", 1000, png, "image/png", ""},
		{"one byte past the limit", "image/png", 1001, png, "", domain.ReasonTooLarge},
		{"a type not allowed", "application/pdf", 10, []byte("%PDF-1.4"), "", domain.ReasonTypeNotAllowed},
		{"no type", "", 10, png, "", domain.ReasonTypeNotAllowed},
		{"a page dressed as a picture", "image/png", 50, html, "", domain.ReasonTypeNotAllowed},
		{"a page dressed as a voice note", "audio/ogg", 50, html, "", domain.ReasonTypeNotAllowed},
		{"a voice note", "audio/ogg; codecs=opus", 50, ogg, "audio/ogg", ""},
		{"audio sniffing cannot tell", "audio/amr", 50, []byte("#!AMR\n\x00\x01"), "audio/amr", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, reason := rules.Check(tc.declared, tc.size, tc.head)
			assert.Equal(t, tc.want, got)
			assert.Equal(t, tc.reason, reason)
		})
	}
	narrow := domain.MediaRules{MaxBytes: 1000, Types: []string{"image/jpeg"}}
	_, reason := narrow.Check("image/jpeg", 10, png)
	assert.Equal(t, domain.ReasonTypeNotAllowed, reason, "a PNG where only JPEG is allowed")
	assert.False(t, narrow.Allows("image/png"))
	assert.True(t, narrow.Allows("IMAGE/JPEG"))
}

func TestAMessageOfFilesOnlyStandsForThem(t *testing.T) {
	pic := domain.InboundMedia{URL: "u", ContentType: "image/jpeg"}
	voice := domain.InboundMedia{URL: "u", ContentType: "audio/ogg"}
	doc := domain.InboundMedia{URL: "u", ContentType: "application/pdf"}
	assert.Equal(t, domain.PictureText, domain.MediaOnlyText([]domain.InboundMedia{pic, pic}))
	assert.Equal(t, domain.VoiceNoteText, domain.MediaOnlyText([]domain.InboundMedia{pic, voice}))
	assert.Equal(t, domain.AttachmentText, domain.MediaOnlyText([]domain.InboundMedia{pic, doc}))
	for _, s := range []string{"", " ", domain.EmptyText, domain.PictureText, domain.VoiceNoteText, domain.AttachmentText} {
		assert.True(t, domain.NoTextOfItsOwn(s), "%q", s)
	}
	assert.False(t, domain.NoTextOfItsOwn("(picture) of my sofa"))
}

func TestInboundFilesAreRecordedWithTheirMessageAndSeenByItsPeople(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		u, a := newUser(t, db, "sender", false), assistant(t, db)
		stranger, agent, staff := newUser(t, db, "stranger", false), newUser(t, db, "agent", false), newUser(t, db, "boss", true)
		testenv.MakeAgent(t, db, agent.ID)
		media := make([]domain.InboundMedia, 12)
		for i := range media {
			media[i] = domain.InboundMedia{URL: "https://api.twilio.com/m/" + string(rune('a'+i)), ContentType: "image/jpeg"}
		}
		media[1].ContentType = "Audio/OGG; codecs=opus"
		r, err := domain.Receive(ctx, db, u.ID, a.ID, domain.Inbound{Channel: domain.ChannelTwilio, Address: "+14155552671",
			ExternalID: "MM1", Media: media}, domain.InboundLimit{})
		require.NoError(t, err)
		m := r.Message
		assert.Equal(t, domain.VoiceNoteText, m.Content, "no text: the message stands for its files")
		assert.True(t, r.Dispatch())

		// Recorded pending, at most ten, in order; a retried webhook adds none.
		_, err = domain.Receive(ctx, db, u.ID, a.ID, domain.Inbound{Channel: domain.ChannelTwilio, Address: "+14155552671",
			ExternalID: "MM1", Media: media}, domain.InboundLimit{})
		require.NoError(t, err)
		files, err := domain.PendingFiles(ctx, db, []int64{m.ID})
		require.NoError(t, err)
		require.Len(t, files, domain.MaxAttachments)
		assert.Equal(t, 1, files[1].N)
		assert.Equal(t, "audio/ogg", files[1].ContentType)
		assert.Equal(t, domain.ChannelTwilio, files[1].Channel)
		pending, err := domain.PendingMedia(ctx, db, []int64{m.ID, m.ID + 1000})
		require.NoError(t, err)
		assert.Equal(t, []int64{m.ID}, pending)

		// Stored once; a second store (a retried activity) changes nothing.
		ok, err := domain.StoreAttachment(ctx, db, files[0].ID, "image/jpeg", 42, "1/0.jpg")
		require.NoError(t, err)
		assert.True(t, ok)
		ok, err = domain.StoreAttachment(ctx, db, files[0].ID, "image/jpeg", 42, "1/0.jpg")
		require.NoError(t, err)
		assert.False(t, ok)
		ok, err = domain.StoreAttachment(ctx, db, files[1].ID, "audio/ogg", 7, "1/1.ogg")
		require.NoError(t, err)
		require.True(t, ok)
		require.NoError(t, domain.SettleAttachment(ctx, db, files[2].ID, domain.AttachmentRefused, domain.ReasonTooLarge, 9000))

		// The transcript becomes the message's text.
		voice, err := domain.Untranscribed(ctx, db, []int64{m.ID})
		require.NoError(t, err)
		require.Len(t, voice, 1)
		require.NoError(t, domain.SetTranscript(ctx, db, &voice[0], "  the lid is broken\x00 "))
		got, err := domain.MessageFor(ctx, db, u.ID, m.ID)
		require.NoError(t, err)
		assert.Equal(t, "the lid is broken", got.Content)
		require.Len(t, got.Attachments, domain.MaxAttachments)
		assert.Equal(t, domain.AttachmentStored, got.Attachments[1].Status)
		assert.Equal(t, "the lid is broken", *got.Attachments[1].Transcript)
		assert.Equal(t, domain.ReasonTooLarge, *got.Attachments[2].Reason)
		assert.EqualValues(t, 9000, got.Attachments[2].SizeBytes)
		voice, err = domain.Untranscribed(ctx, db, []int64{m.ID})
		require.NoError(t, err)
		assert.Empty(t, voice)

		// The rest are given up on.
		require.NoError(t, domain.FailPendingMedia(ctx, db, []int64{m.ID}))
		pending, err = domain.PendingMedia(ctx, db, []int64{m.ID})
		require.NoError(t, err)
		assert.Empty(t, pending)

		// Its people (and support staff) see the stored file; nobody else.
		for _, who := range []*domain.User{u, a, agent, staff} {
			att, err := domain.AttachmentFor(ctx, db, who, m.ID, 0)
			require.NoError(t, err, who.Username)
			assert.Equal(t, "1/0.jpg", *att.Path)
		}
		_, err = domain.AttachmentFor(ctx, db, stranger, m.ID, 0)
		assert.ErrorIs(t, err, domain.ErrNotFound)
		_, err = domain.AttachmentFor(ctx, db, u, m.ID, 2)
		assert.ErrorIs(t, err, domain.ErrNotFound, "a refused file is not served")

		// Listed in the export, never with the provider's URL.
		export, err := domain.ExportUser(ctx, db, u.ID)
		require.NoError(t, err)
		require.Len(t, export.Messages, 1)
		assert.Len(t, export.Messages[0].Attachments, domain.MaxAttachments)

		// They go with their message.
		with, err := domain.MessagesWithMedia(ctx, db, u.ID)
		require.NoError(t, err)
		assert.Equal(t, []int64{m.ID}, with)
		require.NoError(t, domain.DeleteMessage(ctx, db, u.ID, m.ID))
		left, err := domain.AttachmentsOf(ctx, db, []int64{m.ID})
		require.NoError(t, err)
		assert.Empty(t, left)
	})
}

func TestATranscriptLeavesAMessageWithTextOfItsOwnAlone(t *testing.T) {
	ctx := context.Background()
	db := testenv.Migrated(t, "sqlite:///:memory:")
	u, a := newUser(t, db, "sender", false), assistant(t, db)
	r, err := domain.Receive(ctx, db, u.ID, a.ID, domain.Inbound{Channel: domain.ChannelTelegram, Address: "5",
		ExternalID: "9", Text: "about my order", Media: []domain.InboundMedia{{URL: "telegram-file:x", ContentType: "audio/ogg"}}},
		domain.InboundLimit{})
	require.NoError(t, err)
	files, err := domain.PendingFiles(ctx, db, []int64{r.Message.ID})
	require.NoError(t, err)
	_, err = domain.StoreAttachment(ctx, db, files[0].ID, "audio/ogg", 3, "9/0.ogg")
	require.NoError(t, err)
	require.NoError(t, domain.SetTranscript(ctx, db, &files[0].Attachment, strings.Repeat("x", domain.MaxMessageLength+5)))
	got, err := domain.MessageFor(ctx, db, u.ID, r.Message.ID)
	require.NoError(t, err)
	assert.Equal(t, "about my order", got.Content)
	assert.Len(t, *got.Attachments[0].Transcript, domain.MaxMessageLength, "cut to a message's length")
}
