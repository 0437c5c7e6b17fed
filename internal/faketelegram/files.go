package faketelegram

import (
	"net/http"
	"strconv"
)

// File is a file a chat sent the bot, as getFile describes it.
type File struct {
	ID   string
	Path string
	Data []byte
}

// AddFile makes a file known to getFile under id, downloadable from
// /file/bot<token>/<path> as the Bot API serves files.
func (s *Server) AddFile(id, path string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.files == nil {
		s.files = map[string]File{}
	}
	s.files[id] = File{ID: id, Path: path, Data: data}
}

// getFile answers with the file's path and size; an unknown id is the
// Bot API's 400.
func (s *Server) getFile(w http.ResponseWriter, r *http.Request) {
	id := r.PostForm.Get("file_id")
	s.mu.Lock()
	f, ok := s.files[id]
	s.mu.Unlock()
	if !ok {
		answer(w, http.StatusBadRequest, map[string]any{"ok": false, "error_code": 400, "description": "Bad Request: invalid file_id"})
		return
	}
	answer(w, http.StatusOK, map[string]any{"ok": true, "result": map[string]any{
		"file_id": f.ID, "file_unique_id": "u-" + f.ID, "file_size": len(f.Data), "file_path": f.Path,
	}})
}

// download serves a file by its path, as api.telegram.org/file/ does.
func (s *Server) download(w http.ResponseWriter, r *http.Request, path string) {
	s.mu.Lock()
	var data []byte
	found := false
	for _, f := range s.files {
		if f.Path == path {
			data, found = f.Data, true
		}
	}
	s.mu.Unlock()
	if !found {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}
