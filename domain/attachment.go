package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/uptrace/bun"
)

// Attachment is a file an inbound message carried (a picture, a voice
// note): stored in the same transaction as its message, pending until the
// worker fetched it from the provider, checked it and stored it under the
// media folder (Path), or refused it (Reason). A voice note keeps its
// Transcript. SourceURL is the provider's address of the file (a Telegram
// file id), never shown to anyone.
type Attachment struct {
	bun.BaseModel `bun:"table:attachments,alias:att"`

	ID        int64 `bun:"id,pk,autoincrement" json:"-"`
	MessageID int64 `bun:"message_id,notnull,unique:attachments_message_id_n_key" json:"-"`
	// N is the file's place in its message, from 0.
	N           int              `bun:"n,notnull,unique:attachments_message_id_n_key" json:"n"`
	ContentType string           `bun:"content_type,type:varchar(100),notnull" json:"content_type"`
	SizeBytes   int64            `bun:"size_bytes,notnull" json:"size_bytes"`
	SourceURL   string           `bun:"source_url,type:text,notnull" json:"-"`
	Status      AttachmentStatus `bun:"status,type:varchar(16),notnull" json:"status"`
	// Reason says why the file was refused or failed (too_large, ...).
	Reason *string `bun:"reason,type:varchar(64)" json:"reason,omitempty"`
	// Path is where the stored file is, relative to the media folder.
	Path       *string   `bun:"path,type:varchar(255)" json:"-"`
	Transcript *string   `bun:"transcript,type:text" json:"transcript,omitempty"`
	CreatedAt  time.Time `bun:"created_at,notnull" json:"-"`
	UpdatedAt  time.Time `bun:"updated_at,notnull" json:"-"`
}

// AttachmentStatus is where an attachment stands.
type AttachmentStatus string

// The states of an attachment: pending until the worker fetched it; then
// stored, refused (it breaks a rule: too large, a type not allowed, gone
// at the provider) or failed (the provider could not be reached).
const (
	AttachmentPending AttachmentStatus = "pending"
	AttachmentStored  AttachmentStatus = "stored"
	AttachmentRefused AttachmentStatus = "refused"
	AttachmentFailed  AttachmentStatus = "failed"
)

// Why an attachment was refused or failed, or why a stored voice note
// has no transcript.
const (
	ReasonTooLarge            = "too_large"
	ReasonTypeNotAllowed      = "type_not_allowed"
	ReasonNotFound            = "not_found"
	ReasonHostNotAllowed      = "host_not_allowed"
	ReasonNotConfigured       = "channel_not_configured"
	ReasonFetchFailed         = "fetch_failed"
	ReasonTranscriptionFailed = "transcription_failed"
)

// MaxAttachments is the most files one message keeps (Twilio's limit);
// more are not recorded.
const MaxAttachments = 10

// IsImage and IsAudio say what kind of file a content type is.
func IsImage(contentType string) bool { return strings.HasPrefix(contentType, "image/") }

// IsAudio says whether a content type is a sound (a voice note).
func IsAudio(contentType string) bool { return strings.HasPrefix(contentType, "audio/") }

// The content a message that carries files but no text of its own is
// stored with; a voice note's transcript replaces it.
const (
	PictureText    = "(picture)"
	VoiceNoteText  = "(voice note)"
	AttachmentText = "(attachment)"
	EmptyText      = "(empty message)"
)

// MediaOnlyText is the content of a message with files and no text.
func MediaOnlyText(media []InboundMedia) string {
	text := PictureText
	for _, m := range media {
		switch ct := NormalizeContentType(m.ContentType); {
		case IsAudio(ct):
			return VoiceNoteText
		case !IsImage(ct):
			text = AttachmentText
		}
	}
	return text
}

// NoTextOfItsOwn says whether a message's content only stands for its
// files (or for nothing): a transcript may replace it.
func NoTextOfItsOwn(content string) bool {
	switch strings.TrimSpace(content) {
	case "", EmptyText, PictureText, VoiceNoteText, AttachmentText:
		return true
	}
	return false
}

