package knowledge

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
)

// Reading an HTML page as markdown: its content, without what a page
// wraps it in (navigation, header, footer, scripts, forms).

// droppedElements are left out with everything in them: code, page
// chrome, controls and media, none of which is an answer to a question.
var droppedElements = map[atom.Atom]bool{
	atom.Script: true, atom.Style: true, atom.Noscript: true, atom.Template: true,
	atom.Nav: true, atom.Header: true, atom.Footer: true, atom.Aside: true,
	atom.Form: true, atom.Iframe: true, atom.Svg: true, atom.Head: true,
	atom.Button: true, atom.Select: true, atom.Textarea: true, atom.Input: true,
	atom.Canvas: true, atom.Object: true, atom.Embed: true, atom.Audio: true,
	atom.Video: true, atom.Map: true,
}

// droppedRoles are the ARIA landmarks that stand for nav, header,
// footer and aside on pages written with divs.
var droppedRoles = map[string]bool{
	"navigation": true, "banner": true, "contentinfo": true, "complementary": true, "search": true,
}

// blockElements start and end a paragraph.
var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Section: true, atom.Article: true, atom.Main: true,
	atom.Body: true, atom.Html: true, atom.Address: true, atom.Figure: true, atom.Figcaption: true,
	atom.Details: true, atom.Summary: true, atom.Fieldset: true, atom.Legend: true, atom.Center: true,
	atom.Dl: true, atom.Dt: true, atom.Dd: true, atom.Hgroup: true, atom.Hr: true, atom.Caption: true,
}

// layoutElements inside a table cell make the table a page layout, whose
// cells are read as content rather than as rows of data.
var layoutElements = map[atom.Atom]bool{
	atom.P: true, atom.Div: true, atom.Ul: true, atom.Ol: true, atom.Table: true, atom.Pre: true,
	atom.Blockquote: true, atom.H1: true, atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true,
}

// permalinkMarks are the texts of the links documentation generators put
// beside headings ("Storage time¶").
var permalinkMarks = map[string]bool{"¶": true, "#": true, "§": true, "🔗": true}

// titleSeparators join a page's title to its site's name: "Storage time |
// Boxly Help".
const titleSeparators = "|-–—·:•»/"

// convertHTML reads a page: its title (<title>, else its first h1), its
// URL (canonical link, else og:url) and its content as markdown.
func convertHTML(name, src string) (Document, error) {
	root, err := html.Parse(strings.NewReader(src))
	if err != nil {
		return Document{}, invalid(fmt.Sprintf("is not readable HTML (%v)", err))
	}
	var doc Document
	var titleNode *html.Node
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || n.Namespace != "" {
			continue
		}
		switch n.DataAtom {
		case atom.Title:
			if titleNode == nil {
				titleNode = n
			}
		case atom.Link:
			if doc.URL == "" && hasToken(attr(n, "rel"), "canonical") {
				doc.URL = attr(n, "href")
			}
		}
	}
	// The canonical link wins over og:url wherever each stands.
	if doc.URL == "" {
		for n := range root.Descendants() {
			if n.Type == html.ElementNode && n.DataAtom == atom.Meta && strings.EqualFold(attr(n, "property"), "og:url") {
				doc.URL = attr(n, "content")
				break
			}
		}
	}
	if titleNode != nil {
		doc.Title = collapseSpaces(textContent(titleNode))
	}

	content := mainContent(root)
	w := &htmlWriter{}
	h1 := firstH1Node(content, false)
	if h1 == nil {
		// A page may carry its h1 in the <header> left out of the body.
		h1 = firstH1Node(root, true)
	}
	heading := ""
	if h1 != nil {
		heading = w.inlineOf(h1)
	}
	switch {
	case heading != "" && (doc.Title == "" || sameTitle(doc.Title, heading)):
		// The h1 is the title, so it is not repeated as the body's first
		// heading; "Storage time | Boxly Help" loses the site's name.
		doc.Title, w.skip = heading, h1
	case doc.Title == "":
		doc.Title = titleFromName(name)
	}
	w.node(content)
	doc.Body = strings.Join(w.finish(), "\n\n")
	return doc, nil
}

