package access

import (
	"errors"
	"time"

	"yorozu/domain/event"
)

// Event is a fact of this package. Its JSON encoding is the event's data; EventType is the
// envelope's type. Every event here has schema version SchemaVersion.
//
// Fields that hold a secret (a password hash, a sealed TOTP secret, a token hash) declare it with
// the struct tag `secret:"KIND"`: the event log keeps them, and every outlet removes them
// (event.Registry.Redact).
type Event interface {
	EventType() string
	isAccessEvent()
}

// SchemaVersion is the schema version of every event type of this package.
const SchemaVersion = 1

// Event types, as stored in the envelope.
const (
	TypeStaffAdded           = "StaffAdded"
	TypeStaffLoggedIn        = "StaffLoggedIn"
	TypeLoginFailed          = "StaffLoginFailed"
	TypeStaffLocked          = "StaffLocked"
	TypeStaffUnlocked        = "StaffUnlocked"
	TypeStaffLoggedOut       = "StaffLoggedOut"
	TypeStaffDisabled        = "StaffDisabled"
	TypeStaffEnabled         = "StaffEnabled"
	TypeStaffPasswordChanged = "StaffPasswordChanged"
	TypeStaffTOTPReset       = "StaffTOTPReset"
	TypeAPIKeyCreated        = "APIKeyCreated"
	TypeAPIKeyRevoked        = "APIKeyRevoked"
)

// Stream categories (the part before the first '-').
const (
	StaffCategory  = "staff"
	APIKeyCategory = "apikey"
	// UnknownStaffCategory holds the failed logins (and locks) of staff IDs that do not exist:
	// they cost and answer what a known ID's do, without creating a staff stream.
	UnknownStaffCategory = "unknownstaff"

	staffStreamPrefix        = StaffCategory + "-"
	apiKeyStreamPrefix       = APIKeyCategory + "-"
	unknownStaffStreamPrefix = UnknownStaffCategory + "-"
)

// StaffStream is the stream of one staff member's events.
func StaffStream(staffID string) string { return staffStreamPrefix + staffID }

// UnknownStaffStream is the stream of the failed logins of a staff ID that is not registered,
// named by the ID's pseudonym (Policy.UnknownID): what someone typed as a staff ID may be a
// password typed in the wrong field, and is never stored in clear. A staff member added later
// under that ID starts a fresh StaffStream; this one stays as the record of the earlier attempts.
func UnknownStaffStream(pseudonym string) string { return unknownStaffStreamPrefix + pseudonym }

// APIKeyStream is the stream of one API key's events. Appending its APIKeyCreated with "no
// stream expected" is what keeps key names unique.
func APIKeyStream(name string) string { return apiKeyStreamPrefix + name }

// StaffAdded registers a staff member. The password is there only as an argon2id PHC string
// and the TOTP secret only sealed by the SecretBox of the deployment (AES-GCM, bound to the
// staff ID), so the event log and its backups reveal neither.
type StaffAdded struct {
	StaffID      string `json:"staffId"`
	Role         Role   `json:"role"`
	PasswordHash string `json:"passwordHash" secret:"hash"`
	// SealedTOTPSecret is SecretBox.Seal(base32 secret, TOTPAssociatedData(StaffID)).
	SealedTOTPSecret []byte `json:"sealedTotpSecret" secret:"sealed"`
}

// StaffLoggedIn records a successful login. TOTPStep is the time step (Unix time / 30 s) of the
// code used: a later login must use a later step, on any replica and after any restart. The
// session is recorded as the SHA-256 of its token so every replica accepts it.
type StaffLoggedIn struct {
	StaffID          string    `json:"staffId"`
	TOTPStep         int64     `json:"totpStep"`
	SessionTokenHash string    `json:"sessionTokenHash" secret:"hash"`
	At               time.Time `json:"at"`
	ExpiresAt        time.Time `json:"expiresAt"`
}

// LoginFailed records a refused login, for the audit trail and the lockout: in the staff
// member's stream, or in UnknownStaffStream for an ID that is not registered (whose StaffID is
// then the ID's pseudonym, Policy.UnknownID).
type LoginFailed struct {
	StaffID string        `json:"staffId"`
	Reason  FailureReason `json:"reason"`
	At      time.Time     `json:"at"`
}

// StaffLocked records that logins of a staff ID are refused until Until: it failed
// MaxFailures times in a row. It is appended with the failure that reached the limit.
type StaffLocked struct {
	StaffID string    `json:"staffId"`
	Until   time.Time `json:"until"`
	At      time.Time `json:"at"`
}

// StaffUnlocked records that an operator lifted a lock (or cleared the count of failures)
// before it ended by itself.
type StaffUnlocked struct {
	StaffID string    `json:"staffId"`
	At      time.Time `json:"at"`
}