// NormalizeContentType is a content type without parameters, in lower
// case ("audio/ogg; codecs=opus" is audio/ogg); "" for one that is not
// a type.
func NormalizeContentType(ct string) string {
	t, _, err := mime.ParseMediaType(ct)
	if err != nil || !strings.Contains(t, "/") || len(t) > 100 {
		return ""
	}
	return strings.ToLower(t)
}

// MediaRules bound what inbound media is kept: MEDIA_MAX_BYTES and
// MEDIA_TYPES.
type MediaRules struct {
	MaxBytes int64
	Types    []string
}

// Allows says whether a content type is one of the allowed types.
func (r MediaRules) Allows(contentType string) bool {
	ct := NormalizeContentType(contentType)
	return ct != "" && slices.Contains(r.Types, ct)
}

// Check decides on a fetched file from what the provider said it is and
// its first bytes (up to 512): the content type it is kept as, or why
// it is refused. A picture is what its bytes say it is, and must be an
// allowed picture; a sound must not be text or a picture in disguise
// (sniffing does not tell every audio format apart).
func (r MediaRules) Check(declared string, size int64, head []byte) (contentType, reason string) {
	declared = NormalizeContentType(declared)
	switch {
	case r.MaxBytes > 0 && size > r.MaxBytes:
		return "", ReasonTooLarge
	case !r.Allows(declared):
		return "", ReasonTypeNotAllowed
	}
	sniffed := NormalizeContentType(http.DetectContentType(head))
	if IsImage(declared) {
		if !IsImage(sniffed) || !r.Allows(sniffed) {
			return "", ReasonTypeNotAllowed
		}
		return sniffed, ""
	}
	if IsAudio(declared) && (strings.HasPrefix(sniffed, "text/") || IsImage(sniffed)) {
		return "", ReasonTypeNotAllowed
	}
	return declared, ""
}

// addAttachments records the files of a message just stored, pending.
func addAttachments(ctx context.Context, db bun.IDB, messageID int64, media []InboundMedia) error {
	if len(media) == 0 {
		return nil
	}
	now := Now()
	rows := make([]Attachment, 0, min(len(media), MaxAttachments))
	for i, m := range media[:min(len(media), MaxAttachments)] {
		ct := NormalizeContentType(m.ContentType)
		if ct == "" {
			ct = "application/octet-stream"
		}
		rows = append(rows, Attachment{MessageID: messageID, N: i, ContentType: ct, SourceURL: strings.ToValidUTF8(m.URL, ""),
			Status: AttachmentPending, CreatedAt: now, UpdatedAt: now})
	}
	if _, err := db.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return fmt.Errorf("insert attachments: %w", err)
	}
	return nil
}

// AttachmentsOf lists the attachments of messages, by message, in order.
func AttachmentsOf(ctx context.Context, db bun.IDB, messageIDs []int64) (map[int64][]Attachment, error) {
	out := map[int64][]Attachment{}
	if len(messageIDs) == 0 {
		return out, nil
	}
	var rows []Attachment
	err := db.NewSelect().Model(&rows).Where("message_id IN (?)", bun.List(messageIDs)).
		Order("message_id", "n").Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("attachments: %w", err)
	}
	for _, a := range rows {
		out[a.MessageID] = append(out[a.MessageID], a)
	}
	return out, nil
}

// withDetails gives messages read for a person their attachments and
// their rating, a query each for all of them, and the survey a message
// asks (a query only when one does).
func withDetails(ctx context.Context, db bun.IDB, msgs []Message) error {
	if len(msgs) == 0 {
		return nil
	}
	byMessage, err := AttachmentsOf(ctx, db, messageIDs(msgs))
	if err != nil {
		return err
	}
	for i := range msgs {
		msgs[i].Attachments = byMessage[msgs[i].ID]
	}
	if err := withFeedback(ctx, db, msgs); err != nil {
		return err
	}
	return withSurvey(ctx, db, msgs)
}

