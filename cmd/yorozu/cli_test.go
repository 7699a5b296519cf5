package main

// End-to-end tests of the yorozu binary as an operator runs it (docs/operations.md): the binary is built
// once, then every scenario runs it as a subprocess: the operations tools, `serve` with a real
// listener, logins over HTTP with TOTP codes, the admin socket while serve runs, graceful
// shutdown on SIGTERM, restarts, a SIGKILL in the middle of writes, and PostgreSQL.

import (
	"bytes"
	"context"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"
	"github.com/pquerna/otp/totp"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/bolt/bolttest"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/schema"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// TestCLI builds the binary once; the scenarios are its subtests (run one with
// -run 'TestCLI/durability').
func TestCLI(t *testing.T) {
	bin := buildYorozu(t)
	t.Run("usage", func(t *testing.T) {
		t.Parallel()
		testUsage(t, newCLI(t, bin))
	})
	t.Run("embedded", func(t *testing.T) {
		t.Parallel()
		testEmbedded(t, newCLI(t, bin))
	})
	t.Run("locked", func(t *testing.T) {
		t.Parallel()
		testLockedWithoutServer(t, newCLI(t, bin))
	})
	t.Run("durability", func(t *testing.T) {
		t.Parallel()
		testDurability(t, newCLI(t, bin))
	})
	t.Run("postgres", func(t *testing.T) {
		t.Parallel()
		testPostgres(t, newCLI(t, bin))
	})
	t.Run("credentials", func(t *testing.T) {
		t.Parallel()
		testCredentials(t, newCLI(t, bin))
	})
	t.Run("defaults", func(t *testing.T) {
		t.Parallel()
		testDefaults(t, newCLI(t, bin))
	})
	t.Run("rate limit", func(t *testing.T) {
		t.Parallel()
		testRateLimit(t, newCLI(t, bin))
	})
	t.Run("tampered", func(t *testing.T) {
		t.Parallel()
		testTampered(t, newCLI(t, bin))
	})
	t.Run("damaged", func(t *testing.T) {
		t.Parallel()
		testDamaged(t, newCLI(t, bin))
	})
}

func buildYorozu(t *testing.T) string {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("the go tool is needed to build the binary: %v", err)
	}
	bin := filepath.Join(t.TempDir(), "yorozu")
	cmd := exec.Command(goTool, "build", "-o", bin, ".")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testUsage: no command or an unknown one exits 2 with the usage on standard error.
func testUsage(t *testing.T, c *cli) {
	for _, args := range [][]string{{"frobnicate"}, {}, {"staff"}, {"apikey", "delete"}} {
		r := c.run("", args...)
		if r.code != 2 || !strings.Contains(r.stderr, "usage: yorozu") || r.stdout != "" {
			t.Errorf("yorozu %q: exit %d, stdout %q, stderr %q; want exit 2 with the usage", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := c.run("", "serve", "--no-such-flag"); r.code != 2 {
		t.Errorf("serve with an unknown flag: exit %d, want 2 (%s)", r.code, r.stderr)
	}

	// --help: the command's options on standard output, exit 0.
	for _, args := range [][]string{{"serve", "--help"}, {"serve", "-h"}, {"verify", "--help"}, {"migrate", "-help"},
		{"staff", "add", "--help"}, {"apikey", "create", "--help"}, {"rebuild", "--help"}, {"backup", "--help"}, {"restore", "--help"},
		{"keyring", "export", "--help"}, {"keyring", "import", "-h"}, {"agentsim", "--help"}, {"--help"}, {"help"}} {
		r := c.run("", args...)
		if r.code != 0 || !strings.Contains(r.stdout, "usage: yorozu") || r.stderr != "" {
			t.Errorf("yorozu %q: exit %d, stdout %q, stderr %q; want exit 0 with the usage on standard output", args, r.code, r.stdout, r.stderr)
		}
	}
	if r := c.run("", "serve", "--help"); !strings.Contains(r.stdout, "-max-connections") || !strings.Contains(r.stdout, "-rate-limit") {
		t.Errorf("serve --help does not list serve's options: %s", r.stdout)
	}

	// Command lines that cannot mean anything are refused with exit 2 and say why, before
	// touching any store.
	for _, tc := range []struct {
		args []string
		says string
	}{
		{[]string{"serve", "now"}, `unexpected argument "now"`},
		{[]string{"verify", "--data", "x", "extra"}, `unexpected argument "extra"`},
		{[]string{"rebuild", "audit"}, `unexpected argument "audit"`},
		{[]string{"backup", "now"}, `unexpected argument "now"`},
		{[]string{"agentsim", "--terminals", "3"}, "--url, --enrollment-token and --terminals are required"},
		{[]string{"restore"}, "no backup file given"},
		{[]string{"restore", "a.jsonl", "b.jsonl"}, `unexpected argument "b.jsonl"`},
		{[]string{"backup", "--data", "d", "--postgres", "postgres://nowhere/db"}, "--data names the embedded event store"},
		{[]string{"serve", "--data", "d", "--postgres", "postgres://nowhere/db"}, "--data names the embedded event store"},
		{[]string{"verify", "--eventstore", "esdb://nowhere", "--data", "d"}, "--data names the embedded event store"},
		{[]string{"migrate", "--postgres", "postgres://nowhere/db", "--data", "d"}, "--data names the embedded event store"},
		{[]string{"serve", "--migrate"}, "--migrate needs --postgres"},
		{[]string{"serve", "--issuer", "株式会社よろず"}, "registration"},
		{[]string{"serve", "--rate-limit", "-1"}, "cannot be negative"},
		{[]string{"version", "--data", "d"}, "flag provided but not defined"},
	} {
		r := c.run("", tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.says) || !strings.Contains(r.stderr, "usage: yorozu") || r.stdout != "" {
			t.Errorf("yorozu %q: exit %d, stdout %q, stderr %q; want exit 2 saying %q", tc.args, r.code, r.stdout, r.stderr, tc.says)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "d")); err == nil {
		t.Error("a refused command line created its data directory")
	}

	// version: the build's module version, VCS revision and Go version, as `go version -m` reads them.
	r := c.mustRun("", "version")
	var v struct {
		Version, Revision, Time, Go string
		Modified                    bool
	}
	decodeOne(t, r.stdout, &v)
	out, err := exec.Command("go", "version", "-m", c.bin).Output()
	if err != nil {
		t.Fatalf("go version -m: %v", err)
	}
	build := map[string]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Split(strings.TrimSpace(line), "\t")
		switch {
		case len(f) >= 3 && f[0] == "mod":
			build["mod"] = f[2]
		case len(f) == 2 && f[0] == "build":
			k, val, _ := strings.Cut(f[1], "=")
			build[k] = val
		}
	}
	if v.Go != runtime.Version() || v.Version != build["mod"] || v.Revision != build["vcs.revision"] ||
		v.Time != build["vcs.time"] || v.Modified != (build["vcs.modified"] == "true") {
		t.Errorf("version printed %+v; the binary says %v (built by %s)", v, build, runtime.Version())
	}
	for _, day := range []string{"02-29", "4-14", "13-01"} {
		if r := c.run("", "serve", "--insurance-period-start", day); r.code != 2 || !strings.Contains(r.stderr, "insurance-period-start") {
			t.Errorf("serve --insurance-period-start %s: exit %d, want 2 (%s)", day, r.code, r.stderr)
		}
	}
}

// testEmbedded is the operator's day on the embedded store: tools before the server, tools
// through the running server, graceful shutdown, restart, tools after.
func testEmbedded(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	socket := filepath.Join(data, app.AdminSocket)

	alice := c.staffAdd(data, "alice", "operator", "correct horse battery staple")
	feedKey := c.apikeyCreate(data, "feed", "billing")
	if _, err := os.Stat(filepath.Join(c.dir, "var")); err == nil {
		t.Error("the tools created ./var although --data was given")
	}

	srv := c.serve("--data", data)
	fi, err := os.Lstat(socket)
	if err != nil {
		t.Fatalf("serve on the embedded store has no admin socket: %v", err)
	}
	if fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Errorf("admin socket %s: mode %v, want a socket with 0600", socket, fi.Mode())
	}

	tokA := srv.login(alice)
	srv.expect("GET", "/api/v1/orders", tokA, nil, http.StatusOK)
	srv.expect("GET", "/api/v1/orders", feedKey, nil, http.StatusForbidden) // known key, not its role
	srv.expect("GET", "/api/v1/orders", "yk_not-a-key", nil, http.StatusUnauthorized)
	srv.expect("GET", "/api/v1/orders", "", nil, http.StatusUnauthorized)

	// The tools on the same directory while serve runs: forwarded through the admin socket.
	start := time.Now()
	bob := c.staffAdd(data, "bob", "operator", "another long password")
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("staff add through the running server took %v", d)
	}
	tokB := srv.login(bob)
	srv.expect("GET", "/api/v1/orders", tokB, nil, http.StatusOK)
	audKey := c.apikeyCreate(data, "auditor-bot", "auditor")
	var live struct{ OK bool }
	srv.expectJSON("GET", "/api/v1/audit/verify", audKey, nil, http.StatusOK, &live)
	if !live.OK {
		t.Error("GET /api/v1/audit/verify with the forwarded auditor key: not ok")
	}
	srv.expect("POST", "/api/v1/orders", audKey, orderForm(t, 1), http.StatusForbidden)

	// A refused command says why, exits 1 and prints nothing, as on the direct path.
	dup := c.run("pw\n", "staff", "add", "--id", "bob", "--role", "operator", "--data", data)
	if dup.code != 1 || dup.stdout != "" || !strings.Contains(dup.stderr, "yorozu:") {
		t.Errorf("adding bob twice through the server: exit %d, stdout %q, stderr %q", dup.code, dup.stdout, dup.stderr)
	}
	c.verify("--data", data)
	rebuilt := c.rebuild("--data", data)
	if rebuilt["note"] == nil {
		t.Errorf("a rebuild answered by the running server does not say so: %v", rebuilt)
	}
	if r := c.run("", "rebuild", "--data", data, "--projection", "no-such"); r.code != 1 || !strings.Contains(r.stderr, "unknown projection") {
		t.Errorf("rebuild of an unknown projection through the server: exit %d, stderr %q", r.code, r.stderr)
	}

	srv.stop()
	if _, err := os.Lstat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin socket still there after a graceful shutdown: %v", err)
	}

	// Sessions are events: they survive a restart.
	srv = c.serve("--data", data)
	srv.expect("GET", "/api/v1/orders", tokA, nil, http.StatusOK)
	srv.expect("GET", "/api/v1/orders", tokB, nil, http.StatusOK)
	srv.expect("GET", "/api/v1/audit/verify", audKey, nil, http.StatusOK)
	srv.expect("GET", "/api/v1/orders", feedKey, nil, http.StatusForbidden)
	srv.stop()

	// The tools on their own again, with the same answers.
	if r := c.run("pw\n", "staff", "add", "--id", "bob", "--role", "operator", "--data", data); r != dup {
		t.Errorf("adding bob twice: directly %+v, through the server %+v", r, dup)
	}
	c.verify("--data", data)
	rebuilt = c.rebuild("--data", data)
	if rebuilt["note"] != nil {
		t.Errorf("a direct rebuild carries a note: %v", rebuilt)
	}
	r := c.mustRun("", "migrate", "--data", data)
	var m struct {
		Migrated *bool
		Reason   string
	}
	decodeOne(t, r.stdout, &m)
	if m.Migrated == nil || *m.Migrated || !strings.Contains(m.Reason, "--postgres") {
		t.Errorf("migrate without --postgres: %s", r.stdout)
	}

	// serve failing to listen (the port is taken) exits non-zero and leaves no socket behind.
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	if r := c.run("", "serve", "--data", data, "--addr", busy.Addr().String()); r.code == 0 {
		t.Errorf("serve on a busy port: exit 0\n%s", r.stderr)
	}
	if _, err := os.Lstat(socket); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("admin socket left behind by a serve that failed: %v", err)
	}
}

