package knowledge

import (
	"archive/zip"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
)

// Limits of an import.
const (
	// DefaultMaxFileBytes is the largest file an import takes by default.
	DefaultMaxFileBytes = 2 << 20
	// DefaultMaxTotalBytes is the default limit on all the files of an
	// import together, zips counted unpacked.
	DefaultMaxTotalBytes = 20 << 20
	// MaxZipEntries is the most entries a zip may have.
	MaxZipEntries = 1000
	// maxCompressionRatio is how much more a too-large zip entry may
	// unpack to than it takes packed and still be a file that is merely
	// too large: text packs to a fifth or a tenth, not a hundredth.
	maxCompressionRatio = 100
)

// File is a file to import: its name (the extension says its type; a
// path inside a folder or a zip is part of it) and its content.
type File struct {
	Name string
	Data []byte
}

// Options are the settings of an import.
type Options struct {
	// Collection is the articles' collection. When empty, a markdown
	// file's front matter may name one, else it is the default one. The
	// option wins over the front matter, so a file cannot move itself out
	// of the collection it was imported into (say, "internal").
	Collection string
	// Language is the articles' text search configuration
	// (domain.DefaultKnowledgeLanguage when empty).
	Language  string
	UpdatedBy *int64
	// MaxFileBytes is the largest file taken (DefaultMaxFileBytes when 0);
	// a larger one is refused.
	MaxFileBytes int64
	// MaxTotalBytes limits all the files together, zips unpacked
	// (DefaultMaxTotalBytes when 0); more refuses the whole import.
	MaxTotalBytes int64
}

// Stored is a file stored as an article.
type Stored struct {
	File      string `json:"file"`
	ArticleID int64  `json:"article_id"`
	Title     string `json:"title"`
}

// Refused is a file that was not stored, and why.
type Refused struct {
	File   string `json:"file"`
	Reason string `json:"reason"`
}

// Result is what an import did with each file, each list in the order
// the files were given (those refused on reading before those the
// domain's rules refused); a zip's entries are named "<zip>/<path inside
// it>". Its lists are never nil, so its JSON has [] for none.
type Result struct {
	Created  []Stored  `json:"created"`
	Replaced []Stored  `json:"replaced"`
	Refused  []Refused `json:"refused"`
}

// Supported reports whether Import takes a file of this name: a
// markdown, HTML or text file, or a zip of them.
func Supported(name string) bool {
	return formatOf(name) != "" || isZip(name)
}

func isZip(name string) bool {
	return strings.EqualFold(path.Ext(name), ".zip")
}

// Import stores each file as an article: one whose URL (without a URL,
// whose source, "import:<file name>") is in the knowledge base already
// replaces that article; the others are created. Zips are unpacked, and
// checked whole before anything is stored: an unsafe entry name, a
// symbolic link, too many entries or too many bytes unpacked refuse the
// whole import with an error wrapping domain.ErrInvalid. A file that
// cannot be an article (empty, too large, of another type, without text,
// refused by the domain's rules) is refused alone, in Result.Refused.
//
// Each article is stored in a transaction of its own, so a search sees
// an article whole or not at all. Any other error (the database) stops
// the import: the articles stored before it stay, and are in the result.
func Import(ctx context.Context, db bun.IDB, files []File, opt Options) (Result, error) {
	if opt.MaxFileBytes <= 0 {
		opt.MaxFileBytes = DefaultMaxFileBytes
	}
	if opt.MaxTotalBytes <= 0 {
		opt.MaxTotalBytes = DefaultMaxTotalBytes
	}
	res := Result{Created: []Stored{}, Replaced: []Stored{}, Refused: []Refused{}}
	p := &preparation{opt: opt, seen: map[string]string{}}
	for _, f := range files {
		if err := p.add(f); err != nil {
			return res, err
		}
	}
	res.Refused = append(res.Refused, p.refused...)
	for _, d := range p.docs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if err := store(ctx, db, d, opt, &res); err != nil {
			return res, err
		}
	}
	return res, nil
}

// document is a file converted, ready to store.
type document struct {
	file   string // as shown in the result
	source string // "import:<name>"
	Document
}

// preparation reads and converts every file before anything is stored.
type preparation struct {
	opt     Options
	total   int64
	docs    []document
	refused []Refused
	// seen maps the key of each document (its URL, else its source) to
	// its file: two files of one import for one article are a mistake.
	seen map[string]string
}

func (p *preparation) refuse(file string, err error) {
	p.refused = append(p.refused, Refused{File: file, Reason: domain.Reason(err)})
}

