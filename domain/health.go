package domain

import (
	"context"
	"fmt"

	"github.com/uptrace/bun"
)

// Ping checks that the database answers a query.
func Ping(ctx context.Context, db bun.IDB) error {
	var one int
	if err := db.NewSelect().ColumnExpr("1").Scan(ctx, &one); err != nil {
		return fmt.Errorf("ping database: %w", err)
	}
	return nil
}

// CountUsers counts the accounts of people, leaving out system users.
func CountUsers(ctx context.Context, db bun.IDB) (int64, error) {
	n, err := db.NewSelect().Model((*User)(nil)).Where("is_system = ?", false).Count(ctx)
	if err != nil {
		return 0, fmt.Errorf("count users: %w", err)
	}
	return n, nil
}