// PendingMedia says which of the messages have files still to fetch.
func PendingMedia(ctx context.Context, db bun.IDB, messageIDs []int64) ([]int64, error) {
	if len(messageIDs) == 0 {
		return nil, nil
	}
	var ids []int64
	err := db.NewSelect().Model((*Attachment)(nil)).ColumnExpr("DISTINCT message_id").
		Where("message_id IN (?) AND status = ?", bun.List(messageIDs), AttachmentPending).
		Order("message_id").Scan(ctx, &ids)
	if err != nil {
		return nil, fmt.Errorf("pending media: %w", err)
	}
	return ids, nil
}

// InboundFile is an attachment to fetch: where the provider keeps it and
// on which channel.
type InboundFile struct {
	Attachment
	Channel Channel
}

// PendingFiles lists the attachments of messages still to fetch, with
// the channel each came by.
func PendingFiles(ctx context.Context, db bun.IDB, messageIDs []int64) ([]InboundFile, error) {
	if len(messageIDs) == 0 {
		return nil, nil
	}
	var rows []Attachment
	err := db.NewSelect().Model(&rows).Where("message_id IN (?) AND status = ?", bun.List(messageIDs), AttachmentPending).
		Order("message_id", "n").Scan(ctx)
	if err != nil {
		return nil, fmt.Errorf("pending files: %w", err)
	}
	var channels []struct {
		ID      int64   `bun:"id"`
		Channel Channel `bun:"channel"`
	}
	if len(rows) > 0 {
		err = db.NewSelect().Model((*Message)(nil)).Column("id", "channel").
			Where("id IN (?)", bun.List(messageIDs)).Scan(ctx, &channels)
		if err != nil {
			return nil, fmt.Errorf("pending files: %w", err)
		}
	}
	byID := map[int64]Channel{}
	for _, c := range channels {
		byID[c.ID] = c.Channel
	}
	out := make([]InboundFile, 0, len(rows))
	for _, a := range rows {
		out = append(out, InboundFile{Attachment: a, Channel: byID[a.MessageID]})
	}
	return out, nil
}

