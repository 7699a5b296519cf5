package access

import (
	"errors"
	"time"

	"yorozu/domain/event"
)

// Event is a fact of this package. Its JSON encoding is the event's data; EventType is the
// envelope's type. Every event here has schema version SchemaVersion.
type Event interface {
	EventType() string
	isAccessEvent()
}

// SchemaVersion is the schema version of every event type of this package.
const SchemaVersion = 1

// Event types, as stored in the envelope.
const (
	TypeStaffAdded    = "StaffAdded"
	TypeStaffLoggedIn = "StaffLoggedIn"
	TypeLoginFailed   = "StaffLoginFailed"
	TypeAPIKeyCreated = "APIKeyCreated"
)

// Stream categories (the part before the first '-').
const (
	StaffCategory  = "staff"
	APIKeyCategory = "apikey"

	staffStreamPrefix  = StaffCategory + "-"
	apiKeyStreamPrefix = APIKeyCategory + "-"
)

// StaffStream is the stream of one staff member's events.
func StaffStream(staffID string) string { return staffStreamPrefix + staffID }

// APIKeyStream is the stream of one API key's events. Appending its APIKeyCreated with "no
// stream expected" is what keeps key names unique.
func APIKeyStream(name string) string { return apiKeyStreamPrefix + name }

// StaffAdded registers a staff member. The password is there only as an argon2id PHC string
// and the TOTP secret only sealed by the SecretBox of the deployment (AES-GCM, bound to the
// staff ID), so the event log and its backups reveal neither.
type StaffAdded struct {
	StaffID      string `json:"staffId"`
	Role         Role   `json:"role"`
	PasswordHash string `json:"passwordHash"`
	// SealedTOTPSecret is SecretBox.Seal(base32 secret, TOTPAssociatedData(StaffID)).
	SealedTOTPSecret []byte `json:"sealedTotpSecret"`
}

// StaffLoggedIn records a successful login. TOTPStep is the time step (Unix time / 30 s) of the
// code used: a later login must use a later step, on any replica and after any restart. The
// session is recorded as the SHA-256 of its token so every replica accepts it.
type StaffLoggedIn struct {
	StaffID          string    `json:"staffId"`
	TOTPStep         int64     `json:"totpStep"`
	SessionTokenHash string    `json:"sessionTokenHash"`
	At               time.Time `json:"at"`
	ExpiresAt        time.Time `json:"expiresAt"`
}

// LoginFailed records a refused login of a known staff member, for the audit trail and the
// lockout after repeated failures.
type LoginFailed struct {
	StaffID string        `json:"staffId"`
	Reason  FailureReason `json:"reason"`
	At      time.Time     `json:"at"`
}

// APIKeyCreated registers a service account's API key; only the key's SHA-256 is kept.
type APIKeyCreated struct {
	Name    string `json:"name"`
	Role    Role   `json:"role"`
	KeyHash string `json:"keyHash"`
}

func (*StaffAdded) EventType() string    { return TypeStaffAdded }
func (*StaffLoggedIn) EventType() string { return TypeStaffLoggedIn }
func (*LoginFailed) EventType() string   { return TypeLoginFailed }
func (*APIKeyCreated) EventType() string { return TypeAPIKeyCreated }

func (*StaffAdded) isAccessEvent()    {}
func (*StaffLoggedIn) isAccessEvent() {}
func (*LoginFailed) isAccessEvent()   {}
func (*APIKeyCreated) isAccessEvent() {}

// ErrUnknownEvent: the directory was given an event this package does not define.
var ErrUnknownEvent = errors.New("access: unknown event type")

// RegisterEvents adds the access events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*StaffAdded)(nil), (*StaffLoggedIn)(nil), (*LoginFailed)(nil), (*APIKeyCreated)(nil))
}
