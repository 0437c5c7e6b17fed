package activities_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/activities"
	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/fakellm"
)

var pngBytes = append([]byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"), bytes.Repeat([]byte{9}, 100)...)

// mediaFixture is a message by SMS carrying media, and activities that
// fetch from a Twilio at twilioURL.
func mediaFixture(t *testing.T, twilioURL string, media ...domain.InboundMedia) (*turnFixture, int64) {
	t.Helper()
	f := newTurnFixture(t, "sqlite:///:memory:", domain.ChannelWeb, "")
	ctx := context.Background()
	a, err := domain.Assistant(ctx, f.db)
	require.NoError(t, err)
	r, err := domain.Receive(ctx, f.db, f.user.ID, a.ID, domain.Inbound{Channel: domain.ChannelTwilio, Address: "+14155552671",
		ExternalID: "MM1", Text: "look", Media: media}, domain.InboundLimit{})
	require.NoError(t, err)
	f.acts.Media = activities.NewMedia(activities.Media{Dir: t.TempDir(),
		Rules:     domain.MediaRules{MaxBytes: 1000, Types: config.DefaultMediaTypes},
		TwilioSID: "AC1", TwilioToken: "secret", TwilioBaseURL: twilioURL})
	return f, r.Message.ID
}

func (f *turnFixture) files(t *testing.T, messageID int64) []domain.Attachment {
	t.Helper()
	byMessage, err := domain.AttachmentsOf(context.Background(), f.db, []int64{messageID})
	require.NoError(t, err)
	return byMessage[messageID]
}

func TestMediaIsFetchedFromTwilioWithinTheRules(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
		_, _ = w.Write(pngBytes)
	}))
	defer other.Close()
	var down atomic.Bool
	down.Store(true)
	var okFetches atomic.Int32
	twilio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, _ := r.BasicAuth()
		switch r.URL.Path {
		case "/Media/ok":
			okFetches.Add(1)
			if user != "AC1" || pass != "secret" {
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, "/cdn/ok", http.StatusTemporaryRedirect)
		case "/cdn/ok":
			_, _ = w.Write(pngBytes)
		case "/Media/big":
			// No Content-Length: the size shows only while reading.
			for range 20 {
				_, _ = w.Write(bytes.Repeat([]byte{1}, 100))
				w.(http.Flusher).Flush()
			}
		case "/Media/down":
			if down.Load() {
				w.WriteHeader(http.StatusServiceUnavailable)
				return
			}
			_, _ = w.Write(pngBytes)
		case "/Media/away":
			http.Redirect(w, r, other.URL+"/x.png", http.StatusFound)
		default:
			http.NotFound(w, r)
		}
	}))
	defer twilio.Close()
	img := func(u string) domain.InboundMedia { return domain.InboundMedia{URL: u, ContentType: "image/png"} }
	f, id := mediaFixture(t, twilio.URL, img(twilio.URL+"/Media/ok"), img(twilio.URL+"/Media/big"),
		img(twilio.URL+"/Media/gone"), img(twilio.URL+"/Media/down"), img(twilio.URL+"/Media/away"),
		img(other.URL+"/Media/ok"), img("https://api.twilio.com.evil.example/Media/ok"),
		domain.InboundMedia{URL: twilio.URL + "/Media/ok", ContentType: "text/html"})
	in := activities.FetchMediaInput{Messages: []int64{id}, Turn: []int64{id}}

	err := run(t, f.acts.FetchMedia, in, nil)
	require.Error(t, err, "Twilio's 503 is retried")
	files := f.files(t, id)
	status := func(a domain.Attachment) string {
		if a.Reason != nil {
			return string(a.Status) + ":" + *a.Reason
		}
		return string(a.Status)
	}
	got := make([]string, len(files))
	for i, a := range files {
		got[i] = status(a)
	}
	assert.Equal(t, []string{"stored", "refused:too_large", "refused:not_found", "pending", "refused:host_not_allowed",
		"refused:host_not_allowed", "refused:host_not_allowed", "refused:type_not_allowed"}, got)
	assert.Zero(t, elsewhere.Load(), "no request left Twilio's hosts")
	stored, err := os.ReadFile(filepath.Join(f.acts.Media.Dir, *files[0].Path))
	require.NoError(t, err)
	assert.Equal(t, pngBytes, stored)
	assert.EqualValues(t, len(pngBytes), files[0].SizeBytes)

	// The retry fetches what is left, not what was stored.
	down.Store(false)
	var res activities.MediaResult
	require.NoError(t, run(t, f.acts.FetchMedia, in, &res))
	assert.Equal(t, activities.MediaResult{Stored: 2, Refused: 6, Answerable: true}, res)
	assert.EqualValues(t, 1, okFetches.Load())
	entries, err := os.ReadDir(filepath.Join(f.acts.Media.Dir, domain.MediaFolder(id)))
	require.NoError(t, err)
	assert.Len(t, entries, 2, "no temporary file is left")
}

