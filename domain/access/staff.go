package access

import (
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
	"golang.org/x/crypto/argon2"
)

// TOTP parameters (SPEC 11): RFC 6238 with HMAC-SHA-1, 6 digits, 30-second steps, as Google
// Authenticator expects. A code of the step before or after the current one is accepted too, for
// clock drift between the phone and the server.
const (
	TOTPIssuer = "YOROZU"
	TOTPPeriod = 30 * time.Second
	TOTPDigits = 6
	totpSkew   = 1
	// totpSecretBytes is the 160-bit secret RFC 4226 recommends; it is 32 base32 characters.
	totpSecretBytes = 20
	tokenBytes      = 32
)

// DefaultSessionTTL is how long a session lasts when Policy.SessionTTL is zero: a working day.
const DefaultSessionTTL = 8 * time.Hour

// Lockout defaults: after this many refused logins in a row, a staff member's logins are refused
// until this long after the last refusal. It caps guessing of the 6-digit code by someone who
// knows the password at a handful of tries per quarter hour.
const (
	DefaultMaxFailures = 5
	DefaultLockout     = 15 * time.Minute
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// Policy holds what staff decisions need besides the aggregate. The zero values of its fields
// mean the defaults; Secrets is required.
type Policy struct {
	// Secrets seals TOTP secrets for StaffAdded and opens them at login.
	Secrets SecretBox
	// SessionTTL is the lifetime of a session (DefaultSessionTTL when zero).
	SessionTTL time.Duration
	// Password is the argon2id cost of new hashes (DefaultPasswordParams when zero).
	Password PasswordParams
	// MaxFailures refused logins in a row lock the account for Lockout (defaults
	// DefaultMaxFailures and DefaultLockout; a negative MaxFailures turns the lockout off).
	// Refusals are counted from the LoginFailed events of the stream: a caller that does not
	// append them gets no lockout.
	MaxFailures int
	Lockout     time.Duration
}

func (p Policy) sessionTTL() time.Duration {
	if p.SessionTTL <= 0 {
		return DefaultSessionTTL
	}
	return p.SessionTTL
}

func (p Policy) lockedOut(s Staff, now time.Time) bool {
	limit, window := p.MaxFailures, p.Lockout
	if limit == 0 {
		limit = DefaultMaxFailures
	}
	if window <= 0 {
		window = DefaultLockout
	}
	return limit > 0 && s.failures >= limit && now.Before(s.lastFailure.Add(window))
}

// Staff is the state of one staff member, folded from the events of StaffStream(id). The zero
// Staff is a member that does not exist.
type Staff struct {
	id           string
	role         Role
	passwordHash string
	sealedSecret []byte
	lastStep     int64
	failures     int
	lastFailure  time.Time
	version      uint64
}

// StaffFromHistory folds a staff stream's events in order.
func StaffFromHistory(events ...Event) Staff {
	var s Staff
	for _, e := range events {
		s = s.Evolve(e)
	}
	return s
}

// Evolve returns the state after e. Events of other aggregates leave it unchanged.
func (s Staff) Evolve(e Event) Staff {
	switch e := e.(type) {
	case *StaffAdded:
		s.id, s.role, s.passwordHash, s.sealedSecret = e.StaffID, e.Role, e.PasswordHash, e.SealedTOTPSecret
	case *StaffLoggedIn:
		s.lastStep = max(s.lastStep, e.TOTPStep)
		s.failures = 0
	case *LoginFailed:
		s.failures++
		s.lastFailure = e.At
	default:
		return s
	}
	s.version++
	return s
}

// Exists reports whether the staff member was added.
func (s Staff) Exists() bool { return s.id != "" }

// ID is the staff ID, the actor of the member's commands.
func (s Staff) ID() string { return s.id }

// Role is what the member may do.
func (s Staff) Role() Role { return s.role }

// Version is the number of events folded: the stream version to expect when appending.
func (s Staff) Version() uint64 { return s.version }

// LastTOTPStep is the time step of the code of the last successful login (0 before the first).
func (s Staff) LastTOTPStep() int64 { return s.lastStep }

// NewStaff is the command that registers a staff member (yorozu staff add).
type NewStaff struct {
	ID       string
	Role     Role
	Password string
}

// Enrollment is what the person adding a staff member hands over once: the TOTP secret for the
// authenticator app. It is printed by `yorozu staff add` and never stored in clear.
type Enrollment struct {
	StaffID    string `json:"staffId"`
	Role       Role   `json:"role"`
	TOTPSecret string `json:"totpSecret"`
	OTPAuthURL string `json:"otpauthUrl"`
}

// AddStaff decides the registration of a staff member. current is the state of
// StaffStream(cmd.ID); the caller appends the event expecting that stream's version (no stream).
func (p Policy) AddStaff(current Staff, cmd NewStaff, random io.Reader) ([]Event, Enrollment, error) {
	switch {
	case p.Secrets == nil:
		return nil, Enrollment{}, errors.New("access: Policy.Secrets is required to add staff")
	case current.Exists():
		return nil, Enrollment{}, fmt.Errorf("%w: staff %q", ErrExists, cmd.ID)
	}
	if err := validateName(cmd.ID); err != nil {
		return nil, Enrollment{}, err
	}
	if cmd.Role.IsZero() {
		return nil, Enrollment{}, fmt.Errorf("%w: staff needs a role", ErrUnknownRole)
	}
	if n := len([]rune(cmd.Password)); n < MinPasswordLength || len(cmd.Password) > MaxPasswordLength {
		return nil, Enrollment{}, fmt.Errorf("%w: use %d to %d characters", ErrWeakPassword, MinPasswordLength, MaxPasswordLength)
	}
	hash, err := hashPassword(cmd.Password, p.Password.orDefault(), random)
	if err != nil {
		return nil, Enrollment{}, err
	}
	raw := make([]byte, totpSecretBytes)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, Enrollment{}, fmt.Errorf("access: read TOTP secret: %w", err)
	}
	secret := base32NoPad.EncodeToString(raw)
	sealed, err := p.Secrets.Seal([]byte(secret), TOTPAssociatedData(cmd.ID))
	if err != nil {
		return nil, Enrollment{}, fmt.Errorf("access: seal TOTP secret: %w", err)
	}
	added := &StaffAdded{StaffID: cmd.ID, Role: cmd.Role, PasswordHash: hash, SealedTOTPSecret: sealed}
	return []Event{added}, Enrollment{
		StaffID:    cmd.ID,
		Role:       cmd.Role,
		TOTPSecret: secret,
		OTPAuthURL: OTPAuthURL(cmd.ID, secret),
	}, nil
}