// testLockedWithoutServer: another process holds the store and no server answers on the
// socket: the tools say so.
func testLockedWithoutServer(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	s, err := bolt.OpenDir(data, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, args := range [][]string{
		{"staff", "add", "--id", "carol", "--role", "operator", "--data", data},
		{"verify", "--data", data},
	} {
		r := c.run("a password\n", args...)
		if r.code != 1 || r.stdout != "" || !strings.Contains(r.stderr, "in use by another process") {
			t.Errorf("yorozu %q on a locked directory: exit %d, stdout %q, stderr %q", args, r.code, r.stdout, r.stderr)
		}
	}
}

// testDurability: every order the service acknowledged (201) before a SIGKILL is there after
// the restart, and the hash chains hold.
func testDurability(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	op := c.staffAdd(data, "op", "operator", "durable password")
	srv := c.serve("--data", data)
	tok := srv.login(op)

	const workers, killAfter, most = 4, 30, 400
	var (
		mu    sync.Mutex
		acked []string
		sent  int
		wg    sync.WaitGroup
	)
	killNow := make(chan struct{})
	var once sync.Once
	client := &http.Client{Timeout: 10 * time.Second}
	orderForm(t, 0) // reads the example form once, here and not in a goroutine
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				mu.Lock()
				if sent >= most {
					mu.Unlock()
					return
				}
				sent++
				n := sent
				mu.Unlock()
				status, body, err := do(client, "POST", srv.url+"/api/v1/orders", tok, orderForm(t, n))
				if err != nil {
					return // the server is gone
				}
				if status != http.StatusCreated {
					if status == http.StatusAccepted {
						continue // stored, but not acknowledged as complete: not counted
					}
					t.Errorf("POST /api/v1/orders: %d %s", status, body)
					return
				}
				var created struct{ OrderID string }
				if err := json.Unmarshal(body, &created); err != nil || created.OrderID == "" {
					t.Errorf("201 without an orderId: %s", body)
					return
				}
				mu.Lock()
				acked = append(acked, created.OrderID)
				if len(acked) >= killAfter {
					once.Do(func() { close(killNow) })
				}
				mu.Unlock()
			}
		}()
	}
	select {
	case <-killNow:
	case <-time.After(30 * time.Second):
		t.Fatal("no orders acknowledged within 30 s")
	}
	srv.kill()
	wg.Wait()
	mu.Lock()
	ids := slices.Clone(acked)
	mu.Unlock()
	t.Logf("%d orders acknowledged before SIGKILL", len(ids))
	if _, err := os.Lstat(filepath.Join(data, app.AdminSocket)); err != nil {
		t.Fatalf("no stale socket after SIGKILL (%v): the restart would not test replacing it", err)
	}

	// The restart replaces the stale socket; the session is still valid.
	srv = c.serve("--data", data)
	for _, id := range ids {
		var o struct{ OrderID, Status string }
		srv.expectJSON("GET", "/api/v1/orders/"+id, tok, nil, http.StatusOK, &o)
		if o.OrderID != id || o.Status != "received" {
			t.Errorf("order %s after the restart: %+v", id, o)
		}
	}
	c.verify("--data", data) // through the new socket
	srv.stop()
	c.verify("--data", data)
}

