package knowledge_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/knowledge"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

// A help page keeps its content, headings included, and loses what the
// site wraps it in: scripts, styles, navigation, header, footer, forms,
// hidden and aside text.
func TestKnowledgeConvertHTMLKeepsOnlyTheContent(t *testing.T) {
	doc, err := knowledge.Convert("storage-time.html", readTestdata(t, "storage-time.html"), "")
	require.NoError(t, err)
	assert.Equal(t, "How long a locker keeps your parcel", doc.Title, "the h1, without the site's name of <title>")
	assert.Equal(t, "https://help.boxly.example/storage-time", doc.URL, "the canonical link before og:url")
	want := `Your parcel waits in its locker for three days after we send you the pickup code.

## When the time is up

We send the parcel back to its sender. You can:

- ask for one more day in the app;
- send a friend with the code
  - they need the code and your phone number

### Steps to extend

1. Open the parcel in the app.
2. Tap ` + "`Extend`" + `.

## Storage by locker size

- Size: S; Days: 3
- Size: L; Days: 5

` + "```sh" + `
# check a parcel
curl https://api.boxly.example/parcels/123
` + "```" + `

> Storage time starts when the code is sent, not when you read it.

Questions? Write to our support team (help@boxly.example).`
	assert.Equal(t, want, doc.Body)
	for _, noise := range []string{"dataLayer", "font-family", "Search the help", "Home", "Breadcrumbs", "Help ›",
		"JavaScript", "Hidden promotion", "Also hidden", "Related", "Privacy", "logo", "template text", "¶",
		"# How long"} {
		assert.NotContains(t, doc.Body, noise)
	}
	// The code block's comment is no heading: the passages follow the
	// page's own headings.
	var paths []string
	for _, p := range domain.SplitPassages(doc.Body) {
		paths = append(paths, p.HeadingPath)
	}
	assert.Equal(t, []string{"", "When the time is up", "When the time is up › Steps to extend", "Storage by locker size"}, paths)
}

func TestKnowledgeConvertHTMLOfScriptsOnlyHasNoText(t *testing.T) {
	_, err := knowledge.Convert("scripts-only.html", readTestdata(t, "scripts-only.html"), "")
	require.ErrorIs(t, err, domain.ErrInvalid)
	assert.Equal(t, "has no text", domain.Reason(err))
}

func TestKnowledgeConvertHTMLTitleAndURL(t *testing.T) {
	for _, tc := range []struct {
		name, page, title, url, body string
	}{
		{"the first h1 without a <title>, not repeated", `<h1>Sizes</h1><p>Three sizes.</p><h1>Prices</h1><p>From 3 €.</p>`,
			"Sizes", "", "Three sizes.\n\n# Prices\n\nFrom 3 €."},
		{"a <title> that is not the h1 keeps the h1",
			`<title>Locker sizes</title><meta property="og:url" content="https://x.example/sizes"><h1>Small</h1><p>For letters.</p>`,
			"Locker sizes", "https://x.example/sizes", "# Small\n\nFor letters."},
		{"the site's name before the h1", `<title>Boxly — Prices</title><h1>Prices</h1><p>From 3 €.</p>`,
			"Prices", "", "From 3 €."},
		{"no separator: another title", `<title>Prices-list</title><h1>Prices</h1><p>From 3 €.</p>`,
			"Prices-list", "", "# Prices\n\nFrom 3 €."},
		{"neither: the file name", `<p>Just   text,
			on   two lines<br>and a break.</p>`, "price list", "", "Just text, on two lines\nand a break."},
		{"without a main element, the page's chrome is left out",
			`<header>Site</header><nav><a href="/">Home</a></nav><div role="navigation">Crumbs</div><p>Content.</p>` +
				`<script>x()</script><style>p{}</style><noscript>JS</noscript><aside>Ads</aside><form><label>Name</label></form>` +
				`<div aria-hidden="true">Icon</div><span style="visibility: hidden">Ghost</span><svg><text>Logo</text></svg>` +
				`<iframe>Frame</iframe><template>Tpl</template><footer>Footer</footer>`,
			"price list", "", "Content."},
		{"the main element only", `<div class="cookie">We use cookies.</div><main><p>Inside.</p></main><p>After.</p>`,
			"price list", "", "Inside."},
		{"paragraph text that looks like markdown is escaped", `<p># 1 in service</p><p>` + "```" + `</p>`,
			"price list", "", "\\# 1 in service\n\n\\```"},
		{"a layout table reads as content", `<table><tr><td><p>Left column.</p></td><td><ul><li>a</li></ul></td></tr></table>`,
			"price list", "", "Left column.\n\n- a"},
		{"a row's own header", `<table><tr><th>Weight</th><td>25 kg</td></tr><tr><th>Sides</th><td>64 cm</td></tr></table>`,
			"price list", "", "- Weight: 25 kg\n- Sides: 64 cm"},
		{"a closed dialog is hidden, an open one is not", `<dialog>Accept cookies?</dialog><dialog open>Shown.</dialog>`,
			"price list", "", "Shown."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := knowledge.Convert("price_list.html", []byte(tc.page), "")
			require.NoError(t, err)
			assert.Equal(t, tc.title, doc.Title)
			assert.Equal(t, tc.url, doc.URL)
			assert.Equal(t, tc.body, doc.Body)
		})
	}
}

