package domain_test

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

func TestKnowledgeSplitPassagesAtHeadings(t *testing.T) {
	body := "Lockers are open day and night.\n\n" +
		"# Opening hours\n\nMost lockers never close.\n\n" +
		"## In shopping centres\n\nThey follow the centre's hours.\n\n" +
		"### On holidays ###\n\nSome close on public holidays.\n\n" +
		"## At stations\n\nOpen while the station is.\n\n" +
		"```sh\n# not a heading\n\ncurl https://example.com\n```\n\n" +
		"# Sizes\n## \n\nThree sizes: S, M and L.\n" +
		"#hashtag is text, not a heading."
	got := domain.SplitPassages(body)
	want := []domain.PassageDraft{
		{HeadingPath: "", Text: "Lockers are open day and night."},
		{HeadingPath: "Opening hours", Text: "Most lockers never close."},
		{HeadingPath: "Opening hours › In shopping centres", Text: "They follow the centre's hours."},
		{HeadingPath: "Opening hours › In shopping centres › On holidays", Text: "Some close on public holidays."},
		{HeadingPath: "Opening hours › At stations", Text: "Open while the station is.\n\n" +
			"```sh\n# not a heading\n\ncurl https://example.com\n```"},
		{HeadingPath: "Sizes", Text: "Three sizes: S, M and L.\n#hashtag is text, not a heading."},
	}
	assert.Equal(t, want, got)
	assert.Empty(t, domain.SplitPassages("# Only a heading\n\n## And another\n"))
}

func TestKnowledgeSplitPassagesKeepsThemShort(t *testing.T) {
	sentence := "A parcel waits in its locker for three days after the pickup code is sent. "
	paragraph := strings.TrimSpace(strings.Repeat(sentence, 5)) // ~380 characters
	long := strings.TrimSpace(strings.Repeat(sentence, 40))     // ~3,000 characters, one paragraph
	noStop := strings.TrimSpace(strings.Repeat("word ", 700))   // no sentence end at all
	huge := strings.Repeat("x", domain.PassageMaxChars+100)

	body := "# Many paragraphs\n\n" + strings.Repeat(paragraph+"\n\n", 6) +
		"# One long paragraph\n\n" + long + "\n\n" +
		"# No sentence ends\n\n" + noStop + "\n\n" +
		"# One huge word\n\nbefore " + huge + " after"
	got := domain.SplitPassages(body)
	byPath := map[string][]string{}
	for _, p := range got {
		byPath[p.HeadingPath] = append(byPath[p.HeadingPath], p.Text)
	}

	// Paragraphs are packed whole: three of ~380 characters fit in 1,200.
	assert.Equal(t, []string{
		strings.Repeat(paragraph+"\n\n", 2) + paragraph,
		strings.Repeat(paragraph+"\n\n", 2) + paragraph,
	}, byPath["Many paragraphs"])

	// A long paragraph is cut at sentence ends, and nothing is lost.
	parts := byPath["One long paragraph"]
	require.Len(t, parts, 3)
	for _, p := range parts {
		assert.LessOrEqual(t, utf8.RuneCountInString(p), domain.PassageMaxChars)
		assert.True(t, strings.HasSuffix(p, "sent."), "ends a sentence: %q", p[len(p)-20:])
	}
	assert.Equal(t, long, strings.Join(parts, " "))

	// Without sentence ends, between words.
	for _, p := range byPath["No sentence ends"] {
		assert.LessOrEqual(t, utf8.RuneCountInString(p), domain.PassageMaxChars)
		assert.NotContains(t, " "+p+" ", "wor ", "cut inside a word")
	}
	assert.Equal(t, noStop, strings.Join(byPath["No sentence ends"], " "))

	// A word longer than a passage stays whole.
	assert.Equal(t, []string{"before", huge, "after"}, byPath["One huge word"])
}

