package testenv

import (
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/aimsg/aimsg/internal/freeport"
)

// Postgres is a PostgreSQL server of the test's own, for tests that crash
// and restart it: the shared test database must stay up for the others.
type Postgres struct {
	// URL reaches its "postgres" database as the superuser, trust auth.
	URL  string
	t    testing.TB
	bin  string // the directory of initdb, pg_ctl and postgres
	data string
	log  string
}

// StartPostgres creates a cluster in a temporary directory with the
// PostgreSQL installed on the machine and starts it on a free port. It is
// skipped where PostgreSQL's server programs are missing, except under CI.
func StartPostgres(t testing.TB) *Postgres {
	t.Helper()
	bin := postgresBin()
	if bin == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CI is set but PostgreSQL's initdb and pg_ctl are not installed")
		}
		t.Skip("needs PostgreSQL's server programs (initdb, pg_ctl)")
	}
	dir, err := os.MkdirTemp("", "aimsg-pg-")
	require.NoError(t, err)
	t.Cleanup(func() { _ = os.RemoveAll(dir) })
	if os.Geteuid() == 0 { // initdb refuses to run as root
		u, err := user.Lookup("postgres")
		require.NoError(t, err, "running as root needs a postgres user to own the cluster")
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		require.NoError(t, os.Chown(dir, uid, gid))
	}
	port, err := freeport.Find(0)
	require.NoError(t, err)

	p := &Postgres{t: t, bin: bin, data: filepath.Join(dir, "data"), log: filepath.Join(dir, "server.log"),
		URL: fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)}
	p.run("initdb", "-D", p.data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8")
	conf := fmt.Sprintf("port = %d\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = ''\n"+
		"fsync = off\nmax_connections = 200\n", port)
	f, err := os.OpenFile(filepath.Join(p.data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	require.NoError(t, err)
	_, err = f.WriteString(conf)
	require.NoError(t, err)
	require.NoError(t, f.Close())
	p.start()
	t.Cleanup(func() { _ = p.command("pg_ctl", "stop", "-D", p.data, "-m", "immediate").Run() })
	return p
}

// Restart crashes the server (immediate shutdown: connections cut, no
// checkpoint, recovery from the log on start) and starts it again after
// down.
func (p *Postgres) Restart(down time.Duration) {
	p.run("pg_ctl", "stop", "-D", p.data, "-m", "immediate", "-w")
	time.Sleep(down)
	p.start()
}

func (p *Postgres) start() {
	p.run("pg_ctl", "start", "-D", p.data, "-l", p.log, "-w", "-t", "60")
}

func (p *Postgres) run(prog string, args ...string) {
	p.t.Helper()
	out, err := p.command(prog, args...).CombinedOutput()
	if err != nil {
		log, _ := os.ReadFile(p.log)
		require.NoError(p.t, err, "%s: %s\nserver log:\n%s", prog, out, log)
	}
}

// command runs one of PostgreSQL's programs, as the postgres user when the
// tests run as root.
func (p *Postgres) command(prog string, args ...string) *exec.Cmd {
	path := filepath.Join(p.bin, prog)
	if os.Geteuid() == 0 {
		return exec.Command("runuser", append([]string{"-u", "postgres", "--", path}, args...)...)
	}
	return exec.Command(path, args...)
}

// postgresBin finds the server programs: on the PATH, or in the newest
// version of Debian's layout.
func postgresBin() string {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p)
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	slices.SortFunc(dirs, func(a, b string) int {
		va, _ := strconv.Atoi(filepath.Base(filepath.Dir(a)))
		vb, _ := strconv.Atoi(filepath.Base(filepath.Dir(b)))
		return va - vb
	})
	for i := len(dirs) - 1; i >= 0; i-- {
		if _, err := os.Stat(filepath.Join(dirs[i], "pg_ctl")); err == nil {
			return dirs[i]
		}
	}
	return ""
}
