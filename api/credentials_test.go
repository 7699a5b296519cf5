package api_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// okToken reports whether a bearer token is accepted.
func okToken(env *apptest.Env, token string) bool {
	return env.Do("GET", "/api/v1/audit/verify", token, nil).Status == http.StatusOK
}

func TestLogout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		s := env.AddStaff("endo", "auditor")
		first, second := env.Login(s), env.Login(s)
		r := must(t, env.Do("POST", "/api/v1/auth/logout", first, nil), http.StatusOK)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatalf("logout answer without Cache-Control: no-store: %v", r.Header)
		}
		if okToken(env, first) {
			t.Fatal("the token still works after its logout")
		}
		if !okToken(env, second) {
			t.Fatal("logging out one session ended the other")
		}
		refused(t, env, head(t, env), env.Do("POST", "/api/v1/auth/logout", first, nil), http.StatusUnauthorized)

		key := env.APIKey("logout-feed", "billing")
		if r := env.Do("POST", "/api/v1/auth/logout", key, nil); r.Status != http.StatusForbidden || problemType(r.Body) != "/problems/not-a-session" {
			t.Fatalf("logout with an API key: %d %s", r.Status, r.Body)
		}
		// The logout is an event of the staff member's stream, without the token's hash.
		var trail struct{ Items []map[string]any }
		must(t, env.Do("GET", "/api/v1/audit/events?type=StaffLoggedOut", second, nil), 200).JSON(t, &trail)
		if len(trail.Items) != 1 || trail.Items[0]["actor"] != "endo" || trail.Items[0]["stream"] != "staff-endo" {
			t.Fatalf("logout in the audit trail: %+v", trail.Items)
		}
		if data := trail.Items[0]["data"].(map[string]any); data["sessionTokenHash"] != nil {
			t.Fatalf("the audit trail shows the session token's hash: %v", data)
		}
	})
}

// Two replicas on one database: once the logout on one has answered, the other refuses the
// token on its very next request, without waiting for anything.
func TestLogoutReachesEveryReplicaAtOnce(t *testing.T) {
	dsn := pgtest.NewDatabase(t)
	a := apptest.Start(t, apptest.Postgres, apptest.Options{PostgresURL: dsn})
	b := apptest.Start(t, apptest.Postgres, apptest.Options{PostgresURL: dsn})
	b.Clock.Set(a.Clock.Now())
	for round := range 5 {
		tok := a.StaffToken("replica-"+string(rune('a'+round)), "auditor")
		if !okToken(b, tok) {
			t.Fatalf("round %d: replica b refuses a session opened on a", round)
		}
		must(t, a.Do("POST", "/api/v1/auth/logout", tok, nil), http.StatusOK)
		if okToken(b, tok) {
			t.Fatalf("round %d: replica b accepts a token logged out on a", round)
		}
	}
	key := a.APIKey("replica-feed", "billing")
	if b.Do("GET", "/api/v1/billing/price-lists", key, nil).Status != http.StatusOK {
		t.Fatal("replica b refuses a key created through a")
	}
	must(t, a.Do("POST", "/api/v1/api-keys/replica-feed/revoke", a.StaffToken("replica-op", "operator"), nil), http.StatusOK)
	if r := b.Do("GET", "/api/v1/billing/price-lists", key, nil); r.Status != http.StatusUnauthorized {
		t.Fatalf("replica b after the key's revocation on a: %d", r.Status)
	}
}

