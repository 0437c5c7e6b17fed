package domain_test

import (
	"cmp"
	"context"
	"fmt"
	"math/rand"
	neturl "net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/database"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
	"github.com/aimsg/aimsg/schema"
)

// BenchmarkSearchKnowledge is SearchKnowledge over a generated help centre
// of KNOWLEDGE_BENCH_ARTICLES articles (default 100) of about ten passages
// each, asked the questions of testdata/knowledge/questions.jsonl in turn.
// Storing the articles is not timed. Two sub-benchmarks share the stored
// articles:
//
//   - sequential: one search after another; besides ns/op it reports the
//     median and 99th percentile of a search.
//   - load: an open loop, b.N searches due at a fixed rate
//     (KNOWLEDGE_BENCH_RATE, default 200/s; a list, "200,300,400", runs
//     one sub-benchmark per rate), run by a pool of goroutines. A search's
//     latency counts from when it was due, not from when a goroutine got
//     to it, so the time it queued behind slower ones counts (no
//     coordinated omission). It reports p50, p90, p99 and max, and the
//     rate reached; ns/op is about 1/rate. Up to 1,000 searches at the
//     same rate go first, untimed, for the pool's connections to prepare
//     the statements.
//
// KNOWLEDGE_BENCH_KEEP=1 keeps the stored articles for the next run (a
// schema kbench_<articles> in TEST_DATABASE_URL's database, a file in the
// temporary folder for SQLite) and reuses them when they are all there
// (made again when the migrations changed); storing 10,000 takes about
// a minute. 10,000 articles (~100,000 passages) on PostgreSQL,
// 60 s at 200 searches/s:
//
//	KNOWLEDGE_BENCH_ARTICLES=10000 KNOWLEDGE_BENCH_KEEP=1 TEST_DATABASE_URL=postgres://... \
//	  go test ./domain -run '^$' -bench 'SearchKnowledge/postgres/load' -benchtime 12000x -timeout 1h
func BenchmarkSearchKnowledge(b *testing.B) {
	n := envInt(b, "KNOWLEDGE_BENCH_ARTICLES", 100)
	var rates []int
	for s := range strings.SplitSeq(cmp.Or(os.Getenv("KNOWLEDGE_BENCH_RATE"), "200"), ",") {
		r, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || r < 1 {
			b.Fatalf("KNOWLEDGE_BENCH_RATE=%q is not a list of positive numbers", os.Getenv("KNOWLEDGE_BENCH_RATE"))
		}
		rates = append(rates, r)
	}
	workers := envInt(b, "KNOWLEDGE_BENCH_WORKERS", 32)
	questions := knowledgeQuestions(b)
	eachDatabase(b, func(b *testing.B, url string) {
		ctx := context.Background()
		db := knowledgeBenchDB(b, url, n)
		search := func(i int) error {
			q := questions[i%len(questions)]
			_, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: q.Question, Limit: 5})
			return err
		}
		b.Run(fmt.Sprintf("sequential/articles=%d", n), func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			for i := range b.N {
				t0 := time.Now()
				if err := search(i); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			reportLatencies(b, took, "p50", "p99")
		})
		for _, rate := range rates {
			b.Run(fmt.Sprintf("load/articles=%d/rate=%d", n, rate), func(b *testing.B) {
				// Untimed, as long as it takes the pool's connections to
				// prepare the statements and settle on their plans, as a
				// server's have in service.
				b.StopTimer()
				if _, err := openLoop(min(b.N, 1000), rate, workers, search); err != nil {
					b.Fatal(err)
				}
				b.StartTimer()
				took, err := openLoop(b.N, rate, workers, search)
				if err != nil {
					b.Fatal(err)
				}
				reportLatencies(b, took, "p50", "p90", "p99", "max")
			})
		}
	})
}

