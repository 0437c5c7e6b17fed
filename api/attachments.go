package api

import (
	"errors"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strconv"

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