// StoreAttachment records a pending attachment's file as stored. It says
// false when the attachment is pending no more (its message was deleted
// meanwhile): the caller removes the file it wrote.
func StoreAttachment(ctx context.Context, db bun.IDB, id int64, contentType string, size int64, path string) (bool, error) {
	res, err := db.NewUpdate().Model((*Attachment)(nil)).
		Set("status = ?", AttachmentStored).Set("content_type = ?", contentType).Set("size_bytes = ?", size).
		Set("path = ?", path).Set("reason = NULL").Set("updated_at = ?", Now()).
		Where("id = ? AND status = ?", id, AttachmentPending).Exec(ctx)
	if err != nil {
		return false, fmt.Errorf("store attachment: %w", err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SettleAttachment records why a pending attachment was not stored:
// refused (a rule) or failed (the provider).
func SettleAttachment(ctx context.Context, db bun.IDB, id int64, status AttachmentStatus, reason string, size int64) error {
	q := db.NewUpdate().Model((*Attachment)(nil)).Set("status = ?", status).Set("reason = ?", reason).
		Set("updated_at = ?", Now()).Where("id = ? AND status = ?", id, AttachmentPending)
	if size > 0 {
		q = q.Set("size_bytes = ?", size)
	}
	if _, err := q.Exec(ctx); err != nil {
		return fmt.Errorf("settle attachment: %w", err)
	}
	return nil
}

// FailPendingMedia records every attachment of the messages still pending
// as failed (the worker gave up on the provider), and every voice note
// stored without a transcript as not transcribed.
func FailPendingMedia(ctx context.Context, db bun.IDB, messageIDs []int64) error {
	if len(messageIDs) == 0 {
		return nil
	}
	_, err := db.NewUpdate().Model((*Attachment)(nil)).Set("status = ?", AttachmentFailed).
		Set("reason = ?", ReasonFetchFailed).Set("updated_at = ?", Now()).
		Where("message_id IN (?) AND status = ?", bun.List(messageIDs), AttachmentPending).Exec(ctx)
	if err != nil {
		return fmt.Errorf("fail pending media: %w", err)
	}
	_, err = db.NewUpdate().Model((*Attachment)(nil)).Set("reason = ?", ReasonTranscriptionFailed).
		Set("updated_at = ?", Now()).
		Where("message_id IN (?) AND status = ? AND content_type LIKE 'audio/%' AND transcript IS NULL AND reason IS NULL",
			bun.List(messageIDs), AttachmentStored).Exec(ctx)
	if err != nil {
		return fmt.Errorf("fail pending transcripts: %w", err)
	}
	return nil
}

// NoTranscript records that a stored voice note cannot be transcribed.
func NoTranscript(ctx context.Context, db bun.IDB, id int64) error {
	_, err := db.NewUpdate().Model((*Attachment)(nil)).Set("reason = ?", ReasonTranscriptionFailed).
		Set("updated_at = ?", Now()).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return fmt.Errorf("no transcript: %w", err)
	}
	return nil
}

// SetTranscript keeps a voice note's transcript, which becomes its
// message's text when the message had none of its own, in one
// transaction.
func SetTranscript(ctx context.Context, db bun.IDB, a *Attachment, transcript string) error {
	transcript = strings.ToValidUTF8(strings.ReplaceAll(strings.TrimSpace(transcript), "\x00", ""), "\uFFFD")
	if utf8.RuneCountInString(transcript) > MaxMessageLength {
		transcript = string([]rune(transcript)[:MaxMessageLength])
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		now := Now()
		if _, err := tx.NewUpdate().Model((*Attachment)(nil)).Set("transcript = ?", transcript).Set("reason = NULL").
			Set("updated_at = ?", now).Where("id = ?", a.ID).Exec(ctx); err != nil {
			return fmt.Errorf("set transcript: %w", err)
		}
		if transcript == "" {
			return nil
		}
		m := new(Message)
		if err := tx.NewSelect().Model(m).Column("id", "content").Where("id = ?", a.MessageID).Scan(ctx); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return nil
			}
			return fmt.Errorf("read message: %w", err)
		}
		if !NoTextOfItsOwn(m.Content) {
			return nil
		}
		if _, err := tx.NewUpdate().Model((*Message)(nil)).Set("content = ?", transcript).Set("updated_at = ?", now).
			Where("id = ?", a.MessageID).Exec(ctx); err != nil {
			return fmt.Errorf("message text from transcript: %w", err)
		}
		return nil
	})
}

// AttachmentFor returns a stored attachment of a message to a person who
// may see the message: its sender or recipient, or someone on the
// support team who reaches the conversation with the assistant it is in.
// To anyone else, and while it is not stored, it does not exist.
func AttachmentFor(ctx context.Context, db bun.IDB, viewer *User, messageID int64, n int) (*Attachment, error) {
	m := new(Message)
	err := db.NewSelect().Model(m).Column("id", "sender_id", "recipient_id", "conversation_id").
		Where("id = ?", messageID).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read message: %w", err)
	}
	if m.SenderID != viewer.ID && m.RecipientID != viewer.ID {
		if ok, err := supportSees(ctx, db, viewer, m); err != nil || !ok {
			if err == nil {
				err = ErrNotFound
			}
			return nil, err
		}
	}
	a := new(Attachment)
	err = db.NewSelect().Model(a).Where("message_id = ? AND n = ? AND status = ? AND path IS NOT NULL",
		messageID, n, AttachmentStored).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read attachment: %w", err)
	}
	return a, nil
}

// supportSees says whether viewer sees m as support staff: it is in a
// conversation with the assistant their permission reaches.
func supportSees(ctx context.Context, db bun.IDB, viewer *User, m *Message) (bool, error) {
	if m.ConversationID == nil {
		return false, nil
	}
	conv, err := ParseConversationID(*m.ConversationID)
	if err != nil || !conv.AI {
		return false, nil
	}
	perms, err := PermissionsOf(ctx, db, viewer)
	if err != nil || !perms.Has(PermSupport) {
		return false, err
	}
	owner, err := UserByID(ctx, db, conv.UserA)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return SupportReaches(ctx, db, viewer, owner)
}

