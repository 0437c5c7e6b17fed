package activities

import (
	"strconv"
	"strings"
	"unicode/utf16"

	"github.com/aimsg/aimsg/domain"
)

// Channels that show no links under a message (SMS, Telegram) end a reply
// that cites the knowledge base with its sources, written into the text.

// TelegramText is a reply as Telegram shows it: the text, then one line
// per source with its title, heading and link.
func TelegramText(reply *domain.Message) string {
	if len(reply.Citations) == 0 {
		return reply.Content
	}
	var b strings.Builder
	b.WriteString(strings.TrimSpace(reply.Content) + "\n\nSources:")
	for _, c := range reply.Citations {
		b.WriteString("\n[" + strconv.Itoa(c.N) + "] " + c.Title)
		if c.Heading != "" {
			b.WriteString(" — " + c.Heading)
		}
		if c.URL != nil {
			b.WriteString(" " + *c.URL)
		}
	}
	return b.String()
}

// smsURLChars is the longest link an SMS shows; a longer one is left out.
const smsURLChars = 40

// SMSText is a reply as an SMS says it: the text, then "Sources:" with
// the cited titles and short links, within the segment budget: the
// sources may cost the message at most one more SMS segment than its
// text alone. What does not fit goes, in this order: the links, the end
// of long titles, the last sources.
func SMSText(reply *domain.Message) string {
	text := strings.TrimSpace(reply.Content)
	cites := reply.Citations
	if len(cites) == 0 {
		return reply.Content
	}
	budget := SMSSegments(text) + 1
	for n := len(cites); n >= 1; n-- {
		for _, style := range []struct {
			links    bool
			maxTitle int
		}{{true, 0}, {false, 0}, {false, 24}} {
			out := text + "\n\nSources: " + smsSources(cites[:n], style.links, style.maxTitle)
			if SMSSegments(out) <= budget {
				return out
			}
		}
	}
	return text
}

// smsSources lists sources as "[1] Title link; [2] Title".
func smsSources(cites []domain.Citation, links bool, maxTitle int) string {
	parts := make([]string, len(cites))
	for i, c := range cites {
		title := c.Title
		if r := []rune(title); maxTitle > 0 && len(r) > maxTitle {
			// Three dots: an ellipsis character is not GSM-7, and would
			// make the whole message UCS-2, with half the room.
			title = strings.TrimSpace(string(r[:maxTitle-3])) + "..."
		}
		parts[i] = "[" + strconv.Itoa(c.N) + "] " + title
		if u := shortURL(c.URL); links && u != "" {
			parts[i] += " " + u
		}
	}
	return strings.Join(parts, "; ")
}

// shortURL is a link without its scheme and "www.", or "" when none or
// still longer than smsURLChars.
func shortURL(u *string) string {
	if u == nil {
		return ""
	}
	s := strings.TrimPrefix(strings.TrimPrefix(*u, "https://"), "http://")
	s = strings.TrimSuffix(strings.TrimPrefix(s, "www."), "/")
	if len([]rune(s)) > smsURLChars {
		return ""
	}
	return s
}

// SMSSegments is how many SMS segments text is sent as: 160 GSM-7
// characters in one, 153 in each of several; text with any other
// character goes as UCS-2, 70 UTF-16 units in one, 67 in each of several.
func SMSSegments(text string) int {
	units, single, multi := 0, 160, 153
	gsm := true
	for _, r := range text {
		switch {
		case strings.ContainsRune(gsmBasic, r):
			units++
		case strings.ContainsRune(gsmExtended, r):
			units += 2 // an escape and the character
		default:
			gsm = false
		}
	}
	if !gsm {
		units, single, multi = len(utf16.Encode([]rune(text))), 70, 67
	}
	if units <= single {
		return 1
	}
	return (units + multi - 1) / multi
}

// The GSM 03.38 default alphabet and its extension table.
const (
	gsmBasic = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
		"¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
	gsmExtended = "^{}\\[~]|€\f"
)
