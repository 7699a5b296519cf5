package access

import (
	"encoding/base64"
	"fmt"
	"io"
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