// testPostgres: the same tools on PostgreSQL, where no lock is involved.
func testPostgres(t *testing.T, c *cli) {
	dsn := pgtest.NewDatabase(t)

	// An unmigrated database: serve refuses to start and says what to run.
	r := c.run("", "serve", "--postgres", dsn, "--addr", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "yorozu migrate") || !strings.Contains(r.stderr, "--migrate") ||
		strings.Contains(r.stderr, `"serving"`) {
		t.Errorf("serve on an unmigrated database: exit %d\n%s\nwant exit 1 naming `yorozu migrate` and `serve --migrate`, never serving", r.code, r.stderr)
	}

	// The master key (sealing TOTP secrets) is in ./var of the working directory, shared by the
	// tools and the server as a deployment shares it.
	type migrated struct {
		Migrated *bool
		Applied  []int
		Current  []int
	}
	r = c.mustRun("", "migrate", "--postgres", dsn)
	var m migrated
	decodeOne(t, r.stdout, &m)
	if m.Migrated == nil || !*m.Migrated || len(m.Applied) == 0 || !slices.Equal(m.Applied, m.Current) {
		t.Fatalf("migrate --postgres on a new database: %s; want every migration applied by this run", r.stdout)
	}
	r = c.mustRun("", "migrate", "--postgres", dsn) // again: nothing to do, no error
	var again migrated
	decodeOne(t, r.stdout, &again)
	if again.Migrated == nil || *again.Migrated || again.Applied == nil || len(again.Applied) != 0 || !slices.Equal(again.Current, m.Current) {
		t.Errorf("migrate --postgres a second time: %s; want migrated false, applied [], current as before", r.stdout)
	}

	op := c.staffAdd("", "pg-op", "operator", "postgres password", "--postgres", dsn)
	srv := c.serve("--postgres", dsn, "--migrate")
	tok := srv.login(op)
	srv.expect("GET", "/api/v1/orders", tok, nil, http.StatusOK)
	srv.expect("POST", "/api/v1/orders", tok, orderForm(t, 1), http.StatusCreated)
	if _, err := os.Lstat(filepath.Join(c.dir, "var", app.AdminSocket)); err == nil {
		t.Error("serve on PostgreSQL opened an admin socket")
	}

	// A tool next to the running server writes directly; the server picks the key up from the log.
	key := c.apikeyCreate("", "pg-feed", "billing", "--postgres", dsn)
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, _, err := do(http.DefaultClient, "GET", srv.url+"/api/v1/orders", key, nil)
		if err == nil && status == http.StatusForbidden {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the key created next to the running server is not accepted: %d %v", status, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
	srv.stop()

	checkQuiet(t, srv.logs.String())

	out := c.rebuild("--postgres", dsn, "--projection", "audit")
	counts, _ := out["rebuilt"].(map[string]any)
	if n := number(counts["audit"]); len(counts) != 1 || n <= 0 {
		t.Errorf("rebuild --projection audit: %v", out)
	}
	c.verify("--postgres", dsn)

	// Someone changes an order's data in its row. verify names the event; serve never shows the
	// change: its check stops the projections there and /readyz says which event.
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())
	var stream string
	err = conn.QueryRow(context.Background(), `UPDATE events
		SET data = convert_to(replace(convert_from(data, 'UTF8'), 'C0000000001', 'C0000000009'), 'UTF8')
		WHERE stream LIKE 'order-%' AND stream_version = 1 RETURNING stream`).Scan(&stream)
	if err != nil {
		t.Fatalf("tampering with the order's row: %v", err)
	}
	c.verifyBroken(stream, 1, "event hash does not match its content", "--postgres", dsn)
	srv = c.start("--postgres", dsn)
	srv.readyzNames(stream, 1)
	srv.stop()
}