func TestTelegramErrorsDoNotCarryTheBotToken(t *testing.T) {
	f, id := mediaFixture(t, "")
	ctx := context.Background()
	a, err := domain.Assistant(ctx, f.db)
	require.NoError(t, err)
	r, err := domain.Receive(ctx, f.db, f.user.ID, a.ID, domain.Inbound{Channel: domain.ChannelTelegram, Address: "5",
		ExternalID: "77", Media: []domain.InboundMedia{{URL: "telegram-file:abc", ContentType: "audio/ogg"}}}, domain.InboundLimit{})
	require.NoError(t, err)
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nobody answers there
	token := "123456:very-secret-token"
	f.acts.Media = activities.NewMedia(activities.Media{Dir: t.TempDir(), Rules: f.acts.Media.Rules,
		Telegram: activities.NewTelegram(token, closed.URL), TelegramBaseURL: closed.URL})
	err = run(t, f.acts.FetchMedia, activities.FetchMediaInput{Messages: []int64{id, r.Message.ID}}, nil)
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "very-secret-token")
}

func TestAVoiceNoteTheTranscriberRefusesIsNotHeard(t *testing.T) {
	llm := fakellm.Start(fakellm.Echo)
	t.Cleanup(llm.Close)
	llm.SetTranscripts(func(int, fakellm.Transcription) fakellm.Transcript {
		return fakellm.Transcript{Status: http.StatusBadRequest}
	})
	audio := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte("OggS\x00\x02 voice"))
	}))
	defer audio.Close()
	f, id := mediaFixture(t, audio.URL, domain.InboundMedia{URL: audio.URL + "/Media/v", ContentType: "audio/ogg"})
	f.acts.LLM = activities.NewEndpoint(llm.BaseURL(), "sk-test", "test-model", 5*time.Second)
	f.acts.Media.TranscribeModel = "whisper-1"
	var res activities.MediaResult
	require.NoError(t, run(t, f.acts.FetchMedia, activities.FetchMediaInput{Messages: []int64{id}, Turn: []int64{id}}, &res),
		"a 400 is not retried")
	assert.Equal(t, activities.MediaResult{Stored: 1, Unheard: 1, Answerable: true}, res, "the message has text of its own")
	assert.Len(t, llm.Transcriptions(), 1)
	assert.Equal(t, domain.ReasonTranscriptionFailed, *f.files(t, id)[0].Reason)

	// The model is told what it cannot hear.
	var out activities.CallLLMResult
	require.NoError(t, run(t, f.acts.CallLLM, activities.CallLLMInput{UserID: f.user.ID, Agent: activities.DefaultAgent,
		HistoryIDs: []int64{id}}, &out))
	assert.Equal(t, "echo: look\n[a voice note that could not be heard]", out.Content)
}

func TestAPictureIsShownOnlyWhenTheModelSeesPictures(t *testing.T) {
	llm := fakellm.Start(fakellm.Echo)
	t.Cleanup(llm.Close)
	pics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write(pngBytes) }))
	defer pics.Close()
	f, id := mediaFixture(t, pics.URL, domain.InboundMedia{URL: pics.URL + "/Media/p", ContentType: "image/png"})
	f.acts.LLM = activities.NewEndpoint(llm.BaseURL(), "sk-test", "test-model", 5*time.Second)
	require.NoError(t, run(t, f.acts.FetchMedia, activities.FetchMediaInput{Messages: []int64{id}, Turn: []int64{id}}, nil))
	in := activities.CallLLMInput{UserID: f.user.ID, Agent: activities.DefaultAgent, HistoryIDs: []int64{id}}

	require.NoError(t, run(t, f.acts.CallLLM, in, nil))
	assert.Equal(t, "look\n[a picture you cannot see]", llm.Requests()[0].Last().Content, "LLM_VISION=false")

	f.acts.Media.Vision = true
	require.NoError(t, run(t, f.acts.CallLLM, in, nil))
	parts, err := json.Marshal(llm.Requests()[1].Last().Content)
	require.NoError(t, err)
	assert.True(t, strings.Contains(string(parts), `"type":"image_url"`) && strings.Contains(string(parts), "data:image/png;base64,"),
		"%s", parts)
}

func TestHistoryKeepsTheFormOlderTurnsRecorded(t *testing.T) {
	b, err := json.Marshal(activities.History{IDs: []int64{1, 2}})
	require.NoError(t, err)
	assert.JSONEq(t, `[1,2]`, string(b), "a turn without files records what it always did")
	var h activities.History
	require.NoError(t, json.Unmarshal([]byte(`[3,4]`), &h))
	assert.Equal(t, activities.History{IDs: []int64{3, 4}}, h)

	b, err = json.Marshal(activities.History{IDs: []int64{1, 2}, Media: []int64{2}})
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, &h))
	assert.Equal(t, activities.History{IDs: []int64{1, 2}, Media: []int64{2}}, h)
}
