package faketwilio

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
)

// mediaFiles are the media of inbound messages the fake keeps, as
// Twilio does: a media URL asks for the account's credentials and
// redirects to a short-lived address on the media CDN, which serves the
// file without them.
type mediaFiles struct {
	mu      sync.Mutex
	byPath  map[string]mediaFile
	cdn     map[string]mediaFile
	fetches int
	down    bool
}

type mediaFile struct {
	contentType string
	data        []byte
}

// cdnPrefix is where the fake's media URLs redirect.
const cdnPrefix = "/media-cdn/"

// AddMedia keeps a file at path (/2010-04-01/Accounts/<sid>/Messages/<MM
// sid>/Media/<ME sid>, as Twilio names them) and returns its media URL,
// for a webhook's MediaUrl<n>.
func (s *Server) AddMedia(path, contentType string, data []byte) string {
	s.media.mu.Lock()
	defer s.media.mu.Unlock()
	if s.media.byPath == nil {
		s.media.byPath, s.media.cdn = map[string]mediaFile{}, map[string]mediaFile{}
	}
	s.media.byPath[path] = mediaFile{contentType: contentType, data: data}
	return s.URL + path
}

// MediaURL is the media URL of the n-th file of a message, as Twilio
// names it under the account.
func (s *Server) MediaURL(messageSID string, n int) string {
	return s.URL + s.MediaPath(messageSID, n)
}

// MediaPath is the path of MediaURL.
func (s *Server) MediaPath(messageSID string, n int) string {
	return "/2010-04-01/Accounts/" + s.AccountSID + "/Messages/" + messageSID + "/Media/ME" + strconv.Itoa(n)
}

// MediaFetches counts the requests for media URLs, answered or not.
func (s *Server) MediaFetches() int {
	s.media.mu.Lock()
	defer s.media.mu.Unlock()
	return s.media.fetches
}

// SetMediaDown makes every media URL answer 503 while down.
func (s *Server) SetMediaDown(down bool) {
	s.media.mu.Lock()
	defer s.media.mu.Unlock()
	s.media.down = down
}

// serve answers the requests for media URLs and for the CDN, and says
// whether the request was one.
func (m *mediaFiles) serve(w http.ResponseWriter, r *http.Request, accountSID string) bool {
	if token, ok := strings.CutPrefix(r.URL.Path, cdnPrefix); ok {
		m.mu.Lock()
		f, found := m.cdn[token]
		m.mu.Unlock()
		if !found {
			http.NotFound(w, r)
			return true
		}
		w.Header().Set("Content-Type", f.contentType)
		w.Header().Set("Content-Length", strconv.Itoa(len(f.data)))
		_, _ = w.Write(f.data)
		return true
	}
	if !strings.HasPrefix(r.URL.Path, "/2010-04-01/Accounts/") || !strings.Contains(r.URL.Path, "/Media/") {
		return false
	}
	m.mu.Lock()
	m.fetches++
	f, found := m.byPath[r.URL.Path]
	down := m.down
	token := ""
	if found {
		token = strconv.Itoa(len(m.cdn) + 1)
		m.cdn[token] = f
	}
	m.mu.Unlock()
	switch user, pass, ok := r.BasicAuth(); {
	case !ok || user != accountSID || pass == "":
		restError(w, http.StatusUnauthorized, 20003, "Authenticate")
	case down:
		restError(w, http.StatusServiceUnavailable, 20503, errorMessage(20503))
	case !found:
		restError(w, http.StatusNotFound, 20404, "The requested resource was not found")
	default:
		http.Redirect(w, r, cdnPrefix+token, http.StatusTemporaryRedirect)
	}
	return true
}
