package activities

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	tgbotapi "github.com/go-telegram-bot-api/telegram-bot-api/v5"
	"github.com/openai/openai-go/v3"
	"github.com/uptrace/bun"
	"go.temporal.io/sdk/activity"

	"github.com/aimsg/aimsg/channels"
	"github.com/aimsg/aimsg/domain"
)

// Media fetches the files inbound messages carry (pictures, voice notes)
// from their providers, checks them against the rules, keeps them under
// Dir and has the voice notes transcribed. Files never pass through a
// workflow's history.
type Media struct {
	// Dir is MEDIA_DIR: the files, by message, as the API serves them.
	Dir   string
	Rules domain.MediaRules
	// Vision shows the stored pictures to the model (LLM_VISION).
	Vision bool
	// TranscribeModel transcribes voice notes at the LLM endpoint
	// (LITELLM_TRANSCRIBE_MODEL).
	TranscribeModel string
	// Twilio's media URLs are fetched with the account's credentials, from
	// Twilio's hosts only (TwilioBaseURL's too: a fake in tests).
	TwilioSID, TwilioToken string
	TwilioBaseURL          string
	// Telegram's files are found with getFile and downloaded from
	// TelegramBaseURL's /file/bot<token>/<file path>.
	Telegram        *tgbotapi.BotAPI
	TelegramBaseURL string
	// HTTP downloads the files; NewMedia's follows redirects to Twilio's
	// and its media CDN's hosts only.
	HTTP *http.Client
}

// NewMedia builds the media step with a download client whose redirects
// stay on the providers' hosts.
func NewMedia(m Media) *Media {
	out := m
	out.HTTP = &http.Client{Timeout: mediaFetchTimeout, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		if len(via) >= 5 {
			return errors.New("too many redirects")
		}
		if !out.redirectAllowed(req.URL) {
			return &mediaRefusal{reason: domain.ReasonHostNotAllowed}
		}
		return nil
	}}
	return &out
}

// mediaFetchTimeout bounds one file's download.
const mediaFetchTimeout = time.Minute

// maxImageParts bounds the pictures one LLM request shows, the newest.
const maxImageParts = 4

// mediaRefusal is a file that is not kept whatever the retries: it breaks a
// rule or is gone at the provider.
type mediaRefusal struct {
	reason string
	size   int64
	// failed: the provider refused us (credentials), not the file's fault.
	failed bool
}

func (r *mediaRefusal) Error() string { return "media refused: " + r.reason }

// FetchMediaInput names the messages whose files are to be fetched, and
// the turn's own messages (MediaResult describes those).
type FetchMediaInput struct {
	Messages []int64 `json:"messages"`
	Turn     []int64 `json:"turn"`
}

// MediaResult is what the turn's messages carry once fetched: how many
// of their voice notes could not be heard, and whether the turn has
// anything else to answer (text, a transcript, a picture).
type MediaResult struct {
	Stored     int  `json:"stored"`
	Refused    int  `json:"refused"`
	Failed     int  `json:"failed"`
	Unheard    int  `json:"unheard"`
	Answerable bool `json:"answerable"`
}