// StaffLoggedOut ends one session, named by its token's SHA-256, on every replica.
type StaffLoggedOut struct {
	StaffID          string    `json:"staffId"`
	SessionTokenHash string    `json:"sessionTokenHash" secret:"hash"`
	At               time.Time `json:"at"`
}

// StaffDisabled records that a staff member may no longer log in; every session of theirs
// ends.
type StaffDisabled struct {
	StaffID string    `json:"staffId"`
	At      time.Time `json:"at"`
}

// StaffEnabled lets a disabled staff member log in again. Sessions ended by the disabling stay
// ended.
type StaffEnabled struct {
	StaffID string    `json:"staffId"`
	At      time.Time `json:"at"`
}

// StaffPasswordChanged replaces a staff member's password (by the member, who gave the current
// one, or by an operator: the envelope's actor says which); every session of theirs ends.
type StaffPasswordChanged struct {
	StaffID      string    `json:"staffId"`
	PasswordHash string    `json:"passwordHash" secret:"hash"`
	At           time.Time `json:"at"`
}

// StaffTOTPReset gives a staff member a new TOTP secret (a lost or replaced phone): codes of the
// old one stop working, and so does every session of theirs.
type StaffTOTPReset struct {
	StaffID          string    `json:"staffId"`
	SealedTOTPSecret []byte    `json:"sealedTotpSecret" secret:"sealed"`
	At               time.Time `json:"at"`
}

// APIKeyCreated registers a service account's API key; only the key's SHA-256 is kept.
type APIKeyCreated struct {
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	KeyHash string `json:"keyHash" secret:"hash"`
}

// APIKeyRevoked ends an API key for good: it answers 401 from then on. Its name stays taken.
type APIKeyRevoked struct {
	Name string    `json:"name"`
	At   time.Time `json:"at"`
}

func (*StaffAdded) EventType() string           { return TypeStaffAdded }
func (*StaffLoggedIn) EventType() string        { return TypeStaffLoggedIn }
func (*LoginFailed) EventType() string          { return TypeLoginFailed }
func (*StaffLocked) EventType() string          { return TypeStaffLocked }
func (*StaffUnlocked) EventType() string        { return TypeStaffUnlocked }
func (*StaffLoggedOut) EventType() string       { return TypeStaffLoggedOut }
func (*StaffDisabled) EventType() string        { return TypeStaffDisabled }
func (*StaffEnabled) EventType() string         { return TypeStaffEnabled }
func (*StaffPasswordChanged) EventType() string { return TypeStaffPasswordChanged }
func (*StaffTOTPReset) EventType() string       { return TypeStaffTOTPReset }
func (*APIKeyCreated) EventType() string        { return TypeAPIKeyCreated }
func (*APIKeyRevoked) EventType() string        { return TypeAPIKeyRevoked }

func (*StaffAdded) isAccessEvent()           {}
func (*StaffLoggedIn) isAccessEvent()        {}
func (*LoginFailed) isAccessEvent()          {}
func (*StaffLocked) isAccessEvent()          {}
func (*StaffUnlocked) isAccessEvent()        {}
func (*StaffLoggedOut) isAccessEvent()       {}
func (*StaffDisabled) isAccessEvent()        {}
func (*StaffEnabled) isAccessEvent()         {}
func (*StaffPasswordChanged) isAccessEvent() {}
func (*StaffTOTPReset) isAccessEvent()       {}
func (*APIKeyCreated) isAccessEvent()        {}
func (*APIKeyRevoked) isAccessEvent()        {}

// staffIDOf is the staff member a staff event is about ("" for API-key events).
func staffIDOf(e Event) string {
	switch e := e.(type) {
	case *StaffAdded:
		return e.StaffID
	case *StaffLoggedIn:
		return e.StaffID
	case *LoginFailed:
		return e.StaffID
	case *StaffLocked:
		return e.StaffID
	case *StaffUnlocked:
		return e.StaffID
	case *StaffLoggedOut:
		return e.StaffID
	case *StaffDisabled:
		return e.StaffID
	case *StaffEnabled:
		return e.StaffID
	case *StaffPasswordChanged:
		return e.StaffID
	case *StaffTOTPReset:
		return e.StaffID
	}
	return ""
}

// ErrUnknownEvent: the directory was given an event this package does not define.
var ErrUnknownEvent = errors.New("access: unknown event type")

// RegisterEvents adds the access events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*StaffAdded)(nil), (*StaffLoggedIn)(nil), (*LoginFailed)(nil), (*StaffLocked)(nil),
		(*StaffUnlocked)(nil), (*StaffLoggedOut)(nil), (*StaffDisabled)(nil), (*StaffEnabled)(nil),
		(*StaffPasswordChanged)(nil), (*StaffTOTPReset)(nil), (*APIKeyCreated)(nil), (*APIKeyRevoked)(nil))
}
