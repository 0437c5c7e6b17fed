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

// downSuffix names the reverse of a migration: V_name.down.sql undoes
// V_name.sql. Reverse files sit next to their migration and are covered
// by atlas.sum, but are not migrations themselves.
const downSuffix = ".down.sql"

// Files are the migrations, in order, without their reverse files.
func (d fsDir) Files() ([]migrate.File, error) {
	all, err := d.allFiles()
	if err != nil {
		return nil, err
	}
	ups := make([]migrate.File, 0, len(all)/2+1)
	for _, f := range all {
		if !strings.HasSuffix(f.Name(), downSuffix) {
			ups = append(ups, f)
		}
	}
	return ups, nil
}

// allFiles are the migrations and their reverse files, by name, as atlas's
// own directory lists them.
func (d fsDir) allFiles() ([]migrate.File, error) {
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

// Checksum covers the reverse files too, as `aimsg migrate hash` (atlas's
// local directory) writes it.
func (d fsDir) Checksum() (migrate.HashFile, error) {
	files, err := d.allFiles()
	if err != nil {
		return nil, err
	}
	return migrate.NewHashFile(files)
}

// downOf is the reverse file of a migration; ErrNoDown when it has none.
func (d fsDir) downOf(f migrate.File) (migrate.File, error) {
	name := strings.TrimSuffix(f.Name(), ".sql") + downSuffix
	b, err := fs.ReadFile(d.FS, name)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: %s", ErrNoDown, name)
	}
	if err != nil {
		return nil, fmt.Errorf("read %s: %w", name, err)
	}
	return migrate.NewLocalFile(name, b), nil
}

// ErrNoDown is a migration without a reverse file.
var ErrNoDown = errors.New("migration has no reverse file")

// describe names a file for messages: "20261125120000_init".
func describe(f migrate.File) string {
	return strings.TrimSuffix(f.Name(), ".sql")
}
