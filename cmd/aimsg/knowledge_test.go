package main

import (
	"archive/zip"
	"bytes"
	"context"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// writeFiles writes name → content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, filepath.FromSlash(name))
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
}

func TestKnowledgeCommands(t *testing.T) {
	ctx := context.Background()
	env := testEnv(t, "sqlite:///:memory:", nil)
	require.NoError(t, runWith(ctx, env, &output{}, "migrate", "up"))

	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"help/storage-time.md": "---\nurl: https://help.boxly.example/storage-time\n---\n# Storage time\n\n" +
			"A parcel waits in its locker for three days after the pickup code is sent.\n\n## Extending\n\nAsk for one more day in the app.\n",
		"help/sizes/lockers.html": `<html><head><title>Locker sizes | Boxly</title><script>track()</script></head>` +
			`<body><nav>Home</nav><h1>Locker sizes</h1><p>Lockers come in three sizes: small, medium and large.</p></body></html>`,
		"help/.drafts/secret.md":  "# Secret\n\nNot to import.",
		"help/notes.pdf":          "%PDF-1.7",
		"manual.pdf":              "%PDF-1.7",
		"questions.jsonl":         `{"question": "how long does the locker keep my parcel", "expect": "https://help.boxly.example/storage-time"}` + "\n\n" + `{"question": "what sizes are the lockers", "expect": "Locker sizes"}` + "\n" + `{"question": "can I pay by card", "expect": "Payments"}` + "\n",
		"bad.jsonl":               `{"question": "no answer given"}` + "\n",
		"zipped/opening-hours.md": "# Opening hours\n\nMost lockers never close.\n",
	})
	var zipped bytes.Buffer
	zw := zip.NewWriter(&zipped)
	w, err := zw.Create("opening-hours.txt")
	require.NoError(t, err)
	_, err = w.Write([]byte("Opening hours\n\nMost lockers never close; those in shopping centres follow its hours.\n"))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	require.NoError(t, os.WriteFile(filepath.Join(dir, "hours.zip"), zipped.Bytes(), 0o644))

	importArgs := []string{"knowledge", "import", filepath.Join(dir, "help"), filepath.Join(dir, "hours.zip"), filepath.Join(dir, "manual.pdf")}
	var out output
	require.NoError(t, runWith(ctx, env, &out, importArgs...))
	assert.Regexp(t, `(?m)^created +#\d+ +storage-time\.md +Storage time$`, out.String())
	assert.Regexp(t, `(?m)^created +#\d+ +sizes/lockers\.html +Locker sizes$`, out.String())
	assert.Regexp(t, `(?m)^created +#\d+ +hours\.zip/opening-hours\.txt +Opening hours$`, out.String())
	assert.Regexp(t, `(?m)^refused +manual\.pdf +is not a supported type \(\.pdf;`, out.String())
	assert.Contains(t, out.String(), "3 created, 0 replaced, 1 refused\n")
	assert.NotContains(t, out.String(), "secret", "dotted folders are left out")
	assert.NotContains(t, out.String(), "notes.pdf", "a folder's other files are left out")

	db := testenv.Open(t, env["DATABASE_URL"])
	a, err := domain.ArticleByURL(ctx, db, "https://help.boxly.example/storage-time")
	require.NoError(t, err)
	assert.Equal(t, "import:storage-time.md", a.Source)
	_, total, err := domain.ListArticles(ctx, db, domain.ArticleFilter{Page: domain.Page{Limit: 10}})
	require.NoError(t, err)
	assert.Equal(t, 3, total)

	// Again, into another collection: replaced, not added.
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, append(importArgs, "--collection", "internal")...))
	assert.Contains(t, out.String(), "0 created, 3 replaced, 1 refused\n")
	assert.Regexp(t, `(?m)^replaced +#`+regexp.QuoteMeta(strconv.FormatInt(a.ID, 10))+` +storage-time\.md +Storage time$`, out.String())
	_, total, err = domain.ListArticles(ctx, db, domain.ArticleFilter{Collection: "internal", Page: domain.Page{Limit: 10}})
	require.NoError(t, err)
	assert.Equal(t, 3, total)

	// Every file refused, or none found: a failure.
	out = output{}
	err = runWith(ctx, env, &out, "knowledge", "import", filepath.Join(dir, "manual.pdf"))
	require.ErrorContains(t, err, "nothing imported")
	assert.Contains(t, out.String(), "0 created, 0 replaced, 1 refused\n")
	require.ErrorContains(t, runWith(ctx, env, &output{}, "knowledge", "import", filepath.Join(dir, "help", "sizes", "missing.md")),
		"no such file")

	// KNOWLEDGE_MAX_UPLOAD_MB bounds an import, as it bounds the API's.
	page := "# Big\n\n" + strings.Repeat("A line of text. ", 40_000)
	writeFiles(t, dir, map[string]string{"big/a.md": page, "big/b.md": page})
	env["KNOWLEDGE_MAX_UPLOAD_MB"] = "1"
	require.ErrorContains(t, runWith(ctx, env, &output{}, "knowledge", "import", filepath.Join(dir, "big")),
		"the files add up to more than 1 MB (KNOWLEDGE_MAX_UPLOAD_MB)")
	delete(env, "KNOWLEDGE_MAX_UPLOAD_MB")

	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "knowledge", "search", "how", "long", "does", "my", "parcel", "stay", "--collection", "internal"))
	assert.Regexp(t, `^1\. Storage time\n   https://help.boxly.example/storage-time\n   .*«parcel».*\n`, out.String())
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "knowledge", "search", "extend one more day", "--limit", "1"))
	assert.Regexp(t, `^1\. Storage time — Extending\n   https://help.boxly.example/storage-time\n   Ask for .*«day» in the app\.\n$`, out.String())
	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "knowledge", "search", "parcel", "--collection", "general"))
	assert.Equal(t, "no hits\n", out.String())
	var u usageError
	require.ErrorAs(t, runWith(ctx, env, &output{}, "knowledge", "search", "parcel", "--limit", "0"), &u)
	require.ErrorIs(t, runWith(ctx, env, &output{}, "knowledge", "search", "the"), domain.ErrInvalid)

	out = output{}
	require.NoError(t, runWith(ctx, env, &out, "knowledge", "eval", filepath.Join(dir, "questions.jsonl")))
	assert.Contains(t, out.String(), "3 questions, 10 hits each\nrecall@1  0.667\nrecall@3  0.667\nMRR       0.667\n1 misses:\n")
	assert.Contains(t, out.String(), "  can I pay by card → Payments (")
	require.ErrorContains(t, runWith(ctx, env, &output{}, "knowledge", "eval", filepath.Join(dir, "bad.jsonl")),
		`bad.jsonl:1: a line needs a "question" and what to "expect"`)
}
