package fakellm

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"sync"
)

// transcriptionsPath is OpenAI's speech-to-text endpoint.
const transcriptionsPath = "/v1/audio/transcriptions"

// Transcription is a transcription request as received: a multipart
// form with the audio file and the model.
type Transcription struct {
	Model       string
	Filename    string
	ContentType string
	Audio       []byte
}

// Transcript is the script's answer to a transcription: Text, or an API
// error when Status is set (other than 200).
type Transcript struct {
	Text   string
	Status int
}

// TranscriptScript decides the answer to the n-th transcription (from 0).
type TranscriptScript func(n int, req Transcription) Transcript

// transcriber answers transcriptions from its script; without one, the
// transcript is the audio's bytes, as text.
type transcriber struct {
	mu       sync.Mutex
	script   TranscriptScript
	requests []Transcription
}

// SetTranscripts scripts the answers of POST /v1/audio/transcriptions.
func (s *Server) SetTranscripts(script TranscriptScript) {
	s.audio.mu.Lock()
	defer s.audio.mu.Unlock()
	s.audio.script = script
}

// Transcriptions returns the transcription requests received so far.
func (s *Server) Transcriptions() []Transcription {
	s.audio.mu.Lock()
	defer s.audio.mu.Unlock()
	return append([]Transcription(nil), s.audio.requests...)
}

// handle answers as the API does with the default response_format
// (json): {"text": ...}. The file and the model are required.
func (t *transcriber) handle(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		http.NotFound(w, r)
		return
	}
	if err := r.ParseMultipartForm(32 << 20); err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "expected a multipart form: "+err.Error())
		return
	}
	file, header, err := r.FormFile("file")
	model := r.FormValue("model")
	if err != nil || model == "" {
		writeError(w, http.StatusBadRequest, "invalid_request_error", "file and model are required")
		return
	}
	defer file.Close()
	audio, err := io.ReadAll(file)
	if err != nil {
		writeError(w, http.StatusBadRequest, "invalid_request_error", err.Error())
		return
	}
	req := Transcription{Model: model, Filename: header.Filename, ContentType: header.Header.Get("Content-Type"), Audio: audio}
	t.mu.Lock()
	n := len(t.requests)
	t.requests = append(t.requests, req)
	script := t.script
	t.mu.Unlock()
	answer := Transcript{Text: string(audio)}
	if script != nil {
		answer = script(n, req)
	}
	if answer.Status != 0 && answer.Status != http.StatusOK {
		writeError(w, answer.Status, "server_error", fmt.Sprintf("scripted failure %d", answer.Status))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"text": answer.Text})
}
