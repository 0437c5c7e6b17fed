package domain

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// The knowledge base: articles the assistant answers from, cut into
// passages that are searched and cited. How search works on each database,
// and why: docs/knowledge.md.

// Article is a page of the knowledge base, written in markdown.
type Article struct {
	bun.BaseModel `bun:"table:articles,alias:art"`

	ID int64 `bun:"id,pk,autoincrement" json:"id"`
	// Collection groups articles a search can keep or leave out
	// ("general", "internal", "business"...).
	Collection string `bun:"collection,type:varchar(100),notnull,default:'general'" json:"collection"`
	Title      string `bun:"title,type:varchar(300),notnull" json:"title"`
	// URL is where the article is published, unique when set.
	URL    *string `bun:"url,type:varchar(2048),unique" json:"url"`
	Body   string  `bun:"body,type:text,notnull" json:"body"`
	Source string  `bun:"source,type:varchar(255),notnull" json:"source"`
	// Language is the PostgreSQL text search configuration its passages
	// are indexed with ("english", "german", "simple"...). SQLite indexes
	// every article the same way (unicode61 words, porter stems).
	Language  string `bun:"language,type:varchar(64),notnull,default:'english'" json:"language"`
	UpdatedBy *int64 `bun:"updated_by" json:"updated_by"`
	Timestamps
	// PassageCount is how many passages the article was cut into, where
	// it was counted (a write, one article read through the API).
	PassageCount int `bun:"-" json:"passage_count,omitempty"`
}

// Passage is a piece of an article small enough to cite: the text under
// one heading, or a part of it. Its title is the article's, kept here for
// the search index.
type Passage struct {
	bun.BaseModel `bun:"table:article_passages,alias:ap"`

	ID        int64 `bun:"id,pk,autoincrement" json:"id"`
	ArticleID int64 `bun:"article_id,notnull,unique:article_passages_article_id_ordinal_key" json:"article_id"`
	// Ordinal is the passage's place in the article, from 0.
	Ordinal int    `bun:"ordinal,notnull,unique:article_passages_article_id_ordinal_key" json:"ordinal"`
	Title   string `bun:"title,type:varchar(300),notnull" json:"title"`
	// HeadingPath is the headings above the passage joined with " › ",
	// below the title: empty for the text before the first heading.
	HeadingPath string `bun:"heading_path,type:text,notnull" json:"heading_path"`
	Text        string `bun:"text,type:text,notnull" json:"text"`
}

// Limits and defaults of the knowledge base.
const (
	DefaultCollection = "general"
	// DefaultKnowledgeLanguage is the text search configuration of
	// articles and searches that name none.
	DefaultKnowledgeLanguage = "english"
	// PassageMaxChars is how long a passage may be, in characters; only a
	// single word longer than that makes a longer one.
	PassageMaxChars = 1200
	// HeadingSeparator joins the headings of a passage's path.
	HeadingSeparator = " › "
	// SnippetStart and SnippetEnd wrap the matched words of a snippet.
	SnippetStart, SnippetEnd = "«", "»"
	MaxSearchChars           = 1000
	MaxSearchWords           = 64
	DefaultSearchLimit       = 5
	MaxSearchLimit           = 50

	maxTitleChars  = 300
	maxBodyChars   = 500_000
	maxURLChars    = 2048
	maxSourceChars = 255
	defaultSource  = "api"
)

// WebURL says whether u is an absolute http or https URL with a host:
// what a reply may link to.
func WebURL(u string) bool {
	p, err := url.Parse(u)
	return err == nil && (p.Scheme == "https" || p.Scheme == "http") && p.Host != "" &&
		!strings.ContainsAny(u, " \t\r\n")
}

// InternalCollection holds the articles for staff only: the assistant
// searches it in conversations with support staff, never for users.
const InternalCollection = "internal"

// SearchForAssistant is the assistant's search on behalf of the person it
// talks with: the help centre is public, so every user may search it,
// except the internal collection, searched for support staff only.
func SearchForAssistant(ctx context.Context, db bun.IDB, person *User, sq SearchQuery) ([]SearchHit, error) {
	staff, err := isStaff(ctx, db, person)
	if err != nil {
		return nil, err
	}
	if !staff {
		sq.ExcludeCollections = append(slices.Clip(sq.ExcludeCollections), InternalCollection)
	}
	return SearchKnowledge(ctx, db, sq)
}

