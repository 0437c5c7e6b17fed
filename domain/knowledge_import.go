package domain

import (
	"context"
	"strings"

	"github.com/uptrace/bun"
)

// What the importer of the knowledge base (package knowledge) needs from
// the store besides domain/knowledge.go.

// ArticleBySource reads the article imported from source
// ("import:<file name>"): the oldest one when several share it, since
// sources, unlike URLs, are not unique.
func ArticleBySource(ctx context.Context, db bun.IDB, source string) (*Article, error) {
	return articleWhere(ctx, db, "id = (SELECT MIN(id) FROM articles WHERE source = ?)", strings.TrimSpace(source))
}
