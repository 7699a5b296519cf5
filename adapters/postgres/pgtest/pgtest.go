// Package pgtest gives tests a real, throwaway PostgreSQL: one cluster per test binary, started on
// first use in a temporary directory, and a fresh database per test.
//
// Use it from a package's TestMain so the cluster stops when the tests end:
//
//	func TestMain(m *testing.M) { pgtest.Main(m) }
//
//	func TestSomething(t *testing.T) {
//		pool := pgtest.NewPool(t) // or dsn := pgtest.NewDatabase(t)
//		...
//	}
//
// Without TestMain (or when the binary dies: a panic, a -timeout) a watchdog process stops the
// cluster and removes its directory about a second after the test binary exits.
//
// The server binaries (initdb, pg_ctl) come from PATH or /usr/lib/postgresql/*/bin. When they are
// missing the test fails and says to install them; it never skips, so a green run always means
// the PostgreSQL tests ran. initdb refuses to run as root, so as root the cluster runs as the
// `postgres` user that the Debian package creates.
//
// The cluster keeps fsync and synchronous_commit on: durability tests rely on an acknowledged
// commit being on disk. It listens on a unix socket in its directory (the DSNs handed out use it)
// and on 127.0.0.1 on a free port (Port), for tools that need TCP.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// installHint ends every "PostgreSQL is not there" failure.
const installHint = "install the PostgreSQL server with `apt-get install -y postgresql` (Debian/Ubuntu; " +
	"initdb and pg_ctl are looked up in PATH, then in /usr/lib/postgresql/*/bin)"

// serverUser is the account the cluster runs as when the tests run as root.
const serverUser = "postgres"

// settings tune the cluster for tests. Durability stays on: fsync and synchronous_commit are what
// the event store's "durable when Append returns" guarantee is tested against.
var settings = []string{
	"fsync = on",
	"synchronous_commit = on",
	"full_page_writes = on",
	"max_connections = 200",
	// Large enough for the indexes of a million-event benchmark; pages are touched lazily, so a
	// small test uses little of it.
	"shared_buffers = 256MB",
	// Fewer checkpoints during benchmarks that write a million events.
	"max_wal_size = 2GB",
	"checkpoint_timeout = 30min",
	// ReadAll over a day-partitioned table locks every partition.
	"max_locks_per_transaction = 256",
	"log_min_messages = warning",
	"log_min_error_statement = panic",
	"timezone = 'UTC'",
}

var (
	once    sync.Once
	shared  *Cluster
	initErr error
	dbSeq   atomic.Int64
)

// Main runs the package's tests and stops the cluster afterwards. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.Stop()
	}
	os.Exit(code)
}

// NewDatabase creates an empty database for this test and returns its DSN (keyword/value form,
// over the unix socket). The database is dropped when the test ends.
func NewDatabase(t testing.TB) string {
	t.Helper()
	c := Start(t)
	name := fmt.Sprintf("t%04d_%s", dbSeq.Add(1), sanitize(t.Name()))
	if err := c.createDatabase(name); err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	t.Cleanup(func() {
		if err := c.dropDatabase(name); err != nil {
			t.Logf("pgtest: %v", err)
		}
	})
	return c.DSN(name)
}

// NewPool creates a fresh database (see NewDatabase) and a pool on it, closed when the test ends.
func NewPool(t testing.TB) *pgxpool.Pool {
	t.Helper()
	dsn := NewDatabase(t)
	pool, err := pgxpool.New(context.Background(), dsn)
	if err != nil {
		t.Fatalf("pgtest: pool: %v", err)
	}
	t.Cleanup(pool.Close)
	return pool
}

// Start returns the test binary's cluster, starting it on first use. It fails the test if
// PostgreSQL is not installed or does not start.
func Start(t testing.TB) *Cluster {
	t.Helper()
	once.Do(func() { shared, initErr = startCluster() })
	if initErr != nil {
		t.Fatalf("pgtest: %v", initErr)
	}
	return shared
}

// Cluster is a running throwaway PostgreSQL.
type Cluster struct {
	// Dir holds the data directory, the unix socket and the server log.
	Dir string
	// Port is the TCP port on 127.0.0.1 (the unix socket uses the same number).
	Port int

	bin      string
	runAs    *user.User // nil when not root
	watchdog *exec.Cmd

	mu    sync.Mutex // serialises admin statements
	admin *pgx.Conn
	stop  sync.Once
}

