package knowledge_test

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"context"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io/fs"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/knowledge"
)

// zipEntry is an entry of a zip a test makes; mode and claimedSize, when
// set, make it a symbolic link or an entry whose header lies.
type zipEntry struct {
	name string
	data []byte
	mode fs.FileMode
	// claimedSize is the uncompressed size its header states, when not 0.
	claimedSize uint64
}

func makeZip(t testing.TB, entries ...zipEntry) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, e := range entries {
		if e.claimedSize != 0 {
			// Packed by hand, so the header can say what it likes.
			var packed bytes.Buffer
			fw, err := flate.NewWriter(&packed, flate.BestCompression)
			require.NoError(t, err)
			_, err = fw.Write(e.data)
			require.NoError(t, err)
			require.NoError(t, fw.Close())
			w, err := zw.CreateRaw(&zip.FileHeader{Name: e.name, Method: zip.Deflate, CRC32: crc32.ChecksumIEEE(e.data),
				CompressedSize64: uint64(packed.Len()), UncompressedSize64: e.claimedSize})
			require.NoError(t, err)
			_, err = w.Write(packed.Bytes())
			require.NoError(t, err)
			continue
		}
		h := &zip.FileHeader{Name: e.name, Method: zip.Deflate}
		if e.mode != 0 {
			h.SetMode(e.mode)
		}
		w, err := zw.CreateHeader(h)
		require.NoError(t, err)
		_, err = w.Write(e.data)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// helpZip is a help centre's export: a file of each type, and what an
// archive holds besides (folders, macOS's copies, dotfiles, other types).
func helpZip(t testing.TB) []byte {
	return makeZip(t,
		zipEntry{name: "help/", mode: fs.ModeDir | 0o755},
		zipEntry{name: "help/returns.md", data: readTestdata(t, "returns.md")},
		zipEntry{name: "help/parcels/storage-time.html", data: readTestdata(t, "storage-time.html")},
		zipEntry{name: "help/opening-hours.txt", data: readTestdata(t, "opening-hours.txt")},
		zipEntry{name: "__MACOSX/help/._returns.md", data: []byte("\x00\x05\x16\x07")},
		zipEntry{name: "help/.DS_Store", data: []byte("\x00\x00\x00\x01Bud1")},
		zipEntry{name: "help/manual.pdf", data: []byte("%PDF-1.7")},
		zipEntry{name: "help/more.zip", data: makeZip(t, zipEntry{name: "inner.md", data: []byte("# Inner\n\nText.")})},
	)
}

// articles are the stored articles by source, with their bodies; two of
// one source fail the test.
func articles(t testing.TB, db bun.IDB) map[string]*domain.Article {
	t.Helper()
	ctx := context.Background()
	list, total, err := domain.ListArticles(ctx, db, domain.ArticleFilter{Page: domain.Page{Limit: domain.MaxPageSize}})
	require.NoError(t, err)
	require.Len(t, list, total)
	out := map[string]*domain.Article{}
	for _, a := range list {
		full, err := domain.ArticleByID(ctx, db, a.ID)
		require.NoError(t, err)
		require.NotContains(t, out, full.Source, "one article per source")
		out[full.Source] = full
	}
	return out
}

// countArticles is how many articles are stored.
func countArticles(t testing.TB, db bun.IDB) int {
	t.Helper()
	_, total, err := domain.ListArticles(context.Background(), db, domain.ArticleFilter{Page: domain.Page{Limit: 1}})
	require.NoError(t, err)
	return total
}

func files(r []knowledge.Stored) []string {
	var out []string
	for _, s := range r {
		out = append(out, s.File)
	}
	slices.Sort(out)
	return out
}

func TestKnowledgeImportZipCreatesThenReplaces(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		zipped := helpZip(t)

		res, err := knowledge.Import(ctx, db, []knowledge.File{{Name: "help.zip", Data: zipped}}, knowledge.Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"help.zip/help/opening-hours.txt", "help.zip/help/parcels/storage-time.html", "help.zip/help/returns.md"},
			files(res.Created))
		assert.Empty(t, res.Replaced)
		assert.Equal(t, []knowledge.Refused{
			{File: "help.zip/help/manual.pdf", Reason: "is not a supported type (.pdf; .md, .markdown, .html, .htm, .txt or .zip)"},
			{File: "help.zip/help/more.zip", Reason: "is not a supported type (.zip; .md, .markdown, .html, .htm, .txt or .zip)"},
		}, res.Refused)

		stored := articles(t, db)
		require.Len(t, stored, 3)
		html := stored["import:help/parcels/storage-time.html"]
		require.NotNil(t, html)
		assert.Equal(t, "How long a locker keeps your parcel", html.Title)
		require.NotNil(t, html.URL)
		assert.Equal(t, "https://help.boxly.example/storage-time", *html.URL)
		assert.Equal(t, domain.DefaultCollection, html.Collection)
		assert.NotContains(t, html.Body, "dataLayer")
		md := stored["import:help/returns.md"]
		require.NotNil(t, md)
		assert.Equal(t, "returns", md.Collection, "from the front matter")
		assert.Equal(t, "Sending a parcel back", md.Title)
		txt := stored["import:help/opening-hours.txt"]
		require.NotNil(t, txt)
		assert.Nil(t, txt.URL)
		assert.Equal(t, "Opening hours", txt.Title)

		hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: "how many days does the locker keep it"})
		require.NoError(t, err)
		require.NotEmpty(t, hits)
		assert.Equal(t, html.ID, hits[0].ArticleID)

		// Again, with a changed page: the same articles, rewritten, none
		// added; the option's collection wins over the front matter's.
		again := makeZip(t,
			zipEntry{name: "help/returns.md", data: readTestdata(t, "returns.md")},
			zipEntry{name: "help/parcels/storage-time.html", data: bytes.ReplaceAll(readTestdata(t, "storage-time.html"),
				[]byte("three days"), []byte("four days"))},
			zipEntry{name: "help/opening-hours.txt", data: readTestdata(t, "opening-hours.txt")},
		)
		editor, err := domain.CreateUser(ctx, db, domain.NewUser{Username: "editor", Email: "editor@example.com", HashedPassword: "x"})
		require.NoError(t, err)
		res, err = knowledge.Import(ctx, db, []knowledge.File{{Name: "help-2026-12-08.zip", Data: again}},
			knowledge.Options{Collection: "internal", UpdatedBy: &editor.ID})
		require.NoError(t, err)
		assert.Empty(t, res.Created)
		assert.Empty(t, res.Refused)
		assert.Equal(t, []string{"help-2026-12-08.zip/help/opening-hours.txt", "help-2026-12-08.zip/help/parcels/storage-time.html",
			"help-2026-12-08.zip/help/returns.md"}, files(res.Replaced))
		after := articles(t, db)
		require.Len(t, after, 3)
		for source, a := range stored {
			assert.Equal(t, a.ID, after[source].ID, source)
			assert.Equal(t, "internal", after[source].Collection, source)
			assert.Equal(t, &editor.ID, after[source].UpdatedBy, source)
		}
		assert.Contains(t, after["import:help/parcels/storage-time.html"].Body, "four days")
	})
}