// mainContent is the page's <main> (or role=main) when it has one, else
// its <body>, else the whole document.
func mainContent(root *html.Node) *html.Node {
	var body *html.Node
	for n := range root.Descendants() {
		if n.Type != html.ElementNode || n.Namespace != "" {
			continue
		}
		if (n.DataAtom == atom.Main || strings.EqualFold(attr(n, "role"), "main")) && !inDropped(n, false) {
			return n
		}
		if n.DataAtom == atom.Body && body == nil {
			body = n
		}
	}
	if body != nil {
		return body
	}
	return root
}

// firstH1Node is the first h1 under n that is shown, or that is in a
// <header> when inHeader.
func firstH1Node(n *html.Node, inHeader bool) *html.Node {
	for c := range n.Descendants() {
		if c.Type == html.ElementNode && c.DataAtom == atom.H1 && c.Namespace == "" && !inDropped(c, inHeader) {
			return c
		}
	}
	return nil
}

// inDropped reports whether n or an ancestor is hidden or left out,
// not counting <header>s when inHeader.
func inDropped(n *html.Node, inHeader bool) bool {
	for a := n; a != nil; a = a.Parent {
		if a.Type == html.ElementNode && !(inHeader && a.DataAtom == atom.Header) && dropped(a) {
			return true
		}
	}
	return false
}

// sameTitle reports whether a page's <title> is its h1, maybe with the
// site's name before or after a separator.
func sameTitle(title, h1 string) bool {
	t, h := strings.ToLower(collapseSpaces(title)), strings.ToLower(h1)
	if t == h {
		return true
	}
	// The separator stands apart: "Storage time-lapse" is another title.
	if rest, ok := strings.CutPrefix(t, h+" "); ok {
		return rest != "" && strings.ContainsRune(titleSeparators, []rune(rest)[0])
	}
	if rest, ok := strings.CutSuffix(t, " "+h); ok {
		rs := []rune(rest)
		return len(rs) > 0 && strings.ContainsRune(titleSeparators, rs[len(rs)-1])
	}
	return false
}

// dropped reports whether element n is left out with its content: by
// its kind, its landmark role, or because it is hidden.
func dropped(n *html.Node) bool {
	switch {
	case n.Namespace == "svg":
		// Inline drawings; MathML's text is the formula, and stays.
		return true
	case n.Namespace == "" && droppedElements[n.DataAtom]:
		return true
	}
	if droppedRoles[strings.ToLower(attr(n, "role"))] {
		return true
	}
	if _, ok := attrOK(n, "hidden"); ok {
		return true
	}
	if strings.EqualFold(attr(n, "aria-hidden"), "true") {
		return true
	}
	// A closed dialog is not shown (cookie banners, modals).
	if _, open := attrOK(n, "open"); n.DataAtom == atom.Dialog && !open {
		return true
	}
	style := strings.ToLower(strings.Join(strings.Fields(attr(n, "style")), ""))
	return strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden")
}

// attrOK is the value of n's attribute key, and whether it has it.
func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Namespace == "" && strings.EqualFold(a.Key, key) {
			return strings.TrimSpace(a.Val), true
		}
	}
	return "", false
}

// attr is the value of n's attribute key, or "".
func attr(n *html.Node, key string) string {
	v, _ := attrOK(n, key)
	return v
}

// hasToken reports whether a space-separated list (rel, class) holds tok.
func hasToken(list, tok string) bool {
	for _, t := range strings.Fields(list) {
		if strings.EqualFold(t, tok) {
			return true
		}
	}
	return false
}

// textContent is all the text under n, as written.
func textContent(n *html.Node) string {
	var b strings.Builder
	for c := range n.Descendants() {
		if c.Type == html.TextNode {
			b.WriteString(c.Data)
		}
	}
	return b.String()
}

