package access_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"yorozu/domain/access"
	"yorozu/domain/event"
)

const password = "correct horse battery"

// t0 is a fixed instant in the middle of a 30-second step.
var t0 = time.Date(2026, 4, 1, 0, 0, 15, 0, time.UTC)

func testPolicy(t *testing.T) access.Policy {
	t.Helper()
	key := bytes.Repeat([]byte{7}, 32)
	box, err := access.NewAESGCMBox(key, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	// A cheap argon2id cost keeps the tests fast; production uses DefaultPasswordParams.
	return access.Policy{Secrets: box, Password: access.PasswordParams{MemoryKiB: 64, Iterations: 1, Parallelism: 1}}
}

func addStaff(t *testing.T, p access.Policy, id string, role access.Role) (access.Staff, access.Enrollment, []access.Event) {
	t.Helper()
	evs, enr, err := p.AddStaff(access.Staff{}, access.NewStaff{ID: id, Role: role, Password: password}, rand.Reader)
	if err != nil {
		t.Fatalf("add staff: %v", err)
	}
	return access.StaffFromHistory(evs...), enr, evs
}

func code(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogin(t *testing.T) {
	p := testPolicy(t)
	fresh, enr, added := addStaff(t, p, "sato", access.RoleOperator)
	step := 30 * time.Second
	// afterLogin is the state after a login with the code of t0's step.
	afterLogin := func(t *testing.T) access.Staff {
		evs, _, err := p.Login(fresh, access.LoginAttempt{StaffID: "sato", Password: password, OTP: code(t, enr.TOTPSecret, t0)}, t0, rand.Reader)
		if err != nil {
			t.Fatalf("first login: %v", err)
		}
		return access.StaffFromHistory(append(added[:len(added):len(added)], evs...)...)
	}

	tests := []struct {
		name       string
		state      func(t *testing.T) access.Staff
		password   string
		code       func(t *testing.T) string
		wantReason access.FailureReason // "" means success
		wantEvent  string
		unknownID  bool
		staffID    func() string
	}{
		{
			name: "right password and current code", state: func(*testing.T) access.Staff { return fresh },
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0) },
			wantEvent: access.TypeStaffLoggedIn,
		},
		{
			name: "wrong password", state: func(*testing.T) access.Staff { return fresh },
			password: "not the password", code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0) },
			wantReason: access.ReasonWrongPassword, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "wrong one-time code", state: func(*testing.T) access.Staff { return fresh },
			password: password, code: func(t *testing.T) string { return otherCode(code(t, enr.TOTPSecret, t0)) },
			wantReason: access.ReasonWrongOTP, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "code two steps old", state: func(*testing.T) access.Staff { return fresh },
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0.Add(-2*step)) },
			wantReason: access.ReasonWrongOTP, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "malformed code", state: func(*testing.T) access.Staff { return fresh },
			password: password, code: func(*testing.T) string { return "12a456" },
			wantReason: access.ReasonWrongOTP, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "same code again after a login (same step)", state: afterLogin,
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0) },
			wantReason: access.ReasonOTPReused, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "code of the previous step", state: func(*testing.T) access.Staff { return fresh },
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0.Add(-step)) },
			wantEvent: access.TypeStaffLoggedIn,
		},
		{
			name: "code of the next step (phone clock ahead)", state: func(*testing.T) access.Staff { return fresh },
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0.Add(step)) },
			wantEvent: access.TypeStaffLoggedIn,
		},
		{
			name: "code of the previous step after a login with the current step", state: afterLogin,
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0.Add(-step)) },
			wantReason: access.ReasonOTPReused, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "unknown staff ID", state: func(*testing.T) access.Staff { return access.Staff{} }, unknownID: true,
			password: password, code: func(*testing.T) string { return "123456" },
			wantReason: access.ReasonUnknownStaff, wantEvent: access.TypeLoginFailed,
		},
		{
			name: "disabled staff member", state: func(t *testing.T) access.Staff {
				evs, err := fresh.Disable(t0)
				if err != nil {
					t.Fatal(err)
				}
				return fresh.Evolve(evs[0])
			},
			password: password, code: func(t *testing.T) string { return code(t, enr.TOTPSecret, t0) },
			wantReason: access.ReasonDisabled, wantEvent: access.TypeLoginFailed,
		},
	}
	for i := range tests {
		tc := &tests[i]
		tc.staffID = func() string {
			if tc.unknownID {
				return "nobody"
			}
			return "sato"
		}
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, sess, err := p.Login(tc.state(t), access.LoginAttempt{StaffID: tc.staffID(), Password: tc.password, OTP: tc.code(t)}, t0, rand.Reader)
			if tc.wantReason == "" {
				if err != nil {
					t.Fatalf("login refused: %v", err)
				}
				if len(sess.Token) != 43 || !sess.ExpiresAt.Equal(t0.Add(access.DefaultSessionTTL)) {
					t.Fatalf("session = %+v, want a 43-character token expiring after 8 h", sess)
				}
				in := evs[0].(*access.StaffLoggedIn)
				if in.SessionTokenHash != access.TokenHash(sess.Token) || strings.Contains(mustJSON(t, in), sess.Token) {
					t.Fatalf("event must hold the token's hash only: %+v", in)
				}
			} else {
				var ce *access.CredentialError
				if !errors.Is(err, access.ErrBadCredentials) || !errors.As(err, &ce) || ce.Reason != tc.wantReason {
					t.Fatalf("err = %v, want bad credentials because %s", err, tc.wantReason)
				}
				if errors.Is(err, access.ErrOTPReused) != (tc.wantReason == access.ReasonOTPReused) {
					t.Fatalf("errors.Is(err, ErrOTPReused) wrong for %v", err)
				}
				if sess.Token != "" {
					t.Fatal("a refused login returned a token")
				}
			}
			switch {
			case tc.wantEvent == "" && len(evs) != 0:
				t.Fatalf("events %v, want none", evs)
			case tc.wantEvent != "" && (len(evs) != 1 || evs[0].EventType() != tc.wantEvent):
				t.Fatalf("events %v, want one %s", evs, tc.wantEvent)
			}
		})
	}
}

