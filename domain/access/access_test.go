package access_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
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
		evs, _, err := p.Login(fresh, password, code(t, enr.TOTPSecret, t0), t0, rand.Reader)
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
			name: "unknown staff ID", state: func(*testing.T) access.Staff { return access.Staff{} },
			password: password, code: func(*testing.T) string { return "123456" },
			wantReason: access.ReasonUnknownStaff,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			evs, sess, err := p.Login(tc.state(t), tc.password, tc.code(t), t0, rand.Reader)
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

	evs, _, err := p.Login(s, password, prev, t0, rand.Reader)
	if err != nil {
		t.Fatalf("first use of the previous step's code: %v", err)
	}
	// A restart rebuilds the state from the log: the used step is in the event.
	history = append(history, evs...)
	restarted := access.StaffFromHistory(history...)
	if _, _, err := p.Login(restarted, password, prev, t0.Add(5*time.Second), rand.Reader); !errors.Is(err, access.ErrOTPReused) {
		t.Fatalf("second use: err = %v, want ErrOTPReused", err)
	}
	// The current step's code is still good.
	if _, _, err := p.Login(restarted, password, code(t, enr.TOTPSecret, t0), t0, rand.Reader); err != nil {
		t.Fatalf("current code after using the previous one: %v", err)
	}
}

func TestLockoutAfterRepeatedFailures(t *testing.T) {
	p := testPolicy(t)
	s, enr, history := addStaff(t, p, "tanaka", access.RoleOperator)
	for i := range access.DefaultMaxFailures {
		evs, _, err := p.Login(s, "wrong password", "000000", t0.Add(time.Duration(i)*time.Second), rand.Reader)
		if !errors.Is(err, access.ErrBadCredentials) || len(evs) != 1 {
			t.Fatalf("failure %d: %v, %v", i, evs, err)
		}
		history = append(history, evs...)
		s = access.StaffFromHistory(history...)
	}
	at := t0.Add(time.Minute)
	evs, _, err := p.Login(s, password, code(t, enr.TOTPSecret, at), at, rand.Reader)
	var ce *access.CredentialError
	if !errors.As(err, &ce) || ce.Reason != access.ReasonLockedOut || len(evs) != 0 {
		t.Fatalf("login while locked out: %v, %v; want lockedOut and no event", evs, err)
	}
	later := t0.Add(access.DefaultLockout + time.Minute)
	if _, _, err := p.Login(s, password, code(t, enr.TOTPSecret, later), later, rand.Reader); err != nil {
		t.Fatalf("login after the lockout window: %v", err)
	}
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
	login, sess, err := p.Login(staff, password, code(t, enr.TOTPSecret, t0), t0, rand.Reader)
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
	}
	want := map[access.Role][]access.Permission{
		access.RoleOperator: all,
		access.RoleAuditor:  {access.PermReadOperations, access.PermReadAudit, access.PermReadBilling, access.PermBillingFeed},
		access.RoleBilling:  {access.PermReadBilling, access.PermBillingFeed},
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
	login, _, err := p.Login(access.StaffFromHistory(evs...), password, code(t, enr.TOTPSecret, t0), t0, rand.Reader)
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
