package domain_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/domain"
	"github.com/aimsg/aimsg/internal/testenv"
)

// The report rules hold for every caller of domain/, not only the REST API:
// the AI's report agent calls these same functions.
func TestReportRulesHoldForAnyCaller(t *testing.T) {
	testenv.EachDatabase(t, func(t *testing.T, url string) {
		ctx := context.Background()
		db := testenv.Migrated(t, url)
		owner, other, admin := newUser(t, db, "owner", false), newUser(t, db, "other", false), newUser(t, db, "admin", true)
		r, err := domain.CreateReport(ctx, db, owner, "title", "content")
		require.NoError(t, err)

		_, err = domain.GetReport(ctx, db, other, r.ID)
		assert.ErrorIs(t, err, domain.ErrNotFound)
		_, err = domain.UpdateReport(ctx, db, other, r.ID, domain.ReportUpdate{Title: ptr("mine now")})
		assert.ErrorIs(t, err, domain.ErrNotFound)
		_, err = domain.UpdateReport(ctx, db, admin, r.ID, domain.ReportUpdate{Title: ptr("edited by admin")})
		assert.ErrorIs(t, err, domain.ErrForbidden)
		_, _, err = domain.ListAllReports(ctx, db, owner, domain.ReportFilter{Page: domain.Page{Limit: 10}})
		assert.ErrorIs(t, err, domain.ErrForbidden)
		_, err = domain.CommentReport(ctx, db, owner, r.ID, "self-service", true)
		assert.ErrorIs(t, err, domain.ErrForbidden)
		_, err = domain.ResolveReport(ctx, db, owner, r.ID, nil)
		assert.ErrorIs(t, err, domain.ErrForbidden)

		mine, total, err := domain.ListMyReports(ctx, db, other, domain.ReportFilter{Page: domain.Page{Limit: 10}})
		require.NoError(t, err)
		assert.Empty(t, mine)
		assert.Zero(t, total)

		got, err := domain.ResolveReport(ctx, db, admin, r.ID, nil)
		require.NoError(t, err)
		assert.Equal(t, domain.ReportResolved, got.Status)
		_, err = domain.ResolveReport(ctx, db, admin, r.ID, nil)
		assert.ErrorIs(t, err, domain.ErrConflict)
		_, err = domain.UpdateReport(ctx, db, owner, r.ID, domain.ReportUpdate{Content: ptr("more")})
		assert.ErrorIs(t, err, domain.ErrConflict)
	})
}

func ptr[T any](v T) *T { return &v }