// An unsafe archive is refused whole: nothing of it, nor of the files
// beside it, is stored, even what comes before the bad entry.
func TestKnowledgeImportRefusesUnsafeZips(t *testing.T) {
	good := zipEntry{name: "good.md", data: []byte("# Good\n\nA good article.")}
	zeros := make([]byte, 30<<20)
	many := []zipEntry{good}
	for i := range knowledge.MaxZipEntries {
		many = append(many, zipEntry{name: fmt.Sprintf("f%04d.txt", i), data: []byte("x")})
	}
	cases := []struct {
		name    string
		entries []zipEntry
		reason  string
	}{
		{"a parent folder", []zipEntry{good, {name: "../evil.md", data: []byte("# Evil\n\nx")}}, `entry "../evil.md" leaves the archive (..)`},
		{"a parent folder deeper in", []zipEntry{good, {name: "a/../../evil.md", data: []byte("# Evil\n\nx")}}, `leaves the archive`},
		{"an absolute path", []zipEntry{good, {name: "/etc/evil.md", data: []byte("# Evil\n\nx")}}, `is an absolute path`},
		{"a drive", []zipEntry{good, {name: "C:/evil.md", data: []byte("# Evil\n\nx")}}, `is an absolute path`},
		{"a backslash", []zipEntry{good, {name: `..\evil.md`, data: []byte("# Evil\n\nx")}}, `has a backslash in its name`},
		{"a symbolic link", []zipEntry{good, {name: "link.md", data: []byte("/etc/passwd"), mode: fs.ModeSymlink | 0o777}}, `is a symbolic link`},
		{"too many entries", many, "has more than 1000 entries"},
		{"a zip bomb", []zipEntry{good, {name: "zeros.txt", data: zeros}}, "the files add up to more than 20 MB"},
		{"a small zip bomb", []zipEntry{good, {name: "zeros.txt", data: zeros[:5<<20]}}, `entry "zeros.txt" unpacks to more than 2 MB from`},
		{"a header that lies about the size", []zipEntry{good, {name: "zeros.txt", data: zeros, claimedSize: 100}}, `entry "zeros.txt" cannot be read`},
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				res, err := knowledge.Import(ctx, db, []knowledge.File{
					{Name: "before.md", Data: []byte("# Before\n\nA file before the archive.")},
					{Name: "export.zip", Data: makeZip(t, tc.entries...)},
				}, knowledge.Options{})
				require.ErrorIs(t, err, domain.ErrInvalid)
				assert.Contains(t, err.Error(), "export.zip: ")
				assert.Contains(t, domain.Reason(err), tc.reason)
				assert.Empty(t, res.Created)
				assert.Zero(t, countArticles(t, db), "nothing stored")
			})
		}
	})
}

