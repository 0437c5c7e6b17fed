package schema

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"ariga.io/atlas/sql/migrate"

	"github.com/aimsg/aimsg/config"
)

//go:embed migrations
var migrations embed.FS

// Migrations returns the embedded migration directory of a dialect.
func Migrations(d config.Dialect) fs.FS {
	sub, err := fs.Sub(migrations, path.Join("migrations", string(d)))
	if err != nil {
		// fs.Sub fails only on an invalid path, which is a constant here.
		panic(err)
	}
	return sub
}

// fsDir is a read-only atlas migration directory over an fs.FS, so the
// embedded files are used as they are, checksums included.
type fsDir struct{ fs.FS }

var _ migrate.Dir = fsDir{}

func (d fsDir) WriteFile(string, []byte) error {
	return errors.New("migration directory is read-only")
}

func (d fsDir) Files() ([]migrate.File, error) {
	names, err := fs.Glob(d.FS, "*.sql")
	if err != nil {
		return nil, fmt.Errorf("list migrations: %w", err)
	}
	sort.Strings(names)
	files := make([]migrate.File, 0, len(names))
	for _, n := range names {
		b, err := fs.ReadFile(d.FS, n)
		if err != nil {
			return nil, fmt.Errorf("read migration %s: %w", n, err)
		}
		files = append(files, migrate.NewLocalFile(n, b))
	}
	return files, nil
}

func (d fsDir) Checksum() (migrate.HashFile, error) {
	files, err := d.Files()
	if err != nil {
		return nil, err
	}
	return migrate.NewHashFile(files)
}

// describe names a file for messages: "20261125120000_init".
func describe(f migrate.File) string {
	return strings.TrimSuffix(f.Name(), ".sql")
}
