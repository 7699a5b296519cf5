package access

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrOutOfOrder: Directory.Apply was given a staff event that is not the next one of its stream.
var ErrOutOfOrder = errors.New("access: event out of order")

// Directory is the read model of staff accounts, live sessions and API keys, folded from the
// events of this package. Every replica builds its own from the log, so a session opened on one
// replica is accepted by all, and by the same replica after a restart; a logout, a disabled
// member, a changed password or a revoked key ends access on every replica that has folded it.
// It is safe for concurrent use.
type Directory struct {
	mu       sync.RWMutex
	staff    map[string]Staff
	sessions map[string]session // by TokenHash of the session token
	keys     map[string]*apiKey // by TokenHash of the API key
	keyNames map[string]*apiKey // by name
}

type session struct {
	staffID string
	// openedAt is the staff stream version of the login that opened it.
	openedAt  uint64
	expiresAt time.Time
}

type apiKey struct {
	principal Principal
	info      APIKeyInfo
	version   uint64
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{
		staff:    make(map[string]Staff),
		sessions: make(map[string]session),
		keys:     make(map[string]*apiKey),
		keyNames: make(map[string]*apiKey),
	}
}

// Apply folds e, the event at streamVersion of its stream. An event at or below the version
// already folded is a redelivery and is ignored; one that skips a version is refused with
// ErrOutOfOrder.
func (d *Directory) Apply(e Event, streamVersion uint64) error {
	return d.ApplyAt(e, streamVersion, time.Time{})
}

// ApplyAt is Apply with the event's recorded time, which dates API keys in the listing.
func (d *Directory) ApplyAt(e Event, streamVersion uint64, recordedAt time.Time) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	switch e := e.(type) {
	case *APIKeyCreated:
		if k := d.keyNames[e.Name]; k != nil {
			return d.checkKeyVersion(k, e.Name, streamVersion)
		}
		k := &apiKey{principal: Principal{ID: e.Name, Role: e.Role, Kind: KindAPIKey},
			info: APIKeyInfo{Name: e.Name, Role: e.Role, CreatedAt: timeOrNil(recordedAt)}, version: streamVersion}
		d.keys[e.KeyHash], d.keyNames[e.Name] = k, k
		return nil
	case *APIKeyRevoked:
		k := d.keyNames[e.Name]
		if k == nil {
			return fmt.Errorf("%w: API key %q revoked before it was created", ErrOutOfOrder, e.Name)
		}
		if err := d.checkKeyVersion(k, e.Name, streamVersion); err != nil || streamVersion <= k.version {
			return err
		}
		k.info.Revoked, k.info.RevokedAt, k.version = true, timeOrNil(e.At), streamVersion
		return nil
	}
	staffID := staffIDOf(e)
	if staffID == "" {
		return fmt.Errorf("%w: %T", ErrUnknownEvent, e)
	}
	cur := d.staff[staffID]
	switch {
	case streamVersion <= cur.version:
		return nil
	case streamVersion != cur.version+1:
		return fmt.Errorf("%w: staff %q at version %d, got version %d", ErrOutOfOrder, staffID, cur.version, streamVersion)
	}
	d.staff[staffID] = cur.Evolve(e)
	switch e := e.(type) {
	case *StaffLoggedIn:
		d.sessions[e.SessionTokenHash] = session{staffID: e.StaffID, openedAt: streamVersion, expiresAt: e.ExpiresAt}
	case *StaffLoggedOut:
		delete(d.sessions, e.SessionTokenHash)
	}
	return nil
}

// checkKeyVersion accepts a redelivery (at or below the version folded) and the next version
// of a key's stream.
func (d *Directory) checkKeyVersion(k *apiKey, name string, streamVersion uint64) error {
	if streamVersion > k.version+1 {
		return fmt.Errorf("%w: API key %q at version %d, got version %d", ErrOutOfOrder, name, k.version, streamVersion)
	}
	return nil
}

func timeOrNil(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

// maxTokenLength bounds what is hashed; real tokens are 43 (session) or 46 (API key) characters.
const maxTokenLength = 256

// Authenticate resolves a bearer token, a session token or an API key, to its principal. It
// fails with ErrSessionExpired for a session that ended at or before now, and with
// ErrUnauthenticated for anything else it does not know or no longer accepts: a revoked key, a
// logged-out session, a session of a disabled member or one opened before the member's password
// or TOTP secret changed.
func (d *Directory) Authenticate(token string, now time.Time) (Principal, error) {
	if token == "" || len(token) > maxTokenLength {
		return Principal{}, ErrUnauthenticated
	}
	h := TokenHash(token)
	d.mu.RLock()
	if k, ok := d.keys[h]; ok {
		p, revoked := k.principal, k.info.Revoked
		d.mu.RUnlock()
		if revoked {
			return Principal{}, ErrUnauthenticated
		}
		return p, nil
	}
	s, ok := d.sessions[h]
	member := d.staff[s.staffID]
	d.mu.RUnlock()
	switch {
	case !ok:
		return Principal{}, ErrUnauthenticated
	case !member.sessionValid(s.openedAt):
		d.forget(h)
		return Principal{}, ErrUnauthenticated
	case !now.Before(s.expiresAt):
		d.forget(h)
		return Principal{}, ErrSessionExpired
	}
	return Principal{ID: member.id, Role: member.role, Kind: KindStaff}, nil
}

func (d *Directory) forget(tokenHash string) {
	d.mu.Lock()
	delete(d.sessions, tokenHash)
	d.mu.Unlock()
}

// Staff returns the state of a staff member. It may lag the event log by a moment.
func (d *Directory) Staff(id string) (Staff, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.staff[id]
	return s, ok && s.Exists()
}

// StaffList is every staff member as operators see them at now, by ID.
func (d *Directory) StaffList(now time.Time) []StaffInfo {
	d.mu.RLock()
	out := make([]StaffInfo, 0, len(d.staff))
	for _, s := range d.staff {
		if s.Exists() {
			out = append(out, s.Info(now))
		}
	}
	d.mu.RUnlock()
	slices.SortFunc(out, func(a, b StaffInfo) int { return strings.Compare(a.StaffID, b.StaffID) })
	return out
}

// APIKeys is every API key ever created, revoked ones included, by name.
func (d *Directory) APIKeys() []APIKeyInfo {
	d.mu.RLock()
	out := make([]APIKeyInfo, 0, len(d.keyNames))
	for _, k := range d.keyNames {
		out = append(out, k.info)
	}
	d.mu.RUnlock()
	slices.SortFunc(out, func(a, b APIKeyInfo) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// PruneSessions forgets sessions that ended at or before now, or that their member's disable,
// password change or TOTP reset voided, and returns how many. Call it now and then (a rebuild
// from the log folds every session ever opened).
func (d *Directory) PruneSessions(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for h, s := range d.sessions {
		if !now.Before(s.expiresAt) || !d.staff[s.staffID].sessionValid(s.openedAt) {
			delete(d.sessions, h)
			n++
		}
	}
	return n
}