// PassageDraft is a passage before it is stored: SplitPassages' output.
type PassageDraft struct {
	HeadingPath string
	Text        string
}

// atxHeading is a markdown heading line: up to three spaces, one to six #,
// then a space and the text (or nothing).
var atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})(?:[ \t]+(.*?))?[ \t]*$`)

// closingHashes is the optional closing sequence of a heading: "## Tips ##".
var closingHashes = regexp.MustCompile(`(?:^|[ \t]+)#+$`)

// SplitPassages cuts a markdown body into passages: at every heading (#
// to ######, not inside fenced code), then, where a section is longer than
// PassageMaxChars, at the last paragraph end (blank line) that fits, else
// at the last sentence or line end, else between words; never inside a
// word. Each passage carries the headings above it; the text before the
// first heading has the empty path, the title's own.
func SplitPassages(markdownBody string) []PassageDraft {
	type heading struct {
		level int
		text  string
	}
	var (
		out     []PassageDraft
		stack   []heading
		section []string
		fence   string
	)
	flush := func() {
		text := strings.TrimSpace(strings.Join(section, "\n"))
		section = section[:0]
		if text == "" {
			return
		}
		names := make([]string, 0, len(stack))
		for _, h := range stack {
			if h.text != "" {
				names = append(names, h.text)
			}
		}
		path := strings.Join(names, HeadingSeparator)
		for _, chunk := range splitText(text, PassageMaxChars) {
			out = append(out, PassageDraft{HeadingPath: path, Text: chunk})
		}
	}
	body := strings.ReplaceAll(markdownBody, "\r\n", "\n")
	for line := range strings.SplitSeq(body, "\n") {
		if fence != "" {
			if strings.HasPrefix(strings.TrimSpace(line), fence) {
				fence = ""
			}
			section = append(section, line)
			continue
		}
		if f := openingFence(line); f != "" {
			fence = f
			section = append(section, line)
			continue
		}
		m := atxHeading.FindStringSubmatch(line)
		if m == nil {
			section = append(section, line)
			continue
		}
		flush()
		level := len(m[1])
		for len(stack) > 0 && stack[len(stack)-1].level >= level {
			stack = stack[:len(stack)-1]
		}
		text := strings.TrimSpace(closingHashes.ReplaceAllString(m[2], ""))
		stack = append(stack, heading{level: level, text: text})
	}
	flush()
	return out
}

// openingFence is the fence a line opens (``` or ~~~, as long as written),
// or "".
func openingFence(line string) string {
	t := strings.TrimLeft(line, " ")
	if len(line)-len(t) > 3 {
		return ""
	}
	for _, c := range []string{"`", "~"} {
		n := len(t) - len(strings.TrimLeft(t, c))
		if n >= 3 {
			return strings.Repeat(c, n)
		}
	}
	return ""
}

// splitText cuts text into pieces of at most limit characters, each ending
// at the best boundary that fits (see SplitPassages).
func splitText(text string, limit int) []string {
	rs := []rune(text)
	var out []string
	for {
		for len(rs) > 0 && unicode.IsSpace(rs[0]) {
			rs = rs[1:]
		}
		if len(rs) == 0 {
			return out
		}
		if len(rs) <= limit {
			return append(out, strings.TrimSpace(string(rs)))
		}
		cut := bestCut(rs, limit)
		out = append(out, strings.TrimSpace(string(rs[:cut])))
		rs = rs[cut:]
	}
}