// openLoop runs n calls of fn due at rate per second from now, on workers
// goroutines, and returns how long each took from when it was due.
func openLoop(n, rate, workers int, fn func(i int) error) ([]time.Duration, error) {
	took := make([]time.Duration, n)
	interval := time.Second / time.Duration(rate)
	var next atomic.Int64
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	start := time.Now()
	for range min(workers, n) {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				due := start.Add(time.Duration(i) * interval)
				time.Sleep(time.Until(due))
				err := fn(i)
				took[i] = time.Since(due)
				if err != nil {
					mu.Lock()
					firstErr = cmp.Or(firstErr, err)
					mu.Unlock()
				}
			}
		})
	}
	wg.Wait()
	return took, firstErr
}

// reportLatencies reports the named percentiles (p50, p99...; max) of
// took in microseconds, and, for more than one, the rate of the calls.
func reportLatencies(b *testing.B, took []time.Duration, names ...string) {
	if len(took) == 0 {
		return
	}
	slices.Sort(took)
	for _, name := range names {
		at := len(took) - 1
		if p, err := strconv.Atoi(strings.TrimPrefix(name, "p")); err == nil {
			at = len(took) * p / 100
		}
		b.ReportMetric(float64(took[at].Microseconds()), name+"-µs")
	}
	if len(took) > 1 {
		b.ReportMetric(float64(len(took))/b.Elapsed().Seconds(), "searches/s")
	}
}

// envInt is the positive number in the environment variable name, or def.
func envInt(b *testing.B, name string, def int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < 1 {
		b.Fatalf("%s=%q is not a positive number", name, s)
	}
	return v
}