// article stores a small article for a test.
func article(t *testing.T, db bun.IDB, collection, title, url, body string) *domain.Article {
	t.Helper()
	var u *string
	if url != "" {
		u = &url
	}
	a, err := domain.CreateArticle(context.Background(), db, domain.NewArticle{Collection: collection,
		Title: title, URL: u, Body: body, Source: "test"})
	require.NoError(t, err)
	return a
}

func TestKnowledgeArticles(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		editor := newUser(t, db, "editor", false)

		returns := article(t, db, "", "Returning a parcel", "/help/returns",
			"You can return most parcels within 30 days.\n\n## At a locker\n\nChoose a locker and print no label.")
		assert.Equal(t, domain.DefaultCollection, returns.Collection)
		assert.Equal(t, domain.DefaultKnowledgeLanguage, returns.Language)
		article(t, db, "business", "Business accounts", "", "Companies send many parcels at once.")

		got, err := domain.ArticleByURL(ctx, db, "/help/returns")
		require.NoError(t, err)
		assert.Equal(t, returns.ID, got.ID)
		assert.Equal(t, "test", got.Source)
		ps, err := domain.ArticlePassages(ctx, db, returns.ID)
		require.NoError(t, err)
		require.Len(t, ps, 2)
		assert.Equal(t, "At a locker", ps[1].HeadingPath)
		assert.Equal(t, "Returning a parcel", ps[1].Title)

		_, err = domain.CreateArticle(ctx, db, domain.NewArticle{Title: "Again", URL: ptr("/help/returns"), Body: "x"})
		assert.ErrorIs(t, err, domain.ErrConflict)
		for _, bad := range []domain.NewArticle{
			{Title: "", Body: "text"},
			{Title: "No body", Body: "  "},
			{Title: "Headings only", Body: "# One\n## Two"},
			{Title: "Bad collection", Body: "text", Collection: "Not A Slug"},
			{Title: "Bad language", Body: "text", Language: "no-such"},
			{Title: strings.Repeat("t", 301), Body: "text"},
		} {
			_, err := domain.CreateArticle(ctx, db, bad)
			assert.ErrorIs(t, err, domain.ErrInvalid, bad.Title)
		}

		list, total, err := domain.ListArticles(ctx, db, domain.ArticleFilter{Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		assert.Equal(t, 2, total)
		assert.Equal(t, "Business accounts", list[0].Title, "newest first")
		assert.Empty(t, list[0].Body, "lists leave bodies out")
		list, total, err = domain.ListArticles(ctx, db, domain.ArticleFilter{Q: "RETURN", Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		assert.Equal(t, 1, total)
		assert.Equal(t, returns.ID, list[0].ID)
		_, total, err = domain.ListArticles(ctx, db, domain.ArticleFilter{Collection: "business", Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		assert.Equal(t, 1, total)
		_, total, err = domain.ListArticles(ctx, db, domain.ArticleFilter{Q: "100%", Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		assert.Zero(t, total, "% is not a wildcard")

		replaced, err := domain.ReplaceArticle(ctx, db, returns.ID, domain.NewArticle{Title: "Returns", URL: ptr("/help/returns"),
			Body: "One passage now.", UpdatedBy: &editor.ID})
		require.NoError(t, err)
		assert.True(t, returns.CreatedAt.Equal(replaced.CreatedAt), "created at stays")
		ps, err = domain.ArticlePassages(ctx, db, returns.ID)
		require.NoError(t, err)
		require.Len(t, ps, 1)
		assert.Equal(t, "Returns", ps[0].Title)
		_, err = domain.ReplaceArticle(ctx, db, 999999, domain.NewArticle{Title: "x", Body: "x"})
		assert.ErrorIs(t, err, domain.ErrNotFound)

		// The editor leaves; the article stays, edited by nobody.
		_, err = db.NewDelete().Model((*domain.User)(nil)).Where("id = ?", editor.ID).Exec(ctx)
		require.NoError(t, err)
		got, err = domain.ArticleByID(ctx, db, returns.ID)
		require.NoError(t, err)
		assert.Nil(t, got.UpdatedBy)

		searchIndexInStep(t, db)
		require.NoError(t, domain.DeleteArticle(ctx, db, returns.ID))
		searchIndexInStep(t, db)
		assert.ErrorIs(t, domain.DeleteArticle(ctx, db, returns.ID), domain.ErrNotFound)
		_, err = domain.ArticleByID(ctx, db, returns.ID)
		assert.ErrorIs(t, err, domain.ErrNotFound)
		ps, err = domain.ArticlePassages(ctx, db, returns.ID)
		require.NoError(t, err)
		assert.Empty(t, ps, "passages go with their article")
		hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "passage"})
		require.NoError(t, err)
		assert.Empty(t, hits, "and leave the index")
	})
}

// searchIndexInStep checks that the search structures the triggers keep
// match the passages: FTS5's integrity check on SQLite (external
// content), a recount of knowledge_lexemes on PostgreSQL.
func searchIndexInStep(t *testing.T, db bun.IDB) {
	t.Helper()
	ctx := context.Background()
	if database.Dialect(db) != config.Postgres {
		_, err := db.ExecContext(ctx, "INSERT INTO article_passages_fts (article_passages_fts, rank) VALUES ('integrity-check', 1)")
		require.NoError(t, err)
		return
	}
	var diff int
	err := db.NewRaw(`SELECT count(*) FROM (
		(SELECT lexeme, passages FROM knowledge_lexemes
		 EXCEPT SELECT l, count(*) FROM article_passages, unnest(array_append(tsvector_to_array(search), '')) AS l GROUP BY l)
		UNION ALL
		(SELECT l, count(*) FROM article_passages, unnest(array_append(tsvector_to_array(search), '')) AS l GROUP BY l
		 EXCEPT SELECT lexeme, passages FROM knowledge_lexemes)) AS d`).Scan(ctx, &diff)
	require.NoError(t, err)
	assert.Zero(t, diff, "knowledge_lexemes counts the passages' lexemes")
}

func TestKnowledgeSearch(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		article(t, db, "", "How long a locker keeps your parcel", "/help/storage",
			"Your parcel waits for you.\n\n## Storage time\n\nA locker keeps a parcel for 72 hours after we text you the pickup code. "+
				"After that it goes back to the sender.\n\n## Extending\n\nYou can extend the storage once, by a day, in the app.")
		article(t, db, "", "Refunds", "/help/refunds",
			"We pay refunds to the card you paid with, within five working days of receiving the return.")
		article(t, db, "business", "Sending in bulk", "/business/bulk",
			"Business customers hand parcels over at a depot instead of a locker.")
		for _, title := range []string{"Paying by card", "Changing your phone number", "Notifications", "Sizes", "Your account"} {
			article(t, db, "", title, "", "About "+strings.ToLower(title)+".\n\n## More\n\nSee the app for "+strings.ToLower(title)+".")
		}

		search := func(q domain.SearchQuery) []domain.SearchHit {
			t.Helper()
			hits, err := domain.SearchKnowledge(ctx, db, q)
			require.NoError(t, err, q.Text)
			return hits
		}
		// Some of the words are enough.
		hits := search(domain.SearchQuery{Text: "how long does the locker keep my parcel before it is sent back?"})
		require.NotEmpty(t, hits)
		assert.Equal(t, "How long a locker keeps your parcel", hits[0].Title)
		assert.Equal(t, "/help/storage", *hits[0].URL)
		storage := slices.IndexFunc(hits, func(h domain.SearchHit) bool { return h.HeadingPath == "Storage time" })
		require.True(t, storage == 0 || storage == 1, "the passage that answers comes first or second: %d", storage)
		assert.Contains(t, hits[storage].Snippet, "«locker»")
		assert.Contains(t, hits[storage].Snippet, "«keeps»")
		perArticle := map[int64]int{}
		for _, h := range hits {
			perArticle[h.ArticleID]++
		}
		assert.LessOrEqual(t, perArticle[hits[0].ArticleID], 2, "two passages of one article at most")
		for i := 1; i < len(hits); i++ {
			assert.GreaterOrEqual(t, hits[i-1].Score, hits[i].Score)
		}

		hits = search(domain.SearchQuery{Text: "when do I get my refund"})
		require.NotEmpty(t, hits)
		assert.Equal(t, "Refunds", hits[0].Title)

		// Collections.
		hits = search(domain.SearchQuery{Text: "locker", Collections: []string{"business"}})
		require.Len(t, hits, 1)
		assert.Equal(t, "Sending in bulk", hits[0].Title)
		for _, h := range search(domain.SearchQuery{Text: "locker", ExcludeCollections: []string{"business"}}) {
			assert.NotEqual(t, "Sending in bulk", h.Title)
		}
		assert.Empty(t, search(domain.SearchQuery{Text: "locker", Collections: []string{}}))

		// Phrases must match, -words must not.
		hits = search(domain.SearchQuery{Text: `"pickup code" locker`})
		require.Len(t, hits, 1)
		assert.Equal(t, "Storage time", hits[0].HeadingPath)
		for _, h := range search(domain.SearchQuery{Text: "locker -depot"}) {
			assert.NotEqual(t, "Sending in bulk", h.Title)
		}

		// A minus inside a word excludes nothing; before one, it does.
		hits = search(domain.SearchQuery{Text: "card-paid refunds"})
		require.NotEmpty(t, hits)
		assert.Equal(t, "Refunds", hits[0].Title)
		for _, h := range search(domain.SearchQuery{Text: "refunds working days -card"}) {
			assert.NotEqual(t, "Refunds", h.Title)
		}
		hits = search(domain.SearchQuery{Text: `refunds -the "of the"`})
		require.NotEmpty(t, hits, "common words exclude nothing")
		assert.Equal(t, "Refunds", hits[0].Title)

		// Nothing a person types is query syntax.
		for _, text := range []string{`locker" OR NOT (`, `parcel* NEAR(a b) title:x`, `'; DROP TABLE articles; --`,
			`a & b | !c <-> d:*`, `\'\\"`, `-`, `"unclosed phrase`} {
			_, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: text})
			if err != nil {
				assert.ErrorIs(t, err, domain.ErrInvalid, text)
			}
		}

		assert.Len(t, search(domain.SearchQuery{Text: "parcel", Limit: 1}), 1)
	})
}