// bestCut is where to end a piece of rs of at most limit characters: the
// last paragraph end that fits, else the last sentence or line end, else
// the last space; a word longer than limit is kept whole.
func bestCut(rs []rune, limit int) int {
	para, sentence, word := 0, 0, 0
	for i := 1; i <= limit && i < len(rs); i++ {
		// A cut at i starts the next piece at a word after white space.
		if unicode.IsSpace(rs[i]) || !unicode.IsSpace(rs[i-1]) {
			continue
		}
		j, newlines := i-1, 0
		for j >= 0 && unicode.IsSpace(rs[j]) {
			if rs[j] == '\n' {
				newlines++
			}
			j--
		}
		word = i
		switch {
		case newlines >= 2:
			para = i
		case newlines == 1 || (j >= 0 && endsSentence(rs[:j+1])):
			sentence = i
		}
	}
	for _, c := range []int{para, sentence, word} {
		if c > 0 {
			return c
		}
	}
	for i := limit; i < len(rs); i++ {
		if unicode.IsSpace(rs[i]) {
			return i
		}
	}
	return len(rs)
}

// endsSentence says whether text ends a sentence: . ! ? or …, maybe
// followed by closing quotes or brackets.
func endsSentence(text []rune) bool {
	i := len(text) - 1
	for i >= 0 && strings.ContainsRune(`"')]»”’*_`, text[i]) {
		i--
	}
	return i >= 0 && strings.ContainsRune(".!?…", text[i])
}

// NewArticle is what CreateArticle and ReplaceArticle store.
type NewArticle struct {
	// Collection is DefaultCollection when empty: lower-case letters,
	// digits, '-', '_' and '.'.
	Collection string
	Title      string
	// URL is none when nil or blank.
	URL  *string
	Body string
	// Source says where the article came from: "api" when empty,
	// "import:<file name>" for imported ones.
	Source string
	// Language is DefaultKnowledgeLanguage when empty.
	Language  string
	UpdatedBy *int64
}