func TestDisableAndEnableStaff(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		operator := env.StaffToken("admin", "operator")
		s := env.AddStaff("fujita", "auditor")
		tok := env.Login(s)

		var info struct {
			StaffID  string
			Role     string
			Disabled bool
		}
		must(t, env.Do("POST", "/api/v1/staff/fujita/disable", operator, nil), 200).JSON(t, &info)
		if !info.Disabled || info.StaffID != "fujita" || info.Role != "auditor" {
			t.Fatalf("disable answered %+v", info)
		}
		if okToken(env, tok) {
			t.Fatal("a disabled member's session still works")
		}
		env.Clock.Advance(30 * time.Second)
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); r.Status != http.StatusUnauthorized || problemType(r.Body) != "/problems/bad-credentials" {
			t.Fatalf("a disabled member logs in: %d %s", r.Status, r.Body)
		}
		// Disabling twice changes nothing.
		before := head(t, env)
		must(t, env.Do("POST", "/api/v1/staff/fujita/disable", operator, nil), 200)
		if head(t, env) != before {
			t.Fatal("disabling a disabled member appended an event")
		}

		must(t, env.Do("POST", "/api/v1/staff/fujita/enable", operator, nil), 200).JSON(t, &info)
		if info.Disabled {
			t.Fatal("enable answered a disabled member")
		}
		if okToken(env, tok) {
			t.Fatal("enabling brought the old session back")
		}
		if !okToken(env, env.Login(s)) {
			t.Fatal("the enabled member cannot work")
		}

		// Operators only; unknown members are 404.
		auditor := env.Login(s)
		refused(t, env, head(t, env), env.Do("POST", "/api/v1/staff/admin/disable", auditor, nil), http.StatusForbidden)
		if r := env.Do("POST", "/api/v1/staff/nobody/disable", operator, nil); r.Status != http.StatusNotFound || problemType(r.Body) != "/problems/staff-not-found" {
			t.Fatalf("disable nobody: %d %s", r.Status, r.Body)
		}
		var list struct {
			Items []struct {
				StaffID  string
				Disabled bool
			}
		}
		must(t, env.Do("GET", "/api/v1/staff", operator, nil), 200).JSON(t, &list)
		if len(list.Items) != 2 || list.Items[0].StaffID != "admin" || list.Items[1].StaffID != "fujita" {
			t.Fatalf("staff list %+v", list.Items)
		}
	})
}

func TestTOTPReset(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		operator := env.StaffToken("admin", "operator")
		s := env.AddStaff("hayashi", "operator")
		tok := env.Login(s)
		r := must(t, env.Do("POST", "/api/v1/staff/hayashi/reset-totp", operator, nil), 200)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the new TOTP secret is cacheable")
		}
		var enr struct{ StaffID, TOTPSecret, OtpauthURL string }
		r.JSON(t, &enr)
		if len(enr.TOTPSecret) != 32 || enr.TOTPSecret == s.Secret || !strings.Contains(enr.OtpauthURL, enr.TOTPSecret) {
			t.Fatalf("reset answered %+v", enr)
		}
		if okToken(env, tok) {
			t.Fatal("a session survived the TOTP reset")
		}
		env.Clock.Advance(30 * time.Second)
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); r.Status != http.StatusUnauthorized {
			t.Fatalf("a code of the old secret: %d", r.Status)
		}
		s.Secret = enr.TOTPSecret
		env.Login(s)
		// The new secret is nowhere in the log in clear, nor in the audit trail at all.
		trail := string(must(t, env.Do("GET", "/api/v1/audit/events?stream=staff-hayashi", operator, nil), 200).Body)
		if strings.Contains(trail, enr.TOTPSecret) || strings.Contains(trail, "sealedTotpSecret") {
			t.Fatal("the audit trail shows the TOTP secret")
		}
		for _, rec := range readAll(t, env, 0) {
			if strings.Contains(string(rec.Data), enr.TOTPSecret) {
				t.Fatalf("%s holds the TOTP secret in clear", rec.Type)
			}
		}
	})
}