// The title heading and the front matter leave the body; the other
// headings and the code (where # is no heading) stay as written.
func TestKnowledgeConvertMarkdown(t *testing.T) {
	doc, err := knowledge.Convert("returns.md", readTestdata(t, "returns.md"), "")
	require.NoError(t, err)
	assert.Equal(t, knowledge.Document{Title: "Sending a parcel back", URL: "https://help.boxly.example/returns", Collection: "returns",
		Body: "Changed your mind? Most shops take a parcel back within 14 days.\n\n" +
			"## At a locker\n\nChoose **Return** in the app, pick a locker and drop the parcel in.\n\n" +
			"```sh\n# not a heading: code\nboxly return 123\n```\n\n## At a shop\n\nAny Boxly point takes returns too.",
	}, doc)

	// A setext heading is a level-1 heading too; the first one is the
	// title, the next one a heading of the body.
	doc, err = knowledge.Convert("pickup-codes.md", readTestdata(t, "pickup-codes.md"), "")
	require.NoError(t, err)
	assert.Equal(t, "Pickup codes", doc.Title)
	assert.Equal(t, "Intro text before the title heading.\n\n"+
		"Every parcel has a six-digit code, sent by SMS and shown in the app.\n\n# Lost codes\n\nAsk the app to send it again.", doc.Body)

	for _, tc := range []struct {
		name, file, src, title, body string
	}{
		{"no heading: the file name", "lost-and_found.markdown", "Ask at the desk.", "lost and found", "Ask at the desk."},
		{"a # line in code is no title", "codes.md", "```\n# not a title\n```\n\nText.", "codes", "```\n# not a title\n```\n\nText."},
		{"a front matter title other than the h1 keeps the h1", "x.md", "---\ntitle: Returns\n---\n# At a locker\n\nText.",
			"Returns", "# At a locker\n\nText."},
		{"an unclosed front matter is a thematic break", "x.md", "---\ntitle: no\n\nText.", "x", "---\ntitle: no\n\nText."},
		{"CRLF and a byte order mark", "x.md", "\uFEFF# Title\r\n\r\nText.\r\n", "Title", "Text."},
		{"the heading's markup is not its title", "x.md", "# The `pickup` *code*\n\nText.", "The pickup code", "Text."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			doc, err := knowledge.Convert(tc.file, []byte(tc.src), "")
			require.NoError(t, err)
			assert.Equal(t, tc.title, doc.Title)
			assert.Equal(t, tc.body, doc.Body)
		})
	}
	_, err = knowledge.Convert("x.md", []byte("---\ntitle: Only\n---\n# Only\n\n## Headings\n"), "")
	require.ErrorIs(t, err, domain.ErrInvalid)
	assert.Equal(t, "has no text", domain.Reason(err))
}

func TestKnowledgeConvertText(t *testing.T) {
	doc, err := knowledge.Convert("opening-hours.txt", readTestdata(t, "opening-hours.txt"), "")
	require.NoError(t, err)
	assert.Equal(t, "Opening hours", doc.Title)
	assert.Equal(t, "Most lockers never close.\n\\# of lockers open at night: all of them.\n\n"+
		"Lockers in shopping centres follow the centre's hours.", doc.Body)
	ps := domain.SplitPassages(doc.Body)
	require.Len(t, ps, 1, "plain text makes no headings")
	assert.Empty(t, ps[0].HeadingPath)

	long := strings.Repeat("A first line far too long to be a title. ", 4)
	doc, err = knowledge.Convert("faq_notes.txt", []byte(long+"\nSecond line."), "")
	require.NoError(t, err)
	assert.Equal(t, "faq notes", doc.Title)
	assert.Equal(t, strings.TrimSpace(long)+"\nSecond line.", doc.Body)

	_, err = knowledge.Convert("title-only.txt", []byte("\n\nJust a title\n\n"), "")
	assert.ErrorIs(t, err, domain.ErrInvalid)
}

func TestKnowledgeConvertRefuses(t *testing.T) {
	for _, tc := range []struct {
		name, file, format string
		data               []byte
		reason             string
	}{
		{"invalid UTF-8", "a.md", "", []byte("caf\xe9 au lait"), "is not valid UTF-8"},
		{"NUL bytes", "a.txt", "", []byte("a\x00b"), "contains NUL bytes"},
		{"a type it does not read", "manual.pdf", "", []byte("%PDF-1.7"), "is not a supported type (.pdf; .md, .markdown, .html, .htm, .txt or .zip)"},
		{"an unknown format", "a.md", "docx", []byte("text"), `is in format "docx", not markdown, html or text`},
		{"empty", "a.html", "", nil, "has no text"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := knowledge.Convert(tc.file, tc.data, tc.format)
			require.ErrorIs(t, err, domain.ErrInvalid)
			assert.Equal(t, tc.reason, domain.Reason(err))
		})
	}
	// The format given wins over the extension.
	doc, err := knowledge.Convert("page.txt", []byte("<h1>Hi</h1><p>There.</p>"), knowledge.FormatHTML)
	require.NoError(t, err)
	assert.Equal(t, "Hi", doc.Title)
}

// A relative or non-web link is no address a reply can show: the
// document goes without one.
func TestKnowledgeConvertDropsLinksThatAreNotWebAddresses(t *testing.T) {
	for _, src := range []string{"---\nurl: /help/returns\n---\n# Returns\n\nText.",
		"---\nurl: javascript:alert(1)\n---\n# Returns\n\nText."} {
		doc, err := knowledge.Convert("returns.md", []byte(src), "")
		require.NoError(t, err)
		assert.Empty(t, doc.URL, src)
	}
	doc, err := knowledge.Convert("page.html", []byte(`<html><head><link rel="canonical" href="/lockers"><title>Lockers</title></head><body><p>Text.</p></body></html>`), "")
	require.NoError(t, err)
	assert.Empty(t, doc.URL)
}