func TestKnowledgeSearchRefusesBadQuestions(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		article(t, db, "", "Lockers", "", "Lockers are open all day.")
		for _, text := range []string{"", "   ", "?!", "how is it", strings.Repeat("locker ", 65),
			strings.Repeat("x", domain.MaxSearchChars+1), "bad \x00 byte"} {
			_, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: text})
			require.ErrorIs(t, err, domain.ErrInvalid, "%.30q", text)
			assert.NotEmpty(t, domain.Reason(err))
		}
		_, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "locker", Language: "Klingon!"})
		assert.ErrorIs(t, err, domain.ErrInvalid)
		hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "zzyzx"})
		require.NoError(t, err)
		assert.Empty(t, hits, "a word no article has finds nothing, without error")
	})
}

// A misspelled word finds the article, through the indexed words nearest
// to it.
func TestKnowledgeSearchForgivesMisspellings(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		article(t, db, "", "Damaged parcels", "", "If a parcel arrives damaged, photograph it and report it in the app.")
		article(t, db, "", "Opening hours", "", "Lockers are open around the clock, every day.")
		for text, want := range map[string]string{
			"my parcle is brokn": "Damaged parcels",
			"damagd":             "Damaged parcels",
			"lokcers":            "Opening hours",
			"evrey day":          "Opening hours",
		} {
			hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: text})
			require.NoError(t, err)
			require.NotEmpty(t, hits, text)
			assert.Equal(t, want, hits[0].Title, text)
		}
		hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "damagd"})
		require.NoError(t, err)
		require.NotEmpty(t, hits)
		assert.Contains(t, hits[0].Snippet, "«damaged»")
		// A word two edits away from any is another word, not a typo.
		hits, err = domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "dmagd"})
		require.NoError(t, err)
		assert.Empty(t, hits)
	})
}

