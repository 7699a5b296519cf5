// Package apptest runs the whole service in-process for HTTP-level tests: the real composition
// root on a temporary embedded store or a throwaway PostgreSQL database, a controllable clock,
// and helpers to log in as staff and call the API as a client would.
package apptest

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
)

// Clock is a settable clock shared by the service and the test.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// Now returns the current fake time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.now = t
	c.mu.Unlock()
}

// Advance moves the clock forward.
func (c *Clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

// Engine selects the stores.
type Engine string

const (
	Embedded Engine = "embedded"
	Postgres Engine = "postgres"
)

// Options tune Start.
type Options struct {
	// DataDir reuses a data directory (a restart); empty means a new temporary one.
	DataDir string
	// PostgresURL reuses a database (a restart on PostgreSQL).
	PostgresURL string
	// Now is the initial fake time; default 2025-07-01 10:00 JST.
	Now time.Time
	// Configure may change the service configuration before it starts.
	Configure func(*app.Config)
}

// Env is one running service.
type Env struct {
	t      testing.TB
	App    *app.App
	Server *httptest.Server
	Clock  *Clock
	Config app.Config
	stop   context.CancelFunc
}

// Start runs the service on engine. PostgreSQL tests need pgtest.Main in their TestMain.
func Start(t testing.TB, engine Engine, opts Options) *Env {
	t.Helper()
	if opts.Now.IsZero() {
		opts.Now = time.Date(2025, 7, 1, 1, 0, 0, 0, time.UTC)
	}
	clock := &Clock{now: opts.Now}
	cfg := app.Config{
		DataDir:        opts.DataDir,
		Clock:          clock.Now,
		Logger:         slog.New(slog.NewTextHandler(io.Discard, nil)),
		ReadYourWrites: 5 * time.Second,
		// The fake clock jumps days and months; sessions outlive it unless a test says otherwise.
		SessionTTL: 10 * 365 * 24 * time.Hour,
		// Tests drive the order process manager by hand (env.App.ProcessManager.Tick).
		SchedulerInterval: -1,
	}
	if cfg.DataDir == "" {
		cfg.DataDir = t.TempDir()
	}
	if engine == Postgres {
		cfg.PostgresURL = opts.PostgresURL
		if cfg.PostgresURL == "" {
			cfg.PostgresURL = pgtest.NewDatabase(t)
		}
		cfg.Migrate = true
	}
	if opts.Configure != nil {
		opts.Configure(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	a, err := app.New(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("start service (%s): %v", engine, err)
	}
	if err := a.Start(ctx); err != nil {
		cancel()
		a.Close()
		t.Fatalf("start service (%s): %v", engine, err)
	}
	e := &Env{t: t, App: a, Clock: clock, Config: cfg, stop: cancel}
	// The service's own HTTP server (deadlines) and connection limit, on a local port.
	e.Server = httptest.NewUnstartedServer(a.Handler)
	e.Server.Config = a.HTTPServer()
	e.Server.Listener = a.LimitConnections(e.Server.Listener, true)
	e.Server.Start()
	t.Cleanup(e.Stop)
	e.WaitReady()
	return e
}

// Stop shuts the service down (idempotent).
func (e *Env) Stop() {
	if e.Server == nil {
		return
	}
	e.Server.Close()
	e.stop()
	e.App.Close()
	e.Server = nil
}

// WaitReady waits until /readyz answers 200.
func (e *Env) WaitReady() {
	e.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r := e.Do("GET", "/readyz", "", nil); r.Status == http.StatusOK {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	e.t.Fatalf("service not ready within 30 s: %s", e.Do("GET", "/readyz", "", nil).Body)
}

// Response is an HTTP answer.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// JSON decodes the body into v, failing the test if it is not JSON.
func (r *Response) JSON(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("response %d is not JSON (%v): %s", r.Status, err, r.Body)
	}
}

// Map decodes the body into a generic object.
func (r *Response) Map(t testing.TB) map[string]any {
	var m map[string]any
	r.JSON(t, &m)
	return m
}

// Do sends a request with an optional bearer token and JSON body (a string or []byte is sent
// as is, anything else is marshalled). Extra headers come in pairs.
func (e *Env) Do(method, path, token string, body any, headers ...string) *Response {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, e.Server.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	resp, err := e.Server.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: raw}
}

// Staff is a registered staff member.
type Staff struct {
	ID, Password, Secret string
}

// AddStaff registers a staff member through the same path as `yorozu staff add`.
func (e *Env) AddStaff(id, role string) Staff {
	e.t.Helper()
	pw := "correct horse battery " + id
	en, err := e.App.AddStaff(context.Background(), id, role, pw)
	if err != nil {
		e.t.Fatalf("add staff %s: %v", id, err)
	}
	return Staff{ID: id, Password: pw, Secret: en.TOTPSecret}
}

// Code is the staff member's TOTP code at the fake clock's time plus offset.
func (e *Env) Code(s Staff, offset time.Duration) string {
	e.t.Helper()
	c, err := totp.GenerateCode(s.Secret, e.Clock.Now().Add(offset))
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

// Login logs in with a fresh code (advancing the clock one TOTP step so codes never repeat).
func (e *Env) Login(s Staff) string {
	e.t.Helper()
	e.Clock.Advance(30 * time.Second)
	r := e.Do("POST", "/api/v1/auth/login", "", map[string]string{"staffId": s.ID, "password": s.Password, "otp": e.Code(s, 0)})
	if r.Status != http.StatusOK {
		e.t.Fatalf("login %s: %d %s", s.ID, r.Status, r.Body)
	}
	var out struct{ Token string }
	r.JSON(e.t, &out)
	return out.Token
}

// StaffToken adds a staff member with role and logs in.
func (e *Env) StaffToken(id, role string) string {
	return e.Login(e.AddStaff(id, role))
}

// APIKey creates an API key through the same path as `yorozu apikey create`.
func (e *Env) APIKey(name, role string) string {
	e.t.Helper()
	k, err := e.App.CreateAPIKey(context.Background(), name, role)
	if err != nil {
		e.t.Fatalf("create API key %s: %v", name, err)
	}
	return k.Key
}
