package e2e_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/apitest"
	"github.com/aimsg/aimsg/internal/fakellm"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/workflows"
)

// A picture and a voice note as their bytes begin: enough for sniffing.
var (
	pngFile = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{7}, 200)...)
	oggFile = append([]byte("OggS\x00\x02\x00\x00\x00\x00"), bytes.Repeat([]byte{3}, 300)...)
)

// withMedia adds files to an inbound SMS form, as Twilio sends them.
func withMedia(form url.Values, media ...[2]string) url.Values {
	form.Set("NumMedia", itoa(int64(len(media))))
	for i, m := range media {
		form.Set("MediaUrl"+itoa(int64(i)), m[0])
		form.Set("MediaContentType"+itoa(int64(i)), m[1])
	}
	return form
}

// inboundMessage is the message the user sent by a channel with the
// provider's id.
func (s *stack) inboundMessage(channel domain.Channel, externalID string) domain.Message {
	s.t.Helper()
	var m domain.Message
	require.NoError(s.t, s.db.NewSelect().Model(&m).Where("channel = ? AND external_id = ?", channel, externalID).
		Scan(context.Background()))
	return m
}

// attachments reads a message's attachments as its sender sees them.
func (s *stack) attachments(tk apitest.Tokens, messageID int64) []map[string]any {
	s.t.Helper()
	w := s.Call("GET", "/messages/"+itoa(messageID), nil, tk.AccessToken)
	require.Equal(s.t, http.StatusOK, w.Code, w.Body.String())
	raw, _ := apitest.Decode(s.t, w)["attachments"].([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, a := range raw {
		out = append(out, a.(map[string]any))
	}
	return out
}

// imageParts are the data: URLs of the image parts of a message the LLM
// was given.
func imageParts(m fakellm.Message) (urls []string, text string) {
	parts, _ := m.Content.([]any)
	for _, p := range parts {
		part, _ := p.(map[string]any)
		switch part["type"] {
		case "image_url":
			img, _ := part["image_url"].(map[string]any)
			u, _ := img["url"].(string)
			urls = append(urls, u)
		case "text":
			text, _ = part["text"].(string)
		}
	}
	return urls, text
}

func TestAnMMSPictureReachesTheModelAndOnlyItsPeople(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, dbURL string) {
		dir := t.TempDir()
		s := newSMSStackWith(t, dbURL, func(int, fakellm.Request) fakellm.Response {
			return fakellm.Response{Content: "The hinge is cracked."}
		}, nil, stackOptions{temporal: temporalServer, env: map[string]string{"LLM_VISION": "true", "MEDIA_DIR": dir}})
		sid := "MM00000000000000000000000000000001"
		mediaURL := s.twilio.AddMedia(s.twilio.MediaPath(sid, 0), "image/png", pngFile)
		w := s.webhook(withMedia(inbound(sid, userPhone, "is this broken?"), [2]string{mediaURL, "image/png"}))
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())

		sent := s.waitSMS(1)
		assert.Equal(t, "The hinge is cracked.", sent[0].Body)
		in := s.inboundMessage(domain.ChannelTwilio, sid)
		assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(in.ID).Outcome)
		assert.Equal(t, []string{"local:TurnPolicy", "local:LoadHistory", "version:inbound-media", "upsert:TemporalChangeVersion", "FetchMedia",
			"CallLLM",
			"local:SaveReply", "Deliver", "upsert:AimsgOutcome"}, s.history(workflows.TurnWorkflowID(in.ID)),
			"the turn fetched the picture before it asked the model")
		s.saveHistories(workflows.TurnWorkflowID(in.ID))

		// The model saw the picture, from the stored file, with the text.
		reqs := s.llm.Requests()
		require.Len(t, reqs, 1)
		urls, text := imageParts(reqs[0].Last())
		assert.Equal(t, "is this broken?", text)
		require.Len(t, urls, 1)
		assert.Equal(t, "data:image/png;base64,"+base64.StdEncoding.EncodeToString(pngFile), urls[0])

		// Its people see it; nobody else knows it exists.
		assert.Equal(t, []map[string]any{{"n": float64(0), "content_type": "image/png", "size_bytes": float64(len(pngFile)),
			"status": "stored"}}, s.attachments(s.user, in.ID))
		w = s.Call("GET", "/messages/"+itoa(in.ID)+"/attachments/0", nil, s.user.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.Equal(t, "image/png", w.Header().Get("Content-Type"))
		assert.Equal(t, pngFile, w.Body.Bytes())
		stranger := s.User("stranger")
		w = s.Call("GET", "/messages/"+itoa(in.ID)+"/attachments/0", nil, stranger.AccessToken)
		assert.Equal(t, http.StatusNotFound, w.Code, "another user")
		assert.NotContains(t, w.Body.String(), "PNG")
		w = s.Call("GET", "/messages/"+itoa(in.ID)+"/attachments/0", nil, s.agent("helper").AccessToken)
		assert.Equal(t, http.StatusOK, w.Code, "support staff read the conversation with the assistant")
		w = s.Call("GET", "/messages/"+itoa(in.ID)+"/attachments/1", nil, s.user.AccessToken)
		assert.Equal(t, http.StatusNotFound, w.Code, "no such file")

		// The export lists it; deleting the message deletes the file.
		w = s.Call("GET", "/auth/me/export", nil, s.user.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Contains(t, w.Body.String(), `"attachments":[{"n":0,"content_type":"image/png"`)
		assert.NotContains(t, w.Body.String(), mediaURL, "the provider's URL stays inside")
		folder := filepath.Join(dir, itoa(in.ID))
		require.DirExists(t, folder)
		w = s.Call("DELETE", "/messages/"+itoa(in.ID), nil, s.user.AccessToken)
		require.Equal(t, http.StatusOK, w.Code, w.Body.String())
		assert.NoDirExists(t, folder)
		assert.Zero(t, s.count((*domain.Attachment)(nil), "message_id = ?", in.ID))
	})
}