// checkQuiet fails the test if serve's log holds an info line that is not the service's own
// (the messaging library's start and stop chatter).
func checkQuiet(t *testing.T, logs string) {
	t.Helper()
	own := []string{"serving", "shutting down", "admin socket listening", "http request"}
	for _, line := range strings.Split(strings.TrimSpace(logs), "\n") {
		var l struct{ Level, Msg string }
		if err := json.Unmarshal([]byte(line), &l); err != nil {
			t.Errorf("serve logged a line that is not JSON: %q", line)
			continue
		}
		if l.Level == "INFO" && !slices.Contains(own, l.Msg) {
			t.Errorf("serve logged an unexpected info line at start or stop: %s", line)
		}
	}
}

// testDefaults: serve needs no option (the working directory's ./var; here --addr 127.0.0.1:0
// only, so that tests running at once do not share a port); without an issuer everything works
// but closing a month, which says what is missing.
func testDefaults(t *testing.T, c *cli) {
	op := c.staffAdd("", "op", "operator", "a default password")
	srv := c.serve()
	if _, err := os.Stat(filepath.Join(c.dir, "var", bolt.FileName)); err != nil {
		t.Errorf("serve without --data does not keep its log in ./var: %v", err)
	}
	if u, err := url.Parse(srv.url); err != nil || u.Port() == "" || u.Port() == "0" {
		t.Errorf("serve logged %q; want the address it is bound to", srv.url)
	}
	tok := srv.login(op)
	srv.expect("POST", "/api/v1/billing/price-lists", tok, map[string]any{"effectiveFrom": "2025-04", "baseMenu": 5000,
		"healthCheckIdAddition": 500, "webFiltering": 300, "securityTicket": 10000, "taxRate": "0.10"}, http.StatusCreated)
	lastMonth := time.Now().In(time.FixedZone("JST", 9*3600)).AddDate(0, 0, -time.Now().Day()-1).Format("2006-01")
	raw := srv.expect("POST", "/api/v1/billing/months/"+lastMonth+"/close", tok, nil, http.StatusConflict)
	var p struct{ Type, Detail string }
	if err := json.Unmarshal(raw, &p); err != nil || p.Type != "/problems/no-issuer" {
		t.Errorf("closing %s without an issuer: %s; want /problems/no-issuer", lastMonth, raw)
	}
	srv.stop()
	checkQuiet(t, srv.logs.String())

	srv = c.serve("--issuer", "株式会社よろず", "--registration-number", "T9876543210987")
	var closed struct {
		Status string
		Issuer struct{ Name, RegistrationNumber string }
	}
	srv.expectJSON("POST", "/api/v1/billing/months/"+lastMonth+"/close", tok, nil, http.StatusOK, &closed)
	if closed.Issuer.Name != "株式会社よろず" || closed.Issuer.RegistrationNumber != "T9876543210987" {
		t.Errorf("the month closed with issuer %+v", closed.Issuer)
	}
	srv.stop()
}