// htmlWriter turns HTML nodes into markdown blocks: paragraphs, headings,
// lists, quotes, code blocks and tables as lines.
type htmlWriter struct {
	blocks []string
	// inline is the paragraph being written; space says a space is due
	// before its next text.
	inline strings.Builder
	space  bool
	// nested writers write a list item, quote or table cell, where a
	// heading is a paragraph: a "#" line there would cut a passage.
	nested bool
	// skip is the h1 taken as the title.
	skip *html.Node
}

// sub is a writer for the content of a list item, quote or cell.
func (w *htmlWriter) sub() *htmlWriter {
	return &htmlWriter{nested: true, skip: w.skip}
}

// finish ends the open paragraph and returns the blocks.
func (w *htmlWriter) finish() []string {
	w.flush()
	return w.blocks
}

// inlineOf is the text of n on one line.
func (w *htmlWriter) inlineOf(n *html.Node) string {
	s := w.sub()
	s.children(n)
	return collapseSpaces(strings.Join(s.finish(), " "))
}

// flush ends the open paragraph: its lines trimmed, those that would be
// markdown syntax escaped.
func (w *htmlWriter) flush() {
	text := w.inline.String()
	w.inline.Reset()
	w.space = false
	var lines []string
	for l := range strings.SplitSeq(text, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			lines = append(lines, escapeLine(l))
		}
	}
	if len(lines) > 0 {
		w.blocks = append(w.blocks, strings.Join(lines, "\n"))
	}
}

// text adds text to the open paragraph, each run of white space made one
// space, as a browser shows it.
func (w *htmlWriter) text(s string) {
	for _, r := range s {
		if unicode.IsSpace(r) {
			w.space = true
			continue
		}
		w.write(string(r))
	}
}

// write adds s as it is, after the space due before it, if any; a line's
// start needs none.
func (w *htmlWriter) write(s string) {
	if w.space && w.inline.Len() > 0 && !strings.HasSuffix(w.inline.String(), "\n") {
		w.inline.WriteByte(' ')
	}
	w.space = false
	w.inline.WriteString(s)
}

func (w *htmlWriter) children(n *html.Node) {
	for c := range n.ChildNodes() {
		w.node(c)
	}
}

func (w *htmlWriter) node(n *html.Node) {
	switch n.Type {
	case html.TextNode:
		w.text(n.Data)
	case html.DocumentNode:
		w.children(n)
	case html.ElementNode:
		if n == w.skip || dropped(n) {
			return
		}
		w.element(n)
	}
}

func (w *htmlWriter) element(n *html.Node) {
	switch n.DataAtom {
	case atom.H1, atom.H2, atom.H3, atom.H4, atom.H5, atom.H6:
		w.flush()
		text := w.inlineOf(n)
		switch {
		case text == "":
		case w.nested:
			w.blocks = append(w.blocks, escapeLine(text))
		default:
			level := int(n.Data[1] - '0')
			w.blocks = append(w.blocks, strings.Repeat("#", level)+" "+text)
		}
	case atom.Br:
		w.inline.WriteByte('\n')
		w.space = false
	case atom.Pre:
		w.flush()
		w.pre(n)
	case atom.Code, atom.Kbd, atom.Samp:
		w.code(n)
	case atom.Ul, atom.Ol:
		w.flush()
		w.list(n)
	case atom.Li:
		// An item outside a list: a list of one.
		w.flush()
		if item := listItem("- ", w.itemBlocks(n)); item != "" {
			w.blocks = append(w.blocks, item)
		}
	case atom.Blockquote:
		w.flush()
		w.quote(n)
	case atom.Table:
		w.flush()
		w.table(n)
	case atom.A:
		w.link(n)
	case atom.Img:
		// Pictures are not text; their alt text is mostly "logo".
	default:
		if blockElements[n.DataAtom] {
			w.flush()
			w.children(n)
			w.flush()
			return
		}
		w.children(n)
	}
}

