package domain_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"github.com/uptrace/bun"

	"github.com/aimsg/aimsg/config"
	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// recorder keeps the SELECTs a database handle runs.
type recorder struct {
	mu      sync.Mutex
	queries []string
}

func (r *recorder) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (r *recorder) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	if strings.HasPrefix(e.Query, "SELECT") {
		r.mu.Lock()
		r.queries = append(r.queries, e.Query)
		r.mu.Unlock()
	}
}

// A message list read right after the table grew, before any ANALYZE,
// reads the newest rows by index: not a bitmap scan of every row of the
// user and a sort (what PostgreSQL plans with its default page costs and
// no statistics).
func TestListsReadByIndexOnATableJustGrown(t *testing.T) {
	for _, url := range testenv.DatabaseURLs(t) {
		if d, _, _ := config.ParseDatabaseURL(url); d != config.Postgres {
			continue
		}
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		ann, bob := newUser(t, db, "ann", false), newUser(t, db, "bob", false)
		conv := domain.DirectConversationID(ann.ID, bob.ID)
		var never bool
		require.NoError(t, db.NewRaw("SELECT reltuples < 0 FROM pg_class WHERE relname = 'messages' AND relnamespace = current_schema()::regnamespace").Scan(ctx, &never))
		require.True(t, never, "the table has never been analyzed")
		msgs := make([]domain.Message, 0, 10000)
		for i := range 10000 {
			from, to := ann.ID, bob.ID
			if i%2 == 1 {
				from, to = to, from
			}
			msgs = append(msgs, domain.Message{SenderID: from, RecipientID: to, Content: "grown", ConversationID: &conv, Channel: domain.ChannelWeb})
		}
		_, err := db.NewInsert().Model(&msgs).Exec(ctx)
		require.NoError(t, err)

		rec := &recorder{}
		hooked := db.WithQueryHook(rec)
		for _, f := range []domain.MessageFilter{{Box: domain.BoxAll}, {Box: domain.BoxSent}, {Box: domain.BoxAll, ConversationID: conv}} {
			f.Page = domain.Page{Limit: 50}
			_, _, err := domain.ListMessages(ctx, hooked, ann.ID, f)
			require.NoError(t, err)
		}
		var lists int
		for _, q := range rec.queries {
			if !strings.Contains(q, `FROM "messages"`) {
				continue
			}
			lists++
			var plan []string
			require.NoError(t, db.NewRaw("EXPLAIN "+q).Scan(ctx, &plan))
			text := strings.Join(plan, "\n")
			assert.Contains(t, text, "Index Scan Backward", q)
			assert.NotContains(t, text, "Bitmap Heap Scan", q)
		}
		assert.Equal(t, 3, lists)
	}
}
