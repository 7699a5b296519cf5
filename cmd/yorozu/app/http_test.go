package app_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// giveUp is how long these tests wait for the server to act on a deadline of one second before
// they call it held open.
const giveUp = 15 * time.Second

// dial opens a raw connection to the test server.
func dial(t *testing.T, env *apptest.Env) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", env.Server.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// closedByServer reads c until the server closes it (or giveUp passes, which fails the test)
// and returns what the server sent.
func closedByServer(t *testing.T, c net.Conn, what string) string {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(giveUp)); err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(c)
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		t.Fatalf("%s: the connection is still open after %v (deadline 1 s); received %q", what, giveUp, got)
	}
	return string(got) // EOF, or a reset after the answer
}

// A request whose headers or body have not fully arrived within the deadline is cut
// off, and idle connections are closed. The deadline is 60 s; here it is 1 s.
func TestSlowClientsAreCutOff(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) {
		c.ReadHeaderTimeout, c.ReadTimeout, c.IdleTimeout = time.Second, time.Second, time.Second
	}})

	t.Run("headers never finished", func(t *testing.T) {
		c := dial(t, env)
		if _, err := io.WriteString(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: yorozu\r\n"); err != nil {
			t.Fatal(err)
		}
		closedByServer(t, c, "headers that never end")
	})

	t.Run("body never finished", func(t *testing.T) {
		c := dial(t, env)
		_, err := io.WriteString(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: yorozu\r\nContent-Type: application/json\r\n"+
			"Content-Length: 1000\r\n\r\n{\"staffId\":")
		if err != nil {
			t.Fatal(err)
		}
		got := closedByServer(t, c, "a body of which 11 of 1000 bytes arrived")
		if strings.HasPrefix(got, "HTTP/1.1 2") {
			t.Errorf("a request whose body never arrived was answered %q", firstLine(got))
		}
	})

	t.Run("idle connection", func(t *testing.T) {
		c := dial(t, env)
		if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: yorozu\r\n\r\n"); err != nil {
			t.Fatal(err)
		}
		if err := c.SetReadDeadline(time.Now().Add(giveUp)); err != nil {
			t.Fatal(err)
		}
		br := bufio.NewReader(c)
		resp, err := http.ReadResponse(br, nil)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK || resp.Close {
			t.Fatalf("GET /healthz: %d, close %v; want 200 on a kept-alive connection", resp.StatusCode, resp.Close)
		}
		if rest, err := io.ReadAll(br); errors.Is(err, os.ErrDeadlineExceeded) {
			t.Fatalf("the idle connection is still open after %v (idle timeout 1 s); received %q", giveUp, rest)
		}
	})

	t.Run("a body sent in pieces within the deadline is served", func(t *testing.T) {
		c := dial(t, env)
		body := `{"staffId":"nobody","password":"a wrong password","otp":"123456"}`
		_, err := io.WriteString(c, "POST /api/v1/auth/login HTTP/1.1\r\nHost: yorozu\r\nContent-Type: application/json\r\n"+
			"Connection: close\r\nContent-Length: "+strconv.Itoa(len(body))+"\r\n\r\n"+body[:10])
		if err != nil {
			t.Fatal(err)
		}
		time.Sleep(200 * time.Millisecond)
		if _, err := io.WriteString(c, body[10:]); err != nil {
			t.Fatal(err)
		}
		got := closedByServer(t, c, "a complete login")
		if !strings.HasPrefix(got, "HTTP/1.1 401") {
			t.Errorf("a login whose body came in two pieces: %q; want the 401 of unknown credentials", firstLine(got))
		}
	})
}

// One connection beyond the limit is answered 503 at once; a closed connection frees its place.
func TestConnectionsBeyondTheLimitAreRefused(t *testing.T) {
	const limit = 3
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) { c.MaxConnections = limit }})
	// The readiness probe's kept-alive connection holds a place until the server sees it go.
	env.Server.Client().CloseIdleConnections()
	waitServed(t, env)

	held := make([]net.Conn, limit)
	for i := range held {
		held[i] = dial(t, env) // accepted in order, each holding a place while it sends nothing
	}
	c := dial(t, env)
	if _, err := io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: yorozu\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	got := closedByServer(t, c, "a connection beyond the limit")
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(got)), nil)
	if err != nil {
		t.Fatalf("the connection beyond the limit got %q: %v", got, err)
	}
	var p struct{ Type, RequestID string }
	if err := json.NewDecoder(resp.Body).Decode(&p); err != nil || resp.StatusCode != http.StatusServiceUnavailable ||
		resp.Header.Get("Retry-After") == "" || p.Type != "/problems/too-many-connections" ||
		resp.Header.Get("Content-Type") != "application/problem+json" || p.RequestID == "" ||
		resp.Header.Get("X-Request-ID") != p.RequestID {
		t.Fatalf("beyond the limit: %d %v %+v (%v); want a 503 problem with Retry-After", resp.StatusCode, resp.Header, p, err)
	}

	held[0].Close()
	waitServed(t, env)
}