// pre writes a fenced code block, its text as written, with the
// language its class names ("language-go").
func (w *htmlWriter) pre(n *html.Node) {
	code := strings.Trim(textContent(n), "\n")
	if strings.TrimSpace(code) == "" {
		return
	}
	lang := codeLanguage(n)
	for c := range n.Descendants() {
		if lang == "" && c.Type == html.ElementNode && c.DataAtom == atom.Code {
			lang = codeLanguage(c)
		}
	}
	fence := "```"
	for strings.Contains(code, fence) {
		fence += "`"
	}
	w.blocks = append(w.blocks, fence+lang+"\n"+code+"\n"+fence)
}

// codeLanguage is the language a code element's class names, or "".
func codeLanguage(n *html.Node) string {
	for _, c := range strings.Fields(attr(n, "class")) {
		for _, p := range []string{"language-", "lang-"} {
			if l, ok := strings.CutPrefix(c, p); ok && l != "" && !strings.ContainsAny(l, "`~ ") {
				return l
			}
		}
	}
	return ""
}

// code writes inline code between backticks, enough of them that a
// backtick inside does not end it.
func (w *htmlWriter) code(n *html.Node) {
	raw := textContent(n)
	text := collapseSpaces(raw)
	if text == "" {
		w.text(raw)
		return
	}
	ticks := "`"
	for strings.Contains(text, ticks) {
		ticks += "`"
	}
	if strings.HasPrefix(text, "`") || strings.HasSuffix(text, "`") {
		text = " " + text + " "
	}
	w.space = w.space || strings.TrimLeftFunc(raw, unicode.IsSpace) != raw
	w.write(ticks + text + ticks)
	w.space = strings.TrimRightFunc(raw, unicode.IsSpace) != raw
}

// link writes a link's text; the address is kept only where the text
// does not give it (an e-mail address or phone number named otherwise).
func (w *htmlWriter) link(n *html.Node) {
	text := w.inlineOf(n)
	if permalinkMarks[text] {
		return
	}
	w.children(n)
	href := attr(n, "href")
	for _, scheme := range []string{"mailto:", "tel:"} {
		if addr, ok := strings.CutPrefix(href, scheme); ok {
			addr, _, _ = strings.Cut(addr, "?")
			if addr != "" && !strings.Contains(text, addr) {
				w.text(" (" + addr + ")")
			}
		}
	}
}

// list writes a list, one line per item ("- " or "1. "), an item's
// further blocks indented under it.
func (w *htmlWriter) list(n *html.Node) {
	ordered := n.DataAtom == atom.Ol
	number := 1
	if s, err := strconv.Atoi(attr(n, "start")); err == nil {
		number = s
	}
	var items []string
	for c := range n.ChildNodes() {
		if c.Type != html.ElementNode || c == w.skip || dropped(c) {
			continue
		}
		if c.DataAtom != atom.Li {
			// Not an item (sloppy HTML): its blocks as lines of the list.
			s := w.sub()
			s.node(c)
			items = append(items, s.finish()...)
			continue
		}
		marker := "- "
		if ordered {
			marker = strconv.Itoa(number) + ". "
			number++
		}
		if item := listItem(marker, w.itemBlocks(c)); item != "" {
			items = append(items, item)
		}
	}
	if len(items) > 0 {
		w.blocks = append(w.blocks, strings.Join(items, "\n"))
	}
}

// itemBlocks are the blocks of a list item.
func (w *htmlWriter) itemBlocks(li *html.Node) []string {
	s := w.sub()
	s.children(li)
	return s.finish()
}

// listItem is an item's blocks after its marker, the lines after the
// first indented to stay in the item.
func listItem(marker string, blocks []string) string {
	if len(blocks) == 0 {
		return ""
	}
	lines := strings.Split(strings.Join(blocks, "\n"), "\n")
	pad := strings.Repeat(" ", len(marker))
	for i := range lines {
		if i == 0 {
			lines[i] = marker + lines[i]
		} else if lines[i] != "" {
			lines[i] = pad + lines[i]
		}
	}
	return strings.Join(lines, "\n")
}