// voiceUpdate posts a Telegram update carrying a voice note.
func (s *tgStack) voiceUpdate(updateID int, chat int64, fileID, caption string) *httptest.ResponseRecorder {
	msg := map[string]any{"message_id": updateID, "date": time.Now().Unix(),
		"voice": map[string]any{"file_id": fileID, "file_unique_id": "u" + fileID, "duration": 3, "mime_type": "audio/ogg"},
		"chat":  map[string]any{"id": chat, "type": "private"}, "from": map[string]any{"id": chat, "is_bot": false, "first_name": "T"}}
	if caption != "" {
		msg["caption"] = caption
	}
	body, _ := json.Marshal(map[string]any{"update_id": updateID, "message": msg})
	return s.Call("POST", "/telegram_webhook", string(body), "", apitest.Header("X-Telegram-Bot-Api-Secret-Token", botSecret))
}

func TestATelegramVoiceNoteIsTranscribedAndAnswered(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, dbURL string) {
		s := newTelegramStackWith(t, dbURL, nil, map[string]string{"MEDIA_DIR": t.TempDir()})
		s.llm.SetTranscripts(func(int, fakellm.Transcription) fakellm.Transcript {
			return fakellm.Transcript{Text: "my parcel never arrived"}
		})
		s.tg.AddFile("voice-1", "voice/file_1.oga", oggFile)
		u := s.User("speaker")
		s.link(u, telegramChat)

		require.Equal(t, http.StatusNoContent, s.voiceUpdate(20, telegramChat, "voice-1", "").Code)
		sent := s.waitSent(1)
		assert.Equal(t, "echo: my parcel never arrived", sent[0].Text, "the transcript is what the model answered")

		tr := s.llm.Transcriptions()
		require.Len(t, tr, 1)
		assert.Equal(t, "whisper-1", tr[0].Model)
		assert.Equal(t, "voice.ogg", tr[0].Filename)
		assert.Equal(t, oggFile, tr[0].Audio)
		assert.Equal(t, "my parcel never arrived", s.llm.Requests()[0].Last().Content)

		in := s.inboundMessage(domain.ChannelTelegram, "20")
		assert.Equal(t, "my parcel never arrived", in.Content, "the transcript became the message's text")
		assert.Equal(t, []map[string]any{{"n": float64(0), "content_type": "audio/ogg", "size_bytes": float64(len(oggFile)),
			"status": "stored", "transcript": "my parcel never arrived"}}, s.attachments(u, in.ID))
		w := s.Call("GET", "/messages/"+itoa(in.ID)+"/attachments/0", nil, u.AccessToken)
		require.Equal(t, http.StatusOK, w.Code)
		assert.Equal(t, oggFile, w.Body.Bytes(), "the audio is kept")
	})
}

