package main

import (
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"yorozu/adapters/postgres/pgtest"
)

// staffInfo runs a `staff ...` life-cycle command and decodes the member it prints.
func (c *cli) staffCmd(stdin string, args ...string) map[string]any {
	c.t.Helper()
	r := c.mustRun(stdin, args...)
	var out map[string]any
	decodeOne(c.t, r.stdout, &out)
	return out
}

// loginAhead logs in with the code of the next 30-second step: the current step's code may
// already have been used by an earlier login of the same member in this test.
func (s *server) loginAhead(st staff) string {
	s.t.Helper()
	code, err := totp.GenerateCode(st.secret, time.Now().Add(30*time.Second))
	if err != nil {
		s.t.Fatal(err)
	}
	var out struct{ Token string }
	s.expectJSON("POST", "/api/v1/auth/login", "", map[string]string{"staffId": st.id, "password": st.password, "otp": code}, http.StatusOK, &out)
	return out.Token
}

// testCredentials: the credential life cycle on the command line, directly on the embedded
// store, then forwarded to the running server through its admin socket (where every change
// takes effect on the next request), then next to a server on PostgreSQL.
func testCredentials(t *testing.T, c *cli) {
	data := filepath.Join(c.dir, "data")
	carol := c.staffAdd(data, "carol", "operator", "carol's first password")

	// Directly on the store.
	if out := c.staffCmd("", "staff", "disable", "--id", "carol", "--data", data); out["staffId"] != "carol" || out["disabled"] != true {
		t.Fatalf("staff disable printed %v", out)
	}
	if out := c.staffCmd("", "staff", "enable", "--id", "carol", "--data", data); out["disabled"] != false || out["role"] != "operator" {
		t.Fatalf("staff enable printed %v", out)
	}
	if out := c.staffCmd("carol's second password\n", "staff", "set-password", "--id", "carol", "--data", data); out["staffId"] != "carol" {
		t.Fatalf("staff set-password printed %v", out)
	}
	carol.password = "carol's second password"
	reset := c.staffCmd("", "staff", "reset-totp", "--id", "carol", "--data", data)
	if keys := slices.Sorted(maps.Keys(reset)); !slices.Equal(keys, []string{"otpauthUrl", "role", "staffId", "totpSecret"}) || reset["totpSecret"] == carol.secret {
		t.Fatalf("staff reset-totp printed %v", reset)
	}
	carol.secret = reset["totpSecret"].(string)
	c.staffCmd("", "staff", "unlock", "--id", "carol", "--data", data)
	if r := c.run("", "staff", "disable", "--id", "nobody", "--data", data); r.code != 1 || !strings.Contains(r.stderr, "no such staff member") || r.stdout != "" {
		t.Fatalf("staff disable of nobody: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	oldKey := c.apikeyCreate(data, "old-feed", "billing")
	if out := c.staffCmd("", "apikey", "revoke", "--name", "old-feed", "--data", data); out["name"] != "old-feed" || out["revoked"] != true {
		t.Fatalf("apikey revoke printed %v", out)
	}

	// Through the running server.
	srv := c.serve("--data", data)
	tok := srv.login(carol)
	srv.expect("GET", "/api/v1/orders", tok, nil, http.StatusOK)
	srv.expect("GET", "/api/v1/billing/price-lists", oldKey, nil, http.StatusUnauthorized)

	if out := c.staffCmd("", "staff", "disable", "--id", "carol", "--data", data); out["disabled"] != true {
		t.Fatalf("forwarded staff disable printed %v", out)
	}
	srv.expect("GET", "/api/v1/orders", tok, nil, http.StatusUnauthorized)
	c.staffCmd("", "staff", "enable", "--id", "carol", "--data", data)
	tok = srv.loginAhead(carol)

	reset = c.staffCmd("", "staff", "reset-totp", "--id", "carol", "--data", data)
	srv.expect("GET", "/api/v1/orders", tok, nil, http.StatusUnauthorized)
	carol.secret = reset["totpSecret"].(string)
	tok = srv.login(carol)
	c.staffCmd("carol's third password\n", "staff", "set-password", "--id", "carol", "--data", data)
	srv.expect("GET", "/api/v1/orders", tok, nil, http.StatusUnauthorized)
	carol.password = "carol's third password"

	// Locked by failed logins, unlocked by the tool.
	for range 5 {
		srv.expect("POST", "/api/v1/auth/login", "", map[string]string{"staffId": "carol", "password": "not it", "otp": "123456"}, http.StatusUnauthorized)
	}
	if body := srv.expect("POST", "/api/v1/auth/login", "", map[string]string{"staffId": "carol", "password": "not it", "otp": "123456"}, http.StatusUnauthorized); !strings.Contains(string(body), "/problems/locked") {
		t.Fatalf("not locked after five failures: %s", body)
	}
	if out := c.staffCmd("", "staff", "unlock", "--id", "carol", "--data", data); out["locked"] != false {
		t.Fatalf("forwarded staff unlock printed %v", out)
	}
	tok = srv.loginAhead(carol)
	srv.expect("GET", "/api/v1/orders", tok, nil, http.StatusOK)

	feed := c.apikeyCreate(data, "new-feed", "billing")
	srv.expect("GET", "/api/v1/billing/price-lists", feed, nil, http.StatusOK)
	list := c.mustRun("", "apikey", "list", "--data", data)
	var keys struct {
		Items []map[string]any
	}
	decodeOne(t, list.stdout, &keys)
	if len(keys.Items) != 2 || keys.Items[0]["name"] != "new-feed" || keys.Items[1]["name"] != "old-feed" || keys.Items[1]["revoked"] != true {
		t.Fatalf("forwarded apikey list printed %s", list.stdout)
	}
	if strings.Contains(list.stdout, feed[3:]) || strings.Contains(list.stdout, "keyHash") {
		t.Fatalf("apikey list shows a key: %s", list.stdout)
	}
	c.staffCmd("", "apikey", "revoke", "--name", "new-feed", "--data", data)
	srv.expect("GET", "/api/v1/billing/price-lists", feed, nil, http.StatusUnauthorized)
	srv.stop()

	// The list without a server, folded from the log.
	decodeOne(t, c.mustRun("", "apikey", "list", "--data", data).stdout, &keys)
	if len(keys.Items) != 2 || keys.Items[0]["name"] != "new-feed" || keys.Items[0]["revoked"] != true ||
		keys.Items[0]["createdAt"] == nil || keys.Items[0]["revokedAt"] == nil {
		t.Fatalf("direct apikey list: %v", keys.Items)
	}

	// Next to a server on PostgreSQL, the tools write to the database directly: the server
	// refuses a revoked key or a disabled member's session on the very next request.
	dsn := pgtest.NewDatabase(t)
	c.mustRun("", "migrate", "--postgres", dsn)
	dan := c.staffAdd("", "dan", "auditor", "dan's password", "--postgres", dsn)
	pg := c.serve("--postgres", dsn)
	danTok := pg.login(dan)
	key := c.apikeyCreate("", "pg-feed", "billing", "--postgres", dsn)
	pg.expect("GET", "/api/v1/billing/price-lists", key, nil, http.StatusOK)
	c.staffCmd("", "apikey", "revoke", "--name", "pg-feed", "--postgres", dsn)
	pg.expect("GET", "/api/v1/billing/price-lists", key, nil, http.StatusUnauthorized)
	pg.expect("GET", "/api/v1/audit/verify", danTok, nil, http.StatusOK)
	c.staffCmd("", "staff", "disable", "--id", "dan", "--postgres", dsn)
	pg.expect("GET", "/api/v1/audit/verify", danTok, nil, http.StatusUnauthorized)
	pg.stop()
}
