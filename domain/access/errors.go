package access

import (
	"errors"
	"fmt"
	"time"
)

var (
	// ErrBadCredentials: a login was refused. It is the one answer the outside gets, whatever
	// went wrong (unknown ID, wrong password, wrong or reused one-time code, locked out); the
	// *CredentialError behind it tells logs which.
	ErrBadCredentials = errors.New("access: bad credentials")
	// ErrOTPReused: the one-time code's time step was already used by an earlier login. It also
	// matches ErrBadCredentials, so callers that only report ErrBadCredentials leak nothing.
	ErrOTPReused = errors.New("access: one-time code already used")
	// ErrLocked: the staff ID failed too many logins in a row and is locked for a while (or
	// until an operator unlocks it). It also matches ErrBadCredentials.
	ErrLocked = errors.New("access: locked after repeated failed logins")
	// ErrCurrentPassword: a staff member changing their own password gave a wrong current
	// password. It counts as a failed login.
	ErrCurrentPassword = errors.New("access: current password wrong")
	// ErrUnknownStaff: no staff member has that ID (an operator's command on a staff member).
	ErrUnknownStaff = errors.New("access: no such staff member")
	// ErrUnknownAPIKey: no API key has that name.
	ErrUnknownAPIKey = errors.New("access: no such API key")
	// ErrNotASession: the caller authenticated with an API key, not a staff session (logout,
	// own password change).
	ErrNotASession = errors.New("access: only a staff session can do this")
	// ErrUnauthenticated: a bearer token that is neither a live session nor an API key.
	ErrUnauthenticated = errors.New("access: unauthenticated")
	// ErrSessionExpired: a session token whose session has ended. Log in again.
	ErrSessionExpired = errors.New("access: session expired")
	// ErrInvalidName: a staff ID or API key name that is empty, too long or uses other
	// characters than letters, digits and . _ @ -.
	ErrInvalidName = errors.New("access: invalid name")
	// ErrWeakPassword: a password shorter than MinPasswordLength (or absurdly long).
	ErrWeakPassword = errors.New("access: password too weak")
	// ErrExists: the staff member (or API key name) is already registered. For API keys the
	// caller finds out by appending to APIKeyStream(name) expecting no stream.
	ErrExists = errors.New("access: already exists")
	// ErrCorruptSecret: a stored hash or sealed secret cannot be read (wrong SecretBox key, or
	// a damaged event). A server fault, not a credential problem.
	ErrCorruptSecret = errors.New("access: stored secret unreadable")
)

// FailureReason says why a login was refused. It is recorded in LoginFailed and in logs, never
// sent to the client.
type FailureReason string

const (
	ReasonUnknownStaff  FailureReason = "unknownStaff"
	ReasonWrongPassword FailureReason = "wrongPassword"
	ReasonWrongOTP      FailureReason = "wrongOtp"
	ReasonOTPReused     FailureReason = "otpReused"
	ReasonLockedOut     FailureReason = "lockedOut"
	ReasonDisabled      FailureReason = "disabled"
)

// CredentialError is a refused login with its reason. It matches ErrBadCredentials, and also
// ErrOTPReused or ErrLocked when that is the reason.
type CredentialError struct {
	StaffID string
	Reason  FailureReason
	// LockedUntil is when the lock ends, for ReasonLockedOut.
	LockedUntil time.Time
	// retryIn is how long until the lock ends, from the moment of the decision.
	retryIn time.Duration
}

func (e *CredentialError) Error() string {
	return fmt.Sprintf("access: bad credentials for staff %q (%s)", e.StaffID, e.Reason)
}

// Unwrap makes the error match ErrBadCredentials.
func (e *CredentialError) Unwrap() error { return ErrBadCredentials }

// Is makes a reuse refusal match ErrOTPReused too, and a lock ErrLocked.
func (e *CredentialError) Is(target error) bool {
	return target == ErrOTPReused && e.Reason == ReasonOTPReused ||
		target == ErrLocked && e.Reason == ReasonLockedOut
}

// ProblemDetail is what an HTTP problem may say about this error: nothing beyond its title, so
// a client cannot tell a wrong password from a wrong code (or an unknown ID, or a disabled
// member), except that a locked ID says it is locked.
func (e *CredentialError) ProblemDetail() string {
	if e.Reason == ReasonLockedOut {
		return "Too many failed logins in a row: this staff ID is locked for a while, or until an operator unlocks it."
	}
	return ""
}

// RetryAfter is how long a locked ID stays locked (0 for other refusals).
func (e *CredentialError) RetryAfter() time.Duration { return e.retryIn }