// testRateLimit: --rate-limit 0 means no limit at all.
func testRateLimit(t *testing.T, c *cli) {
	burst := func(srv *server, n int) (limited int) {
		var wg sync.WaitGroup
		var mu sync.Mutex
		for range n {
			wg.Go(func() {
				status, _, err := do(http.DefaultClient, "GET", srv.url+"/healthz", "", nil)
				if err != nil {
					t.Errorf("GET /healthz: %v", err)
					return
				}
				if status == http.StatusTooManyRequests {
					mu.Lock()
					limited++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		return limited
	}
	srv := c.serve("--data", filepath.Join(c.dir, "a"), "--rate-limit", "1", "--rate-burst", "1")
	if n := burst(srv, 20); n == 0 {
		t.Error("--rate-limit 1 --rate-burst 1: 20 requests at once, none refused")
	}
	srv.stop()
	srv = c.serve("--data", filepath.Join(c.dir, "b"), "--rate-limit", "0", "--rate-burst", "1")
	if n := burst(srv, 200); n > 0 {
		t.Errorf("--rate-limit 0: %d of 200 requests refused; 0 means no limit", n)
	}
	srv.stop()
}

// testTampered: an event changed by hand in the embedded store's file, and an event no codec
// knows, appended with a valid chain: verify names each and exits 1; serve starts, shows none of
// it, and /readyz names it.
func testTampered(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	op := c.staffAdd(data, "op", "operator", "a tamper-proof password")
	srv := c.serve("--data", data)
	tok := srv.login(op)
	var created struct{ OrderID string }
	srv.expectJSON("POST", "/api/v1/orders", tok, orderForm(t, 777), http.StatusCreated, &created)
	srv.stop()

	bolttest.Replace(t, filepath.Join(data, bolt.FileName), []byte("C0000000777"), []byte("C0000000778"))
	stream := "order-" + created.OrderID
	c.verifyBroken(stream, 1, "event hash does not match its content", "--data", data)
	srv = c.start("--data", data)
	srv.readyzNames(stream, 1)
	// The session was opened before the altered event: it still works, and the order is not
	// served with the altered (nor any) data.
	raw := srv.expect("GET", "/api/v1/orders/"+created.OrderID, tok, nil, http.StatusNotFound)
	if bytes.Contains(raw, []byte("C0000000778")) {
		t.Errorf("the altered order is served: %s", raw)
	}
	if r := c.run("", "rebuild", "--data", data); r.code != 1 || !strings.Contains(r.stderr, stream) {
		t.Errorf("rebuild through the server on a tampered log: exit %d, %s", r.code, r.stderr)
	}
	srv.stop()
	if r := c.run("", "rebuild", "--data", data); r.code != 1 || !strings.Contains(r.stderr, stream+"@1") ||
		!strings.Contains(r.stderr, "integrity") {
		t.Errorf("rebuild of a tampered log: exit %d, %s; want exit 1 naming %s@1", r.code, r.stderr, stream)
	}

	// An event of a type this binary does not know (written by a newer one, say).
	other := filepath.Join(c.dir, "other")
	c.staffAdd(other, "op", "operator", "another password")
	s, err := bolt.OpenDir(other, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = s.Append(context.Background(), "future-1", event.NoStream(), []event.Draft{{ID: uuid.New(), Type: "FromTheFuture",
		SchemaVersion: 1, EffectiveAt: time.Now(), RecordedAt: time.Now(), Actor: "system", Data: []byte(`{}`)}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	c.verifyBroken("future-1", 1, `unknown event type "FromTheFuture"`, "--data", other)
	srv = c.start("--data", other)
	srv.readyzNames("future-1", 1)
	srv.stop()
}

// testDamaged: a file whose pages are damaged makes bbolt panic. serve and the tools exit 1
// with a message naming the file, never a goroutine dump.
func testDamaged(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	c.staffAdd(data, "op", "operator", "a password on a bad disk")
	s, err := bolt.OpenDir(data, bolt.Options{})
	if err != nil {
		t.Fatal(err)
	}
	// Enough events that the log has leaf pages of its own, which the start does not read.
	codec := schema.Registry()
	for i := range 20 {
		var ds []event.Draft
		for range 50 {
			typ, raw, err := codec.Encode(&contract.ContractViewed{CustomerNumber: "N000000001", Viewer: "disk-fault", What: "contract", At: time.Now()})
			if err != nil {
				t.Fatal(err)
			}
			ds = append(ds, event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: time.Now(), RecordedAt: time.Now(), Actor: "op", Data: raw})
		}
		if _, err := s.Append(context.Background(), contract.ViewStream(fmt.Sprintf("N%09d", i+1)), event.Any(), ds); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(data, bolt.FileName)
	bolttest.DamagePagesHolding(t, file, []byte("disk-fault"))

	damaged := func(what string, r result) {
		t.Helper()
		if r.code != 1 || !strings.Contains(r.stderr, file) || !strings.Contains(r.stderr, "damaged") ||
			strings.Contains(r.stderr, "goroutine ") || strings.Contains(r.stderr, "panic:") {
			t.Errorf("%s on a damaged file: exit %d\n%s\nwant exit 1 with a message naming %s", what, r.code, r.stderr, file)
		}
	}
	damaged("serve", c.run("", "serve", "--data", data, "--addr", "127.0.0.1:0"))
	damaged("verify", c.run("", "verify", "--data", data))
	damaged("rebuild", c.run("", "rebuild", "--data", data))

	// Damage where the file is opened: the list of buckets.
	bolttest.DamagePagesHolding(t, file, []byte("versions"))
	damaged("serve", c.run("", "serve", "--data", data, "--addr", "127.0.0.1:0"))
	damaged("verify", c.run("", "verify", "--data", data))
}

// cli runs the binary in its own working directory.
type cli struct {
	t   *testing.T
	bin string
	dir string
}

func newCLI(t *testing.T, bin string) *cli { return &cli{t: t, bin: bin, dir: t.TempDir()} }

type result struct {
	stdout, stderr string
	code           int
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	return c.runWithEnv(nil, stdin, args...)
}

// runWithEnv is run with more environment variables.
func (c *cli) runWithEnv(env []string, stdin string, args ...string) result {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	cmd.Stdin = strings.NewReader(stdin)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if err != nil && !errors.As(err, &exit) {
		c.t.Fatalf("yorozu %q: %v", args, err)
	}
	return result{stdout: stdout.String(), stderr: stderr.String(), code: cmd.ProcessState.ExitCode()}
}

func (c *cli) mustRun(stdin string, args ...string) result {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("yorozu %q: exit %d\nstdout: %s\nstderr: %s", args, r.code, r.stdout, r.stderr)
	}
	return r
}

type staff struct{ id, password, secret string }

// staffAdd runs `staff add` (on --data dataDir unless it is empty) and checks its output.
func (c *cli) staffAdd(dataDir, id, role, password string, store ...string) staff {
	c.t.Helper()
	args := append([]string{"staff", "add", "--id", id, "--role", role}, store...)
	if dataDir != "" {
		args = append(args, "--data", dataDir)
	}
	r := c.mustRun(password+"\n", args...)
	var out map[string]any
	decodeOne(c.t, r.stdout, &out)
	if keys := slices.Sorted(maps.Keys(out)); !slices.Equal(keys, []string{"otpauthUrl", "role", "staffId", "totpSecret"}) {
		c.t.Fatalf("staff add printed %s; want exactly staffId, role, totpSecret, otpauthUrl", r.stdout)
	}
	secret, _ := out["totpSecret"].(string)
	if out["staffId"] != id || out["role"] != role {
		c.t.Errorf("staff add printed %s for %s/%s", r.stdout, id, role)
	}
	if raw, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(strings.TrimRight(secret, "=")); err != nil || len(raw) < 10 {
		c.t.Errorf("totpSecret %q is not a base32 secret of at least 80 bits (%v)", secret, err)
	}
	link, _ := out["otpauthUrl"].(string)
	u, err := url.Parse(link)
	if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || !strings.HasPrefix(link, "otpauth://totp/") {
		c.t.Fatalf("otpauthUrl %q is not an otpauth://totp/ URL", link)
	}
	q := u.Query()
	if q.Get("secret") != secret {
		c.t.Errorf("otpauthUrl secret %q, totpSecret %q", q.Get("secret"), secret)
	}
	for param, want := range map[string]string{"algorithm": "SHA1", "digits": "6", "period": "30"} {
		if v := q.Get(param); v != "" && v != want {
			c.t.Errorf("otpauthUrl %s=%s, want %s", param, v, want)
		}
	}
	return staff{id: id, password: password, secret: secret}
}

// apikeyCreate runs `apikey create` and checks its output.
func (c *cli) apikeyCreate(dataDir, name, role string, store ...string) string {
	c.t.Helper()
	args := append([]string{"apikey", "create", "--role", role, "--name", name}, store...)
	if dataDir != "" {
		args = append(args, "--data", dataDir)
	}
	r := c.mustRun("", args...)
	var out map[string]any
	decodeOne(c.t, r.stdout, &out)
	key, _ := out["key"].(string)
	if len(out) != 3 || out["name"] != name || out["role"] != role || key == "" {
		c.t.Fatalf("apikey create printed %s; want {name, role, key}", r.stdout)
	}
	return key
}

// verify runs `verify` and checks it reports an intact log.
func (c *cli) verify(store ...string) {
	c.t.Helper()
	r := c.mustRun("", append([]string{"verify"}, store...)...)
	var out map[string]any
	decodeOne(c.t, r.stdout, &out)
	n := number(out["checkedEvents"])
	if fb, has := out["firstBroken"]; out["ok"] != true || n <= 0 || !has || fb != nil {
		c.t.Errorf("verify %q: %s; want ok, checkedEvents > 0, firstBroken null", store, r.stdout)
	}
}

// verifyBroken runs `verify` on a store holding a tampered or undecodable event and checks it
// exits 1 naming stream@version with the reason.
func (c *cli) verifyBroken(stream string, version uint64, reason string, store ...string) {
	c.t.Helper()
	r := c.run("", append([]string{"verify"}, store...)...)
	var out struct {
		OK            *bool
		CheckedEvents json.Number
		FirstBroken   *struct {
			Stream        string
			StreamVersion uint64
			EventID       string
			Reason        string
		}
	}
	decodeOne(c.t, r.stdout, &out)
	fb := out.FirstBroken
	if r.code != 1 || out.OK == nil || *out.OK || fb == nil || fb.Stream != stream || fb.StreamVersion != version ||
		fb.EventID == "" || !strings.Contains(fb.Reason, reason) {
		c.t.Errorf("verify %q: exit %d, %s; want exit 1 naming %s@%d: %s", store, r.code, r.stdout, stream, version, reason)
	}
}

// rebuild runs `rebuild` and checks it rebuilt something.
func (c *cli) rebuild(args ...string) map[string]any {
	c.t.Helper()
	r := c.mustRun("", append([]string{"rebuild"}, args...)...)
	var out map[string]any
	decodeOne(c.t, r.stdout, &out)
	counts, ok := out["rebuilt"].(map[string]any)
	if !ok || len(counts) == 0 || out["seconds"] == nil {
		c.t.Errorf("rebuild %q: %s", args, r.stdout)
	}
	return out
}

// decodeOne decodes stdout, which must hold exactly one JSON value on one line.
func decodeOne(t *testing.T, stdout string, v any) {
	t.Helper()
	dec := json.NewDecoder(strings.NewReader(stdout))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		t.Fatalf("output is not JSON (%v): %q", err, stdout)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatalf("output holds more than one JSON value: %q", stdout)
	}
	if strings.Count(strings.TrimSpace(stdout), "\n") != 0 {
		t.Errorf("output is not one line: %q", stdout)
	}
}

// server is a running `yorozu serve`.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	url  string
	logs *lockedBuffer
	done chan struct{}
	err  error
}

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// serve starts `yorozu serve` and waits until /readyz answers 200.
func (c *cli) serve(args ...string) *server {
	c.t.Helper()
	return c.serveWithEnv(nil, args...)
}

// serveWithEnv is serve with more environment variables.
func (c *cli) serveWithEnv(env []string, args ...string) *server {
	c.t.Helper()
	s := c.startWithEnv(env, args...)
	deadline := time.Now().Add(20 * time.Second)
	for {
		if status, _, err := do(http.DefaultClient, "GET", s.url+"/readyz", "", nil); err == nil && status == http.StatusOK {
			return s
		}
		select {
		case <-s.done:
			c.t.Fatalf("serve %q exited during start: %v\n%s", args, s.err, s.logs)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("serve %q not ready within 20 s\n%s", args, s.logs)
		}
		time.Sleep(25 * time.Millisecond)
	}
}

// start starts `yorozu serve` on a port the system picks (--addr 127.0.0.1:0) and returns once
// it has logged "serving" with the address it is bound to.
func (c *cli) start(args ...string) *server {
	c.t.Helper()
	return c.startWithEnv(nil, args...)
}

// startWithEnv is start with more environment variables.
func (c *cli) startWithEnv(env []string, args ...string) *server {
	c.t.Helper()
	cmd := exec.Command(c.bin, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Dir = c.dir
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	s := &server{t: c.t, cmd: cmd, logs: logs, done: make(chan struct{})}
	go func() {
		s.err = cmd.Wait()
		close(s.done)
	}()
	c.t.Cleanup(func() {
		select {
		case <-s.done:
		default:
			_ = cmd.Process.Kill()
			<-s.done
		}
	})
	deadline := time.Now().Add(20 * time.Second)
	for {
		if addr := servingAddr(logs.String()); addr != "" {
			s.url = "http://" + addr
			return s
		}
		select {
		case <-s.done:
			c.t.Fatalf("serve %q exited during start: %v\n%s", args, s.err, logs)
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("serve %q did not log serving within 20 s\n%s", args, logs)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// servingAddr is the address of serve's "serving" log line, or "".
func servingAddr(logs string) string {
	for _, line := range strings.Split(logs, "\n") {
		var l struct{ Msg, Addr string }
		if json.Unmarshal([]byte(line), &l) == nil && l.Msg == "serving" {
			return l.Addr
		}
	}
	return ""
}

// readyzNames waits until /readyz answers 503 naming the event stream@version as the one the
// projections stopped on, and checks it says why.
func (s *server) readyzNames(stream string, version uint64) {
	s.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var last []byte
	for time.Now().Before(deadline) {
		status, raw, err := do(http.DefaultClient, "GET", s.url+"/readyz", "", nil)
		if err != nil {
			s.t.Fatalf("GET /readyz: %v", err)
		}
		last = raw
		var body struct {
			Status      string
			Projections []struct {
				Name, Error string
				StoppedOn   *struct {
					Stream        string
					StreamVersion uint64
				}
			}
			// An intact event whose data does not decode does not stop every projection: the
			// readiness names it on its own.
			Undecodable *struct {
				Stream        string
				StreamVersion uint64
				Error         string
			}
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			s.t.Fatalf("/readyz is not JSON: %s", raw)
		}
		if u := body.Undecodable; u != nil && u.Stream == stream && u.StreamVersion == version {
			if status != http.StatusServiceUnavailable {
				s.t.Fatalf("/readyz %d naming the undecodable %s@%d: %s; want 503", status, stream, version, raw)
			}
			return
		}
		for _, p := range body.Projections {
			if p.StoppedOn != nil && p.StoppedOn.Stream == stream && p.StoppedOn.StreamVersion == version {
				if status != http.StatusServiceUnavailable || !strings.Contains(p.Error, "integrity") {
					s.t.Fatalf("/readyz %d naming %s@%d: %s; want 503 saying the integrity check refused it", status, stream, version, raw)
				}
				return
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	s.t.Fatalf("/readyz does not name %s@%d within 20 s: %s\n%s", stream, version, last, s.logs)
}

// stop sends SIGTERM and expects a clean exit (0) within 20 s.
func (s *server) stop() {
	s.t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		s.t.Fatal(err)
	}
	select {
	case <-s.done:
	case <-time.After(20 * time.Second):
		s.t.Fatalf("serve did not exit within 20 s of SIGTERM\n%s", s.logs)
	}
	if s.err != nil {
		s.t.Fatalf("serve after SIGTERM: %v, want exit 0\n%s", s.err, s.logs)
	}
}

// kill sends SIGKILL: no shutdown at all.
func (s *server) kill() {
	s.t.Helper()
	if err := s.cmd.Process.Kill(); err != nil {
		s.t.Fatal(err)
	}
	<-s.done
}

// login logs in over HTTP with the password and a TOTP code computed now.
func (s *server) login(st staff) string {
	s.t.Helper()
	code, err := totp.GenerateCode(st.secret, time.Now())
	if err != nil {
		s.t.Fatal(err)
	}
	var out struct {
		Token     string
		ExpiresAt time.Time
	}
	s.expectJSON("POST", "/api/v1/auth/login", "", map[string]string{"staffId": st.id, "password": st.password, "otp": code}, http.StatusOK, &out)
	if out.Token == "" || !out.ExpiresAt.After(time.Now()) {
		s.t.Fatalf("login %s: token %q, expiresAt %v", st.id, out.Token, out.ExpiresAt)
	}
	return out.Token
}

func (s *server) expect(method, path, token string, body any, want int) []byte {
	s.t.Helper()
	status, raw, err := do(http.DefaultClient, method, s.url+path, token, body)
	if err != nil {
		s.t.Fatalf("%s %s: %v", method, path, err)
	}
	if status != want {
		s.t.Fatalf("%s %s: %d %s; want %d", method, path, status, raw, want)
	}
	return raw
}

func (s *server) expectJSON(method, path, token string, body any, want int, v any) {
	s.t.Helper()
	raw := s.expect(method, path, token, body, want)
	if err := json.Unmarshal(raw, v); err != nil {
		s.t.Fatalf("%s %s: not JSON (%v): %s", method, path, err, raw)
	}
}

func do(client *http.Client, method, url, token string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return 0, nil, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	return resp.StatusCode, raw, err
}

// number is a JSON number decoded with UseNumber, or -1.
func number(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return -1
	}
	i, err := n.Int64()
	if err != nil {
		return -1
	}
	return i
}

var (
	formOnce sync.Once
	formRaw  []byte
	formErr  error
)

// orderForm is the example new-contract form with today's dates (JST) and its own common
// customer ID.
func orderForm(t *testing.T, n int) map[string]any {
	formOnce.Do(func() {
		formRaw, formErr = os.ReadFile(filepath.Join("..", "..", "domain", "order", "testdata", "new.json"))
	})
	if formErr != nil {
		t.Fatal(formErr)
	}
	var f map[string]any
	if err := json.Unmarshal(formRaw, &f); err != nil {
		t.Fatal(err)
	}
	jst := time.FixedZone("JST", 9*60*60)
	today := time.Now().In(jst)
	f["appliedOn"] = today.Format("2006/1/2")
	f["desiredDate"] = today.AddDate(0, 1, 0).Format("2006/1/2")
	f["commonCustomerId"] = fmt.Sprintf("C%010d", n)
	return f
}
