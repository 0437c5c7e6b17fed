package domain

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/uptrace/bun"
	"github.com/uptrace/bun/dialect"
)

// Searching the knowledge base, and measuring how well it finds.

// SearchQuery is a question to the knowledge base.
type SearchQuery struct {
	// Text is the question in the asker's words. "Quoted words" must
	// appear together, -word must not appear; every other word may.
	Text string
	// Collections keeps these collections only (nil: all).
	Collections []string
	// ExcludeCollections leaves these out.
	ExcludeCollections []string
	// Limit is DefaultSearchLimit when 0, at most MaxSearchLimit.
	Limit int
	// Language is the text search configuration the question is read
	// with on PostgreSQL (DefaultKnowledgeLanguage when empty): the one
	// the articles were indexed with (KNOWLEDGE_LANGUAGE).
	Language string
}

// SearchHit is a passage that answers a search, best first.
type SearchHit struct {
	ArticleID   int64   `bun:"article_id" json:"article_id"`
	PassageID   int64   `bun:"passage_id" json:"passage_id"`
	Title       string  `bun:"title" json:"title"`
	URL         *string `bun:"url" json:"url"`
	HeadingPath string  `bun:"heading_path" json:"heading_path"`
	Collection  string  `bun:"collection" json:"collection"`
	// Text is the whole passage: what the assistant is given to answer from.
	Text string `bun:"text" json:"text"`
	// Snippet is a part of the passage with the matched words between
	// SnippetStart and SnippetEnd: « and ».
	Snippet string `bun:"snippet" json:"snippet"`
	// Score orders the hits of one search (higher is better); it means
	// nothing across searches or databases.
	Score float64 `bun:"score" json:"score"`
}

// question is a search's text taken apart.
type question struct {
	words    []string   // every word that may match, phrases' included, in order, once each
	phrases  [][]string // "quoted words", each a phrase that must match
	excluded []string   // -words that must not match
}

// parseQuestion takes the text of a search apart and checks its size.
func parseQuestion(text string) (question, error) {
	var q question
	if strings.TrimSpace(text) == "" {
		return q, invalid("the question is empty")
	}
	if n := utf8.RuneCountInString(text); n > MaxSearchChars {
		return q, invalid(fmt.Sprintf("the question is longer than %d characters", MaxSearchChars))
	}
	if !StorableText(text) {
		return q, invalid("the question must be valid UTF-8 without NUL characters")
	}
	count := 0
	seen := map[string]bool{}
	add := func(w string) {
		if !seen[w] {
			seen[w] = true
			q.words = append(q.words, w)
		}
	}
	rest := text
	for rest != "" {
		r, size := utf8.DecodeRuneInString(rest)
		// A minus excludes the word it starts ("-sms"), not one inside
		// a word ("pick-up", "e-mail").
		startsWord := len(rest) == len(text) || unicode.IsSpace(lastRune(text[:len(text)-len(rest)]))
		switch {
		case r == '"':
			end := strings.IndexByte(rest[1:], '"')
			inner := rest[1:]
			rest = ""
			if end >= 0 {
				inner, rest = inner[:end], inner[end+1:]
			}
			ws := searchWords(inner)
			count += len(ws)
			if len(ws) > 0 {
				q.phrases = append(q.phrases, ws)
			}
			for _, w := range ws {
				add(w)
			}
			continue
		case r == '-' && startsWord && isWordRune(nextRune(rest[size:])):
			w, n := firstWord(rest[size:])
			count++
			if !slices.Contains(q.excluded, w) {
				q.excluded = append(q.excluded, w)
			}
			rest = rest[size+n:]
			continue
		case isWordRune(r):
			w, n := firstWord(rest)
			count++
			add(w)
			rest = rest[n:]
			continue
		}
		rest = rest[size:]
	}
	if count > MaxSearchWords {
		return q, invalid(fmt.Sprintf("the question has more than %d words", MaxSearchWords))
	}
	if len(q.words) == 0 {
		return q, invalid("the question has no word to search for")
	}
	return q, nil
}

func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r)
}

