package domain_test

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// BenchmarkSearchKnowledge is SearchKnowledge over a generated help centre
// of KNOWLEDGE_BENCH_ARTICLES articles (default 100) of about ten passages
// each, asked the questions of testdata/knowledge/questions.jsonl in turn.
// Besides ns/op it reports the median and 99th percentile of a search.
// Storing the articles is not timed. 10,000 articles (~100,000 passages)
// on PostgreSQL:
//
//	KNOWLEDGE_BENCH_ARTICLES=10000 TEST_DATABASE_URL=postgres://... \
//	  go test ./domain -run '^$' -bench SearchKnowledge -benchtime 2000x -timeout 1h
func BenchmarkSearchKnowledge(b *testing.B) {
	n := 100
	if s := os.Getenv("KNOWLEDGE_BENCH_ARTICLES"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil || n < 1 {
			b.Fatalf("KNOWLEDGE_BENCH_ARTICLES=%q is not a positive number", s)
		}
	}
	questions := knowledgeQuestions(b)
	eachDatabase(b, func(b *testing.B, url string) {
		ctx := context.Background()
		db := testenv.Migrated(b, url)
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
		// PostgreSQL plans better with statistics, as it has them in service.
		if _, err := db.ExecContext(ctx, "ANALYZE"); err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("articles=%d", n), func(b *testing.B) {
			took := make([]time.Duration, 0, b.N)
			for i := range b.N {
				q := questions[i%len(questions)]
				t0 := time.Now()
				if _, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: q.Question, Limit: 5}); err != nil {
					b.Fatal(err)
				}
				took = append(took, time.Since(t0))
			}
			slices.Sort(took)
			b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
			b.ReportMetric(float64(took[len(took)*99/100].Microseconds()), "p99-µs")
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
