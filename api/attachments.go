package api

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"mime/multipart"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/gin-gonic/gin"

	"github.com/aimsg/aimsg/domain"
)

// attachmentParam is a file's place in its message.
var attachmentParam = openapi3.NewPathParameter("n").
	WithSchema(openapi3.NewIntegerSchema().WithMin(0).WithMax(domain.MaxAttachments - 1)).
	WithDescription("The file's place in the message, from 0 (attachments[].n)")

// getAttachment serves a file a message carried, as the worker stored it,
// to those who may see the message: its sender and recipient, and the
// support staff who reach its conversation with the assistant. To anyone
// else, and before the file is stored, it does not exist.
func (s *Server) getAttachment(c *gin.Context) {
	id, ok := pathID(c, "id")
	if !ok {
		return
	}
	n, err := strconv.Atoi(c.Param("n"))
	if err != nil || n < 0 || n >= domain.MaxAttachments {
		invalidInput(c, fieldError{Loc: []any{"path", "n"}, Msg: "Input should be a whole number from 0 to 9", Type: "int_parsing"})
		return
	}
	att, err := domain.AttachmentFor(c.Request.Context(), s.db, currentUser(c), id, n)
	if err == nil && s.cfg.MediaDir == "" {
		err = domain.ErrNotFound
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	f, err := os.Open(filepath.Join(s.cfg.MediaDir, filepath.FromSlash(*att.Path)))
	if errors.Is(err, fs.ErrNotExist) {
		abort(c, http.StatusNotFound, "Not found")
		return
	}
	if err != nil {
		s.fail(c, err)
		return
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		s.fail(c, err)
		return
	}
	h := c.Writer.Header()
	h.Set("Content-Type", att.ContentType)
	h.Set("Cache-Control", "private, max-age=3600")
	// What a person sent is shown, never run as a page of this origin.
	h.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	h.Set("Content-Disposition", "inline")
	http.ServeContent(c.Writer, c.Request, "", st.ModTime(), f)
}

// removeMedia deletes the files of messages that are gone (once their
// deletion committed): their rows went with them, the files go here. A
// file that cannot be removed is logged; it is never served again.
func (s *Server) removeMedia(c *gin.Context, messageIDs ...int64) {
	if s.cfg.MediaDir == "" {
		return // no media folder: nothing was stored
	}
	for _, id := range messageIDs {
		dir := filepath.Join(s.cfg.MediaDir, domain.MediaFolder(id))
		if err := os.RemoveAll(dir); err != nil {
			s.messagesLog(c).Error("files of a deleted message not removed", "message_id", id, "error", err)
		}
	}
}

// filesFormSchema is the form of a message sent with pictures.
var filesFormSchema = openapi3.NewObjectSchema().
	WithProperty("files", openapi3.NewArraySchema().WithMinItems(1).WithMaxItems(domain.MaxAttachments).
		WithItems(openapi3.NewStringSchema().WithFormat("binary"))).
	WithProperty("content", openapi3.NewStringSchema().WithMaxLength(10000)).
	WithRequired([]string{"files"})

// filesBodyLimit bounds a message sent with files: every file at its
// largest, and room for the form around them.
func filesBodyLimit(maxBytes int64) int64 {
	return domain.MaxAttachments*maxBytes + 64<<10
}

// sendWithFiles writes in a conversation with files attached (pictures,
// from the web app): each file is checked (MEDIA_MAX_BYTES, MEDIA_TYPES,
// what its bytes are) before anything is stored; then the message and
// its files are stored together, or nothing is. The assistant sees the
// pictures as a message from SMS or Telegram would show them.
func (s *Server) sendWithFiles(c *gin.Context) {
	conv, ok := s.conversation(c)
	if !ok {
		return
	}
	if s.cfg.MediaDir == "" {
		abort(c, http.StatusServiceUnavailable, "Files are not kept here (MEDIA_DIR is not set)")
		return
	}
	form, ok := multipartForm(c, filesTooLarge(s.cfg.MediaMaxBytes))
	if !ok {
		return
	}
	defer func() { _ = form.RemoveAll() }()
	files, ok := s.checkedFiles(c, form.File["files"])
	if !ok {
		return
	}
	content := ""
	if v := form.Value["content"]; len(v) > 0 {
		content = strings.TrimSpace(v[0])
	}
	if content == "" {
		content = domain.PictureText
	}
	if err := domain.CheckContent(content); err != nil {
		invalidInput(c, fieldError{Loc: []any{"body", "content"}, Msg: domain.Reason(err), Type: "value_error"})
		return
	}
	aid, err := s.assistantID(c)
	if err != nil {
		s.fail(c, err)
		return
	}
	me := currentUser(c)
	in := domain.NewMessage{SenderID: me.ID, RecipientID: conv.Other(me.ID, aid), Content: content, Channel: domain.ChannelWeb}
	if in.RecipientID == aid {
		if err := s.admitInbound(c, me.ID); err != nil {
			s.fail(c, err)
			return
		}
	}
	var written []int64
	keep := func(messageID int64, n int, f domain.UploadedFile) (string, error) {
		written = append(written, messageID)
		return s.keepFile(messageID, n, f)
	}
	m, err := domain.SendWithFiles(c.Request.Context(), s.db, in, files, keep)
	if err != nil {
		s.removeMedia(c, written...) // nothing stored: no file stays
		s.fail(c, err)
		return
	}
	s.messagesLog(c).Info("message sent with files", "message_id", m.ID, "files", len(files), "awaits_ai", m.TurnStatus != nil)
	if m.TurnStatus != nil {
		s.queueDispatch(c, m)
	}
	c.JSON(http.StatusCreated, m)
}

// multipartForm reads a multipart/form-data body (limited by its route):
// parts past 1 MB go to temporary files, which the caller removes. A body
// past the limit is a 413 saying tooLarge; anything else not a form, 422.
func multipartForm(c *gin.Context, tooLarge string) (*multipart.Form, bool) {
	form, err := c.MultipartForm()
	if err != nil {
		var maxBytes *http.MaxBytesError
		if errors.As(err, &maxBytes) {
			abort(c, http.StatusRequestEntityTooLarge, tooLarge)
			return nil, false
		}
		invalidInput(c, fieldError{Loc: []any{"body"}, Msg: "expected a multipart/form-data body with files", Type: "value_error"})
		return nil, false
	}
	return form, true
}

// filesTooLarge tells a client its files passed the limit.
func filesTooLarge(limit int64) string {
	return fmt.Sprintf("A file is larger than %d bytes (MEDIA_MAX_BYTES)", limit)
}

// checkedFiles reads the files of a form and checks each against the
// media rules; the first that breaks one is a 422 (or 413) naming it.
func (s *Server) checkedFiles(c *gin.Context, headers []*multipart.FileHeader) ([]domain.UploadedFile, bool) {
	switch {
	case len(headers) == 0:
		invalidInput(c, fieldError{Loc: []any{"body", "files"}, Msg: "no file was sent (field \"files\")", Type: "missing"})
		return nil, false
	case len(headers) > domain.MaxAttachments:
		invalidInput(c, fieldError{Loc: []any{"body", "files"}, Msg: fmt.Sprintf("at most %d files per message", domain.MaxAttachments), Type: "value_error"})
		return nil, false
	}
	rules := domain.MediaRules{MaxBytes: s.cfg.MediaMaxBytes, Types: s.cfg.MediaTypes}
	files := make([]domain.UploadedFile, 0, len(headers))
	for i, h := range headers {
		if h.Size > s.cfg.MediaMaxBytes {
			abort(c, http.StatusRequestEntityTooLarge, filesTooLarge(s.cfg.MediaMaxBytes))
			return nil, false
		}
		f, err := h.Open()
		if err != nil {
			s.fail(c, fmt.Errorf("open upload %d: %w", i, err))
			return nil, false
		}
		data, err := io.ReadAll(io.LimitReader(f, s.cfg.MediaMaxBytes+1))
		_ = f.Close()
		if err != nil {
			s.fail(c, fmt.Errorf("read upload %d: %w", i, err))
			return nil, false
		}
		head := data[:min(len(data), 512)]
		declared := h.Header.Get("Content-Type")
		if declared == "" || declared == "application/octet-stream" {
			declared = http.DetectContentType(head) // a client that did not say
		}
		ct, reason := rules.Check(declared, int64(len(data)), head)
		switch reason {
		case "":
		case domain.ReasonTooLarge:
			abort(c, http.StatusRequestEntityTooLarge, filesTooLarge(s.cfg.MediaMaxBytes))
			return nil, false
		default:
			invalidInput(c, fieldError{Loc: []any{"body", "files", i},
				Msg:  fmt.Sprintf("%s: not a kind of file kept here (MEDIA_TYPES: %s)", h.Filename, strings.Join(rules.Types, ", ")),
				Type: reason})
			return nil, false
		}
		files = append(files, domain.UploadedFile{ContentType: ct, Data: data})
	}
	return files, true
}

// keepFile writes file n of a message under the media folder.
func (s *Server) keepFile(messageID int64, n int, f domain.UploadedFile) (string, error) {
	rel := domain.MediaPath(messageID, n, domain.MediaExtension(f.ContentType))
	full := filepath.Join(s.cfg.MediaDir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(full), 0o750); err != nil {
		return "", err
	}
	return rel, os.WriteFile(full, f.Data, 0o640)
}