func TestPasswordChanges(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		operator := env.StaffToken("admin", "operator")
		s := env.AddStaff("ishii", "auditor")
		tok, other := env.Login(s), env.Login(s)

		change := func(token, current, next string) *apptest.Response {
			return env.Do("POST", "/api/v1/auth/password", token, map[string]string{"currentPassword": current, "newPassword": next})
		}
		if r := change(tok, "not my password", "a brand new password"); r.Status != http.StatusForbidden || problemType(r.Body) != "/problems/wrong-current-password" {
			t.Fatalf("wrong current password: %d %s", r.Status, r.Body)
		}
		if r := change(tok, s.Password, "short"); r.Status != http.StatusUnprocessableEntity {
			t.Fatalf("a too short password: %d %s", r.Status, r.Body)
		}
		if r := env.Do("POST", "/api/v1/auth/password", tok, map[string]string{}); r.Status != http.StatusUnprocessableEntity || len(r.Map(t)["errors"].([]any)) != 2 {
			t.Fatalf("an empty body: %d %s", r.Status, r.Body)
		}
		must(t, change(tok, s.Password, "a brand new password"), 200)
		if okToken(env, tok) || okToken(env, other) {
			t.Fatal("a session survived the password change")
		}
		env.Clock.Advance(30 * time.Second)
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); r.Status != http.StatusUnauthorized {
			t.Fatalf("the old password: %d", r.Status)
		}
		s.Password = "a brand new password"
		tok = env.Login(s)

		// An operator sets it (a forgotten password).
		r := must(t, env.Do("PUT", "/api/v1/staff/ishii/password", operator, map[string]string{"password": "set by the operator"}), 200)
		if r.Header.Get("Idempotent-Replayed") != "" {
			t.Fatal("replayed")
		}
		if okToken(env, tok) {
			t.Fatal("a session survived the operator's password change")
		}
		s.Password = "set by the operator"
		auditor := env.Login(s)
		refused(t, env, head(t, env), env.Do("PUT", "/api/v1/staff/admin/password", auditor, map[string]string{"password": "taken over!!"}), http.StatusForbidden)

		// Neither password nor hash is in the audit trail.
		trail := string(must(t, env.Do("GET", "/api/v1/audit/events?type=StaffPasswordChanged", operator, nil), 200).Body)
		if strings.Contains(trail, "argon2id") || strings.Contains(trail, "set by the operator") || !strings.Contains(trail, `"actor":"admin"`) {
			t.Fatalf("audit trail of the password changes: %s", trail)
		}
	})
}

func TestAPIKeys(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		operator := env.StaffToken("admin", "operator")
		cliKey := env.APIKey("cli-feed", "billing")

		r := must(t, env.Do("POST", "/api/v1/api-keys", operator, map[string]string{"name": "http-feed", "role": "billing"}), http.StatusCreated)
		if r.Header.Get("Cache-Control") != "no-store" {
			t.Fatal("the created key is cacheable")
		}
		var created struct{ Name, Role, Key string }
		r.JSON(t, &created)
		if !strings.HasPrefix(created.Key, "yk_") || created.Role != "billing" {
			t.Fatalf("created %+v", created)
		}
		if env.Do("GET", "/api/v1/billing/price-lists", created.Key, nil).Status != http.StatusOK {
			t.Fatal("the created key does not work")
		}
		if r := env.Do("POST", "/api/v1/api-keys", operator, map[string]string{"name": "http-feed", "role": "billing"}); r.Status != http.StatusConflict {
			t.Fatalf("a second key of one name: %d %s", r.Status, r.Body)
		}

		must(t, env.Do("POST", "/api/v1/api-keys/cli-feed/revoke", operator, nil), 200)
		if r := env.Do("GET", "/api/v1/billing/price-lists", cliKey, nil); r.Status != http.StatusUnauthorized {
			t.Fatalf("a revoked key answers %d", r.Status)
		}
		if r := env.Do("POST", "/api/v1/api-keys/nope/revoke", operator, nil); r.Status != http.StatusNotFound || problemType(r.Body) != "/problems/api-key-not-found" {
			t.Fatalf("revoke an unknown key: %d %s", r.Status, r.Body)
		}

		list := must(t, env.Do("GET", "/api/v1/api-keys", operator, nil), 200)
		var keys struct {
			Items []struct {
				Name, Role string
				CreatedAt  *time.Time
				Revoked    bool
				RevokedAt  *time.Time
			}
		}
		list.JSON(t, &keys)
		if len(keys.Items) != 2 || keys.Items[0].Name != "cli-feed" || !keys.Items[0].Revoked || keys.Items[0].RevokedAt == nil ||
			keys.Items[1].Name != "http-feed" || keys.Items[1].Revoked || keys.Items[1].CreatedAt == nil {
			t.Fatalf("key list %s", list.Body)
		}
		body := string(list.Body)
		if strings.Contains(body, created.Key) || strings.Contains(body, created.Key[3:]) || strings.Contains(body, "keyHash") {
			t.Fatalf("the key list shows a key or its hash: %s", body)
		}
		var page struct {
			Items []any
			Next  *string
		}
		must(t, env.Do("GET", "/api/v1/api-keys?limit=1", operator, nil), 200).JSON(t, &page)
		if len(page.Items) != 1 || page.Next == nil {
			t.Fatalf("first page of one: %+v", page)
		}
		must(t, env.Do("GET", "/api/v1/api-keys?limit=1&after="+*page.Next, operator, nil), 200).JSON(t, &page)
		if len(page.Items) != 1 || page.Next != nil {
			t.Fatalf("second page of one: %+v", page)
		}
		refused(t, env, head(t, env), env.Do("GET", "/api/v1/api-keys", created.Key, nil), http.StatusForbidden)
	})
}