// DSN returns a keyword/value DSN for database over the unix socket.
func (c *Cluster) DSN(database string) string {
	return fmt.Sprintf("host=%s port=%d user=postgres dbname=%s sslmode=disable", c.Dir, c.Port, database)
}

// TCPDSN returns a DSN for database over 127.0.0.1.
func (c *Cluster) TCPDSN(database string) string {
	return fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=%s sslmode=disable", c.Port, database)
}

// Stop stops the server at once and removes its directory. Later calls do nothing.
func (c *Cluster) Stop() {
	c.stop.Do(func() {
		c.mu.Lock()
		if c.admin != nil {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			_ = c.admin.Close(ctx)
			cancel()
		}
		c.mu.Unlock()
		// Immediate: nothing in a throwaway cluster is worth a shutdown checkpoint.
		_, _ = c.run("pg_ctl", "-D", c.dataDir(), "-m", "immediate", "-w", "stop")
		_ = os.RemoveAll(c.Dir)
		if c.watchdog != nil && c.watchdog.Process != nil {
			_ = c.watchdog.Process.Kill()
			_ = c.watchdog.Wait()
		}
	})
}

func (c *Cluster) dataDir() string { return filepath.Join(c.Dir, "data") }
func (c *Cluster) logFile() string { return filepath.Join(c.Dir, "postgres.log") }

