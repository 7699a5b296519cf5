package main

// End-to-end tests of the yorozu binary as an operator runs it (SPEC 11): the binary is built
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
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
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
	// The master key (sealing TOTP secrets) is in ./var of the working directory, shared by the
	// tools and the server as a deployment shares it.
	r := c.mustRun("", "migrate", "--postgres", dsn)
	var m struct {
		Migrated bool
		Applied  []int
	}
	decodeOne(t, r.stdout, &m)
	if !m.Migrated || len(m.Applied) == 0 {
		t.Fatalf("migrate --postgres: %s", r.stdout)
	}
	c.mustRun("", "migrate", "--postgres", dsn) // again: nothing to do, no error

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

	out := c.rebuild("--postgres", dsn, "--projection", "audit")
	counts, _ := out["rebuilt"].(map[string]any)
	if n := number(counts["audit"]); len(counts) != 1 || n <= 0 {
		t.Errorf("rebuild --projection audit: %v", out)
	}
	c.verify("--postgres", dsn)
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
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, c.bin, args...)
	cmd.Dir = c.dir
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

// serve starts `yorozu serve` on a free port and waits until /readyz answers 200.
func (c *cli) serve(args ...string) *server {
	c.t.Helper()
	addr := freeAddr(c.t)
	cmd := exec.Command(c.bin, append([]string{"serve", "--addr", addr}, args...)...)
	cmd.Dir = c.dir
	logs := &lockedBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	s := &server{t: c.t, cmd: cmd, url: "http://" + addr, logs: logs, done: make(chan struct{})}
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
		select {
		case <-s.done:
			c.t.Fatalf("serve %q exited during start: %v\n%s", args, s.err, logs)
		default:
		}
		if status, _, err := do(http.DefaultClient, "GET", s.url+"/readyz", "", nil); err == nil && status == http.StatusOK {
			return s
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("serve %q not ready within 20 s\n%s", args, logs)
		}
		time.Sleep(25 * time.Millisecond)
	}
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

func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
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
