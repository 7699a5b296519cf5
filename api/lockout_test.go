package api_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/domain/event"
)

// loginAs posts a login; headers come in pairs.
func loginAs(env *apptest.Env, id, pw, otp string, headers ...string) *apptest.Response {
	return env.Do("POST", "/api/v1/auth/login", "", map[string]string{"staffId": id, "password": pw, "otp": otp}, headers...)
}

// wrongCode is a six-digit code that is not the staff member's current one.
func wrongCode(env *apptest.Env, s apptest.Staff) string {
	for _, c := range []string{"000000", "111111"} {
		if c != env.Code(s, 0) && c != env.Code(s, -30*time.Second) && c != env.Code(s, 30*time.Second) {
			return c
		}
	}
	return "222222"
}

func typesOf(recs []event.Record) []string {
	out := make([]string, len(recs))
	for i, r := range recs {
		out[i] = r.Type
	}
	return out
}

// Five failed logins in a row lock a staff ID for 15 minutes: 300 wrong one-time codes and then
// the right one answer 401 locked, the log holds five failures and one lock (a locked ID's
// attempts cost nothing and grow nothing), and the lock ends by itself or by an operator.
func TestLockout(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		operator := env.StaffToken("lock-operator", "operator")
		s := env.AddStaff("tanaka", "operator")
		env.Clock.Advance(time.Minute)
		before := head(t, env)

		for i := range 300 {
			r := loginAs(env, s.ID, s.Password, wrongCode(env, s))
			want := "/problems/bad-credentials"
			if i >= 5 {
				want = "/problems/locked"
			}
			if r.Status != http.StatusUnauthorized || problemType(r.Body) != want {
				t.Fatalf("attempt %d: %d %s, want 401 %s", i+1, r.Status, r.Body, want)
			}
		}
		r := loginAs(env, s.ID, s.Password, env.Code(s, 0))
		if r.Status != http.StatusUnauthorized || problemType(r.Body) != "/problems/locked" {
			t.Fatalf("the right credentials while locked: %d %s", r.Status, r.Body)
		}
		if ra, err := strconv.Atoi(r.Header.Get("Retry-After")); err != nil || ra < 14*60 || ra > 15*60 {
			t.Fatalf("Retry-After %q, want the seconds left of the 15 minutes", r.Header.Get("Retry-After"))
		}
		got := strings.Join(typesOf(readAll(t, env, before)), ",")
		if want := "StaffLoginFailed,StaffLoginFailed,StaffLoginFailed,StaffLoginFailed,StaffLoginFailed,StaffLocked"; got != want {
			t.Fatalf("appended %s, want %s", got, want)
		}

		// The failures and the lock are in the audit trail, with the staff ID as actor.
		var trail struct {
			Items []struct{ Type, Actor, Stream string }
		}
		must(t, env.Do("GET", "/api/v1/audit/events?stream=staff-tanaka&type=StaffLocked", operator, nil), 200).JSON(t, &trail)
		if len(trail.Items) != 1 || trail.Items[0].Actor != "tanaka" {
			t.Fatalf("audit trail of the lock: %+v", trail.Items)
		}
		var info struct {
			Locked      bool
			LockedUntil *time.Time
		}
		must(t, env.Do("GET", "/api/v1/staff/tanaka", operator, nil), 200).JSON(t, &info)
		if !info.Locked || info.LockedUntil == nil {
			t.Fatalf("the operator does not see the lock: %+v", info)
		}

		// The lock ends after 15 minutes.
		env.Clock.Advance(15 * time.Minute)
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); r.Status != http.StatusOK {
			t.Fatalf("login after the lock: %d %s", r.Status, r.Body)
		}

		// Locked again, then unlocked by an operator.
		env.Clock.Advance(time.Minute)
		for range 5 {
			loginAs(env, s.ID, "wrong password", env.Code(s, 0))
		}
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); problemType(r.Body) != "/problems/locked" {
			t.Fatalf("not locked again: %d %s", r.Status, r.Body)
		}
		must(t, env.Do("POST", "/api/v1/staff/tanaka/unlock", operator, nil), 200)
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); r.Status != http.StatusOK {
			t.Fatalf("login after the operator's unlock: %d %s", r.Status, r.Body)
		}
	})
}

// A staff ID nobody has answers exactly as a known one: bad credentials five times, then
// locked; the attempts are recorded in a stream of its own, never a staff stream.
func TestUnknownIDLocksLikeAKnownOne(t *testing.T) {
	forEachEngine(t, func(t *testing.T, engine apptest.Engine) {
		env := apptest.Start(t, engine, apptest.Options{})
		known := env.AddStaff("kato", "auditor")
		before := head(t, env)
		for i := range 6 {
			k := loginAs(env, known.ID, "wrong password", "123456")
			u := loginAs(env, "nobody-at-all", "wrong password", "123456")
			if k.Status != u.Status || problemType(k.Body) != problemType(u.Body) || k.Header.Get("Retry-After") != u.Header.Get("Retry-After") {
				t.Fatalf("attempt %d: known ID %d %s, unknown ID %d %s", i+1, k.Status, k.Body, u.Status, u.Body)
			}
		}
		for _, rec := range readAll(t, env, before) {
			if rec.Stream != "staff-kato" && !strings.HasPrefix(rec.Stream, "unknownstaff-?") {
				t.Fatalf("a login attempt wrote to %s", rec.Stream)
			}
			if strings.Contains(rec.Stream+rec.Actor+string(rec.Data), "nobody-at-all") {
				t.Fatalf("the unknown ID is in the log in clear: %s %s %s", rec.Stream, rec.Actor, rec.Data)
			}
		}
		if r := loginAs(env, "nobody-at-all", "wrong password", "123456"); problemType(r.Body) != "/problems/locked" {
			t.Fatalf("the unknown ID is not locked: %s", r.Body)
		}
		// Adding the ID later starts a fresh account: the earlier attempts stay on record only.
		s := env.AddStaff("nobody-at-all", "operator")
		if r := loginAs(env, s.ID, s.Password, env.Code(s, 0)); r.Status != http.StatusOK {
			t.Fatalf("a new member under a once-unknown ID: %d %s", r.Status, r.Body)
		}
	})
}

// Sending one Idempotency-Key with every attempt does not make the failures one: each is
// counted, and the fifth locks.
func TestRepeatedIdempotencyKeyDoesNotEscapeTheLockout(t *testing.T) {
	env := apptest.Start(t, apptest.Embedded, apptest.Options{})
	s := env.AddStaff("sasaki", "operator")
	for range 5 {
		loginAs(env, s.ID, "wrong password", env.Code(s, 0), "Idempotency-Key", "same-key")
	}
	if r := loginAs(env, s.ID, s.Password, env.Code(s, 0), "Idempotency-Key", "same-key"); problemType(r.Body) != "/problems/locked" {
		t.Fatalf("five failures with one Idempotency-Key did not lock: %d %s", r.Status, r.Body)
	}
	st, ok := env.App.Directory.Staff("sasaki")
	if !ok || !st.LockedAt(env.Clock.Now()) {
		t.Fatal("the directory does not show the lock")
	}
}
