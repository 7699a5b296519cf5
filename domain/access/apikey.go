package access

import (
	"encoding/base64"
	"fmt"
	"io"
	"time"
)

// APIKeyPrefix starts every API key, so keys are recognisable in logs and by secret scanners.
const APIKeyPrefix = "yk_"

// CreateAPIKey decides a new API key for a service account (yorozu apikey create). It returns
// the APIKeyCreated event and the key, which is shown once: only its SHA-256 is stored. The key
// is "yk_" followed by 32 random bytes in unpadded base64url.
//
// The caller appends the event to APIKeyStream(name) expecting no stream; a concurrency
// conflict there means the name is taken (report ErrExists). random is crypto/rand.Reader in
// production.
func CreateAPIKey(name string, role Role, random io.Reader) ([]Event, string, error) {
	if err := validateName(name); err != nil {
		return nil, "", err
	}
	if role.IsZero() {
		return nil, "", fmt.Errorf("%w: an API key needs a role", ErrUnknownRole)
	}
	raw := make([]byte, tokenBytes)
	if _, err := io.ReadFull(random, raw); err != nil {
		return nil, "", fmt.Errorf("access: read API key: %w", err)
	}
	key := APIKeyPrefix + base64.RawURLEncoding.EncodeToString(raw)
	return []Event{&APIKeyCreated{Name: name, Role: role, KeyHash: TokenHash(key)}}, key, nil
}

// APIKey is the state of one API key, folded from APIKeyStream(name).
type APIKey struct {
	name    string
	role    Role
	revoked bool
	version uint64
}

// Evolve returns the state after e. Events of other aggregates leave it unchanged.
func (k APIKey) Evolve(e Event) APIKey {
	switch e := e.(type) {
	case *APIKeyCreated:
		k.name, k.role = e.Name, e.Role
	case *APIKeyRevoked:
		k.revoked = true
	default:
		return k
	}
	k.version++
	return k
}

// Exists reports whether the key was created.
func (k APIKey) Exists() bool { return k.name != "" }

// Info is the key as operators see it, without the times the envelopes hold.
func (k APIKey) Info() APIKeyInfo { return APIKeyInfo{Name: k.name, Role: k.role, Revoked: k.revoked} }

// Revoked reports whether the key was revoked.
func (k APIKey) Revoked() bool { return k.revoked }

// Revoke ends the key for good. Revoking a revoked key changes nothing.
func (k APIKey) Revoke(now time.Time) ([]Event, error) {
	switch {
	case !k.Exists():
		return nil, ErrUnknownAPIKey
	case k.revoked:
		return nil, nil
	}
	return []Event{&APIKeyRevoked{Name: k.name, At: now.UTC()}}, nil
}

// APIKeyInfo is what operators see of an API key: never the key nor its hash.
type APIKeyInfo struct {
	Name      string     `json:"name"`
	Role      Role       `json:"role"`
	CreatedAt *time.Time `json:"createdAt"`
	Revoked   bool       `json:"revoked"`
	RevokedAt *time.Time `json:"revokedAt"`
}