// The language of the articles is data: another one indexes them again.
func TestKnowledgeLanguage(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		if database.Dialect(db) != config.Postgres {
			t.Skip("SQLite indexes one way (porter stems)")
		}
		article(t, db, "", "Opening hours", "", "Lockers are open around the clock, every day.")
		// "simple" keeps the words English leaves out.
		_, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "are"})
		require.ErrorIs(t, err, domain.ErrInvalid)
		require.NoError(t, domain.SetKnowledgeLanguage(ctx, db, "simple"))
		list, _, err := domain.ListArticles(ctx, db, domain.ArticleFilter{Page: domain.Page{Limit: 1}})
		require.NoError(t, err)
		assert.Equal(t, "simple", list[0].Language)
		hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "are", Language: "simple"})
		require.NoError(t, err)
		require.Len(t, hits, 1)
		assert.Equal(t, "Opening hours", hits[0].Title)
		assert.ErrorIs(t, domain.SetKnowledgeLanguage(ctx, db, "klingon"), domain.ErrInvalid)
		_, err = domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "are", Language: "klingon"})
		assert.ErrorIs(t, err, domain.ErrInvalid)
	})
}

// A search running while an article is replaced sees the old passages or
// the new ones, never a mix or none.
func TestKnowledgeReplaceIsAtomicForSearches(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		if database.Dialect(db) != config.Postgres {
			t.Skip("the in-memory SQLite database has one connection: nothing runs alongside")
		}
		versions := []string{
			strings.Repeat("## Part\n\nThe zebra locker, version alpha.\n\n", 3),
			strings.Repeat("## Part\n\nThe zebra locker, version beta.\n\n", 5),
		}
		a := article(t, db, "", "Zebra", "", versions[0])
		var wg sync.WaitGroup
		done := make(chan struct{})
		wg.Go(func() {
			defer close(done)
			for i := range 40 {
				_, err := domain.ReplaceArticle(ctx, db, a.ID, domain.NewArticle{Title: "Zebra", Body: versions[(i+1)%2]})
				assert.NoError(t, err)
			}
		})
		for searching := true; searching; {
			select {
			case <-done:
				searching = false
			default:
			}
			hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "zebra version"})
			require.NoError(t, err)
			require.Len(t, hits, 2, "never an article half gone")
			seen := map[bool]bool{}
			for _, h := range hits {
				seen[strings.Contains(h.Snippet, "alpha")] = true
			}
			assert.Len(t, seen, 1, "never a mix of versions: %v", hits)
		}
		wg.Wait()
	})
}

// The assistant searches the whole help centre for everyone, except the
// internal collection, which only support staff's conversations reach.
func TestTheAssistantSearchesInternalArticlesForStaffOnly(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		article(t, db, "general", "Refunds", "", "A refund reaches your card within five working days.")
		article(t, db, domain.InternalCollection, "Refunds by hand", "", "Staff can push a refund through the back office in urgent cases.")
		user := newUser(t, db, "una", false)
		staff := newUser(t, db, "sam", false)
		testenv.MakeAgent(t, db, staff.ID)
		boss := newUser(t, db, "bea", true)

		titles := func(u *domain.User) []string {
			hits, err := domain.SearchForAssistant(ctx, db, u, domain.SearchQuery{Text: "can I get a refund?"})
			require.NoError(t, err)
			var out []string
			for _, h := range hits {
				out = append(out, h.Title)
			}
			return out
		}
		assert.Equal(t, []string{"Refunds"}, titles(user))
		assert.ElementsMatch(t, []string{"Refunds", "Refunds by hand"}, titles(staff))
		assert.ElementsMatch(t, []string{"Refunds", "Refunds by hand"}, titles(boss))
	})
}