// count adds n bytes to the import's total, and refuses the import past
// its limit.
func (p *preparation) count(n int64) error {
	p.total += n
	if p.total > p.opt.MaxTotalBytes {
		return invalid(fmt.Sprintf("the files add up to more than %s", byteSize(p.opt.MaxTotalBytes)))
	}
	return nil
}

// add reads one file of the import, or the entries of a zip.
func (p *preparation) add(f File) error {
	name := strings.TrimSpace(f.Name)
	switch {
	case name == "":
		p.refuse(f.Name, invalid("has no name"))
	case isZip(name):
		if err := p.addZip(name, f.Data); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case formatOf(name) == "":
		p.refuse(name, unsupported(name))
	case len(f.Data) == 0:
		p.refuse(name, invalid("is empty"))
	case int64(len(f.Data)) > p.opt.MaxFileBytes:
		p.refuse(name, invalid(fmt.Sprintf("is larger than %s", byteSize(p.opt.MaxFileBytes))))
	default:
		if err := p.count(int64(len(f.Data))); err != nil {
			return err
		}
		p.convert(name, name, f.Data)
	}
	return nil
}

// convert makes a file a document, or refuses it.
func (p *preparation) convert(file, name string, data []byte) {
	doc, err := Convert(name, data, "")
	if err != nil {
		p.refuse(file, err)
		return
	}
	d := document{file: file, source: "import:" + name, Document: doc}
	key, what := "source:"+d.source, "name"
	if d.URL != "" {
		key, what = "url:"+d.URL, "url"
	}
	if other, ok := p.seen[key]; ok {
		p.refuse(file, invalid(fmt.Sprintf("has the same %s as %s", what, other)))
		return
	}
	p.seen[key] = file
	p.docs = append(p.docs, d)
}

// addZip checks a whole zip and converts its entries. An entry's source
// is its path inside the zip, not the zip's name: the next export of the
// same help centre, whatever its archive is called, replaces the same
// articles (as does importing the folder it was made of).
func (p *preparation) addZip(zipName string, data []byte) error {
	if int64(len(data)) > p.opt.MaxTotalBytes {
		return invalid(fmt.Sprintf("is larger than %s", byteSize(p.opt.MaxTotalBytes)))
	}
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return invalid(fmt.Sprintf("is not a readable zip archive (%v)", err))
	}
	if len(zr.File) > MaxZipEntries {
		return invalid(fmt.Sprintf("has more than %d entries", MaxZipEntries))
	}
	// Every name first: one unsafe entry refuses the archive, wherever
	// it stands.
	for _, e := range zr.File {
		if err := checkEntry(e); err != nil {
			return err
		}
	}
	for _, e := range zr.File {
		name, ok := entryPath(e)
		if !ok {
			continue
		}
		file := zipName + "/" + name
		if formatOf(name) == "" {
			// A zip inside a zip too: one level of archives is enough.
			p.refuse(file, unsupported(name))
			continue
		}
		content, size, err := readEntry(e, p.opt.MaxFileBytes, p.opt.MaxTotalBytes-p.total)
		if errors.Is(err, zip.ErrAlgorithm) {
			p.refuse(file, invalid("is packed with a compression method that cannot be read"))
			continue
		}
		if err != nil {
			return invalid(fmt.Sprintf("entry %q cannot be read (%v)", e.Name, err))
		}
		if err := p.count(size); err != nil {
			return fmt.Errorf("unpacked: %w", err)
		}
		switch {
		case size > p.opt.MaxFileBytes && size > int64(e.CompressedSize64)*maxCompressionRatio:
			return invalid(fmt.Sprintf("entry %q unpacks to more than %s from %d bytes", e.Name, byteSize(p.opt.MaxFileBytes), e.CompressedSize64))
		case size > p.opt.MaxFileBytes:
			p.refuse(file, invalid(fmt.Sprintf("is larger than %s", byteSize(p.opt.MaxFileBytes))))
		case size == 0:
			p.refuse(file, invalid("is empty"))
		default:
			p.convert(file, name, content)
		}
	}
	return nil
}

// windowsVolume is a name starting with a drive: "C:".
var windowsVolume = regexp.MustCompile(`^[A-Za-z]:`)