// quote writes a blockquote, each of its lines after "> ".
func (w *htmlWriter) quote(n *html.Node) {
	s := w.sub()
	s.children(n)
	blocks := s.finish()
	if len(blocks) == 0 {
		return
	}
	lines := strings.Split(strings.Join(blocks, "\n\n"), "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight("> "+l, " ")
	}
	w.blocks = append(w.blocks, strings.Join(lines, "\n"))
}

// tableCell is a cell's text and whether it is a header (th).
type tableCell struct {
	text   string
	header bool
}

// table writes a table of data as a line per row, "- Header: value;
// Header: value" when it has a header row, "- value | value" when not.
// A table used for page layout (paragraphs or lists in its cells) is
// read as the content of its cells.
func (w *htmlWriter) table(n *html.Node) {
	var caption *html.Node
	var rowNodes []*html.Node
	var headRows = map[*html.Node]bool{}
	var collect func(n *html.Node, inHead bool)
	collect = func(n *html.Node, inHead bool) {
		for c := range n.ChildNodes() {
			if c.Type != html.ElementNode || dropped(c) {
				continue
			}
			switch c.DataAtom {
			case atom.Caption:
				caption = c
			case atom.Thead:
				collect(c, true)
			case atom.Tbody, atom.Tfoot:
				collect(c, false)
			case atom.Tr:
				rowNodes = append(rowNodes, c)
				headRows[c] = inHead
			}
		}
	}
	collect(n, false)
	if isLayoutTable(rowNodes) {
		for _, r := range rowNodes {
			for c := range r.ChildNodes() {
				w.node(c)
				w.flush()
			}
		}
		return
	}
	if caption != nil {
		w.node(caption)
		w.flush()
	}
	var header []tableCell
	var lines []string
	for i, r := range rowNodes {
		var cells []tableCell
		allHeaders := true
		for c := range r.ChildNodes() {
			if c.Type != html.ElementNode || (c.DataAtom != atom.Td && c.DataAtom != atom.Th) || dropped(c) {
				continue
			}
			cell := tableCell{text: w.inlineOf(c), header: c.DataAtom == atom.Th}
			allHeaders = allHeaders && cell.header
			cells = append(cells, cell)
		}
		if len(cells) == 0 {
			continue
		}
		if i == 0 && header == nil && (allHeaders || headRows[r]) {
			header = cells
			continue
		}
		if line := rowLine(header, cells); line != "" {
			lines = append(lines, "- "+escapeLine(line))
		}
	}
	if len(lines) == 0 && header != nil {
		// Only a header: its names are the table's text.
		lines = append(lines, "- "+rowLine(nil, header))
	}
	if len(lines) > 0 {
		w.blocks = append(w.blocks, strings.Join(lines, "\n"))
	}
}

// rowLine is a table row as text: each value after its column's name
// when the header names every column, else after the row's own header
// cell, else the values alone.
func rowLine(header, cells []tableCell) string {
	var parts []string
	switch {
	case len(header) == len(cells):
		for i, c := range cells {
			switch {
			case c.text == "":
			case header[i].text == "":
				parts = append(parts, c.text)
			default:
				parts = append(parts, header[i].text+": "+c.text)
			}
		}
		return strings.Join(parts, "; ")
	case len(cells) > 1 && cells[0].header && cells[0].text != "":
		for _, c := range cells[1:] {
			if c.text != "" {
				parts = append(parts, c.text)
			}
		}
		if len(parts) == 0 {
			return cells[0].text
		}
		return cells[0].text + ": " + strings.Join(parts, " | ")
	}
	for _, c := range cells {
		if c.text != "" {
			parts = append(parts, c.text)
		}
	}
	return strings.Join(parts, " | ")
}

// isLayoutTable reports whether a table's cells hold blocks (paragraphs,
// lists, tables...): a page laid out with a table, not data.
func isLayoutTable(rows []*html.Node) bool {
	for _, r := range rows {
		for c := range r.Descendants() {
			if c != r && c.Type == html.ElementNode && layoutElements[c.DataAtom] {
				return true
			}
		}
	}
	return false
}
