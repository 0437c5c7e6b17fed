package config

import (
	"fmt"
	"regexp"
	"strings"
)

// DefaultMediaTypes are the files inbound messages may carry unless
// MEDIA_TYPES says otherwise: pictures, and voice notes in the formats
// phones and messengers record.
var DefaultMediaTypes = []string{
	"image/jpeg", "image/png", "image/gif", "image/webp",
	"audio/ogg", "audio/mpeg", "audio/mp4", "audio/wav", "audio/webm", "audio/amr",
}

// mimeType is the form of a MIME type without parameters.
var mimeType = regexp.MustCompile(`^[a-z0-9][a-z0-9!#$&^_.+-]*/[a-z0-9][a-z0-9!#$&^_.+-]*$`)

// mediaTypes reads a comma-separated list of MIME types (type/subtype),
// in any case.
func (r *reader) mediaTypes(name string) []string {
	types := r.list(name, DefaultMediaTypes)
	out := make([]string, 0, len(types))
	for _, t := range types {
		t = strings.ToLower(t)
		if !mimeType.MatchString(t) {
			r.fail(name, fmt.Sprintf("must be a comma-separated list of MIME types (image/png,audio/ogg), got %q", t))
			return DefaultMediaTypes
		}
		out = append(out, t)
	}
	return out
}