func TestPreviousStepCodeIsAcceptedOnce(t *testing.T) {
	p := testPolicy(t)
	s, enr, history := addStaff(t, p, "suzuki", access.RoleOperator)
	prev := code(t, enr.TOTPSecret, t0.Add(-30*time.Second))

	evs, _, err := p.Login(s, attempt("suzuki", password, prev), t0, rand.Reader)
	if err != nil {
		t.Fatalf("first use of the previous step's code: %v", err)
	}
	// A restart rebuilds the state from the log: the used step is in the event.
	history = append(history, evs...)
	restarted := access.StaffFromHistory(history...)
	if _, _, err := p.Login(restarted, attempt("suzuki", password, prev), t0.Add(5*time.Second), rand.Reader); !errors.Is(err, access.ErrOTPReused) {
		t.Fatalf("second use: err = %v, want ErrOTPReused", err)
	}
	// The current step's code is still good.
	if _, _, err := p.Login(restarted, attempt("suzuki", password, code(t, enr.TOTPSecret, t0)), t0, rand.Reader); err != nil {
		t.Fatalf("current code after using the previous one: %v", err)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	p := testPolicy(t)
	s, enr, history := addStaff(t, p, "tanaka", access.RoleOperator)
	for i := range access.DefaultMaxFailures {
		at := t0.Add(time.Duration(i) * time.Second)
		evs, _, err := p.Login(s, attempt("tanaka", "wrong password", "000000"), at, rand.Reader)
		if !errors.Is(err, access.ErrBadCredentials) || errors.Is(err, access.ErrLocked) {
			t.Fatalf("failure %d: %v", i, err)
		}
		want := []string{access.TypeLoginFailed}
		if i == access.DefaultMaxFailures-1 {
			want = append(want, access.TypeStaffLocked)
		}
		if got := types(evs); !slices.Equal(got, want) {
			t.Fatalf("failure %d appends %v, want %v", i+1, got, want)
		}
		history = append(history, evs...)
		s = access.StaffFromHistory(history...)
	}
	locked := history[len(history)-1].(*access.StaffLocked)
	if want := t0.Add(4*time.Second + access.DefaultLockout); !locked.Until.Equal(want) {
		t.Fatalf("locked until %v, want %v", locked.Until, want)
	}
	at := t0.Add(time.Minute)
	evs, _, err := p.Login(s, attempt("tanaka", password, code(t, enr.TOTPSecret, at)), at, rand.Reader)
	var ce *access.CredentialError
	if !errors.As(err, &ce) || ce.Reason != access.ReasonLockedOut || !errors.Is(err, access.ErrLocked) || len(evs) != 0 {
		t.Fatalf("right credentials while locked: %v, %v; want lockedOut and no event", evs, err)
	}
	if ce.RetryAfter() != locked.Until.Sub(at) {
		t.Fatalf("retry after %v, want %v", ce.RetryAfter(), locked.Until.Sub(at))
	}
	later := locked.Until
	if _, _, err := p.Login(s, attempt("tanaka", password, code(t, enr.TOTPSecret, later)), later, rand.Reader); err != nil {
		t.Fatalf("login when the lock ends: %v", err)
	}
	// After the lock ends, the count starts again: one more failure does not lock.
	evs, _, _ = p.Login(s, attempt("tanaka", "wrong password", "000000"), later, rand.Reader)
	if got := types(evs); !slices.Equal(got, []string{access.TypeLoginFailed}) {
		t.Fatalf("first failure after the lock: %v", got)
	}
}

func TestOperatorUnlocks(t *testing.T) {
	p := testPolicy(t)
	s, enr, history := addStaff(t, p, "kimura", access.RoleOperator)
	for range access.DefaultMaxFailures {
		evs, _, _ := p.Login(s, attempt("kimura", "wrong password", "000000"), t0, rand.Reader)
		history = append(history, evs...)
		s = access.StaffFromHistory(history...)
	}
	if !s.LockedAt(t0) {
		t.Fatal("not locked after five failures")
	}
	evs, err := s.Unlock(t0)
	if err != nil || len(evs) != 1 || evs[0].EventType() != access.TypeStaffUnlocked {
		t.Fatalf("unlock: %v, %v", evs, err)
	}
	s = s.Evolve(evs[0])
	if _, _, err := p.Login(s, attempt("kimura", password, code(t, enr.TOTPSecret, t0)), t0, rand.Reader); err != nil {
		t.Fatalf("login after the unlock: %v", err)
	}
	if evs, err := s.Unlock(t0); err != nil || len(evs) != 0 {
		t.Fatalf("unlocking an unlocked member: %v, %v; want no event", evs, err)
	}
}

// An ID nobody has fails, costs and locks exactly like a known one: the same one password hash,
// the same events (in its own stream), the same lock. Nothing tells the two apart.
func TestUnknownIDCostsAndLocksLikeAKnownOne(t *testing.T) {
	p := testPolicy(t)
	var hashes int
	p.Argon2 = func(pw, salt []byte, params access.PasswordParams, n uint32) ([]byte, error) {
		hashes++
		return access.IDKey(pw, salt, params, n)
	}
	known, _, history := addStaff(t, p, "ono", access.RoleOperator)
	var unknown access.Staff
	var unknownHistory []access.Event
	for i := range access.DefaultMaxFailures + 1 {
		hashes = 0
		kevs, _, kerr := p.Login(known, attempt("ono", "wrong password", "000000"), t0, rand.Reader)
		knownHashes := hashes
		hashes = 0
		uevs, _, uerr := p.Login(unknown, attempt("nobody", "wrong password", "000000"), t0, rand.Reader)
		if hashes != knownHashes || (i < access.DefaultMaxFailures && hashes != 1) {
			t.Fatalf("attempt %d: %d hashes for the unknown ID, %d for the known one; want 1 each before the lock", i+1, hashes, knownHashes)
		}
		if !slices.Equal(types(kevs), types(uevs)) || errors.Is(kerr, access.ErrLocked) != errors.Is(uerr, access.ErrLocked) ||
			kerr.(*access.CredentialError).ProblemDetail() != uerr.(*access.CredentialError).ProblemDetail() {
			t.Fatalf("attempt %d: known ID %v %v, unknown ID %v %v", i+1, types(kevs), kerr, types(uevs), uerr)
		}
		history, unknownHistory = append(history, kevs...), append(unknownHistory, uevs...)
		known, unknown = access.StaffFromHistory(history...), access.StaffFromHistory(unknownHistory...)
	}
	if !unknown.LockedAt(t0) || unknown.Exists() {
		t.Fatal("the unknown ID is not locked after its failures, or exists")
	}
	// The unknown ID is recorded under its keyed pseudonym only.
	for _, e := range unknownHistory {
		if strings.Contains(mustJSON(t, e), "nobody") {
			t.Fatalf("%s holds the unknown ID in clear: %s", e.EventType(), mustJSON(t, e))
		}
	}
	if got := unknownHistory[0].(*access.LoginFailed).StaffID; got != p.UnknownID("nobody") || !strings.HasPrefix(got, "?") {
		t.Fatalf("the failure of an unknown ID names %q, want its pseudonym %q", got, p.UnknownID("nobody"))
	}
	other := p
	other.UnknownIDKey = []byte("another deployment")
	if other.UnknownID("nobody") == p.UnknownID("nobody") || p.UnknownID("nobody") == p.UnknownID("nobody2") {
		t.Fatal("pseudonyms do not depend on the key and the ID")
	}
	hashes = 0
	if err := p.RefuseMalformed(attempt("not an id", "x", "1")); !errors.Is(err, access.ErrBadCredentials) || hashes != 1 || access.ValidName("not an id") {
		t.Fatalf("malformed ID: %v after %d hashes", err, hashes)
	}
}

func TestPasswordChange(t *testing.T) {
	p := testPolicy(t)
	s, enr, history := addStaff(t, p, "mori", access.RoleAuditor)
	t.Run("own, with the wrong current password, is a failed login", func(t *testing.T) {
		evs, err := p.ChangeOwnPassword(s, "not the password", "a new password", t0, rand.Reader)
		if !errors.Is(err, access.ErrCurrentPassword) || !slices.Equal(types(evs), []string{access.TypeLoginFailed}) {
			t.Fatalf("%v, %v", types(evs), err)
		}
	})
	t.Run("too short", func(t *testing.T) {
		if _, err := p.ChangeOwnPassword(s, password, "short", t0, rand.Reader); !errors.Is(err, access.ErrWeakPassword) {
			t.Fatalf("err = %v", err)
		}
	})
	evs, err := p.ChangeOwnPassword(s, password, "a new password", t0, rand.Reader)
	if err != nil || !slices.Equal(types(evs), []string{access.TypeStaffPasswordChanged}) {
		t.Fatalf("own change: %v, %v", types(evs), err)
	}
	if strings.Contains(mustJSON(t, evs[0]), "a new password") {
		t.Fatal("the new password is in the event in clear")
	}
	s = access.StaffFromHistory(append(history, evs...)...)
	at := t0.Add(time.Minute)
	if _, _, err := p.Login(s, attempt("mori", password, code(t, enr.TOTPSecret, at)), at, rand.Reader); !errors.Is(err, access.ErrBadCredentials) {
		t.Fatalf("old password after the change: %v", err)
	}
	if _, _, err := p.Login(s, attempt("mori", "a new password", code(t, enr.TOTPSecret, at)), at, rand.Reader); err != nil {
		t.Fatalf("new password: %v", err)
	}
	if _, err := p.SetPassword(access.Staff{}, "whatever123", t0, rand.Reader); !errors.Is(err, access.ErrUnknownStaff) {
		t.Fatalf("operator setting the password of nobody: %v", err)
	}
}

func TestTOTPReset(t *testing.T) {
	p := testPolicy(t)
	s, old, history := addStaff(t, p, "ueda", access.RoleOperator)
	evs, enr, err := p.ResetTOTP(s, t0, rand.Reader)
	if err != nil || enr.TOTPSecret == old.TOTPSecret || len(enr.TOTPSecret) != 32 {
		t.Fatalf("reset: %+v, %v", enr, err)
	}
	if strings.Contains(mustJSON(t, evs[0]), enr.TOTPSecret) {
		t.Fatal("the new TOTP secret is in the event in clear")
	}
	s = access.StaffFromHistory(append(history, evs...)...)
	if _, _, err := p.Login(s, attempt("ueda", password, code(t, old.TOTPSecret, t0)), t0, rand.Reader); !errors.Is(err, access.ErrBadCredentials) {
		t.Fatalf("a code of the old secret: %v", err)
	}
	if _, _, err := p.Login(s, attempt("ueda", password, code(t, enr.TOTPSecret, t0)), t0, rand.Reader); err != nil {
		t.Fatalf("a code of the new secret: %v", err)
	}
}

// Sessions end for good with a logout, a disable, a password change or a TOTP reset; enabling
// the member again does not bring them back. A revoked API key stops at once.
func TestDirectoryEndsSessions(t *testing.T) {
	p := testPolicy(t)
	p.SessionTTL = time.Hour
	_, enr, history := addStaff(t, p, "sato", access.RoleOperator)
	dir := access.NewDirectory()
	feed(t, dir, history...)
	step := 30 * time.Second
	login := func(at time.Time) string {
		t.Helper()
		s := access.StaffFromHistory(history...)
		evs, sess, err := p.Login(s, attempt("sato", password, code(t, enr.TOTPSecret, at)), at, rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, evs...)
		feed(t, dir, history...)
		return sess.Token
	}
	then := func(decide func(access.Staff) ([]access.Event, error)) {
		t.Helper()
		evs, err := decide(access.StaffFromHistory(history...))
		if err != nil {
			t.Fatal(err)
		}
		history = append(history, evs...)
		feed(t, dir, history...)
	}
	alive := func(token string) bool {
		_, err := dir.Authenticate(token, t0.Add(10*step))
		return err == nil
	}

	a, b := login(t0), login(t0.Add(step))
	then(func(s access.Staff) ([]access.Event, error) { return s.LogOut(access.TokenHash(a), t0) })
	if alive(a) || !alive(b) {
		t.Fatalf("after logging out a: a alive %v, b alive %v", alive(a), alive(b))
	}
	then(func(s access.Staff) ([]access.Event, error) { return s.Disable(t0) })
	if alive(b) {
		t.Fatal("a session of a disabled member still works")
	}
	then(func(s access.Staff) ([]access.Event, error) { return s.Enable(t0) })
	if alive(b) {
		t.Fatal("enabling brought an ended session back")
	}
	c := login(t0.Add(2 * step))
	then(func(s access.Staff) ([]access.Event, error) {
		return p.SetPassword(s, "another password", t0, rand.Reader)
	})
	if alive(c) {
		t.Fatal("a session survived a password change")
	}

	keyEvents, key, err := access.CreateAPIKey("billing-system", access.RoleBilling, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.ApplyAt(keyEvents[0], 1, t0); err != nil {
		t.Fatal(err)
	}
	revoke, err := access.APIKey{}.Evolve(keyEvents[0]).Revoke(t0)
	if err != nil || len(revoke) != 1 {
		t.Fatalf("revoke: %v, %v", revoke, err)
	}
	if err := dir.Apply(revoke[0], 2); err != nil {
		t.Fatal(err)
	}
	if _, err := dir.Authenticate(key, t0); !errors.Is(err, access.ErrUnauthenticated) {
		t.Fatalf("revoked key: %v", err)
	}
	keys := dir.APIKeys()
	if len(keys) != 1 || !keys[0].Revoked || keys[0].CreatedAt == nil || !keys[0].CreatedAt.Equal(t0) || strings.Contains(mustJSON(t, keys), keyEvents[0].(*access.APIKeyCreated).KeyHash) {
		t.Fatalf("key listing %s", mustJSON(t, keys))
	}
}

func attempt(id, pw, otp string) access.LoginAttempt {
	return access.LoginAttempt{StaffID: id, Password: pw, OTP: otp}
}

func types(evs []access.Event) []string {
	out := make([]string, len(evs))
	for i, e := range evs {
		out[i] = e.EventType()
	}
	return out
}

func TestAddStaff(t *testing.T) {
	p := testPolicy(t)
	existing, _, _ := addStaff(t, p, "ito", access.RoleAuditor)
	tests := []struct {
		name    string
		current access.Staff
		cmd     access.NewStaff
		want    error
	}{
		{"already registered", existing, access.NewStaff{ID: "ito", Role: access.RoleAuditor, Password: password}, access.ErrExists},
		{"empty ID", access.Staff{}, access.NewStaff{Role: access.RoleOperator, Password: password}, access.ErrInvalidName},
		{"ID with a space", access.Staff{}, access.NewStaff{ID: "a b", Role: access.RoleOperator, Password: password}, access.ErrInvalidName},
		{"no role", access.Staff{}, access.NewStaff{ID: "kato", Password: password}, access.ErrUnknownRole},
		{"short password", access.Staff{}, access.NewStaff{ID: "kato", Role: access.RoleOperator, Password: "1234567"}, access.ErrWeakPassword},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, _, err := p.AddStaff(tc.current, tc.cmd, rand.Reader); !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestStaffAddedHoldsNoSecretInClear(t *testing.T) {
	p := testPolicy(t)
	_, enr, evs := addStaff(t, p, "yamada@example.jp", access.RoleOperator)
	data := mustJSON(t, evs[0])
	for _, secret := range []string{password, enr.TOTPSecret} {
		if strings.Contains(data, secret) {
			t.Fatalf("StaffAdded data %s contains a secret in clear", data)
		}
	}
	added := evs[0].(*access.StaffAdded)
	if !strings.HasPrefix(added.PasswordHash, "$argon2id$v=19$m=64,t=1,p=1$") {
		t.Fatalf("password hash %q is not an argon2id PHC string", added.PasswordHash)
	}
	// The sealed secret is bound to its staff member.
	if _, err := p.Secrets.Open(added.SealedTOTPSecret, access.TOTPAssociatedData("someone-else")); err == nil {
		t.Fatal("a TOTP secret sealed for one staff member opened for another")
	}
	want := "otpauth://totp/YOROZU:yamada@example.jp?secret=" + enr.TOTPSecret + "&issuer=YOROZU&algorithm=SHA1&digits=6&period=30"
	if enr.OTPAuthURL != want {
		t.Fatalf("otpauth URL\n got %s\nwant %s", enr.OTPAuthURL, want)
	}
	if len(enr.TOTPSecret) != 32 {
		t.Fatalf("TOTP secret %q is not 160 bits in base32", enr.TOTPSecret)
	}
	if got := mustJSON(t, enr); !strings.Contains(got, `"staffId":"yamada@example.jp","role":"operator","totpSecret":`) {
		t.Fatalf("enrollment JSON %s does not have the fields SPEC 11 prints", got)
	}
}

func TestDirectoryAuthenticate(t *testing.T) {
	p := testPolicy(t)
	p.SessionTTL = time.Hour
	dir := access.NewDirectory()
	_, enr, evs := addStaff(t, p, "sato", access.RoleAuditor)
	feed(t, dir, evs...)
	staff, ok := dir.Staff("sato")
	if !ok {
		t.Fatal("directory does not know the staff member it folded")
	}
	login, sess, err := p.Login(staff, attempt("sato", password, code(t, enr.TOTPSecret, t0)), t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	feed(t, dir, append(evs, login...)...) // a redelivery of StaffAdded is ignored
	keyEvents, key, err := access.CreateAPIKey("billing-system", access.RoleBilling, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if err := dir.Apply(keyEvents[0], 1); err != nil {
		t.Fatal(err)
	}

	tests := []struct {
		name  string
		token string
		now   time.Time
		want  access.Principal
		err   error
	}{
		{"session token within its hour", sess.Token, t0.Add(59 * time.Minute), access.Principal{ID: "sato", Role: access.RoleAuditor, Kind: access.KindStaff}, nil},
		{"API key", key, t0.Add(1000 * time.Hour), access.Principal{ID: "billing-system", Role: access.RoleBilling, Kind: access.KindAPIKey}, nil},
		{"unknown token", "yk_nope", t0, access.Principal{}, access.ErrUnauthenticated},
		{"empty token", "", t0, access.Principal{}, access.ErrUnauthenticated},
		{"session token after its hour", sess.Token, t0.Add(time.Hour), access.Principal{}, access.ErrSessionExpired},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := dir.Authenticate(tc.token, tc.now)
			if !errors.Is(err, tc.err) || got != tc.want {
				t.Fatalf("Authenticate = %+v, %v; want %+v, %v", got, err, tc.want, tc.err)
			}
		})
	}
	if !strings.HasPrefix(key, "yk_") || len(key) != 46 {
		t.Fatalf("API key %q: want yk_ and 43 base64url characters", key)
	}
	if strings.Contains(mustJSON(t, keyEvents[0]), key[3:]) {
		t.Fatal("APIKeyCreated holds the key in clear")
	}
}

func TestDirectoryRefusesAGapInAStaffStream(t *testing.T) {
	p := testPolicy(t)
	dir := access.NewDirectory()
	_, _, evs := addStaff(t, p, "sato", access.RoleOperator)
	if err := dir.Apply(evs[0], 1); err != nil {
		t.Fatal(err)
	}
	failed := &access.LoginFailed{StaffID: "sato", Reason: access.ReasonWrongOTP, At: t0}
	if err := dir.Apply(failed, 3); !errors.Is(err, access.ErrOutOfOrder) {
		t.Fatalf("version 3 after 1: err = %v, want ErrOutOfOrder", err)
	}
}

func TestDirectoryPrunesEndedSessions(t *testing.T) {
	dir := access.NewDirectory()
	if err := dir.Apply(&access.StaffAdded{StaffID: "sato", Role: access.RoleOperator}, 1); err != nil {
		t.Fatal(err)
	}
	for i, exp := range []time.Time{t0, t0.Add(time.Hour)} {
		in := &access.StaffLoggedIn{StaffID: "sato", TOTPStep: int64(i + 1), SessionTokenHash: access.TokenHash(string(rune('a' + i))), ExpiresAt: exp}
		if err := dir.Apply(in, uint64(i+2)); err != nil {
			t.Fatal(err)
		}
	}
	if n := dir.PruneSessions(t0); n != 1 {
		t.Fatalf("pruned %d sessions, want 1", n)
	}
	if _, err := dir.Authenticate("b", t0); err != nil {
		t.Fatalf("the live session was pruned: %v", err)
	}
}

func TestRoleMatrix(t *testing.T) {
	all := []access.Permission{
		access.PermCommand, access.PermCloseMonth, access.PermReadOperations,
		access.PermReadAudit, access.PermReadBilling, access.PermBillingFeed,
		access.PermManageAccess, access.PermOwnAccount,
	}
	want := map[access.Role][]access.Permission{
		access.RoleOperator: all,
		access.RoleAuditor:  {access.PermReadOperations, access.PermReadAudit, access.PermReadBilling, access.PermBillingFeed, access.PermOwnAccount},
		access.RoleBilling:  {access.PermReadBilling, access.PermBillingFeed, access.PermOwnAccount},
		{}:                  nil,
	}
	for role, granted := range want {
		for _, perm := range all {
			has := false
			for _, g := range granted {
				has = has || g == perm
			}
			if role.Can(perm) != has {
				t.Errorf("role %q can %s = %v, want %v", role, perm, role.Can(perm), has)
			}
		}
	}
	if access.RoleOperator.Can(access.Permission(99)) {
		t.Error("an invented permission is granted")
	}
}

func TestParseRole(t *testing.T) {
	for _, name := range []string{"operator", "auditor", "billing"} {
		r, err := access.ParseRole(name)
		if err != nil || r.String() != name {
			t.Errorf("ParseRole(%q) = %v, %v", name, r, err)
		}
	}
	if _, err := access.ParseRole("admin"); !errors.Is(err, access.ErrUnknownRole) {
		t.Errorf("ParseRole(admin) err = %v", err)
	}
	var r access.Role
	if err := json.Unmarshal([]byte(`"billing"`), &r); err != nil || r != access.RoleBilling {
		t.Errorf("JSON role = %v, %v", r, err)
	}
}

func TestEventsRoundTripThroughTheStore(t *testing.T) {
	p := testPolicy(t)
	_, enr, evs := addStaff(t, p, "sato", access.RoleOperator)
	login, _, err := p.Login(access.StaffFromHistory(evs...), attempt("sato", password, code(t, enr.TOTPSecret, t0)), t0, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	codec := event.NewRegistry()
	access.RegisterEvents(codec)
	dir := access.NewDirectory()
	for i, e := range append(evs, login...) {
		typ, data, err := codec.Encode(e)
		if err != nil {
			t.Fatal(err)
		}
		decoded, err := codec.Decode(event.Record{Type: typ, StreamVersion: uint64(i + 1), Data: data})
		if err != nil {
			t.Fatalf("decode %s: %v", typ, err)
		}
		if err := dir.Apply(decoded.(access.Event), uint64(i+1)); err != nil {
			t.Fatalf("apply %s: %v", typ, err)
		}
	}
	s, _ := dir.Staff("sato")
	if s.Version() != 2 || s.LastTOTPStep() != t0.Unix()/30 {
		t.Fatalf("folded staff version %d step %d", s.Version(), s.LastTOTPStep())
	}
}

func feed(t *testing.T, dir *access.Directory, evs ...access.Event) {
	t.Helper()
	for i, e := range evs {
		if err := dir.Apply(e, uint64(i+1)); err != nil {
			t.Fatalf("apply %s: %v", e.EventType(), err)
		}
	}
}

func otherCode(c string) string {
	b := []byte(c)
	b[0] = '0' + (b[0]-'0'+1)%10
	return string(b)
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestDirectoryIsSafeForConcurrentUse(t *testing.T) {
	dir := access.NewDirectory()
	if err := dir.Apply(&access.StaffAdded{StaffID: "sato", Role: access.RoleOperator}, 1); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := range 500 {
			in := &access.StaffLoggedIn{StaffID: "sato", TOTPStep: int64(i + 1), SessionTokenHash: access.TokenHash(fmt.Sprint(i)), ExpiresAt: t0.Add(time.Hour)}
			if err := dir.Apply(in, uint64(i+2)); err != nil {
				t.Error(err)
				return
			}
		}
	}()
	for i := range 500 {
		_, _ = dir.Authenticate(fmt.Sprint(i), t0)
		_, _ = dir.Staff("sato")
		if i%100 == 0 {
			dir.PruneSessions(t0)
		}
	}
	<-done
	if _, err := dir.Authenticate("499", t0); err != nil {
		t.Fatalf("last session: %v", err)
	}
}