// waitServed waits until a new connection is served (its place freed by a closed one).
func waitServed(t *testing.T, env *apptest.Env) {
	t.Helper()
	deadline := time.Now().Add(giveUp)
	for {
		c := dial(t, env)
		_, _ = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: yorozu\r\nConnection: close\r\n\r\n")
		_ = c.SetReadDeadline(time.Now().Add(giveUp))
		got, _ := io.ReadAll(c)
		c.Close()
		if strings.HasPrefix(string(got), "HTTP/1.1 200") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("no connection served within %v: last answer %q", giveUp, firstLine(string(got)))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Every problem carries the request ID; a known path with another method is 405 with
// Allow.
func TestUnknownPathsAndMethodsAreProblemsWithARequestID(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	cases := []struct {
		method, path string
		status       int
		allow        string
	}{
		{"GET", "/api/v1/no-such-thing", http.StatusNotFound, ""},
		{"GET", "/nope", http.StatusNotFound, ""},
		{"DELETE", "/api/v1/orders", http.StatusMethodNotAllowed, "GET, POST"},
		{"PATCH", "/api/v1/orders/0197a2b4-0000-7000-8000-000000000000", http.StatusMethodNotAllowed, "GET, PUT"},
		{"POST", "/healthz", http.StatusMethodNotAllowed, "GET"},
	}
	for _, tc := range cases {
		for _, sent := range []string{"", "client-chosen-id-1"} {
			var headers []string
			if sent != "" {
				headers = []string{"X-Request-ID", sent}
			}
			r := env.Do(tc.method, tc.path, "", nil, headers...)
			var p struct {
				Type, RequestID string
				Status          int
			}
			r.JSON(t, &p)
			id := r.Header.Get("X-Request-ID")
			if r.Status != tc.status || p.Status != tc.status || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("%s %s: %d %s; want a %d problem", tc.method, tc.path, r.Status, r.Body, tc.status)
			}
			if id == "" || p.RequestID != id || (sent != "" && id != sent) {
				t.Errorf("%s %s: requestId %q, X-Request-ID %q (sent %q); want the same ID in both", tc.method, tc.path, p.RequestID, id, sent)
			}
			if got := r.Header.Get("Allow"); got != tc.allow {
				t.Errorf("%s %s: Allow %q, want %q", tc.method, tc.path, got, tc.allow)
			}
		}
	}
}

// Final invoices name the issuer and its registration number, from configuration.
// Without them a month cannot be closed; with them it can.
func TestClosingAMonthNeedsTheIssuer(t *testing.T) {
	for _, engine := range []apptest.Engine{apptest.Embedded, apptest.Postgres} {
		t.Run(string(engine), func(t *testing.T) {
			env := apptest.Start(t, engine, apptest.Options{})
			op := env.AddStaff("op", "operator")
			tok := env.Login(op)
			publishPrices(t, env, tok)
			env.Clock.Set(time.Date(2025, 8, 5, 1, 0, 0, 0, time.UTC))
			tok = env.Login(op)

			r := env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil)
			var p struct{ Type, Detail string }
			r.JSON(t, &p)
			if r.Status != http.StatusConflict || p.Type != "/problems/no-issuer" || !strings.Contains(p.Detail, "issuer") ||
				!strings.Contains(p.Detail, "registration number") {
				t.Fatalf("close without an issuer: %d %s; want 409 /problems/no-issuer saying what is missing", r.Status, r.Body)
			}

			// The same store, restarted with the issuer configured.
			dataDir, dsn := env.Config.DataDir, env.Config.PostgresURL
			env.Stop()
			env = apptest.Start(t, engine, apptest.Options{DataDir: dataDir, PostgresURL: dsn,
				Now: time.Date(2025, 8, 5, 2, 0, 0, 0, time.UTC), Configure: func(c *app.Config) {
					c.Issuer, c.RegistrationNumber = "株式会社よろず", "T9876543210987"
				}})
			tok = env.Login(op)
			r = env.Do("POST", "/api/v1/billing/months/2025-07/close", tok, nil)
			var closed struct {
				Status string
				Issuer struct{ Name, RegistrationNumber string }
			}
			r.JSON(t, &closed)
			if r.Status != http.StatusOK || closed.Status != "closed" || closed.Issuer.Name != "株式会社よろず" ||
				closed.Issuer.RegistrationNumber != "T9876543210987" {
				t.Fatalf("close with the issuer configured: %d %s", r.Status, r.Body)
			}
		})
	}
}

func publishPrices(t *testing.T, env *apptest.Env, tok string) {
	t.Helper()
	r := env.Do("POST", "/api/v1/billing/price-lists", tok, map[string]any{"effectiveFrom": "2025-04", "baseMenu": 5000,
		"healthCheckIdAddition": 500, "webFiltering": 300, "securityTicket": 10000, "taxRate": "0.10"})
	if r.Status != http.StatusCreated && r.Status != http.StatusOK {
		t.Fatalf("publish a price list: %d %s", r.Status, r.Body)
	}
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\r\n")
	return line
}
