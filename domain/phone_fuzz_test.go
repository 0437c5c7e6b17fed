package domain_test

import (
	"regexp"
	"testing"

	"github.com/aimsg/aimsg/domain"
)

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)

// FuzzNormalizePhone: any input either is refused or becomes an E.164
// number that normalises to itself (so a number stored once is found again).
func FuzzNormalizePhone(f *testing.F) {
	for _, seed := range []string{"+14155552671", "(415) 555-2671", "+44 20 7946 0958", "whatsapp:+14155552671",
		"", "+", "++1", "0049 30 1234567", "+1 415 555 2671 ext. 9", "١٢٣٤٥٦٧٨", "+999999999999999999999", "\x00+1"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := domain.NormalizePhone(in)
		if err != nil {
			return
		}
		if !e164.MatchString(out) {
			t.Fatalf("NormalizePhone(%q) = %q, not E.164", in, out)
		}
		again, err := domain.NormalizePhone(out)
		if err != nil || again != out {
			t.Fatalf("NormalizePhone(%q) = %q, then %q, %v", in, out, again, err)
		}
	})
}