// A file that cannot be an article is refused alone; the others are
// stored.
func TestKnowledgeImportRefusesFilesAlone(t *testing.T) {
	big := []byte("# Big\n\n" + strings.Repeat("A line of a very long article.\n", knowledge.DefaultMaxFileBytes/30))
	require.Greater(t, len(big), knowledge.DefaultMaxFileBytes)
	// Over the limit, but packed as text packs: too large, no bomb.
	rng := rand.New(rand.NewPCG(1, 2))
	var words strings.Builder
	for words.Len() <= knowledge.DefaultMaxFileBytes {
		fmt.Fprintf(&words, "w%d ", rng.IntN(100_000))
	}
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		res, err := knowledge.Import(ctx, db, []knowledge.File{
			{Name: "big.md", Data: big},
			{Name: "manual.pdf", Data: []byte("%PDF-1.7")},
			{Name: "empty.txt", Data: nil},
			{Name: "app.html", Data: readTestdata(t, "scripts-only.html")},
			{Name: "long-title.md", Data: []byte("# " + strings.Repeat("Long ", 70) + "\n\nText.")},
			{Name: "bad-collection.md", Data: []byte("---\ncollection: Not Valid\n---\n# Bad\n\nText.")},
			{Name: "returns.md", Data: readTestdata(t, "returns.md")},
			{Name: "copy/returns.md", Data: readTestdata(t, "returns.md")},
			{Name: "words.zip", Data: makeZip(t, zipEntry{name: "words.txt", data: []byte(words.String())})},
		}, knowledge.Options{})
		require.NoError(t, err)
		assert.Equal(t, []string{"returns.md"}, files(res.Created))
		assert.Equal(t, []knowledge.Refused{
			{File: "big.md", Reason: "is larger than 2 MB"},
			{File: "manual.pdf", Reason: "is not a supported type (.pdf; .md, .markdown, .html, .htm, .txt or .zip)"},
			{File: "empty.txt", Reason: "is empty"},
			{File: "app.html", Reason: "has no text"},
			{File: "copy/returns.md", Reason: "has the same url as returns.md"},
			{File: "words.zip/words.txt", Reason: "is larger than 2 MB"},
			{File: "long-title.md", Reason: "title is longer than 300 characters"},
			{File: "bad-collection.md", Reason: "collection must be 1 to 100 lower-case letters, digits, '-', '_' or '.'"},
		}, res.Refused)
		assert.Len(t, articles(t, db), 1)
	})
}

// The limit on an import's total holds for plain files too, and is
// checked before anything is stored.
func TestKnowledgeImportTotalLimit(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		page := []byte("# A page\n\n" + strings.Repeat("Text. ", 100))
		_, err := knowledge.Import(ctx, db, []knowledge.File{{Name: "a.md", Data: page}, {Name: "b.md", Data: page}},
			knowledge.Options{MaxTotalBytes: int64(len(page)) + 10})
		require.ErrorIs(t, err, domain.ErrInvalid)
		assert.Contains(t, err.Error(), "the files add up to more than")
		assert.Zero(t, countArticles(t, db))
	})
}

// Without a URL an article is found again by its source: the file name.
func TestKnowledgeImportReplacesBySource(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		res, err := knowledge.Import(ctx, db, []knowledge.File{{Name: "faq/hours.txt", Data: []byte("Hours\n\nOpen all day.")}}, knowledge.Options{})
		require.NoError(t, err)
		require.Len(t, res.Created, 1)
		res2, err := knowledge.Import(ctx, db, []knowledge.File{{Name: "faq/hours.txt", Data: []byte("Hours\n\nOpen all night.")}}, knowledge.Options{})
		require.NoError(t, err)
		require.Len(t, res2.Replaced, 1)
		js, err := json.Marshal(res2)
		require.NoError(t, err)
		assert.JSONEq(t, fmt.Sprintf(`{"created": [], "replaced": [{"file": "faq/hours.txt", "article_id": %d, "title": "Hours"}], "refused": []}`,
			res.Created[0].ArticleID), string(js))
		assert.Equal(t, res.Created[0].ArticleID, res2.Replaced[0].ArticleID)
		a, err := domain.ArticleBySource(ctx, db, "import:faq/hours.txt")
		require.NoError(t, err)
		assert.Equal(t, "Open all night.", a.Body)
		_, err = domain.ArticleBySource(ctx, db, "import:faq/other.txt")
		assert.ErrorIs(t, err, domain.ErrNotFound)

		// A URL is matched by URL only: another site's page of the same
		// file name is another article.
		page := func(url string) []byte {
			return []byte(`<link rel="canonical" href="` + url + `"><h1>Home</h1><p>Welcome.</p>`)
		}
		_, err = knowledge.Import(ctx, db, []knowledge.File{{Name: "index.html", Data: page("https://a.example/")}}, knowledge.Options{})
		require.NoError(t, err)
		res3, err := knowledge.Import(ctx, db, []knowledge.File{{Name: "index.html", Data: page("https://b.example/")}}, knowledge.Options{})
		require.NoError(t, err)
		assert.Len(t, res3.Created, 1)
		assert.Equal(t, 3, countArticles(t, db))
	})
}