// checkEntry refuses an entry that could write or read outside the
// place an archive is unpacked to, were it unpacked: whoever made it
// meant harm or made a mistake, and neither should go in half-read.
func checkEntry(e *zip.File) error {
	name := e.Name
	var why string
	switch {
	case name == "":
		why = "has no name"
	case strings.Contains(name, `\`):
		why = "has a backslash in its name"
	case strings.HasPrefix(name, "/") || windowsVolume.MatchString(name):
		why = "is an absolute path"
	case strings.ContainsRune(name, 0):
		why = "has a NUL byte in its name"
	case e.Mode()&fs.ModeSymlink != 0:
		why = "is a symbolic link"
	}
	for _, el := range strings.Split(name, "/") {
		if el == ".." {
			why = "leaves the archive (..)"
		}
	}
	if why == "" {
		return nil
	}
	return invalid(fmt.Sprintf("entry %q %s", name, why))
}

// entryPath is the clean path of an entry to import, or false for what
// is left out: folders, dotfiles and folders, macOS's __MACOSX copies.
func entryPath(e *zip.File) (string, bool) {
	if e.FileInfo().IsDir() || strings.HasSuffix(e.Name, "/") {
		return "", false
	}
	for _, el := range strings.Split(e.Name, "/") {
		if el != "." && (strings.HasPrefix(el, ".") || el == "__MACOSX") {
			return "", false
		}
	}
	return path.Clean(e.Name), true
}

// readEntry unpacks an entry, reading at most budget+1 bytes whatever
// its header says, and keeping the first keep+1: its content (when it is
// not larger than keep) and how many bytes it unpacked to (at most
// budget+1: more is past the limit anyway).
func readEntry(e *zip.File, keep, budget int64) ([]byte, int64, error) {
	rc, err := e.Open()
	if err != nil {
		return nil, 0, err
	}
	defer rc.Close()
	head := &headWriter{max: keep + 1}
	n, err := io.Copy(head, io.LimitReader(rc, budget+1))
	if err != nil {
		return nil, n, err
	}
	return head.buf, n, nil
}

// headWriter keeps the first max bytes written to it and drops the rest.
type headWriter struct {
	buf []byte
	max int64
}

func (h *headWriter) Write(b []byte) (int, error) {
	if room := h.max - int64(len(h.buf)); room > 0 {
		h.buf = append(h.buf, b[:min(room, int64(len(b)))]...)
	}
	return len(b), nil
}

// store creates or replaces the article of one document.
func store(ctx context.Context, db bun.IDB, d document, opt Options, res *Result) error {
	collection := opt.Collection
	if collection == "" {
		collection = d.Collection
	}
	in := domain.NewArticle{Collection: collection, Title: d.Title, Body: d.Body, Source: d.source,
		Language: opt.Language, UpdatedBy: opt.UpdatedBy}
	if d.URL != "" {
		in.URL = &d.URL
	}
	old, err := existing(ctx, db, d)
	if err != nil {
		return fmt.Errorf("%s: %w", d.file, err)
	}
	var a *domain.Article
	if old != nil {
		a, err = domain.ReplaceArticle(ctx, db, old.ID, in)
		if errors.Is(err, domain.ErrNotFound) {
			// Deleted since it was looked up: it is new again.
			old = nil
		}
	}
	if old == nil {
		a, err = domain.CreateArticle(ctx, db, in)
	}
	switch {
	case errors.Is(err, domain.ErrInvalid) || errors.Is(err, domain.ErrConflict):
		res.Refused = append(res.Refused, Refused{File: d.file, Reason: domain.Reason(err)})
	case err != nil:
		return fmt.Errorf("store %s: %w", d.file, err)
	case old != nil:
		res.Replaced = append(res.Replaced, Stored{File: d.file, ArticleID: a.ID, Title: a.Title})
	default:
		res.Created = append(res.Created, Stored{File: d.file, ArticleID: a.ID, Title: a.Title})
	}
	return nil
}

// existing is the article a document replaces: the one at its URL, or,
// when it has none, the one imported from its source; nil when none is.
// A document with a URL is never matched by its source: two sites'
// index.html are two articles.
func existing(ctx context.Context, db bun.IDB, d document) (*domain.Article, error) {
	var (
		a   *domain.Article
		err error
	)
	if d.URL != "" {
		a, err = domain.ArticleByURL(ctx, db, d.URL)
	} else {
		a, err = domain.ArticleBySource(ctx, db, d.source)
	}
	if errors.Is(err, domain.ErrNotFound) {
		return nil, nil
	}
	return a, err
}

// byteSize writes a limit the way people set it: "2 MB".
func byteSize(n int64) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%d KB", n>>10)
	}
	return fmt.Sprintf("%d bytes", n)
}
