package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/knowledge"
)

// The knowledge base from the command line: import files into it, ask it
// a question, measure how well it answers a set of them. Articles and
// questions are read with KNOWLEDGE_LANGUAGE, an import is bounded by
// KNOWLEDGE_MAX_UPLOAD_MB as the API's is.

// knowledgeEvalLimit is how many hits eval asks for per question by
// default: as many as TestKnowledgeRetrievalQuality, so the MRR it prints
// compares with docs/knowledge.md's.
const knowledgeEvalLimit = 10

func newKnowledgeCmd(p *program) *cobra.Command {
	var importCollection string
	importCmd := &cobra.Command{
		Use:   "import PATH...",
		Short: "Import markdown, HTML and text files, folders or zips as articles",
		Long: `Import files as articles of the knowledge base: markdown (.md, .markdown),
HTML (.htm, .html) and text (.txt), zips of them, and folders, walked for
them (dotfiles left out). An article whose URL, or without a URL whose file
name, is in the knowledge base already is replaced; the others are created.
A file that cannot be an article is refused alone; an unsafe zip refuses
the whole import. It fails when every file is refused.`,
		Args: positional(cobra.MinimumNArgs(1)),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, args []string) error {
			return knowledgeImport(ctx, e, args, importCollection)
		}),
	}
	importCmd.Flags().StringVar(&importCollection, "collection", "",
		"store the articles in `COLLECTION` (default: a markdown file's front matter, else general)")

	var searchCollections []string
	searchLimit := domain.DefaultSearchLimit
	search := &cobra.Command{
		Use:   "search QUERY...",
		Short: "Ask the knowledge base a question: the passages it finds",
		Args:  positional(cobra.MinimumNArgs(1)),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, args []string) error {
			return knowledgeSearch(ctx, e, strings.Join(args, " "), searchCollections, searchLimit)
		}),
	}
	search.Flags().StringSliceVar(&searchCollections, "collection", nil, "search only `COLLECTION` (repeat or separate with commas for more)")
	search.Flags().IntVar(&searchLimit, "limit", searchLimit, fmt.Sprintf("at most `N` hits, up to %d", domain.MaxSearchLimit))

	evalLimit := knowledgeEvalLimit
	eval := &cobra.Command{
		Use:   "eval FILE.jsonl",
		Short: "Measure the search on questions with known answers: recall, MRR, misses",
		Long: `Ask the knowledge base each question of FILE.jsonl, one JSON object a
line: {"question": "...", "expect": "<url or title of the article that answers>"},
and print recall@1, recall@3, the mean reciprocal rank and the questions
whose article was not the first hit.`,
		Args: positional(cobra.ExactArgs(1)),
		RunE: p.needs(config.NoTokens, func(ctx context.Context, e *env, args []string) error {
			return knowledgeEval(ctx, e, args[0], evalLimit)
		}),
	}
	eval.Flags().IntVar(&evalLimit, "limit", evalLimit, "hits searched per question (`N`)")

	return group(&cobra.Command{
		Use:     "knowledge",
		Short:   "Import articles, search and evaluate the knowledge base",
		GroupID: groupAdmin,
	}, importCmd, search, eval)
}

// knowledgeImport imports the files at paths and prints what became of
// each. The CLI records no audit entries of its own (yet).
func knowledgeImport(ctx context.Context, e *env, paths []string, collection string) error {
	maxTotal := e.cfg.KnowledgeMaxUpload
	files, err := importFiles(paths, knowledge.DefaultMaxFileBytes, maxTotal)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return fmt.Errorf("no markdown, HTML, text or zip file in %s", strings.Join(paths, ", "))
	}
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := knowledge.Import(ctx, db, files, knowledge.Options{
		Collection: collection, Language: e.cfg.KnowledgeLanguage,
		MaxFileBytes: knowledge.DefaultMaxFileBytes, MaxTotalBytes: maxTotal,
	})
	// What was stored before an error stays stored: show it either way.
	if perr := printImport(e.stdout, res); perr != nil && err == nil {
		err = perr
	}
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	if len(res.Created)+len(res.Replaced) == 0 {
		return errors.New("nothing imported: every file was refused")
	}
	return nil
}

// printImport writes a line per file and a summary.
func printImport(out io.Writer, res knowledge.Result) error {
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	for _, s := range res.Created {
		fmt.Fprintf(w, "created\t#%d\t%s\t%s\n", s.ArticleID, s.File, s.Title)
	}
	for _, s := range res.Replaced {
		fmt.Fprintf(w, "replaced\t#%d\t%s\t%s\n", s.ArticleID, s.File, s.Title)
	}
	for _, r := range res.Refused {
		fmt.Fprintf(w, "refused\t\t%s\t%s\n", r.File, r.Reason)
	}
	if err := w.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(out, "%d created, %d replaced, %d refused\n", len(res.Created), len(res.Replaced), len(res.Refused))
	return err
}

