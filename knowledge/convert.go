// Package knowledge brings files into the knowledge base: Convert turns a
// markdown, HTML or text file into a Document (a title, maybe a URL, a
// markdown body), and Import stores files and zips of them as articles,
// replacing the ones imported before. The store and the search are
// domain/knowledge.go's; this package only reads files. Its callers (the
// `aimsg knowledge` command, later the API) decide who may import: the
// API checks domain.PermKnowledge first.
package knowledge

import (
	"bytes"
	"fmt"
	"path"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/text"

	"github.com/aimsg/aimsg/domain"
)

// The formats Convert reads.
const (
	FormatMarkdown = "markdown"
	FormatHTML     = "html"
	FormatText     = "text"
)

// maxTextTitleChars is how long the first line of a text file may be to
// be its title; a longer one is a paragraph.
const maxTextTitleChars = 120

// Document is a file made ready for the knowledge base.
type Document struct {
	Title string
	// URL is where the document is published, "" when it does not say
	// (HTML: the canonical link or og:url; markdown: front matter).
	URL string
	// Body is markdown, which domain.SplitPassages cuts at its headings.
	Body string
	// Collection is the one the markdown front matter names, or "".
	Collection string
}

// formatOf is the format a file name's extension stands for, or "".
func formatOf(name string) string {
	switch strings.ToLower(path.Ext(name)) {
	case ".md", ".markdown":
		return FormatMarkdown
	case ".html", ".htm":
		return FormatHTML
	case ".txt":
		return FormatText
	}
	return ""
}

// Convert reads a file as format (FormatMarkdown, FormatHTML, FormatText,
// or "" to go by name's extension) into a Document. Its errors wrap
// domain.ErrInvalid and say what is wrong with the file, not which file it
// is (the caller knows): not UTF-8, NUL bytes, not a supported type, no
// text.
func Convert(name string, data []byte, format string) (Document, error) {
	given := format
	if format == "" {
		format = formatOf(name)
	}
	switch format {
	case FormatMarkdown, FormatHTML, FormatText:
	case "":
		return Document{}, unsupported(name)
	default:
		return Document{}, invalid(fmt.Sprintf("is in format %q, not markdown, html or text", given))
	}
	if !utf8.Valid(data) {
		return Document{}, invalid("is not valid UTF-8")
	}
	if bytes.IndexByte(data, 0) >= 0 {
		return Document{}, invalid("contains NUL bytes")
	}
	src := strings.ReplaceAll(strings.TrimPrefix(string(data), "\uFEFF"), "\r\n", "\n")
	var doc Document
	switch format {
	case FormatMarkdown:
		doc = convertMarkdown(name, src)
	case FormatHTML:
		var err error
		if doc, err = convertHTML(name, src); err != nil {
			return Document{}, err
		}
	case FormatText:
		doc = convertText(name, src)
	}
	doc.Title = collapseSpaces(doc.Title)
	doc.URL = strings.TrimSpace(doc.URL)
	if !domain.WebURL(doc.URL) {
		// A relative or odd link ("/help/returns") is no address a reply
		// can show: the article goes without one.
		doc.URL = ""
	}
	doc.Body = strings.TrimSpace(doc.Body)
	// One rule for every format: what would make no passage is no text.
	if len(domain.SplitPassages(doc.Body)) == 0 {
		return Document{}, invalid("has no text")
	}
	return doc, nil
}

// invalid is a refusal of a file, for its importer to show.
func invalid(msg string) error {
	return fmt.Errorf("%s: %w", msg, domain.ErrInvalid)
}

// unsupported refuses a file by its type.
func unsupported(name string) error {
	ext := path.Ext(name)
	if ext == "" {
		return invalid("is not a supported type (no extension; .md, .markdown, .html, .htm, .txt or .zip)")
	}
	return invalid(fmt.Sprintf("is not a supported type (%s; .md, .markdown, .html, .htm, .txt or .zip)", ext))
}

// titleFromName is a file's name as a title: the base name without its
// extension, dashes and underscores made spaces.
func titleFromName(name string) string {
	base := path.Base(strings.ReplaceAll(name, "\\", "/"))
	base = strings.TrimSuffix(base, path.Ext(base))
	return collapseSpaces(strings.NewReplacer("-", " ", "_", " ").Replace(base))
}

