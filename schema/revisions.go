package schema

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"ariga.io/atlas/sql/migrate"
	"github.com/uptrace/bun"
)

// revisionTable is where applied migrations are recorded, under the name the
// atlas CLI uses, so the CLI can read a database migrated by aimsg.
const revisionTable = "atlas_schema_revisions"

// revision is one applied (or partly applied) migration file.
type revision struct {
	bun.BaseModel `bun:"table:atlas_schema_revisions"`

	Version         string    `bun:"version,pk,type:varchar(255)"`
	Description     string    `bun:"description,type:varchar(255),notnull"`
	Type            int64     `bun:"type,notnull"`
	Applied         int64     `bun:"applied,notnull"`
	Total           int64     `bun:"total,notnull"`
	ExecutedAt      time.Time `bun:"executed_at,notnull"`
	ExecutionTime   int64     `bun:"execution_time,notnull"`
	Error           string    `bun:"error,type:text,notnull"`
	ErrorStmt       string    `bun:"error_stmt,type:text,notnull"`
	Hash            string    `bun:"hash,type:varchar(255),notnull"`
	PartialHashes   string    `bun:"partial_hashes,type:text,notnull"`
	OperatorVersion string    `bun:"operator_version,type:varchar(255),notnull"`
}

// revisions stores atlas revisions in revisionTable through bun, on
// whatever bun.IDB it is given (the migration's own transaction).
type revisions struct{ db bun.IDB }

var _ migrate.RevisionReadWriter = revisions{}

func ensureRevisionTable(ctx context.Context, db bun.IDB) error {
	if _, err := db.NewCreateTable().Model((*revision)(nil)).IfNotExists().Exec(ctx); err != nil {
		return fmt.Errorf("create %s: %w", revisionTable, err)
	}
	return nil
}

func (r revisions) Ident() *migrate.TableIdent {
	return &migrate.TableIdent{Name: revisionTable}
}

func (r revisions) ReadRevisions(ctx context.Context) ([]*migrate.Revision, error) {
	var rows []revision
	if err := r.db.NewSelect().Model(&rows).Order("version").Scan(ctx); err != nil {
		return nil, fmt.Errorf("read revisions: %w", err)
	}
	out := make([]*migrate.Revision, 0, len(rows))
	for i := range rows {
		rev, err := rows[i].toAtlas()
		if err != nil {
			return nil, err
		}
		out = append(out, rev)
	}
	return out, nil
}

func (r revisions) ReadRevision(ctx context.Context, version string) (*migrate.Revision, error) {
	var row revision
	err := r.db.NewSelect().Model(&row).Where("version = ?", version).Scan(ctx)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, migrate.ErrRevisionNotExist
	}
	if err != nil {
		return nil, fmt.Errorf("read revision %s: %w", version, err)
	}
	return row.toAtlas()
}

func (r revisions) WriteRevision(ctx context.Context, rev *migrate.Revision) error {
	partial, err := json.Marshal(rev.PartialHashes)
	if err != nil {
		return fmt.Errorf("encode partial hashes: %w", err)
	}
	row := &revision{
		Version: rev.Version, Description: rev.Description, Type: int64(rev.Type),
		Applied: int64(rev.Applied), Total: int64(rev.Total),
		ExecutedAt: rev.ExecutedAt.UTC(), ExecutionTime: int64(rev.ExecutionTime),
		Error: rev.Error, ErrorStmt: rev.ErrorStmt, Hash: rev.Hash,
		PartialHashes: string(partial), OperatorVersion: rev.OperatorVersion,
	}
	_, err = r.db.NewInsert().Model(row).
		On("CONFLICT (version) DO UPDATE").
		Set("description = EXCLUDED.description, type = EXCLUDED.type, applied = EXCLUDED.applied").
		Set("total = EXCLUDED.total, executed_at = EXCLUDED.executed_at").
		Set("execution_time = EXCLUDED.execution_time, error = EXCLUDED.error").
		Set("error_stmt = EXCLUDED.error_stmt, hash = EXCLUDED.hash").
		Set("partial_hashes = EXCLUDED.partial_hashes, operator_version = EXCLUDED.operator_version").
		Exec(ctx)
	if err != nil {
		return fmt.Errorf("write revision %s: %w", rev.Version, err)
	}
	return nil
}

func (r revisions) DeleteRevision(ctx context.Context, version string) error {
	if _, err := r.db.NewDelete().Model((*revision)(nil)).Where("version = ?", version).Exec(ctx); err != nil {
		return fmt.Errorf("delete revision %s: %w", version, err)
	}
	return nil
}

func (row *revision) toAtlas() (*migrate.Revision, error) {
	var partial []string
	if row.PartialHashes != "" {
		if err := json.Unmarshal([]byte(row.PartialHashes), &partial); err != nil {
			return nil, fmt.Errorf("decode partial hashes of %s: %w", row.Version, err)
		}
	}
	return &migrate.Revision{
		Version: row.Version, Description: row.Description, Type: migrate.RevisionType(row.Type),
		Applied: int(row.Applied), Total: int(row.Total),
		ExecutedAt: row.ExecutedAt, ExecutionTime: time.Duration(row.ExecutionTime),
		Error: row.Error, ErrorStmt: row.ErrorStmt, Hash: row.Hash,
		PartialHashes: partial, OperatorVersion: row.OperatorVersion,
	}, nil
}
