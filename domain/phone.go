package domain

import (
	"regexp"
	"strings"

	"github.com/nyaruka/phonenumbers"
)

// NormalizePhone turns a phone number in international form ("+1 415
// 555-0123", "0044 20 7946 0958") into E.164 ("+14155550123"), the form
// Twilio uses in its webhooks, so a number is stored and matched one way.
func NormalizePhone(s string) (string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "00") {
		s = "+" + s[2:]
	}
	if !strings.HasPrefix(s, "+") {
		return "", invalid("phone number must be in international format, starting with + and the country code")
	}
	n, err := phonenumbers.Parse(s, "")
	if err != nil || !phonenumbers.IsValidNumber(n) {
		return "", invalid("phone number is not a valid international number")
	}
	out := phonenumbers.Format(n, phonenumbers.E164)
	// The library accepts some over-long numbers (letters read as keypad
	// digits, trunk zeros kept); E.164 has at most 15 digits.
	if !e164.MatchString(out) {
		return "", invalid("phone number is not a valid international number")
	}
	return out, nil
}

var e164 = regexp.MustCompile(`^\+[1-9][0-9]{6,14}$`)