// The allow-list applies to every request of a staff session, not only the login; API keys of
// service accounts are not bound to it.
func TestAllowListAppliesToEveryStaffRequest(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{Configure: func(c *app.Config) {
		c.AllowCIDRs = []string{"127.0.0.0/8", "10.20.0.0/16"}
	}})
	tok := env.StaffToken("nishida", "operator")
	key := env.APIKey("outside-feed", "billing")
	from := func(addr, method, path, token string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(method, "http://yorozu"+path, nil)
		req.RemoteAddr = addr
		req.Header.Set("Authorization", "Bearer "+token)
		rec := httptest.NewRecorder()
		env.App.Handler.ServeHTTP(rec, req)
		return rec
	}
	if rec := from("10.20.3.4:5555", "GET", "/api/v1/orders", tok); rec.Code != http.StatusOK {
		t.Fatalf("a session from an allowed network: %d %s", rec.Code, rec.Body)
	}
	before := head(t, env)
	for _, path := range []string{"/api/v1/orders", "/api/v1/contracts", "/api/v1/audit/events"} {
		rec := from("192.0.2.7:5555", "GET", path, tok)
		if rec.Code != http.StatusForbidden || problemType(rec.Body.Bytes()) != "/problems/network-not-allowed" {
			t.Fatalf("a session from outside the allow-list on %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := from("192.0.2.7:5555", "POST", "/api/v1/auth/logout", tok); rec.Code != http.StatusForbidden {
		t.Fatalf("logout from outside: %d", rec.Code)
	}
	if head(t, env) != before {
		t.Fatal("requests from outside the allow-list appended events (reads recorded?)")
	}
	if rec := from("192.0.2.7:5555", "GET", "/api/v1/billing/price-lists", key); rec.Code != http.StatusOK {
		t.Fatalf("an API key from the billing system's network: %d %s", rec.Code, rec.Body)
	}
}

// Answers that carry a token or personal data are not to be cached.
func TestNoStore(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	s := env.AddStaff("cache", "operator")
	env.Clock.Advance(30 * time.Second)
	r := loginAs(env, s.ID, s.Password, env.Code(s, 0))
	var login struct{ Token string }
	r.JSON(t, &login)
	tok := login.Token
	id := submit(t, env, tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"}))
	answers := map[string]*apptest.Response{
		"login":         r,
		"order":         env.Do("GET", "/api/v1/orders/"+id, tok, nil),
		"orders":        env.Do("GET", "/api/v1/orders", tok, nil),
		"contracts":     env.Do("GET", "/api/v1/contracts", tok, nil),
		"audit":         env.Do("GET", "/api/v1/audit/events", tok, nil),
		"missing":       env.Do("GET", "/api/v1/contracts/N999999999/history", tok, nil),
		"api key":       env.Do("POST", "/api/v1/api-keys", tok, map[string]string{"name": "k", "role": "billing"}),
		"api key list":  env.Do("GET", "/api/v1/api-keys", tok, nil),
		"staff list":    env.Do("GET", "/api/v1/staff", tok, nil),
		"submit answer": env.Do("POST", "/api/v1/orders", tok, form(t, "new", map[string]any{"appliedOn": "2025/7/1", "desiredDate": "2025/7/1"})),
	}
	for name, r := range answers {
		if r.Status >= 500 || r.Header.Get("Cache-Control") != "no-store" {
			t.Errorf("%s: %d, Cache-Control %q", name, r.Status, r.Header.Get("Cache-Control"))
		}
	}
}