// FetchMedia fetches, checks and stores every pending file of the
// messages, then transcribes their voice notes. A file that breaks a
// rule (too large, a type not allowed) or is gone (404) is refused for
// good; a provider or transcriber that fails otherwise fails the
// activity, to be retried: files stored by an earlier attempt are not
// fetched again.
func (a *Activities) FetchMedia(ctx context.Context, in FetchMediaInput) (MediaResult, error) {
	if a.Media == nil {
		return MediaResult{}, errors.New("this worker has no media settings")
	}
	stop := heartbeat(ctx, heartbeatEvery)
	defer stop()
	files, err := domain.PendingFiles(ctx, a.DB, in.Messages)
	if err != nil {
		return MediaResult{}, err
	}
	var transient []error
	for _, f := range files {
		err := a.Media.fetch(ctx, a.DB, f)
		var r *mediaRefusal
		switch {
		case errors.As(err, &r):
			status := domain.AttachmentRefused
			if r.failed {
				status = domain.AttachmentFailed
			}
			a.Logger.Info("inbound file not kept", "message_id", f.MessageID, "n", f.N, "reason", r.reason)
			if err := domain.SettleAttachment(ctx, a.DB, f.ID, status, r.reason, r.size); err != nil {
				return MediaResult{}, err
			}
		case err != nil:
			transient = append(transient, fmt.Errorf("file %d of message %d: %w", f.N, f.MessageID, err))
		}
	}
	voice, err := domain.Untranscribed(ctx, a.DB, in.Messages)
	if err != nil {
		return MediaResult{}, err
	}
	for _, v := range voice {
		if err := a.transcribe(ctx, v); err != nil {
			transient = append(transient, fmt.Errorf("transcribe file %d of message %d: %w", v.N, v.MessageID, err))
		}
	}
	if len(transient) > 0 {
		return MediaResult{}, fmt.Errorf("fetch media: %w", errors.Join(transient...))
	}
	return a.mediaResult(ctx, in.Turn)
}

// SettleMedia gives up on the files FetchMedia could not fetch past its
// retries (failed, fetch_failed) and on the voice notes it could not have
// transcribed, and says what the turn's messages carry.
func (a *Activities) SettleMedia(ctx context.Context, in FetchMediaInput) (MediaResult, error) {
	if err := domain.FailPendingMedia(ctx, a.DB, in.Messages); err != nil {
		return MediaResult{}, err
	}
	return a.mediaResult(ctx, in.Turn)
}

// mediaResult describes the files of a turn's messages.
func (a *Activities) mediaResult(ctx context.Context, turn []int64) (MediaResult, error) {
	msgs, err := domain.MessagesByID(ctx, a.DB, turn)
	if err != nil {
		return MediaResult{}, err
	}
	files, err := domain.AttachmentsOf(ctx, a.DB, turn)
	if err != nil {
		return MediaResult{}, err
	}
	var out MediaResult
	for _, m := range msgs {
		if !domain.NoTextOfItsOwn(m.Content) {
			out.Answerable = true
		}
		for _, f := range files[m.ID] {
			switch f.Status {
			case domain.AttachmentStored:
				out.Stored++
			case domain.AttachmentRefused:
				out.Refused++
			case domain.AttachmentFailed:
				out.Failed++
			}
			switch {
			case !domain.IsAudio(f.ContentType):
				out.Answerable = true // the model sees it, or says it could not
			case heard(f):
				out.Answerable = true
			default:
				out.Unheard++
			}
		}
	}
	return out, nil
}

// heard says whether a voice note has a transcript with words in it.
func heard(f domain.Attachment) bool {
	return f.Transcript != nil && strings.TrimSpace(*f.Transcript) != ""
}

// fetch downloads one pending file, checks it and stores it. A refusal
// is final; any other error is worth retrying.
func (m *Media) fetch(ctx context.Context, db bun.IDB, f domain.InboundFile) error {
	if !m.Rules.Allows(f.ContentType) {
		return &mediaRefusal{reason: domain.ReasonTypeNotAllowed}
	}
	var req *http.Request
	var err error
	switch {
	case strings.HasPrefix(f.SourceURL, channels.TelegramFilePrefix):
		req, err = m.telegramFile(ctx, strings.TrimPrefix(f.SourceURL, channels.TelegramFilePrefix))
	case f.Channel == domain.ChannelTwilio:
		req, err = m.twilioMedia(ctx, f.SourceURL)
	default:
		return &mediaRefusal{reason: domain.ReasonNotConfigured}
	}
	if err != nil {
		return err
	}
	resp, err := m.HTTP.Do(req)
	if err != nil {
		var r *mediaRefusal
		if errors.As(err, &r) {
			return r
		}
		return m.redact(err)
	}
	defer resp.Body.Close()
	switch code := resp.StatusCode; {
	case code == http.StatusNotFound || code == http.StatusGone:
		return &mediaRefusal{reason: domain.ReasonNotFound}
	case code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500:
		return fmt.Errorf("the provider answered %d", code)
	case code != http.StatusOK:
		return &mediaRefusal{reason: domain.ReasonFetchFailed, failed: true}
	}
	if m.Rules.MaxBytes > 0 && resp.ContentLength > m.Rules.MaxBytes {
		return &mediaRefusal{reason: domain.ReasonTooLarge, size: resp.ContentLength}
	}
	return m.store(ctx, db, f, resp)
}