func nextRune(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func lastRune(s string) rune {
	r, _ := utf8.DecodeLastRuneInString(s)
	return r
}

// firstWord is the word s starts with, lower-cased, and its length in bytes.
func firstWord(s string) (string, int) {
	n := strings.IndexFunc(s, func(r rune) bool { return !isWordRune(r) })
	if n < 0 {
		n = len(s)
	}
	return strings.ToLower(s[:n]), n
}

// searchWords are the words of s, lower-cased: runs of letters and digits.
func searchWords(s string) []string {
	fields := strings.FieldsFunc(s, func(r rune) bool { return !isWordRune(r) })
	for i, f := range fields {
		fields[i] = strings.ToLower(f)
	}
	return fields
}

// SearchKnowledge finds the passages that best answer a question, at
// most two of one article. Any of its words may match: a passage matching
// more of them, rarer ones, in its title or headings, ranks higher. A
// word no passage has is looked for as the indexed words an edit away
// from it (a misspelling). The hits have the same shape on both
// databases; their scores do not compare. An empty question, one with no
// word to search for, or one longer than MaxSearchChars or MaxSearchWords
// is ErrInvalid.
func SearchKnowledge(ctx context.Context, db bun.IDB, sq SearchQuery) ([]SearchHit, error) {
	q, err := parseQuestion(sq.Text)
	if err != nil {
		return nil, err
	}
	if sq.Limit <= 0 {
		sq.Limit = DefaultSearchLimit
	}
	sq.Limit = min(sq.Limit, MaxSearchLimit)
	if sq.Language == "" {
		sq.Language = DefaultKnowledgeLanguage
	}
	if !languageName.MatchString(sq.Language) {
		return nil, invalid(fmt.Sprintf("language %q is not a text search configuration name", sq.Language))
	}
	var hits []SearchHit
	if db.Dialect().Name() == dialect.PG {
		hits, err = searchPostgres(ctx, db, sq, q)
	} else {
		hits, err = searchSQLite(ctx, db, sq, q)
	}
	if err != nil {
		return nil, err
	}
	if hits == nil {
		hits = []SearchHit{}
	}
	return hits, nil
}

// noSearchableWord is the error of a question made of common words only.
var noSearchableWord = invalid("the question has no word to search for, only common ones (the, how, my...)")

// Ranking on PostgreSQL. A term is a word of the question as the
// language's dictionary stems it (a lexeme). Its weight is its inverse
// document frequency over the passages (BM25's), so "parcel", in most
// passages of a parcel service's help, counts for little and "refund"
// for much. A lexeme no passage has (a misspelling, mostly) is replaced
// by the indexed lexemes an edit or two away from it (a swap of two
// letters counting one), their weight times their nearness (nearProbes
// says how they are found). Each passage scores the sum, over the terms
// it has, of weight × ts_rank of that term alone, which grows with its
// occurrences (saturating) and with where they are (title, headings or
// text: rankWeights), and is divided by 1 + the log of the passage's
// length (normalization 1), so that a long passage does not win by
// length alone, as BM25's b does.
//
// What a search costs is mostly reading the passages it ranks (a
// microsecond or two each, and a fraction of that a term to rank one)
// and, in the index, the lists of passages having its terms (tens of
// nanoseconds a passage): so it ranks only candidates, the passages
// having the rarer terms, candidateCap of them at most. Its statements
// have parameters, so that each connection of the pool parses and plans
// them once, not once per question (docs/knowledge.md, How fast).
const (
	// rankWeights are ts_rank's weights of D, C (text), B (headings), A
	// (title). The title is in every passage of its article: weighed
	// much more than the text, it let any article whose title had one
	// common word of a question outrank the passage that answers it.
	rankWeights = "{0, 0.6, 0.8, 1}"
	// commonShare: a term in more than this share of the passages does
	// not select passages to rank (it still scores those it is in),
	// unless it is the rarest term. It keeps "parcel" from making every
	// passage a candidate.
	commonShare = 0.2
	// candidateBudget bounds the candidates as the counts of the
	// selecting terms estimate them: the rarest term selects, then the
	// next while they stay within it.
	candidateBudget = 500
	// When even the rarest term is in more passages, the candidates are
	// those having two of the pairTerms rarest terms that are not
	// common, as many as are in indexBudget passages in all (the index
	// reads their lists whole), and, should those be too few, those having
	// the rarest. Any two, not the rarest and another: "print a label to
	// send something" is answered by passages having "print" and "label",
	// not the rarer "something".
	pairTerms   = 4
	indexBudget = 20000
	// candidateCap bounds the passages ranked whatever the counts say:
	// the first candidateCap found (in the order they are stored) are
	// ranked. It binds when even the pairs, or the rarest term alone, are
	// in more passages (words that go together, as "compartment" and
	// "open" do, are in many more passages together than their counts
	// predict), which happens to words in hundreds of passages, each of
	// which then says little about which passage answers.
	candidateCap = 500
	// nearPerTerm is how many indexed lexemes stand in for one no
	// passage has, at most.
	nearPerTerm = 2
	// minNearLength is the shortest word looked for as its near ones: a
	// word of three letters has too many neighbours one edit away.
	minNearLength = 4
	// nearPrefix: indexed lexemes an edit away from an unknown one with
	// the edit after its first nearPrefix letters share those letters,
	// and are read as a range of the lexemes' primary key; those whose
	// edit is among the first letters are looked up one by one.
	nearPrefix = 2
)

// maxPerArticle is how many passages of one article a search returns at
// most, so that one long article does not fill the answer. They are
// picked from the best bestPerHit × limit passages.
const (
	maxPerArticle = 2
	bestPerHit    = 10
)

// term is a lexeme to look for, and its weight.
type term struct {
	lexeme   string
	passages int64
	weight   float64
}

// termsSQL stems the question's words ($2) with the language ($1) and
// counts the passages having each lexeme; the empty lexeme's row counts
// all passages. must is the question's "phrases" and -words ($3, in
// websearch_to_tsquery's syntax) as a tsquery, and how many nodes it has
// (none: it constrains nothing). No row: the language has no
// configuration.
const termsSQL = `SELECT t.lexeme, coalesce(k.passages, 0) AS passages, w.q::text AS must, numnode(w.q) AS must_nodes
FROM pg_ts_config AS c
CROSS JOIN LATERAL (SELECT CASE WHEN $3 = '' THEN ''::tsquery ELSE websearch_to_tsquery(c.oid::regconfig, $3) END) AS w(q)
CROSS JOIN LATERAL (SELECT '' UNION ALL SELECT lexeme FROM unnest(to_tsvector(c.oid::regconfig, $2))) AS t(lexeme)
LEFT JOIN knowledge_lexemes AS k ON k.lexeme = t.lexeme
WHERE c.cfgname = $1 AND pg_ts_config_is_visible(c.oid)`

// nearSQL reads the indexed lexemes that may be an edit or two from
// unknown ones (nearProbes): those named ($1), and, for each unknown
// one, those from $n to $n+1 (excluded) of a length from $n+2 to $n+3,
// an empty range in the slots left over. The values are subqueries' (see
// tsq in searchPostgres), so that PostgreSQL keeps one plan for it.
func nearSQL(ranges int) string {
	var b strings.Builder
	b.WriteString("SELECT k.lexeme, k.passages FROM unnest((SELECT $1::text[])) AS v(lexeme) JOIN knowledge_lexemes AS k USING (lexeme) WHERE k.passages > 0")
	for i := range slots(ranges) {
		n := 2 + 4*i
		fmt.Fprintf(&b, "\nUNION SELECT lexeme, passages FROM knowledge_lexemes WHERE lexeme >= (SELECT $%d::text) AND lexeme < (SELECT $%d::text)"+
			" AND char_length(lexeme) BETWEEN $%d AND $%d AND passages > 0", n, n+1, n+2, n+3)
	}
	return b.String()
}

// snippetOptions are ts_headline's: about 30 words around the matches.
const snippetOptions = `StartSel=«, StopSel=», MaxWords=30, MinWords=12, ShortWord=2, MaxFragments=2, FragmentDelimiter=" … "`

func searchPostgres(ctx context.Context, db bun.IDB, sq SearchQuery, q question) ([]SearchHit, error) {
	// One letter is no word ("I'm" is i and m), unless a digit.
	words := slices.DeleteFunc(slices.Clone(q.words), func(w string) bool {
		return utf8.RuneCountInString(w) == 1 && !unicode.IsDigit(nextRune(w))
	})
	var asked []term
	var total int64
	var must string
	var mustNodes int
	found := false
	err := queryPG(ctx, db, func(rows *sql.Rows) error {
		var t term
		if err := rows.Scan(&t.lexeme, &t.passages, &must, &mustNodes); err != nil {
			return err
		}
		found = true
		if t.lexeme == "" {
			total = t.passages
		} else {
			asked = append(asked, t)
		}
		return nil
	}, termsSQL, sq.Language, strings.Join(words, " "), websearchConstraint(q))
	if err != nil {
		return nil, fmt.Errorf("read search terms: %w", err)
	}
	if !found {
		return nil, invalid(fmt.Sprintf("language %q has no text search configuration", sq.Language))
	}
	if len(asked) == 0 {
		return nil, noSearchableWord
	}
	all := float64(max(total, 1))
	idf := func(t term) float64 {
		df := float64(t.passages)
		return math.Log(1 + (all-df+0.5)/(df+0.5))
	}
	var terms []term
	add := func(t term) {
		if i := slices.IndexFunc(terms, func(o term) bool { return o.lexeme == t.lexeme }); i >= 0 {
			terms[i].weight = max(terms[i].weight, t.weight)
			return
		}
		terms = append(terms, t)
	}
	var unknown []string
	for _, t := range asked {
		switch {
		case t.passages > 0:
			t.weight = idf(t)
			add(t)
		case utf8.RuneCountInString(t.lexeme) >= minNearLength:
			unknown = append(unknown, t.lexeme)
		}
	}
	if len(unknown) > 0 {
		near, err := nearTermsPostgres(ctx, db, unknown, sq.Language != DefaultKnowledgeLanguage)
		if err != nil {
			return nil, err
		}
		for _, t := range near {
			t.weight *= idf(t)
			add(t)
		}
	}
	if len(terms) == 0 {
		return nil, nil
	}
	// In one order, so that equal questions score equal to the last bit.
	slices.SortFunc(terms, func(a, b term) int { return strings.Compare(a.lexeme, b.lexeme) })

	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	// The candidates: the passages having the rarest term, then the next
	// while they are not common and stay within candidateBudget. When even
	// the rarest is in more, the passages having two of the rarer terms
	// (pairTerms at most, their passages within indexBudget), and, should
	// those be too few, those having the rarest.
	byRarity := slices.SortedStableFunc(slices.Values(terms), func(a, b term) int { return cmp.Compare(a.passages, b.passages) })
	common := func(t term) bool { return float64(t.passages) > commonShare*all }
	selective := []string{tsLexeme(byRarity[0].lexeme)}
	estimate := byRarity[0].passages
	for _, t := range byRarity[1:] {
		if common(t) || estimate+t.passages > candidateBudget {
			break
		}
		selective = append(selective, tsLexeme(t.lexeme))
		estimate += t.passages
	}
	var pairs []string
	if estimate > candidateBudget {
		read := byRarity[0].passages
		for _, t := range byRarity[1:] {
			if common(t) || len(selective) == pairTerms || read+t.passages > indexBudget {
				break
			}
			for _, other := range selective {
				pairs = append(pairs, other+" & "+tsLexeme(t.lexeme))
			}
			selective = append(selective, tsLexeme(t.lexeme))
			read += t.passages
		}
	}
	// What selects passages is a subquery's value, run once: PostgreSQL
	// then estimates the statement alike for every question and keeps
	// one plan for it, instead of planning it anew when the terms of a
	// question happen to look cheaper.
	tsq := func(q string) string { return "(SELECT " + arg(q) + "::tsquery)" }
	var filters, join string
	if mustNodes > 0 {
		filters += " AND ap.search @@ " + tsq(must)
	}
	if sq.Collections != nil || len(sq.ExcludeCollections) > 0 {
		join = " JOIN articles AS art ON art.id = ap.article_id"
		if sq.Collections != nil {
			filters += " AND art.collection = ANY(" + arg(sq.Collections) + "::text[])"
		}
		if len(sq.ExcludeCollections) > 0 {
			filters += " AND art.collection <> ALL(" + arg(sq.ExcludeCollections) + "::text[])"
		}
	}
	best := strconv.Itoa(sq.Limit * bestPerHit)
	// The score has a slot per term, and a few empty ones (null, which
	// ts_rank, being strict, is not even called for), so that questions
	// of 5 to 8 terms, say, share one statement: fewer statements for
	// each connection to prepare and keep.
	var score strings.Builder
	for i := range slots(len(terms)) {
		if i > 0 {
			score.WriteString(" + ")
		}
		var w, q any
		if i < len(terms) {
			w, q = terms[i].weight, tsLexeme(terms[i].lexeme)
		}
		fmt.Fprintf(&score, "coalesce(%s::float8 * ts_rank('%s', ap.search, %s::tsquery, 1), 0)", arg(w), rankWeights, arg(q))
	}
	// The candidates with their scores (not their search vectors, which
	// would be copied along).
	candidates := func(match string) string {
		return "SELECT ap.id, ap.article_id, " + score.String() + " AS score FROM article_passages AS ap" + join +
			" WHERE ap.search @@ " + match + filters + " LIMIT " + strconv.Itoa(candidateCap)
	}
	var with, from string
	if len(pairs) > 0 {
		two := tsq(strings.Join(pairs, " | "))
		// The second part runs only when the first found too few.
		with = "WITH strict AS MATERIALIZED (" + candidates(two) + ")\n"
		from = "SELECT * FROM strict UNION ALL (" +
			candidates(tsq(selective[0])+" AND NOT ap.search @@ "+two+" AND (SELECT count(*) FROM strict) < "+best) + ")"
	} else {
		from = candidates(tsq(strings.Join(selective, " | ")))
	}
	anyTerm := make([]string, len(terms))
	for i, t := range terms {
		anyTerm[i] = tsLexeme(t.lexeme)
	}
	query := with + `SELECT ap.id, ap.article_id, ap.title, art.url, ap.heading_path, art.collection, ap.text, top.score,
  ts_headline(` + arg(sq.Language) + `::regconfig, ap.text, ` + arg(strings.Join(anyTerm, " | ")) + `::tsquery, '` + snippetOptions + `')
FROM (
  SELECT id, score FROM (
    SELECT id, score, row_number() OVER (PARTITION BY article_id ORDER BY score DESC, id) AS nth
    FROM (
      SELECT c.id, c.article_id, c.score
      FROM (` + from + `) AS c
      ORDER BY score DESC, c.id
      LIMIT ` + best + `
    ) AS best
  ) AS ranked
  WHERE nth <= ` + strconv.Itoa(maxPerArticle) + `
  ORDER BY score DESC, id
  LIMIT ` + strconv.Itoa(sq.Limit) + `
) AS top
JOIN article_passages AS ap ON ap.id = top.id
JOIN articles AS art ON art.id = ap.article_id
ORDER BY top.score DESC, ap.id`
	var hits []SearchHit
	err = queryPG(ctx, db, func(rows *sql.Rows) error {
		var h SearchHit
		if err := rows.Scan(&h.PassageID, &h.ArticleID, &h.Title, &h.URL, &h.HeadingPath, &h.Collection, &h.Text, &h.Score, &h.Snippet); err != nil {
			return err
		}
		hits = append(hits, h)
		return nil
	}, query, args...)
	if err != nil {
		return nil, fmt.Errorf("search knowledge: %w", err)
	}
	return hits, nil
}

// nearTermsPostgres are the indexed lexemes that stand in for the
// unknown ones: within an edit or two (nearness), nearPerTerm at most for
// each, the nearest first and, between equals, the one more passages have.
// Their weight is their nearness.
func nearTermsPostgres(ctx context.Context, db bun.IDB, unknown []string, latin bool) ([]term, error) {
	var names []string
	var ranges []any
	for _, l := range unknown {
		variants, from, to, allowed := nearProbes(l, latin)
		names = append(names, variants...)
		n := utf8.RuneCountInString(l)
		ranges = append(ranges, from, to, n-allowed, n+allowed)
	}
	for range slots(len(unknown)) - len(unknown) {
		ranges = append(ranges, "", "", 0, 0) // empty
	}
	var indexed []term
	err := queryPG(ctx, db, func(rows *sql.Rows) error {
		var t term
		if err := rows.Scan(&t.lexeme, &t.passages); err != nil {
			return err
		}
		indexed = append(indexed, t)
		return nil
	}, nearSQL(len(unknown)), append([]any{names}, ranges...)...)
	if err != nil {
		return nil, fmt.Errorf("read near terms: %w", err)
	}
	var out []term
	for _, l := range unknown {
		var cands []term
		for _, t := range indexed {
			if t.weight = nearness(l, t.lexeme); t.weight > 0 {
				cands = append(cands, t)
			}
		}
		slices.SortFunc(cands, func(a, b term) int {
			return cmp.Or(cmp.Compare(b.weight, a.weight), cmp.Compare(b.passages, a.passages), strings.Compare(a.lexeme, b.lexeme))
		})
		out = append(out, cands[:min(len(cands), nearPerTerm)]...)
	}
	return out, nil
}

// nearAlphabet are the letters an edit may put among a word's first
// ones: a-z and the digits, and, for another language than English or a
// word having any, the accented letters of Latin-1 (a French é, a German
// ü), besides the word's own. Each is a lookup more.
const (
	nearAlphabet = "abcdefghijklmnopqrstuvwxyz0123456789"
	nearAccents  = "ßàáâãäåæçèéêëìíîïðñòóôõöøùúûüýþÿ"
)

// nearProbes is how the indexed lexemes within the edits nearness allows
// of an unknown one are found without reading them all (a trigram index
// proposes its nearest only after comparing most of the vocabulary, a
// few milliseconds a word): those whose edits come after its first
// nearPrefix letters start with them, a range from from to to (excluded)
// of the lexemes' primary key; those one edit away within its first
// letters are variants, looked up one by one. A word of eight letters or
// more two edits away from its lexeme, one within its first letters, is
// not found.
func nearProbes(lexeme string, latin bool) (variants []string, from, to string, allowed int) {
	r := []rune(lexeme)
	n := len(r)
	p := min(nearPrefix, n)
	allowed = 1
	if n >= 8 {
		allowed = 2
	}
	from = string(r[:p])
	to = string(r[:p-1]) + string(r[p-1]+1)
	alphabet := slices.Concat([]rune(nearAlphabet), r)
	if latin || slices.ContainsFunc(r, func(c rune) bool { return c >= utf8.RuneSelf }) {
		alphabet = append(alphabet, []rune(nearAccents)...)
	}
	seen := map[string]bool{lexeme: true}
	addVariant := func(v []rune) {
		if s := string(v); !seen[s] {
			seen[s] = true
			variants = append(variants, s)
		}
	}
	for i := range p {
		addVariant(slices.Concat(r[:i], r[i+1:])) // deletion
		if i+1 < n {
			swapped := slices.Clone(r)
			swapped[i], swapped[i+1] = swapped[i+1], swapped[i]
			addVariant(swapped)
		}
		for _, c := range alphabet {
			if c != r[i] {
				sub := slices.Clone(r)
				sub[i] = c
				addVariant(sub)
			}
			addVariant(slices.Concat(r[:i], []rune{c}, r[i:])) // insertion
		}
	}
	return variants, from, to, allowed
}

// slots is n rounded up to a power of two, 4 at least: how many terms
// or ranges a statement has room for, the rest null.
func slots(n int) int {
	s := 4
	for s < n {
		s *= 2
	}
	return s
}

// queryPG runs a statement with its parameters on the connection or
// transaction under db, and fn on each row. bun would write the values
// into the text, which PostgreSQL would then parse and plan for every
// question; with parameters the driver prepares each statement once per
// connection and PostgreSQL can keep its plan.
func queryPG(ctx context.Context, db bun.IDB, fn func(*sql.Rows) error, query string, args ...any) error {
	var rows *sql.Rows
	var err error
	switch d := db.(type) {
	case *bun.DB:
		rows, err = d.DB.QueryContext(ctx, query, args...)
	case bun.Tx:
		rows, err = d.Tx.QueryContext(ctx, query, args...)
	case *bun.Tx:
		rows, err = d.Tx.QueryContext(ctx, query, args...)
	case bun.Conn:
		rows, err = d.Conn.QueryContext(ctx, query, args...)
	case *bun.Conn:
		rows, err = d.Conn.QueryContext(ctx, query, args...)
	default:
		// Another bun.IDB: the values written into the text by bun.
		rows, err = db.QueryContext(ctx, inlineParams(query, args))
	}
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// inlineParams writes the values of args into query for $1, $2...:
// strings and lists quoted, numbers as they are, nil as NULL.
func inlineParams(query string, args []any) string {
	quote := func(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }
	var b strings.Builder
	for i := 0; i < len(query); i++ {
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		if query[i] != '$' || j == i+1 {
			b.WriteByte(query[i])
			continue
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		switch v := args[n-1].(type) {
		case nil:
			b.WriteString("NULL")
		case string:
			b.WriteString(quote(v))
		case []string:
			items := make([]string, len(v))
			for k, s := range v {
				items[k] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
			}
			b.WriteString(quote("{" + strings.Join(items, ",") + "}"))
		default:
			fmt.Fprint(&b, v)
		}
		i = j - 1
	}
	return b.String()
}

// nearness is how near an indexed lexeme is to one no passage has: 1
// less its edit distance over the longer's length, 0 when it is more than
// one edit away (two from a lexeme of eight letters or more). Two edits
// from a shorter word is most often another word ("import" is not a
// misspelled "report").
func nearness(lexeme, indexed string) float64 {
	a, b := []rune(lexeme), []rune(indexed)
	allowed := 1
	if len(a) >= 8 {
		allowed = 2
	}
	d := editDistance(a, b)
	if d > allowed {
		return 0
	}
	return 1 - float64(d)/float64(max(len(a), len(b)))
}

// editDistance is the optimal string alignment distance of a and b: the
// insertions, deletions, substitutions and swaps of neighbours that make
// one the other.
func editDistance(a, b []rune) int {
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// tsLexeme quotes a lexeme as tsquery text, its quotes and backslashes doubled.
func tsLexeme(l string) string {
	return "'" + tsQuoting.Replace(l) + "'"
}

var tsQuoting = strings.NewReplacer(`\`, `\\`, `'`, `''`)

// websearchConstraint is what a passage must satisfy, in
// websearch_to_tsquery's syntax: the question's "phrases" and -words.
// The words are letters and digits only, so they are never its operators.
func websearchConstraint(q question) string {
	var parts []string
	for _, p := range q.phrases {
		parts = append(parts, `"`+strings.Join(p, " ")+`"`)
	}
	for _, w := range q.excluded {
		if w != "or" {
			parts = append(parts, "-"+w)
		}
	}
	return strings.Join(parts, " ")
}

// nonEmpty is list, or a list no collection is named, so that IN () stays
// valid SQL and keeps nothing.
func nonEmpty(list []string) []string {
	if len(list) == 0 {
		return []string{""}
	}
	return list
}

// Ranking on SQLite: FTS5's bm25 over the passages' title, headings and
// text, with these weights.
const ftsWeights = "2.0, 1.5, 1.0"

func searchSQLite(ctx context.Context, db bun.IDB, sq SearchQuery, q question) ([]SearchHit, error) {
	words := slices.DeleteFunc(slices.Clone(q.words), func(w string) bool {
		return englishStopWords[w] || (utf8.RuneCountInString(w) == 1 && !unicode.IsDigit(nextRune(w)))
	})
	if len(words) == 0 {
		return nil, noSearchableWord
	}
	near, err := nearTermsSQLite(ctx, db, words)
	if err != nil {
		return nil, err
	}
	match := ftsQuery(append(words, near...), q)
	var where strings.Builder
	args := []any{match}
	if sq.Collections != nil {
		where.WriteString(" AND art.collection IN (?)")
		args = append(args, bun.List(nonEmpty(sq.Collections)))
	}
	if len(sq.ExcludeCollections) > 0 {
		where.WriteString(" AND art.collection NOT IN (?)")
		args = append(args, bun.List(sq.ExcludeCollections))
	}
	args = append(args, sq.Limit*bestPerHit, maxPerArticle, sq.Limit, match)
	// The snippets are made for the few hits only, by a second match
	// (FTS5's functions work only in the query that matches).
	query := `WITH best AS MATERIALIZED (
  SELECT ap.id, ap.article_id, -bm25(article_passages_fts, ` + ftsWeights + `) AS score
  FROM article_passages_fts
  JOIN article_passages AS ap ON ap.id = article_passages_fts.rowid
  JOIN articles AS art ON art.id = ap.article_id
  WHERE article_passages_fts MATCH ?` + where.String() + `
  ORDER BY score DESC, ap.id
  LIMIT ?
), ranked AS (
  SELECT id, score, row_number() OVER (PARTITION BY article_id ORDER BY score DESC, id) AS nth FROM best
), top AS (
  SELECT id, score FROM ranked WHERE nth <= ? ORDER BY score DESC, id LIMIT ?
)
SELECT ap.id AS passage_id, ap.article_id, ap.title, art.url, ap.heading_path, art.collection, ap.text, top.score,
  snippet(article_passages_fts, 2, '«', '»', '…', 24) AS snippet
FROM top
JOIN article_passages_fts ON article_passages_fts.rowid = top.id
JOIN article_passages AS ap ON ap.id = top.id
JOIN articles AS art ON art.id = ap.article_id
WHERE article_passages_fts MATCH ?
ORDER BY top.score DESC, ap.id`
	var hits []SearchHit
	if err := db.NewRaw(query, args...).Scan(ctx, &hits); err != nil {
		return nil, fmt.Errorf("search knowledge: %w", err)
	}
	return hits, nil
}

// ftsQuery is the FTS5 query of a search: any of words, all of its
// phrases, none of its -words. Every word is quoted, so nothing a person
// types is FTS5 syntax.
func ftsQuery(words []string, q question) string {
	loose := make([]string, len(words))
	for i, w := range words {
		loose[i] = ftsString(w)
	}
	var must []string
	for _, p := range q.phrases {
		// Common words alone constrain nothing, as on PostgreSQL.
		if slices.ContainsFunc(p, func(w string) bool { return !englishStopWords[w] }) {
			must = append(must, ftsString(strings.Join(p, " ")))
		}
	}
	if len(loose) == 0 && len(must) == 0 {
		return ""
	}
	query := strings.Join(must, " AND ")
	switch {
	case len(must) == 0:
		query = "(" + strings.Join(loose, " OR ") + ")"
	case len(loose) > 0:
		query = query + " AND (" + strings.Join(loose, " OR ") + ")"
	}
	for _, w := range q.excluded {
		if !englishStopWords[w] {
			query = "(" + query + ") NOT " + ftsString(w)
		}
	}
	return query
}

// nearTermsSQLite are the indexed terms that stand in for the words no
// passage has (misspellings, mostly): the terms of the index's
// vocabulary that start with the same letter and are within an edit or
// two (nearness), nearPerTerm at most for each word.
func nearTermsSQLite(ctx context.Context, db bun.IDB, words []string) ([]string, error) {
	var parts []string
	var args []any
	for _, w := range words {
		if utf8.RuneCountInString(w) >= minNearLength {
			parts = append(parts, "SELECT ? AS word WHERE NOT EXISTS (SELECT 1 FROM article_passages_fts WHERE article_passages_fts MATCH ?)")
			args = append(args, w, ftsString(w))
		}
	}
	if len(parts) == 0 {
		return nil, nil
	}
	var unknown []string
	if err := db.NewRaw(strings.Join(parts, " UNION ALL "), args...).Scan(ctx, &unknown); err != nil {
		return nil, fmt.Errorf("find unknown words: %w", err)
	}
	var out []string
	for _, w := range unknown {
		first := []rune(w)[0]
		n := utf8.RuneCountInString(w)
		var vocab []struct {
			Term string `bun:"term"`
			Doc  int64  `bun:"doc"`
		}
		err := db.NewRaw(`SELECT term, doc FROM article_passages_vocab
			WHERE term >= ? AND term < ? AND length(term) BETWEEN ? AND ?`,
			string(first), string(first+1), n-2, n+2).Scan(ctx, &vocab)
		if err != nil {
			return nil, fmt.Errorf("read vocabulary: %w", err)
		}
		type candidate struct {
			term      string
			nearness  float64
			documents int64
		}
		// The vocabulary holds stems: a plural is compared without its s.
		variants := []string{w}
		if n > 3 && strings.HasSuffix(w, "s") {
			variants = append(variants, strings.TrimSuffix(w, "s"))
		}
		var cands []candidate
		for _, v := range vocab {
			c := 0.0
			for _, variant := range variants {
				c = max(c, nearness(variant, v.Term))
			}
			if c > 0 {
				cands = append(cands, candidate{v.Term, c, v.Doc})
			}
		}
		slices.SortFunc(cands, func(a, b candidate) int {
			return cmp.Or(cmp.Compare(b.nearness, a.nearness), cmp.Compare(b.documents, a.documents), strings.Compare(a.term, b.term))
		})
		for _, c := range cands[:min(len(cands), nearPerTerm)] {
			out = append(out, c.term)
		}
	}
	return out, nil
}

// ftsString quotes s as an FTS5 string.
func ftsString(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// englishStopWords are the words a SQLite search leaves out (PostgreSQL's
// dictionaries have their own lists): PostgreSQL's english.stop.
var englishStopWords = func() map[string]bool {
	m := map[string]bool{}
	for w := range strings.FieldsSeq(`i me my myself we our ours ourselves you your yours yourself
		yourselves he him his himself she her hers herself it its itself they them their theirs
		themselves what which who whom this that these those am is are was were be been being have
		has had having do does did doing a an the and but if or because as until while of at by for
		with about against between into through during before after above below to from up down in
		out on off over under again further then once here there when where why how all any both
		each few more most other some such no nor not only own same so than too very s t can will
		just don should now`) {
		m[w] = true
	}
	return m
}()

// EvalQuestion is a question of a retrieval evaluation and the article
// that answers it: its title or its URL.
type EvalQuestion struct {
	Question string `json:"question"`
	Expect   string `json:"expect"`
}

// EvalResult is how well the search found the articles that answer a set
// of questions.
type EvalResult struct {
	Questions int
	// RecallAt1 and RecallAt3 are the shares of questions whose article
	// has the first hit, or one of the first three.
	RecallAt1, RecallAt3 float64
	// MRR is the mean of 1/rank of the article's first hit, 0 when it is
	// not among the hits.
	MRR float64
	// Misses are the questions whose article does not have the first hit:
	// "question → expected (rank 3, first: other title)".
	Misses []string
}

// EvalRetrieval runs each question through SearchKnowledge (limit hits,
// the default language) and measures where the expected article's first
// passage ranks.
func EvalRetrieval(ctx context.Context, db bun.IDB, questions []EvalQuestion, limit int) (EvalResult, error) {
	res := EvalResult{Questions: len(questions)}
	if len(questions) == 0 {
		return res, nil
	}
	var at1, at3 int
	for _, q := range questions {
		hits, err := SearchKnowledge(ctx, db, SearchQuery{Text: q.Question, Limit: limit})
		if err != nil {
			return res, fmt.Errorf("question %q: %w", q.Question, err)
		}
		rank := slices.IndexFunc(hits, func(h SearchHit) bool {
			return h.Title == q.Expect || (h.URL != nil && *h.URL == q.Expect)
		}) + 1
		switch {
		case rank == 1:
			at1++
		case rank == 0 && len(hits) == 0:
			res.Misses = append(res.Misses, fmt.Sprintf("%s → %s (no hit)", q.Question, q.Expect))
		case rank == 0:
			res.Misses = append(res.Misses, fmt.Sprintf("%s → %s (not found, first: %s)", q.Question, q.Expect, hits[0].Title))
		default:
			res.Misses = append(res.Misses, fmt.Sprintf("%s → %s (rank %d, first: %s)", q.Question, q.Expect, rank, hits[0].Title))
		}
		if rank >= 1 && rank <= 3 {
			at3++
		}
		if rank > 0 {
			res.MRR += 1 / float64(rank)
		}
	}
	n := float64(len(questions))
	res.RecallAt1, res.RecallAt3, res.MRR = float64(at1)/n, float64(at3)/n, res.MRR/n
	return res, nil
}