// OTPAuthURL is the key URI authenticator apps read (usually from a QR code), with the
// parameters in the order SPEC 11 writes them.
func OTPAuthURL(staffID, secret string) string {
	return "otpauth://totp/" + TOTPIssuer + ":" + url.PathEscape(staffID) +
		"?secret=" + url.QueryEscape(secret) + "&issuer=" + TOTPIssuer +
		"&algorithm=SHA1&digits=6&period=30"
}

// Session is what a login hands to the client. Only the token's SHA-256 is stored.
type Session struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// Login decides a login attempt against s, the state of the staff stream the attempt names (the
// zero Staff for an unknown ID). It checks the password (argon2id, constant time), then the
// one-time code, refusing a code whose time step is not after the last used one.
//
// On success it returns a StaffLoggedIn and the session. On refusal it returns a
// *CredentialError (matching ErrBadCredentials, and ErrOTPReused for a reused code) and, for a
// known staff member whose password or code was wrong, a LoginFailed for the caller to append.
//
// The caller appends the events expecting s.Version(): two replicas accepting the same code at
// once conflict, and the loser, deciding again on the reloaded stream, refuses it as reused.
func (p Policy) Login(s Staff, password, code string, now time.Time, random io.Reader) ([]Event, Session, error) {
	pw := p.Password.orDefault()
	if !s.Exists() {
		// Spend the same time as a real check, so response times do not reveal which IDs exist.
		argon2.IDKey([]byte(password), make([]byte, saltLen), pw.Iterations, pw.MemoryKiB, pw.Parallelism, keyLen)
		return nil, Session{}, &CredentialError{Reason: ReasonUnknownStaff}
	}
	if p.lockedOut(s, now) {
		return nil, Session{}, &CredentialError{StaffID: s.id, Reason: ReasonLockedOut}
	}
	refuse := func(reason FailureReason) ([]Event, Session, error) {
		failed := &LoginFailed{StaffID: s.id, Reason: reason, At: now}
		return []Event{failed}, Session{}, &CredentialError{StaffID: s.id, Reason: reason}
	}

	ok, err := verifyPassword(password, s.passwordHash)
	if err != nil {
		return nil, Session{}, fmt.Errorf("access: staff %q: %w", s.id, err)
	}
	if !ok {
		return refuse(ReasonWrongPassword)
	}

	if p.Secrets == nil {
		return nil, Session{}, errors.New("access: Policy.Secrets is required to log in")
	}
	secret, err := p.Secrets.Open(s.sealedSecret, TOTPAssociatedData(s.id))
	if err != nil {
		return nil, Session{}, fmt.Errorf("access: staff %q TOTP secret: %w", s.id, errors.Join(ErrCorruptSecret, err))
	}
	step, reason := matchStep(string(secret), code, now, s.lastStep)
	if reason != "" {
		return refuse(reason)
	}

	raw := make([]byte, tokenBytes)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, Session{}, fmt.Errorf("access: read session token: %w", err)
	}
	token := base64.RawURLEncoding.EncodeToString(raw)
	expires := now.Add(p.sessionTTL()).UTC()
	in := &StaffLoggedIn{StaffID: s.id, TOTPStep: step, SessionTokenHash: TokenHash(token), At: now.UTC(), ExpiresAt: expires}
	return []Event{in}, Session{Token: token, ExpiresAt: expires}, nil
}