// MediaFolder is where a message's files are, relative to the media
// folder: one folder per message, removed with the message.
func MediaFolder(messageID int64) string { return strconv.FormatInt(messageID, 10) }

// MessagesWithMedia lists the messages a person sent or received that
// carry files, whose folders go once the person is deleted.
func MessagesWithMedia(ctx context.Context, db bun.IDB, userID int64) ([]int64, error) {
	var ids []int64
	err := db.NewSelect().Model((*Attachment)(nil)).ColumnExpr("DISTINCT message_id").
		Where("message_id IN (?)", db.NewSelect().Model((*Message)(nil)).Column("id").
			Where("sender_id = ? OR recipient_id = ?", userID, userID)).Scan(ctx, &ids)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("messages with media: %w", err)
	}
	return ids, nil
}

// Untranscribed lists the stored voice notes of messages that have no
// transcript yet and were not given up on.
func Untranscribed(ctx context.Context, db bun.IDB, messageIDs []int64) ([]Attachment, error) {
	if len(messageIDs) == 0 {
		return nil, nil
	}
	var rows []Attachment
	err := db.NewSelect().Model(&rows).
		Where("message_id IN (?) AND status = ? AND content_type LIKE 'audio/%' AND transcript IS NULL AND reason IS NULL",
			bun.List(messageIDs), AttachmentStored).Order("message_id", "n").Scan(ctx)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("untranscribed voice notes: %w", err)
	}
	return rows, nil
}

// UploadedFile is a file sent with a message through the API, already
// checked against the media rules (ContentType is what its bytes are).
type UploadedFile struct {
	ContentType string
	Data        []byte
}

// MediaPath is where file n of a message is kept, relative to the media
// folder.
func MediaPath(messageID int64, n int, ext string) string {
	return MediaFolder(messageID) + "/" + strconv.Itoa(n) + ext
}

// SendWithFiles stores a message and the files sent with it, in one
// transaction: keep writes file n where it is kept and returns its path
// (MediaPath). When anything fails, nothing is stored, and the caller
// removes what keep wrote (the message's folder).
func SendWithFiles(ctx context.Context, db *bun.DB, in NewMessage, files []UploadedFile,
	keep func(messageID int64, n int, f UploadedFile) (string, error)) (*Message, error) {
	if len(files) > MaxAttachments {
		return nil, invalid(fmt.Sprintf("at most %d files per message", MaxAttachments))
	}
	var m *Message
	err := db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		var err error
		if m, err = SendMessage(ctx, tx, in); err != nil {
			return err
		}
		now := Now()
		rows := make([]Attachment, 0, len(files))
		for n, f := range files {
			p, err := keep(m.ID, n, f)
			if err != nil {
				return fmt.Errorf("keep file %d: %w", n, err)
			}
			rows = append(rows, Attachment{MessageID: m.ID, N: n, ContentType: f.ContentType, SizeBytes: int64(len(f.Data)),
				SourceURL: "upload", Status: AttachmentStored, Path: &p, CreatedAt: now, UpdatedAt: now})
		}
		if len(rows) > 0 {
			if _, err := tx.NewInsert().Model(&rows).Exec(ctx); err != nil {
				return fmt.Errorf("insert attachments: %w", err)
			}
		}
		m.Attachments = rows
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// MediaExtension is the file name extension of a content type aimsg keeps.
func MediaExtension(contentType string) string {
	switch contentType {
	case "image/jpeg":
		return ".jpg"
	case "image/png":
		return ".png"
	case "image/gif":
		return ".gif"
	case "image/webp":
		return ".webp"
	case "audio/ogg":
		return ".ogg"
	case "audio/mpeg":
		return ".mp3"
	case "audio/mp4":
		return ".m4a"
	case "audio/wav":
		return ".wav"
	case "audio/webm":
		return ".webm"
	case "audio/amr":
		return ".amr"
	}
	return ""
}

// detailed is one message with its attachments and rating.
func detailed(ctx context.Context, db bun.IDB, m *Message) (*Message, error) {
	msgs := []Message{*m}
	if err := withDetails(ctx, db, msgs); err != nil {
		return nil, err
	}
	return &msgs[0], nil
}