var (
	collectionName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,99}$`)
	languageName   = regexp.MustCompile(`^[a-z_]{1,63}$`)
)

// article checks in and makes the row and passages it describes.
func (in NewArticle) article(ctx context.Context, db bun.IDB) (*Article, []PassageDraft, error) {
	a := &Article{
		Collection: strings.TrimSpace(in.Collection),
		Title:      strings.TrimSpace(in.Title),
		Body:       strings.TrimSpace(in.Body),
		Source:     strings.TrimSpace(in.Source),
		Language:   strings.TrimSpace(in.Language),
		UpdatedBy:  in.UpdatedBy,
	}
	if a.Collection == "" {
		a.Collection = DefaultCollection
	}
	if a.Source == "" {
		a.Source = defaultSource
	}
	if a.Language == "" {
		a.Language = DefaultKnowledgeLanguage
	}
	if in.URL != nil {
		if u := strings.TrimSpace(*in.URL); u != "" {
			a.URL = &u
		}
	}
	switch {
	case !collectionName.MatchString(a.Collection):
		return nil, nil, invalid("collection must be 1 to 100 lower-case letters, digits, '-', '_' or '.'")
	case a.Title == "":
		return nil, nil, invalid("title is required")
	case utf8.RuneCountInString(a.Title) > maxTitleChars:
		return nil, nil, invalid(fmt.Sprintf("title is longer than %d characters", maxTitleChars))
	case a.Body == "":
		return nil, nil, invalid("body is required")
	case utf8.RuneCountInString(a.Body) > maxBodyChars:
		return nil, nil, invalid(fmt.Sprintf("body is longer than %d characters", maxBodyChars))
	case a.URL != nil && utf8.RuneCountInString(*a.URL) > maxURLChars:
		return nil, nil, invalid(fmt.Sprintf("url is longer than %d characters", maxURLChars))
	case utf8.RuneCountInString(a.Source) > maxSourceChars:
		return nil, nil, invalid(fmt.Sprintf("source is longer than %d characters", maxSourceChars))
	}
	for field, s := range map[string]string{"title": a.Title, "body": a.Body, "source": a.Source} {
		if err := checkStorable(field, s); err != nil {
			return nil, nil, err
		}
	}
	if a.URL != nil {
		if err := checkStorable("url", *a.URL); err != nil {
			return nil, nil, err
		}
	}
	if err := checkLanguage(ctx, db, a.Language); err != nil {
		return nil, nil, err
	}
	drafts := SplitPassages(a.Body)
	if len(drafts) == 0 {
		return nil, nil, invalid("body has no text outside its headings")
	}
	return a, drafts, nil
}

// checkLanguage refuses a language PostgreSQL has no text search
// configuration for; SQLite has one way to index, and takes any name.
func checkLanguage(ctx context.Context, db bun.IDB, lang string) error {
	if !languageName.MatchString(lang) {
		return invalid(fmt.Sprintf("language %q is not a text search configuration name", lang))
	}
	if db.Dialect().Name() != dialect.PG {
		return nil
	}
	var ok bool
	err := db.NewRaw("SELECT EXISTS (SELECT 1 FROM pg_ts_config WHERE cfgname = ? AND pg_ts_config_is_visible(oid))", lang).
		Scan(ctx, &ok)
	if err != nil {
		return fmt.Errorf("check language: %w", err)
	}
	if !ok {
		return invalid(fmt.Sprintf("language %q has no text search configuration", lang))
	}
	return nil
}

// lockKnowledge serialises the writes of the knowledge base (with the
// throttle's key locks: advisory locks on PostgreSQL, nothing on SQLite,
// whose write transactions are serial already): they update the shared
// word counts the search ranks with (knowledge_lexemes), which two writers
// could otherwise lock in opposite orders.
func lockKnowledge(ctx context.Context, tx bun.Tx) error {
	return lockKeys(ctx, tx, "knowledge")
}

// urlTaken is the conflict of a second article at one URL.
func urlTaken(u *string) error {
	if u == nil {
		return conflict("article conflicts with another")
	}
	return conflict(fmt.Sprintf("an article with url %q exists", *u))
}

// insertPassages stores the passages of a.
func insertPassages(ctx context.Context, tx bun.Tx, a *Article, drafts []PassageDraft) error {
	a.PassageCount = len(drafts)
	ps := make([]Passage, len(drafts))
	for i, d := range drafts {
		ps[i] = Passage{ArticleID: a.ID, Ordinal: i, Title: a.Title, HeadingPath: d.HeadingPath, Text: d.Text}
	}
	if _, err := tx.NewInsert().Model(&ps).Exec(ctx); err != nil {
		return fmt.Errorf("store passages: %w", err)
	}
	return nil
}

// CreateArticle stores an article and its passages, in one transaction.
// A URL another article has is a conflict.
func CreateArticle(ctx context.Context, db bun.IDB, in NewArticle) (*Article, error) {
	a, drafts, err := in.article(ctx, db)
	if err != nil {
		return nil, err
	}
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockKnowledge(ctx, tx); err != nil {
			return err
		}
		if _, err := tx.NewInsert().Model(a).Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return urlTaken(a.URL)
			}
			return fmt.Errorf("create article: %w", err)
		}
		if err := insertPassages(ctx, tx, a, drafts); err != nil {
			return err
		}
		return tellWebhooks(ctx, tx, EventKnowledgeChanged, strconv.FormatInt(a.ID, 10), string(ArticleCreated))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// ReplaceArticle rewrites article id and its passages in one transaction:
// a search sees the old article or the new one, never half of each.
func ReplaceArticle(ctx context.Context, db bun.IDB, id int64, in NewArticle) (*Article, error) {
	a, drafts, err := in.article(ctx, db)
	if err != nil {
		return nil, err
	}
	err = db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockKnowledge(ctx, tx); err != nil {
			return err
		}
		old, err := ArticleByID(ctx, tx, id)
		if err != nil {
			return err
		}
		a.ID, a.CreatedAt = old.ID, old.CreatedAt
		if _, err := tx.NewUpdate().Model(a).WherePK().Exec(ctx); err != nil {
			if isUniqueViolation(err) {
				return urlTaken(a.URL)
			}
			return fmt.Errorf("replace article: %w", err)
		}
		if _, err := tx.NewDelete().Model((*Passage)(nil)).Where("article_id = ?", id).Exec(ctx); err != nil {
			return fmt.Errorf("drop old passages: %w", err)
		}
		if err := insertPassages(ctx, tx, a, drafts); err != nil {
			return err
		}
		return tellWebhooks(ctx, tx, EventKnowledgeChanged, strconv.FormatInt(a.ID, 10), string(ArticleReplaced))
	})
	if err != nil {
		return nil, err
	}
	return a, nil
}

// DeleteArticle removes an article and, through the foreign key, its
// passages.
func DeleteArticle(ctx context.Context, db bun.IDB, id int64) error {
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockKnowledge(ctx, tx); err != nil {
			return err
		}
		res, err := tx.NewDelete().Model((*Article)(nil)).Where("id = ?", id).Exec(ctx)
		if err != nil {
			return fmt.Errorf("delete article: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return ErrNotFound
		}
		return tellWebhooks(ctx, tx, EventKnowledgeChanged, strconv.FormatInt(id, 10), string(ArticleDeleted))
	})
}

// ArticleByID reads one article.
func ArticleByID(ctx context.Context, db bun.IDB, id int64) (*Article, error) {
	return articleWhere(ctx, db, "id = ?", id)
}

// ArticleByURL reads the article published at url.
func ArticleByURL(ctx context.Context, db bun.IDB, url string) (*Article, error) {
	return articleWhere(ctx, db, "url = ?", strings.TrimSpace(url))
}

func articleWhere(ctx context.Context, db bun.IDB, where string, arg any) (*Article, error) {
	a := new(Article)
	err := db.NewSelect().Model(a).Where(where, arg).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("read article: %w", err)
	}
	return a, nil
}

// ArticlePassages reads the passages of an article, in order.
func ArticlePassages(ctx context.Context, db bun.IDB, articleID int64) ([]Passage, error) {
	ps := []Passage{}
	if err := db.NewSelect().Model(&ps).Where("article_id = ?", articleID).Order("ordinal").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read passages: %w", err)
	}
	return ps, nil
}

// CountPassages counts the passages of an article, without reading them.
func CountPassages(ctx context.Context, db bun.IDB, articleID int64) (int, error) {
	n, err := db.NewSelect().Model((*Passage)(nil)).Where("article_id = ?", articleID).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count passages: %w", err)
	}
	return int(n), nil
}

// ArticleFilter narrows ListArticles.
type ArticleFilter struct {
	// Collection keeps one collection's articles ("": all).
	Collection string
	// Q keeps the articles whose title contains it, in any case.
	Q string
	Page
}

// ListArticles returns one page of articles, newest first, without their
// bodies (ArticleByID reads one whole), and how many match in all.
func ListArticles(ctx context.Context, db bun.IDB, f ArticleFilter) ([]Article, int, error) {
	articles := []Article{}
	q := db.NewSelect().Model(&articles).ExcludeColumn("body")
	if c := strings.TrimSpace(f.Collection); c != "" {
		q = q.Where("collection = ?", c)
	}
	if s := strings.TrimSpace(f.Q); s != "" {
		q = q.Where("LOWER(title) LIKE ? ESCAPE '\\'", "%"+escapeLike(strings.ToLower(s))+"%")
	}
	total, err := q.Order("id DESC").Limit(int64(f.Limit)).Offset(int64(f.Offset)).ScanAndCount(ctx)
	if err != nil {
		return nil, 0, fmt.Errorf("list articles: %w", err)
	}
	return articles, int(total), nil
}

// SetKnowledgeLanguage indexes every article again with the text search
// configuration lang (KNOWLEDGE_LANGUAGE changed), in one transaction. On
// SQLite only the articles' language changes: it indexes one way.
func SetKnowledgeLanguage(ctx context.Context, db bun.IDB, lang string) error {
	if err := checkLanguage(ctx, db, lang); err != nil {
		return err
	}
	return db.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		if err := lockKnowledge(ctx, tx); err != nil {
			return err
		}
		res, err := tx.NewUpdate().Model((*Article)(nil)).Set("language = ?", lang).Where("language <> ?", lang).Exec(ctx)
		if err != nil {
			return fmt.Errorf("set article language: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || tx.Dialect().Name() != dialect.PG {
			return nil
		}
		// Writing the title again makes the trigger index each passage
		// with its article's new language.
		_, err = tx.ExecContext(ctx, `UPDATE article_passages AS ap SET title = ap.title
			FROM articles AS art WHERE art.id = ap.article_id AND art.language = ?`, lang)
		if err != nil {
			return fmt.Errorf("index passages again: %w", err)
		}
		return nil
	})
}