// knowledgeBenchDB is a migrated database holding the n generated
// articles, analyzed. Under KNOWLEDGE_BENCH_KEEP it outlives the run, and
// one holding the n articles already is used as it is.
func knowledgeBenchDB(b *testing.B, url string, n int) *bun.DB {
	ctx := context.Background()
	var db *bun.DB
	if os.Getenv("KNOWLEDGE_BENCH_KEEP") == "" {
		db = testenv.Migrated(b, url)
	} else {
		db = keptBenchDB(b, url, n)
		stored, err := db.NewSelect().Table("articles").Count(ctx)
		if err != nil {
			b.Fatal(err)
		}
		if int(stored) == n {
			b.Logf("reusing the %d articles kept", n)
			return db
		}
		// Fewer (an interrupted run): store them again.
		if _, err := db.NewDelete().Table("articles").Where("true").Exec(ctx); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Now()
	passages := 0
	for _, a := range generatedArticles(b, n) {
		stored, err := domain.CreateArticle(ctx, db, a)
		if err != nil {
			b.Fatal(err)
		}
		ps, err := domain.ArticlePassages(ctx, db, stored.ID)
		if err != nil {
			b.Fatal(err)
		}
		passages += len(ps)
	}
	b.Logf("stored %d articles, %d passages in %s", n, passages, time.Since(start).Round(time.Millisecond))
	// As in service, where autovacuum would have run after an import:
	// statistics to plan with, and the pages' visibility known.
	stmt := "ANALYZE"
	if database.Dialect(db) == config.Postgres {
		stmt = "VACUUM (ANALYZE) articles, article_passages, knowledge_lexemes"
	}
	if _, err := db.ExecContext(ctx, stmt); err != nil {
		b.Fatal(err)
	}
	return db
}

// keptBenchDB is the migrated database KNOWLEDGE_BENCH_KEEP keeps n
// articles in: the schema kbench_<n> of url's PostgreSQL database, or a
// SQLite file in the temporary folder. One the migrations no longer
// apply to (they changed since it was made) is made again.
func keptBenchDB(b *testing.B, url string, n int) *bun.DB {
	ctx := context.Background()
	name := fmt.Sprintf("kbench_%d", n)
	var target string
	var wipe func() error
	if d, _, _ := config.ParseDatabaseURL(url); d == config.SQLite {
		path := filepath.Join(os.TempDir(), "aimsg-"+name+".db")
		target = "sqlite:///" + path
		wipe = func() error {
			for _, suffix := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(path + suffix); err != nil && !os.IsNotExist(err) {
					return err
				}
			}
			return nil
		}
	} else {
		admin := testenv.Open(b, url)
		if _, err := admin.ExecContext(ctx, "CREATE SCHEMA IF NOT EXISTS "+name); err != nil {
			b.Fatal(err)
		}
		wipe = func() error {
			_, err := admin.ExecContext(ctx, "DROP SCHEMA "+name+" CASCADE; CREATE SCHEMA "+name)
			return err
		}
		u, err := neturl.Parse(url)
		if err != nil {
			b.Fatal(err)
		}
		q := u.Query()
		q.Set("search_path", name)
		u.RawQuery = q.Encode()
		target = u.String()
	}
	for attempt := 1; ; attempt++ {
		db := testenv.Open(b, target)
		_, err := schema.Up(ctx, db, schema.Migrations(database.Dialect(db)), testenv.Logger())
		if err == nil {
			return db
		}
		if attempt == 2 {
			b.Fatal(err)
		}
		b.Logf("making the kept database again: %v", err)
		_ = db.Close()
		if err := wipe(); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkImportKnowledge stores KNOWLEDGE_BENCH_IMPORT generated articles
// (default 1,000) one by one with CreateArticle, the import's path, into
// an empty knowledge base; an op is the whole import (-benchtime 1x: one).
func BenchmarkImportKnowledge(b *testing.B) {
	n := envInt(b, "KNOWLEDGE_BENCH_IMPORT", 1000)
	articles := generatedArticles(b, n)
	eachDatabase(b, func(b *testing.B, url string) {
		b.Run(fmt.Sprintf("articles=%d", n), func(b *testing.B) {
			ctx := context.Background()
			for range b.N {
				b.StopTimer()
				db := testenv.Migrated(b, url)
				b.StartTimer()
				for _, a := range articles {
					if _, err := domain.CreateArticle(ctx, db, a); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.ReportMetric(float64(n*b.N)/b.Elapsed().Seconds(), "articles/s")
		})
	})
}

// generatedArticles are n articles made of the help centre's sections,
// drawn at random (the same draw every run), with words of a made-up
// vocabulary of 20,000 sprinkled in, common and rare ones (Zipf), as a
// large knowledge base has words few articles share.
func generatedArticles(b *testing.B, n int) []domain.NewArticle {
	type section struct {
		heading string
		text    string
	}
	base := knowledgeCorpus(b)
	var sections []section
	for _, a := range base {
		for i, part := range strings.Split("\n"+a.Body, "\n## ") {
			heading, text, _ := strings.Cut(part, "\n")
			if i == 0 {
				heading, text = "Overview", part
			}
			if strings.TrimSpace(text) != "" {
				sections = append(sections, section{heading: strings.TrimSpace(heading), text: strings.TrimSpace(text)})
			}
		}
	}
	rng := rand.New(rand.NewSource(1))
	vocabulary := madeUpWords(rng, 20000)
	zipf := rand.NewZipf(rng, 1.1, 1, uint64(len(vocabulary)-1))
	word := func() string { return vocabulary[zipf.Uint64()] }
	out := make([]domain.NewArticle, n)
	for i := range out {
		var body strings.Builder
		for range 9 + rng.Intn(3) {
			s := sections[rng.Intn(len(sections))]
			fmt.Fprintf(&body, "## %s %s\n\n", s.heading, word())
			for p := range strings.SplitSeq(s.text, "\n\n") {
				fmt.Fprintf(&body, "%s See %s, %s and %s.\n\n", p, word(), word(), word())
			}
		}
		url := fmt.Sprintf("/generated/%d", i)
		out[i] = domain.NewArticle{Title: base[rng.Intn(len(base))].Title + " " + word() + " " + strconv.Itoa(i),
			URL: &url, Body: body.String(), Source: "import:generated"}
	}
	return out
}

// madeUpWords are n distinct pronounceable words ("tavemo").
func madeUpWords(rng *rand.Rand, n int) []string {
	const consonants, vowels = "bdfgklmnprstvz", "aeiou"
	seen := map[string]bool{}
	words := make([]string, 0, n)
	for len(words) < n {
		var w strings.Builder
		for range 2 + rng.Intn(3) {
			w.WriteByte(consonants[rng.Intn(len(consonants))])
			w.WriteByte(vowels[rng.Intn(len(vowels))])
		}
		if !seen[w.String()] {
			seen[w.String()] = true
			words = append(words, w.String())
		}
	}
	return words
}