// store writes a download to its place under Dir, if the rules keep it,
// and records it. The bytes are counted as they arrive: past MaxBytes the
// download stops.
func (m *Media) store(ctx context.Context, db bun.IDB, f domain.InboundFile, resp *http.Response) error {
	rel := domain.MediaPath(f.MessageID, f.N, domain.MediaExtension(f.ContentType))
	final := filepath.Join(m.Dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(final), 0o750); err != nil {
		return fmt.Errorf("media folder: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(final), ".fetch-*")
	if err != nil {
		return fmt.Errorf("media file: %w", err)
	}
	defer os.Remove(tmp.Name()) // nothing left once renamed
	var head bytes.Buffer
	limit := m.Rules.MaxBytes
	if limit <= 0 {
		limit = 1 << 40
	}
	n, err := io.Copy(io.MultiWriter(tmp, &headWriter{buf: &head}), io.LimitReader(resp.Body, limit+1))
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download: %w", m.redact(err))
	}
	contentType, reason := m.Rules.Check(f.ContentType, n, head.Bytes())
	if reason != "" {
		size := n
		if reason == domain.ReasonTooLarge {
			size = max(resp.ContentLength, 0) // the whole size is unknown
		}
		return &mediaRefusal{reason: reason, size: size}
	}
	if contentType != f.ContentType {
		// The picture is what its bytes say; its name follows.
		rel = domain.MediaPath(f.MessageID, f.N, domain.MediaExtension(contentType))
		final = filepath.Join(m.Dir, filepath.FromSlash(rel))
	}
	if err := os.Rename(tmp.Name(), final); err != nil {
		return fmt.Errorf("media file: %w", err)
	}
	ok, err := domain.StoreAttachment(ctx, db, f.ID, contentType, n, rel)
	if err != nil || !ok {
		// Not recorded (its message was deleted meanwhile, or the
		// database failed: the retry downloads it again).
		_ = os.Remove(final)
	}
	return err
}

// headWriter keeps the first 512 bytes written, for sniffing.
type headWriter struct{ buf *bytes.Buffer }

func (h *headWriter) Write(p []byte) (int, error) {
	if room := 512 - h.buf.Len(); room > 0 {
		h.buf.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// twilioMedia is the request for a Twilio media URL, with the account's
// credentials: only to Twilio's API hosts (or the configured API base),
// never to a host a webhook names.
func (m *Media) twilioMedia(ctx context.Context, raw string) (*http.Request, error) {
	if m.TwilioSID == "" || m.TwilioToken == "" {
		return nil, &mediaRefusal{reason: domain.ReasonNotConfigured}
	}
	u, err := url.Parse(raw)
	if err != nil || !m.twilioHost(u) {
		return nil, &mediaRefusal{reason: domain.ReasonHostNotAllowed}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, &mediaRefusal{reason: domain.ReasonHostNotAllowed}
	}
	req.SetBasicAuth(m.TwilioSID, m.TwilioToken)
	return req, nil
}

// twilioHost says whether a URL is on Twilio's API: https on
// *.twilio.com, or the configured API base (scheme and host).
func (m *Media) twilioHost(u *url.URL) bool {
	if u.User != nil {
		return false
	}
	if base, err := url.Parse(m.TwilioBaseURL); m.TwilioBaseURL != "" && err == nil &&
		u.Scheme == base.Scheme && strings.EqualFold(u.Host, base.Host) {
		return true
	}
	host := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && u.Port() == "" && strings.HasSuffix(host, ".twilio.com")
}

// redirectAllowed says where a media download may be redirected: Twilio,
// its media CDN (mms.twiliocdn.com), the S3 host of its older media, or
// the configured bases. Credentials never follow to another host.
func (m *Media) redirectAllowed(u *url.URL) bool {
	if m.twilioHost(u) {
		return true
	}
	if base, err := url.Parse(m.TelegramBaseURL); m.TelegramBaseURL != "" && err == nil &&
		u.Scheme == base.Scheme && strings.EqualFold(u.Host, base.Host) {
		return true
	}
	host := strings.ToLower(u.Hostname())
	return u.Scheme == "https" && u.Port() == "" && u.User == nil &&
		(strings.HasSuffix(host, ".twiliocdn.com") || host == "s3-external-1.amazonaws.com")
}

// telegramFile asks the Bot API where a file is (getFile) and is the
// request that downloads it.
func (m *Media) telegramFile(ctx context.Context, fileID string) (*http.Request, error) {
	if m.Telegram == nil {
		return nil, &mediaRefusal{reason: domain.ReasonNotConfigured}
	}
	file, err := m.Telegram.GetFile(tgbotapi.FileConfig{FileID: fileID})
	if err != nil {
		var te *tgbotapi.Error
		switch {
		case !errors.As(err, &te):
			return nil, fmt.Errorf("telegram getFile: %w", m.redact(err))
		case te.Code == http.StatusBadRequest || te.Code == http.StatusNotFound:
			return nil, &mediaRefusal{reason: domain.ReasonNotFound}
		case te.Code == http.StatusTooManyRequests || te.Code >= 500:
			return nil, fmt.Errorf("telegram getFile: %d %s", te.Code, te.Message)
		}
		return nil, &mediaRefusal{reason: domain.ReasonFetchFailed, failed: true}
	}
	if m.Rules.MaxBytes > 0 && int64(file.FileSize) > m.Rules.MaxBytes {
		return nil, &mediaRefusal{reason: domain.ReasonTooLarge, size: int64(file.FileSize)}
	}
	p := file.FilePath
	if p == "" || strings.HasPrefix(p, "/") || strings.Contains(p, "..") || strings.ContainsAny(p, "?#\\") {
		return nil, &mediaRefusal{reason: domain.ReasonNotFound}
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet,
		m.TelegramBaseURL+"/file/bot"+m.Telegram.Token+"/"+p, nil)
	if err != nil {
		return nil, &mediaRefusal{reason: domain.ReasonNotFound}
	}
	return req, nil
}

// redact takes the bot token out of an error (its URLs carry it): errors
// end up in workflow histories and logs.
func (m *Media) redact(err error) error {
	if m.Telegram == nil {
		return err
	}
	return withoutToken(err, m.Telegram.Token)
}

// transcribe has a stored voice note transcribed at the LLM endpoint
// (POST /v1/audio/transcriptions). An answer no retry can change (the
// endpoint refuses the file) records the voice note as not transcribed;
// rate limits, server errors and timeouts are retried.
func (a *Activities) transcribe(ctx context.Context, v domain.Attachment) error {
	if v.Path == nil {
		return nil
	}
	f, err := os.Open(filepath.Join(a.Media.Dir, filepath.FromSlash(*v.Path)))
	if err != nil {
		return fmt.Errorf("open voice note: %w", err)
	}
	defer f.Close()
	res, err := a.LLM.Client.Audio.Transcriptions.New(ctx, openai.AudioTranscriptionNewParams{
		File:  openai.File(f, "voice"+domain.MediaExtension(v.ContentType), v.ContentType),
		Model: openai.AudioModel(a.Media.TranscribeModel),
	})
	var apiErr *openai.Error
	switch {
	case errors.As(err, &apiErr) && apiErr.StatusCode >= 400 && apiErr.StatusCode < 500 &&
		apiErr.StatusCode != http.StatusRequestTimeout && apiErr.StatusCode != http.StatusTooManyRequests:
		a.Logger.Warn("voice note refused by the transcriber", "message_id", v.MessageID, "n", v.N, "status", apiErr.StatusCode)
		return domain.NoTranscript(ctx, a.DB, v.ID)
	case err != nil:
		return err
	}
	if activity.IsActivity(ctx) {
		activity.RecordHeartbeat(ctx)
	}
	return domain.SetTranscript(ctx, a.DB, &v, res.Text)
}

// historyMedia reads the files of the history's messages, and the
// newest pictures as data: URLs when the model sees pictures.
func (a *Activities) historyMedia(ctx context.Context, history []domain.Message) (*turnMedia, error) {
	ids := make([]int64, len(history))
	for i, m := range history {
		ids[i] = m.ID
	}
	files, err := domain.AttachmentsOf(ctx, a.DB, ids)
	if err != nil {
		return nil, err
	}
	out := &turnMedia{files: files, pictures: map[int64]string{}}
	if a.Media == nil || !a.Media.Vision {
		return out, nil
	}
	for i := len(history) - 1; i >= 0 && len(out.pictures) < maxImageParts; i-- {
		for _, f := range files[history[i].ID] {
			if f.Status != domain.AttachmentStored || !domain.IsImage(f.ContentType) || f.Path == nil ||
				len(out.pictures) == maxImageParts {
				continue
			}
			b, err := os.ReadFile(filepath.Join(a.Media.Dir, filepath.FromSlash(*f.Path)))
			if err != nil {
				a.Logger.Warn("stored picture not readable", "message_id", f.MessageID, "n", f.N, "error", err)
				continue
			}
			out.pictures[f.ID] = "data:" + f.ContentType + ";base64," + base64.StdEncoding.EncodeToString(b)
		}
	}
	return out, nil
}

// turnMedia are the files of a turn's history: by message, and the
// pictures shown to the model, by attachment.
type turnMedia struct {
	files    map[int64][]domain.Attachment
	pictures map[int64]string
}

// userMessage is a message the person wrote, as the model is given it:
// its text, a voice note's transcript, what became of its other files,
// and its pictures as image parts when the model sees them.
func (t *turnMedia) userMessage(m domain.Message) openai.ChatCompletionMessageParamUnion {
	files := t.files[m.ID]
	if len(files) == 0 {
		return openai.UserMessage(m.Content)
	}
	var lines, images []string
	if !domain.NoTextOfItsOwn(m.Content) {
		lines = append(lines, m.Content)
	}
	for _, f := range files {
		switch {
		case t.pictures[f.ID] != "":
			images = append(images, t.pictures[f.ID])
		case domain.IsAudio(f.ContentType) && heard(f):
			if strings.TrimSpace(m.Content) != strings.TrimSpace(*f.Transcript) {
				lines = append(lines, "[voice note] "+*f.Transcript)
			}
		case domain.IsAudio(f.ContentType):
			lines = append(lines, "[a voice note that could not be heard]")
		case f.Status == domain.AttachmentStored && domain.IsImage(f.ContentType):
			lines = append(lines, "[a picture you cannot see]")
		case f.Status == domain.AttachmentStored:
			lines = append(lines, "[a file ("+f.ContentType+")]")
		default:
			lines = append(lines, "[a file ("+f.ContentType+") that could not be received: "+reasonOf(f)+"]")
		}
	}
	text := strings.Join(lines, "\n")
	if len(images) == 0 {
		return openai.UserMessage(text)
	}
	parts := make([]openai.ChatCompletionContentPartUnionParam, 0, len(images)+1)
	if text != "" {
		parts = append(parts, openai.TextContentPart(text))
	}
	for _, u := range images {
		parts = append(parts, openai.ImageContentPart(openai.ChatCompletionContentPartImageImageURLParam{URL: u}))
	}
	return openai.UserMessage(parts)
}

func reasonOf(f domain.Attachment) string {
	if f.Reason != nil {
		return *f.Reason
	}
	return string(f.Status)
}