// matchStep finds the time step, within the allowed skew of now, whose code is code. It returns
// the earliest matching step after lastUsed, or the reason for refusal.
func matchStep(secret, code string, now time.Time, lastUsed int64) (int64, FailureReason) {
	code = strings.TrimSpace(code)
	if len(code) != TOTPDigits || strings.Trim(code, "0123456789") != "" {
		return 0, ReasonWrongOTP
	}
	opts := totp.ValidateOpts{Period: uint(TOTPPeriod / time.Second), Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1}
	current := now.Unix() / int64(TOTPPeriod/time.Second)
	reused := false
	for step := current - totpSkew; step <= current+totpSkew; step++ {
		// Validating each step on its own (skew 0) tells which step matched, which the reuse
		// check needs and ValidateCustom's own skew hides.
		ok, err := totp.ValidateCustom(code, secret, time.Unix(step*int64(TOTPPeriod/time.Second), 0), opts)
		if err != nil || !ok {
			continue
		}
		if step <= lastUsed {
			reused = true
			continue
		}
		return step, ""
	}
	if reused {
		return 0, ReasonOTPReused
	}
	return 0, ReasonWrongOTP
}

// TokenHash is the stored form of a session token or API key: its SHA-256 in hex.
func TokenHash(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

const maxNameLength = 64

// validateName accepts staff IDs and API key names: 1 to 64 of A-Z a-z 0-9 . _ @ -.
func validateName(name string) error {
	if name == "" || len(name) > maxNameLength {
		return fmt.Errorf("%w: %q must have 1 to %d characters", ErrInvalidName, name, maxNameLength)
	}
	for _, c := range name {
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9', strings.ContainsRune("._@-", c):
		default:
			return fmt.Errorf("%w: %q may only use letters, digits and . _ @ -", ErrInvalidName, name)
		}
	}
	return nil
}
