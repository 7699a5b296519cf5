package access

import (
	"crypto/hmac"
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

// Lockout defaults: this many failed logins of one staff ID in a row lock it for DefaultLockout
// (or until an operator unlocks it). It caps guessing of the 6-digit code by someone who knows
// the password at a handful of tries per quarter hour.
const (
	DefaultMaxFailures = 5
	DefaultLockout     = 15 * time.Minute
)

var base32NoPad = base32.StdEncoding.WithPadding(base32.NoPadding)

// Policy holds what staff decisions need besides the aggregate. The zero values of its fields
// mean the defaults; Secrets is required.
type Policy struct {
	// Secrets seals TOTP secrets for StaffAdded and StaffTOTPReset and opens them at login.
	Secrets SecretBox
	// SessionTTL is the lifetime of a session (DefaultSessionTTL when zero).
	SessionTTL time.Duration
	// Password is the argon2id cost of new hashes (DefaultPasswordParams when zero).
	Password PasswordParams
	// Argon2 computes every password hash the decisions need (IDKey when nil): the application
	// bounds through it how many run at once.
	Argon2 KeyFunc
	// MaxFailures failed logins in a row lock a staff ID for Lockout (defaults
	// DefaultMaxFailures and DefaultLockout; a negative MaxFailures turns the lockout off).
	// Failures are counted from the LoginFailed events of the stream: a caller that does not
	// append them gets no lockout.
	MaxFailures int
	Lockout     time.Duration
	// UnknownIDKey keys the pseudonyms of staff IDs that are not registered (UnknownID), so
	// that the log holds no clear text of what was typed and no unkeyed hash of it either. The
	// service derives it from the master key; without one the pseudonym is an unkeyed hash.
	UnknownIDKey []byte
}

// UnknownID is the pseudonym under which the failed logins of an unregistered staff ID are
// recorded, counted and logged: the first 96 bits of HMAC-SHA-256(UnknownIDKey, id), in hex,
// after "?". The same ID always gets the same pseudonym, so its failures lock it; the ID itself,
// perhaps a password typed in the wrong field, is stored nowhere.
func (p Policy) UnknownID(id string) string {
	mac := hmac.New(sha256.New, p.UnknownIDKey)
	mac.Write([]byte(id))
	return "?" + hex.EncodeToString(mac.Sum(nil)[:12])
}

func (p Policy) sessionTTL() time.Duration {
	if p.SessionTTL <= 0 {
		return DefaultSessionTTL
	}
	return p.SessionTTL
}

func (p Policy) lockout() time.Duration {
	if p.Lockout <= 0 {
		return DefaultLockout
	}
	return p.Lockout
}

func (p Policy) maxFailures() int {
	if p.MaxFailures == 0 {
		return DefaultMaxFailures
	}
	return p.MaxFailures
}

func (p Policy) key() KeyFunc {
	if p.Argon2 == nil {
		return IDKey
	}
	return p.Argon2
}

// spendHash does the work of checking a password without a stored hash to check it against
// (an unknown or disabled staff ID), so that such a refusal costs what a real check costs.
func (p Policy) spendHash(password string) error {
	_, err := p.key()([]byte(password), decoySalt, p.Password.orDefault(), keyLen)
	return err
}

// Staff is the state of one staff member, folded from the events of StaffStream(id). The zero
// Staff is a member that does not exist; folded from UnknownStaffStream(id) it still counts the
// failures and the lock of that ID.
type Staff struct {
	id           string
	role         Role
	passwordHash string
	sealedSecret []byte
	lastStep     int64
	failures     int
	lockedUntil  time.Time
	disabled     bool
	// sessionsEnd is the stream version of the last event that ended every session (disable,
	// password change, TOTP reset): sessions opened at or before it are void.
	sessionsEnd uint64
	version     uint64
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
	next := s.version + 1
	switch e := e.(type) {
	case *StaffAdded:
		s.id, s.role, s.passwordHash, s.sealedSecret = e.StaffID, e.Role, e.PasswordHash, e.SealedTOTPSecret
	case *StaffLoggedIn:
		s.lastStep = max(s.lastStep, e.TOTPStep)
		s.failures = 0
	case *LoginFailed:
		s.failures++
	case *StaffLocked:
		s.lockedUntil, s.failures = e.Until, 0
	case *StaffUnlocked:
		s.lockedUntil, s.failures = time.Time{}, 0
	case *StaffLoggedOut:
	case *StaffDisabled:
		s.disabled, s.sessionsEnd = true, next
	case *StaffEnabled:
		s.disabled = false
	case *StaffPasswordChanged:
		s.passwordHash, s.sessionsEnd = e.PasswordHash, next
	case *StaffTOTPReset:
		// No code of the new secret was used yet: the reuse check starts over with it.
		s.sealedSecret, s.sessionsEnd, s.lastStep = e.SealedTOTPSecret, next, 0
	default:
		return s
	}
	s.version = next
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

// Disabled reports whether an operator disabled the member.
func (s Staff) Disabled() bool { return s.disabled }

// LockedAt reports whether logins are refused at now because of repeated failures.
func (s Staff) LockedAt(now time.Time) bool { return now.Before(s.lockedUntil) }

// LockedUntil is when the last lock ends (zero if there was none or it was lifted).
func (s Staff) LockedUntil() time.Time { return s.lockedUntil }

// Failures is the number of failed logins since the last success, lock or unlock.
func (s Staff) Failures() int { return s.failures }

// sessionValid reports whether a session opened by the login at stream version openedAt is
// still one of the member's: not ended by a disable, password change or TOTP reset since.
func (s Staff) sessionValid(openedAt uint64) bool {
	return s.Exists() && !s.disabled && openedAt > s.sessionsEnd
}

// NewStaff is the command that registers a staff member (yorozu staff add).
type NewStaff struct {
	ID       string
	Role     Role
	Password string
}

// Enrollment is what the person adding a staff member (or resetting their TOTP) hands over
// once: the TOTP secret for the authenticator app. It is printed by `yorozu staff add` and
// `yorozu staff reset-totp` and never stored in clear.
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
	if err := checkPassword(cmd.Password); err != nil {
		return nil, Enrollment{}, err
	}
	hash, err := hashPassword(cmd.Password, p.Password.orDefault(), random, p.key())
	if err != nil {
		return nil, Enrollment{}, err
	}
	secret, sealed, err := p.newTOTPSecret(cmd.ID, random)
	if err != nil {
		return nil, Enrollment{}, err
	}
	added := &StaffAdded{StaffID: cmd.ID, Role: cmd.Role, PasswordHash: hash, SealedTOTPSecret: sealed}
	return []Event{added}, enrollment(cmd.ID, cmd.Role, secret), nil
}

func checkPassword(password string) error {
	if n := len([]rune(password)); n < MinPasswordLength || len(password) > MaxPasswordLength {
		return fmt.Errorf("%w: use %d to %d characters", ErrWeakPassword, MinPasswordLength, MaxPasswordLength)
	}
	return nil
}

// newTOTPSecret draws a TOTP secret and seals it for staffID.
func (p Policy) newTOTPSecret(staffID string, random io.Reader) (secret string, sealed []byte, err error) {
	if p.Secrets == nil {
		return "", nil, errors.New("access: Policy.Secrets is required to seal a TOTP secret")
	}
	raw := make([]byte, totpSecretBytes)
	if _, err := io.ReadFull(random, raw); err != nil {
		return "", nil, fmt.Errorf("access: read TOTP secret: %w", err)
	}
	secret = base32NoPad.EncodeToString(raw)
	sealed, err = p.Secrets.Seal([]byte(secret), TOTPAssociatedData(staffID))
	if err != nil {
		return "", nil, fmt.Errorf("access: seal TOTP secret: %w", err)
	}
	return secret, sealed, nil
}

func enrollment(id string, role Role, secret string) Enrollment {
	return Enrollment{StaffID: id, Role: role, TOTPSecret: secret, OTPAuthURL: OTPAuthURL(id, secret)}
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

// LoginAttempt is what a login sends.
type LoginAttempt struct {
	StaffID  string
	Password string
	OTP      string
}

// ValidName reports whether name can name a staff member or an API key at all (1 to 64 of
// A-Z a-z 0-9 . _ @ -). A login with another ID is refused by RefuseMalformed without touching
// any stream.
func ValidName(name string) bool { return validateName(name) == nil }

// RefuseMalformed refuses a login whose staff ID no member can have (ValidStaffID), after the
// work of a password check, so that the answer costs what any other refusal costs.
func (p Policy) RefuseMalformed(a LoginAttempt) error {
	if err := p.spendHash(a.Password); err != nil {
		return err
	}
	return &CredentialError{StaffID: p.UnknownID(a.StaffID), Reason: ReasonUnknownStaff}
}

// Login decides a login attempt against s: the state of StaffStream(a.StaffID), or, for an ID
// that is not registered, of UnknownStaffStream(p.UnknownID(a.StaffID)) (which holds only
// failures and locks, under the ID's pseudonym). It checks the lock, then the password (argon2id, constant time), then the one-time
// code, refusing a code whose time step is not after the last used one.
//
// On success it returns a StaffLoggedIn and the session. On refusal it returns a
// *CredentialError (matching ErrBadCredentials; also ErrOTPReused for a reused code, ErrLocked
// for a locked ID) and, unless the ID is locked, a LoginFailed, followed by a StaffLocked when
// that failure is the MaxFailures-th in a row: the caller appends them although the login
// fails. An unknown or disabled ID costs a password check like any other (no timing oracle)
// and fails and locks like any other. A locked ID is refused at once: no hash, no event, so
// hammering a locked ID costs the service nothing and grows no stream.
//
// The caller appends the events expecting s.Version(): two replicas accepting the same code at
// once conflict, and the loser, deciding again on the reloaded stream, refuses it as reused.
func (p Policy) Login(s Staff, a LoginAttempt, now time.Time, random io.Reader) ([]Event, Session, error) {
	id := a.StaffID
	if !s.Exists() {
		id = p.UnknownID(a.StaffID)
	}
	if s.LockedAt(now) {
		return nil, Session{}, &CredentialError{StaffID: id, Reason: ReasonLockedOut,
			LockedUntil: s.lockedUntil, retryIn: s.lockedUntil.Sub(now)}
	}
	if !s.Exists() || s.disabled {
		if err := p.spendHash(a.Password); err != nil {
			return nil, Session{}, err
		}
		if s.Exists() {
			return p.refuse(s, id, ReasonDisabled, now)
		}
		return p.refuse(s, id, ReasonUnknownStaff, now)
	}

	ok, err := verifyPassword(a.Password, s.passwordHash, p.key())
	if errors.Is(err, ErrCorruptSecret) {
		return nil, Session{}, fmt.Errorf("access: staff %q: %w", s.id, err)
	}
	if err != nil {
		return nil, Session{}, err // the application's hashing refused (too busy)
	}
	if !ok {
		return p.refuse(s, a.StaffID, ReasonWrongPassword, now)
	}

	if p.Secrets == nil {
		return nil, Session{}, errors.New("access: Policy.Secrets is required to log in")
	}
	secret, err := p.Secrets.Open(s.sealedSecret, TOTPAssociatedData(s.id))
	if err != nil {
		return nil, Session{}, fmt.Errorf("access: staff %q TOTP secret: %w", s.id, errors.Join(ErrCorruptSecret, err))
	}
	step, reason := matchStep(string(secret), a.OTP, now, s.lastStep)
	if reason != "" {
		return p.refuse(s, a.StaffID, reason, now)
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

// refuse is a failed login of id: a LoginFailed, and a StaffLocked if it is the MaxFailures-th
// in a row.
func (p Policy) refuse(s Staff, id string, reason FailureReason, now time.Time) ([]Event, Session, error) {
	evs := []Event{&LoginFailed{StaffID: id, Reason: reason, At: now.UTC()}}
	if limit := p.maxFailures(); limit > 0 && s.failures+1 >= limit {
		evs = append(evs, &StaffLocked{StaffID: id, Until: now.Add(p.lockout()).UTC(), At: now.UTC()})
	}
	return evs, Session{}, &CredentialError{StaffID: id, Reason: reason}
}

// ChangeOwnPassword decides a staff member's change of their own password: current must be the
// password now in force. A wrong current password is a failed login (a LoginFailed, and a lock
// at the limit, returned with an error matching ErrCurrentPassword), so a stolen session cannot
// guess the password through this door faster than through the login. A locked member is
// refused (ErrLocked). Every session of the member ends, the one asking included.
func (p Policy) ChangeOwnPassword(s Staff, current, next string, now time.Time, random io.Reader) ([]Event, error) {
	switch {
	case !s.Exists():
		return nil, ErrUnknownStaff
	case s.LockedAt(now):
		return nil, &CredentialError{StaffID: s.id, Reason: ReasonLockedOut, LockedUntil: s.lockedUntil, retryIn: s.lockedUntil.Sub(now)}
	}
	if err := checkPassword(next); err != nil {
		return nil, err
	}
	ok, err := verifyPassword(current, s.passwordHash, p.key())
	if err != nil {
		return nil, err
	}
	if !ok {
		evs, _, _ := p.refuse(s, s.id, ReasonWrongPassword, now)
		return evs, fmt.Errorf("%w (staff %q)", ErrCurrentPassword, s.id)
	}
	return p.SetPassword(s, next, now, random)
}

// SetPassword decides an operator's setting of a staff member's password (a forgotten one).
// Every session of the member ends.
func (p Policy) SetPassword(s Staff, next string, now time.Time, random io.Reader) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrUnknownStaff
	}
	if err := checkPassword(next); err != nil {
		return nil, err
	}
	hash, err := hashPassword(next, p.Password.orDefault(), random, p.key())
	if err != nil {
		return nil, err
	}
	return []Event{&StaffPasswordChanged{StaffID: s.id, PasswordHash: hash, At: now.UTC()}}, nil
}

// ResetTOTP gives a staff member a new TOTP secret, shown once in the Enrollment; codes of the
// old secret stop working and every session of the member ends.
func (p Policy) ResetTOTP(s Staff, now time.Time, random io.Reader) ([]Event, Enrollment, error) {
	if !s.Exists() {
		return nil, Enrollment{}, ErrUnknownStaff
	}
	secret, sealed, err := p.newTOTPSecret(s.id, random)
	if err != nil {
		return nil, Enrollment{}, err
	}
	return []Event{&StaffTOTPReset{StaffID: s.id, SealedTOTPSecret: sealed, At: now.UTC()}}, enrollment(s.id, s.role, secret), nil
}

// Disable stops a staff member from logging in and ends their sessions. Disabling a disabled
// member changes nothing.
func (s Staff) Disable(now time.Time) ([]Event, error) {
	switch {
	case !s.Exists():
		return nil, ErrUnknownStaff
	case s.disabled:
		return nil, nil
	}
	return []Event{&StaffDisabled{StaffID: s.id, At: now.UTC()}}, nil
}

// Enable lets a disabled staff member log in again. Enabling an enabled member changes nothing.
func (s Staff) Enable(now time.Time) ([]Event, error) {
	switch {
	case !s.Exists():
		return nil, ErrUnknownStaff
	case !s.disabled:
		return nil, nil
	}
	return []Event{&StaffEnabled{StaffID: s.id, At: now.UTC()}}, nil
}

// Unlock lifts a lock and clears the count of failures. A member neither locked nor with
// failures changes nothing.
func (s Staff) Unlock(now time.Time) ([]Event, error) {
	switch {
	case !s.Exists():
		return nil, ErrUnknownStaff
	case !s.LockedAt(now) && s.failures == 0:
		return nil, nil
	}
	return []Event{&StaffUnlocked{StaffID: s.id, At: now.UTC()}}, nil
}

// LogOut ends the session whose token hashes to tokenHash (TokenHash); the caller has
// authenticated it as one of this member's.
func (s Staff) LogOut(tokenHash string, now time.Time) ([]Event, error) {
	if !s.Exists() {
		return nil, ErrUnknownStaff
	}
	return []Event{&StaffLoggedOut{StaffID: s.id, SessionTokenHash: tokenHash, At: now.UTC()}}, nil
}

// StaffInfo is what operators see of a staff member: never a hash or a secret.
type StaffInfo struct {
	StaffID     string     `json:"staffId"`
	Role        Role       `json:"role"`
	Disabled    bool       `json:"disabled"`
	Locked      bool       `json:"locked"`
	LockedUntil *time.Time `json:"lockedUntil"`
	// Failures is the number of failed logins in a row since the last success, lock or unlock.
	Failures int `json:"failures"`
}

// Info is the member as operators see it at now.
func (s Staff) Info(now time.Time) StaffInfo {
	info := StaffInfo{StaffID: s.id, Role: s.role, Disabled: s.disabled, Locked: s.LockedAt(now), Failures: s.failures}
	if info.Locked {
		until := s.lockedUntil.UTC()
		info.LockedUntil = &until
	}
	return info
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