// collapseSpaces makes every run of white space one space, and trims.
func collapseSpaces(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// frontMatterKey is a "key: value" line of front matter.
var frontMatterKey = regexp.MustCompile(`^([A-Za-z_][A-Za-z0-9_-]*)[ \t]*:[ \t]*(.*)$`)

// frontMatter takes the YAML-style block that may open a markdown file
// ("---", key: value lines, "---") off src, and returns its simple
// values. Nested or multi-line YAML values are not read: the importer
// needs three plain strings, not a YAML library.
func frontMatter(src string) (map[string]string, string) {
	first, rest, ok := strings.Cut(src, "\n")
	if !ok || strings.TrimSpace(first) != "---" {
		return nil, src
	}
	values := map[string]string{}
	for len(rest) > 0 {
		var line string
		line, rest, _ = strings.Cut(rest, "\n")
		if t := strings.TrimSpace(line); t == "---" || t == "..." {
			return values, rest
		}
		m := frontMatterKey.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		v := strings.TrimSpace(m[2])
		if len(v) >= 2 && (v[0] == '"' || v[0] == '\'') && v[len(v)-1] == v[0] {
			v = v[1 : len(v)-1]
		}
		values[strings.ToLower(m[1])] = v
	}
	// No closing line: the "---" was a thematic break, not front matter.
	return nil, src
}

// convertMarkdown keeps the body as written, less its front matter and
// the level-1 heading taken as its title.
func convertMarkdown(name, src string) Document {
	meta, body := frontMatter(src)
	doc := Document{Title: meta["title"], URL: meta["url"], Collection: meta["collection"]}
	start, end, heading := firstH1(body)
	switch {
	case heading != "" && (doc.Title == "" || collapseSpaces(doc.Title) == heading):
		doc.Title = heading
		// One blank line where the heading was, not its own and the next.
		before, after := strings.TrimRight(body[:start], " \t\n"), strings.TrimLeft(body[end:], "\n")
		body = before + "\n\n" + after
	case doc.Title == "":
		doc.Title = titleFromName(name)
	}
	doc.Body = body
	return doc
}

// firstH1 finds the first level-1 heading of a markdown document at its
// top level (not inside a list or a quote) with goldmark's parser, which
// knows what is code and what is a heading: its text and the bytes of
// src it takes (its line, and its underline for a setext heading).
func firstH1(src string) (start, end int, title string) {
	source := []byte(src)
	doc := goldmark.New().Parser().Parse(text.NewReader(source))
	for n := doc.FirstChild(); n != nil; n = n.NextSibling() {
		h, ok := n.(*ast.Heading)
		if !ok || h.Level != 1 || h.Lines().Len() == 0 {
			continue
		}
		title = collapseSpaces(inlineText(h, source))
		if title == "" {
			continue
		}
		lines := h.Lines()
		start = lineStart(src, lines.At(0).Start)
		end = lineEnd(src, lines.At(lines.Len()-1).Stop)
		// A setext heading's text is followed by its underline (=====),
		// which goes with it; an ATX heading is its one line.
		if !atxHeading.MatchString(src[start:end]) {
			end = lineEnd(src, end)
		}
		return start, end, title
	}
	return 0, 0, ""
}

// inlineText is the text of n's inline content: code spans, links and
// emphasis without their markup.
func inlineText(n ast.Node, source []byte) string {
	var b strings.Builder
	_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch t := c.(type) {
		case *ast.Text:
			b.Write(t.Value(source))
			if t.SoftLineBreak() || t.HardLineBreak() {
				b.WriteByte(' ')
			}
		case *ast.String:
			b.Write(t.Value)
		case *ast.AutoLink:
			b.Write(t.Label(source))
		case *ast.RawHTML:
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	return b.String()
}

// lineStart is the offset where the line holding offset i starts.
func lineStart(s string, i int) int {
	return strings.LastIndexByte(s[:i], '\n') + 1
}

// lineEnd is the offset just past the end of the line holding offset i
// (past its newline), or len(s).
func lineEnd(s string, i int) int {
	if i >= len(s) {
		return len(s)
	}
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		return i + j + 1
	}
	return len(s)
}

// convertText takes a short first line as the title and the rest as the
// body; plain text is not markdown, so its lines that would read as
// headings or code fences are escaped.
func convertText(name, src string) Document {
	lines := strings.Split(src, "\n")
	for len(lines) > 0 && strings.TrimSpace(lines[0]) == "" {
		lines = lines[1:]
	}
	title := titleFromName(name)
	if len(lines) > 0 {
		if first := collapseSpaces(lines[0]); utf8.RuneCountInString(first) <= maxTextTitleChars {
			title, lines = first, lines[1:]
		}
	}
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			// At most one blank line in a row: paragraphs, not layout.
			if blank++; blank > 1 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, escapeLine(l))
	}
	return Document{Title: title, Body: strings.Join(out, "\n")}
}

// atxHeading is the start of a "# Heading" line.
var atxHeading = regexp.MustCompile(`^ {0,3}#{1,6}([ \t]|$)`)

// markdownSyntax is the start of a line that would be a heading or open
// a code fence in markdown.
var markdownSyntax = regexp.MustCompile("^ {0,3}(#{1,6}([ \t]|$)|```|~~~)")

// escapeLine makes a line of plain text read as text in markdown.
func escapeLine(l string) string {
	if loc := markdownSyntax.FindStringIndex(l); loc != nil {
		i := len(l) - len(strings.TrimLeft(l, " "))
		return l[:i] + `\` + l[i:]
	}
	return l
}