// importFiles reads the files to import: each file named, and the
// supported files of each folder (named by their path inside it, as a
// zip of the folder would name them). A file is read up to one byte past
// its limit, enough for the import to refuse it; a named file of another
// type is passed on unread, for the import to say why it is refused.
func importFiles(paths []string, maxFile, maxTotal int64) ([]knowledge.File, error) {
	var (
		files []knowledge.File
		total int64
	)
	add := func(path, name string) error {
		if !knowledge.Supported(name) {
			files = append(files, knowledge.File{Name: name})
			return nil
		}
		limit := maxFile
		if strings.EqualFold(filepath.Ext(name), ".zip") {
			limit = maxTotal
		}
		data, err := readAtMost(path, limit+1)
		if err != nil {
			return err
		}
		// A file over its limit is refused alone, and does not count.
		if int64(len(data)) <= limit {
			if total += int64(len(data)); total > maxTotal {
				return fmt.Errorf("the files add up to more than %d MB (KNOWLEDGE_MAX_UPLOAD_MB): import them in parts", maxTotal>>20)
			}
		}
		files = append(files, knowledge.File{Name: name, Data: data})
		return nil
	}
	for _, root := range paths {
		info, err := os.Stat(root)
		if err != nil {
			return nil, err
		}
		if !info.IsDir() {
			if err := add(root, filepath.Base(root)); err != nil {
				return nil, err
			}
			continue
		}
		err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if path != root && (strings.HasPrefix(d.Name(), ".") || d.Name() == "__MACOSX") {
				if d.IsDir() {
					return filepath.SkipDir
				}
				return nil
			}
			// Symbolic links are not followed: a folder imports what is in it.
			if !d.Type().IsRegular() || !knowledge.Supported(d.Name()) {
				return nil
			}
			rel, err := filepath.Rel(root, path)
			if err != nil {
				return err
			}
			return add(path, filepath.ToSlash(rel))
		})
		if err != nil {
			return nil, err
		}
	}
	return files, nil
}

// readAtMost reads up to n bytes of the file at path.
func readAtMost(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, n))
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	return data, nil
}

// knowledgeSearch prints the hits of a question: title — heading path,
// URL, snippet.
func knowledgeSearch(ctx context.Context, e *env, query string, collections []string, limit int) error {
	if limit < 1 || limit > domain.MaxSearchLimit {
		return usageError(fmt.Sprintf("--limit is from 1 to %d, not %d", domain.MaxSearchLimit, limit))
	}
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	hits, err := domain.SearchKnowledge(ctx, db, domain.SearchQuery{Text: query, Collections: collections,
		Limit: limit, Language: e.cfg.KnowledgeLanguage})
	if err != nil {
		return fmt.Errorf("search: %w", err)
	}
	if len(hits) == 0 {
		fmt.Fprintln(e.stdout, "no hits")
		return nil
	}
	for i, h := range hits {
		title := h.Title
		if h.HeadingPath != "" {
			title += " — " + h.HeadingPath
		}
		fmt.Fprintf(e.stdout, "%d. %s\n", i+1, title)
		if h.URL != nil {
			fmt.Fprintf(e.stdout, "   %s\n", *h.URL)
		}
		fmt.Fprintf(e.stdout, "   %s\n", strings.Join(strings.Fields(h.Snippet), " "))
	}
	return nil
}

// knowledgeEval asks the questions of a JSON lines file and prints how
// well the search found their articles.
func knowledgeEval(ctx context.Context, e *env, path string, limit int) error {
	if limit < 1 || limit > domain.MaxSearchLimit {
		return usageError(fmt.Sprintf("--limit is from 1 to %d, not %d", domain.MaxSearchLimit, limit))
	}
	questions, err := readQuestions(path)
	if err != nil {
		return err
	}
	_, db, err := e.open(ctx)
	if err != nil {
		return err
	}
	defer db.Close()
	res, err := domain.EvalRetrieval(ctx, db, questions, limit)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	fmt.Fprintf(e.stdout, "%d questions, %d hits each\nrecall@1  %.3f\nrecall@3  %.3f\nMRR       %.3f\n",
		res.Questions, limit, res.RecallAt1, res.RecallAt3, res.MRR)
	if len(res.Misses) > 0 {
		fmt.Fprintf(e.stdout, "%d misses:\n", len(res.Misses))
		for _, m := range res.Misses {
			fmt.Fprintf(e.stdout, "  %s\n", m)
		}
	}
	return nil
}

// readQuestions reads a JSON lines file of questions; blank lines are
// left out.
func readQuestions(path string) ([]domain.EvalQuestion, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var qs []domain.EvalQuestion
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for line := 1; sc.Scan(); line++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		var q domain.EvalQuestion
		if err := json.Unmarshal(sc.Bytes(), &q); err != nil {
			return nil, fmt.Errorf("%s:%d: %w", path, line, err)
		}
		if strings.TrimSpace(q.Question) == "" || strings.TrimSpace(q.Expect) == "" {
			return nil, fmt.Errorf(`%s:%d: a line needs a "question" and what to "expect"`, path, line)
		}
		qs = append(qs, q)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read %s: %w", path, err)
	}
	if len(qs) == 0 {
		return nil, fmt.Errorf("%s has no questions", path)
	}
	return qs, nil
}