func TestInboundFilesThatCannotBeKeptAreSaidSo(t *testing.T) {
	dir := t.TempDir()
	s := newSMSStackWith(t, "sqlite:///:memory:", fakellm.Echo, nil,
		stackOptions{temporal: temporalServer, env: map[string]string{"MEDIA_DIR": dir, "MEDIA_MAX_BYTES": "2048"}})
	sid := "MM00000000000000000000000000000002"
	big := append(append([]byte{}, pngFile...), bytes.Repeat([]byte{1}, 3000)...)
	html := []byte("<!DOCTYPE html><html><script>alert(1)</script></html>")
	form := withMedia(inbound(sid, userPhone, "three photos and a file"),
		[2]string{s.twilio.MediaURL(sid, 0), "image/jpeg"}, // never kept at the provider: 404
		[2]string{s.twilio.AddMedia(s.twilio.MediaPath(sid, 1), "image/png", big), "image/png"},
		[2]string{s.twilio.AddMedia(s.twilio.MediaPath(sid, 2), "application/pdf", []byte("%PDF-1.4")), "application/pdf"},
		[2]string{s.twilio.AddMedia(s.twilio.MediaPath(sid, 3), "image/png", html), "image/png"},
		[2]string{"http://127.0.0.1:1/2010-04-01/Accounts/" + twilioSID + "/Messages/" + sid + "/Media/ME4", "image/png"})
	require.Equal(t, http.StatusOK, s.webhook(form).Code)

	sent := s.waitSMS(1)
	in := s.inboundMessage(domain.ChannelTwilio, sid)
	assert.Equal(t, workflows.OutcomeReplied, s.turnOutcome(in.ID).Outcome, "the text is answered")
	reason := func(r string) map[string]any { return map[string]any{"reason": r} }
	atts := s.attachments(s.user, in.ID)
	require.Len(t, atts, 5)
	for i, want := range []map[string]any{reason("not_found"), reason("too_large"), reason("type_not_allowed"),
		reason("type_not_allowed"), reason("host_not_allowed")} {
		assert.Equal(t, "refused", atts[i]["status"], "file %d", i)
		assert.Equal(t, want["reason"], atts[i]["reason"], "file %d", i)
	}
	assert.Equal(t, 3, s.twilio.MediaFetches(), "neither the forbidden type nor the foreign host was asked for")
	assert.Contains(t, sent[0].Body, "three photos and a file")
	assert.Contains(t, sent[0].Body, "could not be received: too_large", "the model knows what became of them")
	entries, err := os.ReadDir(filepath.Join(dir, itoa(in.ID)))
	if err == nil {
		assert.Empty(t, entries, "nothing refused is kept")
	}

	// A voice note alone that cannot be fetched: the honest answer, no model.
	calls := len(s.llm.Requests())
	voice := "MM00000000000000000000000000000003"
	require.Equal(t, http.StatusOK, s.webhook(withMedia(inbound(voice, userPhone, ""),
		[2]string{s.twilio.MediaURL(voice, 0), "audio/ogg"})).Code)
	sent = s.waitSMS(2)
	assert.Equal(t, workflows.VoiceNoteUnheard, sent[1].Body)
	in = s.inboundMessage(domain.ChannelTwilio, voice)
	assert.Equal(t, workflows.OutcomeVoiceUnheard, s.turnOutcome(in.ID).Outcome)
	assert.Equal(t, domain.VoiceNoteText, in.Content)
	assert.Len(t, s.llm.Requests(), calls, "nothing for the model to answer")
}

func TestAFailedTranscriptionGetsTheHonestAnswer(t *testing.T) {
	s := newTelegramStackWith(t, "sqlite:///:memory:", nil, map[string]string{"MEDIA_DIR": t.TempDir()})
	s.llm.SetTranscripts(func(int, fakellm.Transcription) fakellm.Transcript {
		return fakellm.Transcript{Status: http.StatusServiceUnavailable}
	})
	s.tg.AddFile("voice-2", "voice/file_2.oga", oggFile)
	u := s.User("mumbler")
	s.link(u, telegramChat)

	require.Equal(t, http.StatusNoContent, s.voiceUpdate(30, telegramChat, "voice-2", "").Code)
	sent := s.waitSent(1)
	assert.Equal(t, workflows.VoiceNoteUnheard, sent[0].Text)
	in := s.inboundMessage(domain.ChannelTelegram, "30")
	assert.Equal(t, workflows.OutcomeVoiceUnheard, s.turnOutcome(in.ID).Outcome)
	assert.Len(t, s.llm.Transcriptions(), 3, "retried, then given up")
	assert.Empty(t, s.llm.Requests(), "no chat completion for a turn with nothing to answer")
	assert.Equal(t, []map[string]any{{"n": float64(0), "content_type": "audio/ogg", "size_bytes": float64(len(oggFile)),
		"status": "stored", "reason": "transcription_failed"}}, s.attachments(u, in.ID))
	assert.Contains(t, s.history(workflows.TurnWorkflowID(in.ID)), "local:SettleMedia")
	s.saveHistories(workflows.TurnWorkflowID(in.ID))

	// With a caption, the model answers the caption and hears of the voice note.
	s.tg.AddFile("voice-3", "voice/file_3.oga", oggFile)
	require.Equal(t, http.StatusNoContent, s.voiceUpdate(31, telegramChat, "voice-3", "about my order").Code)
	sent = s.waitSent(2)
	assert.Equal(t, "echo: about my order\n[a voice note that could not be heard]", sent[1].Text)
}
