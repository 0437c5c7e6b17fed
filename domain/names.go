package domain

import (
	"fmt"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// The naming rules: who may be called what, so that no account can pass
// for the assistant or for the people who run aimsg. Usernames are unique
// whatever their case and however they are typed (fullwidth, ligatures);
// usernames and display names may not be made of the words the service
// speaks with; display names carry no invisible or direction-changing
// characters. Names that break a rule are refused, never rewritten. What
// really is the assistant or staff is said by a Badge the server sets, which
// no name can produce.

// Badge is the mark the server puts next to the name of an account it
// vouches for; user input never sets it.
type Badge string

// The badges. An account that is neither has none.
const (
	// BadgeAssistant: the AI assistant's system account.
	BadgeAssistant Badge = "assistant"
	// BadgeStaff: a superuser, or a holder of the built-in agent role.
	BadgeStaff Badge = "staff"
)

// badgeOf is the badge of u; agent says whether u holds the agent role.
func badgeOf(u *User, agent bool) Badge {
	switch {
	case u.IsSystem:
		return BadgeAssistant
	case u.IsSuperuser || agent:
		return BadgeStaff
	}
	return ""
}

// NormalizeUsername is the form a username is stored in: Unicode NFKC, so
// that fullwidth letters, ligatures and other compatibility look-alikes
// become the ASCII they imitate and meet the same rules and uniqueness.
// The case is kept; UsernameKey compares without it.
func NormalizeUsername(s string) string {
	return norm.NFKC.String(s)
}

// UsernameKey is what makes two usernames the same account: NFKC, then lower
// case. The database holds a unique index on lower(username), which on the
// stored (NFKC, ASCII) form is the same thing.
func UsernameKey(s string) string {
	return strings.ToLower(NormalizeUsername(s))
}

// LoginName is the form of what someone types to log in: a username
// normalised (so every spelling of one account is counted as one by the
// login throttle and finds it), an email address as typed.
func LoginName(login string) string {
	if strings.Contains(login, "@") {
		return login
	}
	return NormalizeUsername(login)
}

var usernameChars = regexp.MustCompile(`^[A-Za-z0-9_.-]+$`)

// Bounds of a username, in characters of its stored form.
const (
	MinUsernameLength = 3
	MaxUsernameLength = 100
)

// CheckUsernameForm refuses a username (in its NormalizeUsername form) that
// is not 3 to 100 ASCII letters, digits, '.', '_' and '-'.
func CheckUsernameForm(name string) error {
	if !usernameChars.MatchString(name) {
		return invalid("Username may contain letters, digits, '.', '_' and '-' only")
	}
	if n := utf8.RuneCountInString(name); n < MinUsernameLength || n > MaxUsernameLength {
		return invalid(fmt.Sprintf("Username must have %d to %d characters", MinUsernameLength, MaxUsernameLength))
	}
	return nil
}

// CheckUsername is CheckUsernameForm plus the reservation: the rules of
// every account made through the API. The assistant's own username is not
// reserved but taken: asking for it (in any case) is a conflict, as for any
// account that exists.
func CheckUsername(name string) error {
	if err := CheckUsernameForm(name); err != nil {
		return err
	}
	if UsernameKey(name) != AssistantUsername && IsReservedName(name) {
		return invalid("Username is reserved: it reads as the assistant's or the aimsg team's")
	}
	return nil
}

// CheckDisplayName refuses a full name that holds a control, format
// (bidirectional overrides, isolates and marks, zero-width spaces and
// joiners, the BOM), line or paragraph separator or other invisible
// character, that shows nothing, or that reads as the assistant or the
// aimsg team (IsReservedName). The empty name is no name and passes.
func CheckDisplayName(name string) error {
	if name == "" {
		return nil
	}
	visible := false
	for _, r := range name {
		if invisible(r) {
			return invalid(fmt.Sprintf("Full name must not contain control, formatting or invisible characters (found %U)", r))
		}
		if unicode.In(r, unicode.L, unicode.N, unicode.P, unicode.S) {
			visible = true
		}
	}
	if !visible {
		return invalid("Full name must contain a visible character")
	}
	if IsReservedName(name) {
		return invalid("Full name is reserved: it reads as the assistant's or the aimsg team's")
	}
	return nil
}

// invisibleRunes are characters that show nothing, or nothing of their
// own, outside the categories invisible refuses as a whole: the Hangul
// fillers, the combining grapheme joiner, Khmer's inherent vowels, the
// Mongolian variation selectors and the blank Braille pattern. (Emoji
// variation selectors stay: phones add them to the emoji people type.)
var invisibleRunes = &unicode.RangeTable{R16: []unicode.Range16{
	{Lo: 0x034f, Hi: 0x034f, Stride: 1},
	{Lo: 0x115f, Hi: 0x1160, Stride: 1},
	{Lo: 0x17b4, Hi: 0x17b5, Stride: 1},
	{Lo: 0x180b, Hi: 0x180f, Stride: 1},
	{Lo: 0x2800, Hi: 0x2800, Stride: 1},
	{Lo: 0x3164, Hi: 0x3164, Stride: 1},
	{Lo: 0xffa0, Hi: 0xffa0, Stride: 1},
}}

// invisible reports whether r may not appear in a display name: controls
// (Cc: tab, newline, escape), format characters (Cf: U+202E and the other
// bidirectional controls, U+200B-U+200D, U+2060, U+FEFF, soft hyphen,
// tags), line and paragraph separators (Zl, Zp), private use (Co, which
// shows whatever a font makes of it) and invisibleRunes.
func invisible(r rune) bool {
	return unicode.In(r, unicode.Cc, unicode.Cf, unicode.Zl, unicode.Zp, unicode.Co, invisibleRunes)
}

// The words a reserved name is made of. A name is reserved when, read as
// nameSkeleton reads it, it is nothing but these words, at least one of
// them a systemWord: "Assistant", "AI Assistant", "A.I. assistant",
// "Support Team", "Administrator", "the-bot", "aimsg help desk". A name
// that merely contains one ("Joe Root", "Staffan", "Assistant Manager") is
// a person's.
var (
	// systemWords name the assistant, the service, or the people a user
	// would trust with a password; each alone is a reserved name:
	//   assistant                    the AI's username and display name
	//   aimsg                        the service itself
	//   admin, administrator, sysadmin, root, superuser
	//                                the people who run it
	//   staff, support, helpdesk, help, moderator, operator, security
	//                                the team that answers users
	//   system, official, bot        claims that a message comes from the service
	systemWords = []string{"assistant", "aimsg", "admin", "administrator", "sysadmin", "root", "superuser",
		"staff", "support", "helpdesk", "help", "moderator", "operator", "security", "system", "official", "bot"}
	// qualifierWords only make a reserved name with a system word ("AI
	// Assistant", "Support Team"); alone they are names people have (Ai).
	qualifierWords = []string{"ai", "the", "team", "desk", "service", "services", "account", "center", "centre",
		"customer", "tech", "it", "chat", "agent", "your", "our"}
)

// lookalikes are the Cyrillic and Greek letters (lower case) that are drawn
// like Latin ones: "Аssistant" with a Cyrillic A reads as "Assistant".
var lookalikes = map[rune]rune{
	'а': 'a', 'в': 'b', 'е': 'e', 'к': 'k', 'м': 'm', 'н': 'h', 'о': 'o', 'р': 'p', 'с': 'c', 'т': 't',
	'у': 'y', 'х': 'x', 'і': 'i', 'ј': 'j', 'ѕ': 's', 'ԁ': 'd', 'һ': 'h', 'ӏ': 'l', 'ԛ': 'q', 'ԝ': 'w', 'ү': 'y',
	'α': 'a', 'β': 'b', 'ε': 'e', 'ζ': 'z', 'η': 'h', 'ι': 'i', 'κ': 'k', 'μ': 'm', 'ν': 'n', 'ο': 'o',
	'ρ': 'p', 'τ': 't', 'υ': 'y', 'χ': 'x',
}

// nameSkeleton is a name as a reader takes it in: compatibility forms
// folded (NFKD: fullwidth, ligatures, circled letters), accents dropped,
// lower case, Cyrillic and Greek look-alikes as the Latin letters they
// look like, and only letters kept (spaces, punctuation, digits, symbols
// and marks go): "A.I. Ａｓｓｉｓｔáｎｔ 24/7" reads "aiassistant".
func nameSkeleton(s string) string {
	var b strings.Builder
	for _, r := range norm.NFKD.String(s) {
		if !unicode.IsLetter(r) {
			continue
		}
		r = unicode.ToLower(r)
		if l, ok := lookalikes[r]; ok {
			r = l
		}
		b.WriteRune(r)
	}
	return b.String()
}

// IsReservedName reports whether a username or display name reads as one
// of the names of the assistant or the aimsg team (see systemWords).
func IsReservedName(name string) bool {
	k := nameSkeleton(name)
	if k == "" {
		return false
	}
	// reach[i] says how the first i letters split into words: bit 1, with
	// qualifiers only; bit 2, with a system word among them.
	reach := make([]uint8, len(k)+1)
	reach[0] = 1
	for i := range len(k) {
		if reach[i] == 0 {
			continue
		}
		for _, w := range qualifierWords {
			if strings.HasPrefix(k[i:], w) {
				reach[i+len(w)] |= reach[i]
			}
		}
		for _, w := range systemWords {
			if strings.HasPrefix(k[i:], w) {
				reach[i+len(w)] |= 2
			}
		}
	}
	return reach[len(k)]&2 != 0
}