func startCluster() (*Cluster, error) {
	bin, err := findBinaries()
	if err != nil {
		return nil, err
	}
	c := &Cluster{bin: bin}
	if os.Geteuid() == 0 {
		u, err := user.Lookup(serverUser)
		if err != nil {
			return nil, fmt.Errorf("running as root, initdb needs an unprivileged %q user, and there is none (%v): %s",
				serverUser, err, installHint)
		}
		c.runAs = u
	}
	if c.Dir, err = os.MkdirTemp(tempBase(c.runAs != nil), "pgtest-"); err != nil {
		return nil, err
	}
	if err := c.chown(c.Dir); err != nil {
		_ = os.RemoveAll(c.Dir)
		return nil, err
	}
	if err := c.initdb(); err != nil {
		_ = os.RemoveAll(c.Dir)
		return nil, err
	}
	if err := c.startWatchdog(); err != nil {
		_ = os.RemoveAll(c.Dir)
		return nil, err
	}
	// A free port can be taken between picking and binding it: try a few.
	for attempt := 0; ; attempt++ {
		if c.Port, err = freePort(); err == nil {
			if err = c.startServer(); err == nil {
				break
			}
		}
		if attempt == 2 {
			c.Stop()
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if c.admin, err = pgx.Connect(ctx, c.DSN("postgres")); err != nil {
		c.Stop()
		return nil, fmt.Errorf("connect to the test cluster: %w", err)
	}
	return c, nil
}

// findBinaries returns the directory holding initdb and pg_ctl.
func findBinaries() (string, error) {
	if p, err := exec.LookPath("pg_ctl"); err == nil {
		dir := filepath.Dir(p)
		if _, err := exec.LookPath("initdb"); err == nil {
			return dir, nil
		}
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	// Newest major version first.
	slices.SortFunc(dirs, func(a, b string) int { return majorOf(b) - majorOf(a) })
	for _, dir := range dirs {
		if isExecutable(filepath.Join(dir, "pg_ctl")) && isExecutable(filepath.Join(dir, "initdb")) {
			return dir, nil
		}
	}
	return "", errors.New("PostgreSQL server binaries (initdb, pg_ctl) not found: " + installHint)
}

func majorOf(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExecutable(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// tool returns the path of a server program: from the binaries directory if it is there (the
// Debian layout), else from PATH.
func (c *Cluster) tool(name string) string {
	if p := filepath.Join(c.bin, name); isExecutable(p) {
		return p
	}
	return name
}

// command runs a server program, as the postgres user when we are root.
func (c *Cluster) command(name string, args ...string) *exec.Cmd {
	prog := c.tool(name)
	if c.runAs == nil {
		return exec.Command(prog, args...)
	}
	if p, err := exec.LookPath("runuser"); err == nil {
		return exec.Command(p, append([]string{"-u", serverUser, "--", prog}, args...)...)
	}
	return exec.Command("su", serverUser, "-s", "/bin/sh", "-c", shellJoin(append([]string{prog}, args...)))
}

func (c *Cluster) run(name string, args ...string) ([]byte, error) {
	cmd := c.command(name, args...)
	// Keep the output in a file, not a pipe: a server started by pg_ctl must not hold our pipe open.
	out, err := os.CreateTemp("", "pgtest-out-")
	if err != nil {
		return nil, err
	}
	defer os.Remove(out.Name())
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	cmd.Env = append(os.Environ(), "LC_ALL=C")
	runErr := cmd.Run()
	b, _ := os.ReadFile(out.Name())
	if runErr != nil {
		return b, fmt.Errorf("%s: %w\n%s", strings.Join(cmd.Args, " "), runErr, b)
	}
	return b, nil
}

func (c *Cluster) chown(path string) error {
	if c.runAs == nil {
		return nil
	}
	uid, _ := strconv.Atoi(c.runAs.Uid)
	gid, _ := strconv.Atoi(c.runAs.Gid)
	return os.Chown(path, uid, gid)
}

func (c *Cluster) initdb() error {
	// --no-sync: the cluster is thrown away; only what it does after start must be durable.
	if _, err := c.run("initdb", "-D", c.dataDir(), "-U", "postgres", "-A", "trust", "-E", "UTF8",
		"--locale=C", "--no-sync", "--no-instructions"); err != nil {
		return fmt.Errorf("initdb: %w", err)
	}
	conf := filepath.Join(c.dataDir(), "postgresql.conf")
	f, err := os.OpenFile(conf, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(f, "\n# pgtest\n%s\nlisten_addresses = '127.0.0.1'\nunix_socket_directories = '%s'\n",
		strings.Join(settings, "\n"), c.Dir)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func (c *Cluster) startServer() error {
	_, err := c.run("pg_ctl", "-D", c.dataDir(), "-l", c.logFile(), "-w", "-t", "60",
		"-o", "-p "+strconv.Itoa(c.Port), "start")
	if err != nil {
		log, _ := os.ReadFile(c.logFile())
		return fmt.Errorf("start PostgreSQL: %w\nserver log:\n%s", err, log)
	}
	return nil
}

// startWatchdog starts a small shell that outlives this process: once the test binary is gone
// it stops the server and removes the directory. It is in its own process group, so an
// interrupt sent to `go test` does not kill it before it has cleaned up.
func (c *Cluster) startWatchdog() error {
	stop := c.command("pg_ctl", "-D", c.dataDir(), "-m", "immediate", "stop")
	script := fmt.Sprintf("while kill -0 %d 2>/dev/null; do sleep 1; done; %s >/dev/null 2>&1; rm -rf %s",
		os.Getpid(), shellJoin(stop.Args), shellQuote(c.Dir))
	cmd := exec.Command("/bin/sh", "-c", script)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start the cleanup watchdog: %w", err)
	}
	c.watchdog = cmd
	return nil
}

func (c *Cluster) createDatabase(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := c.admin.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

func (c *Cluster) dropDatabase(name string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// FORCE: a test may leave a pool or a listener open.
	if _, err := c.admin.Exec(ctx, "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)"); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	return nil
}

// tempBase is where the cluster directory goes. The unix socket path must stay short (about 100
// bytes), and as root the postgres user must be able to reach the directory.
func tempBase(asOtherUser bool) string {
	base := os.TempDir()
	if len(base) > 60 || (asOtherUser && !reachableByOthers(base)) {
		return "/tmp"
	}
	return base
}

func reachableByOthers(dir string) bool {
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		fi, err := os.Stat(d)
		if err != nil || fi.Mode().Perm()&fs.FileMode(0o001) == 0 {
			return false
		}
		if d == "/" {
			return true
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

var unsafeChars = regexp.MustCompile(`[^a-z0-9_]+`)

// sanitize turns a test name into a short, lower-case identifier fragment.
func sanitize(name string) string {
	s := unsafeChars.ReplaceAllString(strings.ToLower(name), "_")
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.Trim(s, "_")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

func shellJoin(args []string) string {
	q := make([]string, len(args))
	for i, a := range args {
		q[i] = shellQuote(a)
	}
	return strings.Join(q, " ")
}
