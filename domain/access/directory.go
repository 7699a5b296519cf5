package access

import (
	"errors"
	"fmt"
	"sync"
	"time"
)

// ErrOutOfOrder: Directory.Apply was given a staff event that is not the next one of its stream.
var ErrOutOfOrder = errors.New("access: event out of order")

// Directory is the read model of staff accounts, live sessions and API keys, folded from the
// events of this package. Every replica builds its own from the log, so a session opened on one
// replica is accepted by all, and by the same replica after a restart. It is safe for concurrent
// use.
type Directory struct {
	mu       sync.RWMutex
	staff    map[string]Staff
	sessions map[string]session   // by TokenHash of the session token
	keys     map[string]Principal // by TokenHash of the API key
}

type session struct {
	staffID   string
	expiresAt time.Time
}

// NewDirectory returns an empty directory.
func NewDirectory() *Directory {
	return &Directory{
		staff:    make(map[string]Staff),
		sessions: make(map[string]session),
		keys:     make(map[string]Principal),
	}
}

// Apply folds e, the event at streamVersion of its stream. A staff event at or below the version
// already folded is a redelivery and is ignored; one that skips a version is refused with
// ErrOutOfOrder.
func (d *Directory) Apply(e Event, streamVersion uint64) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	var staffID string
	switch e := e.(type) {
	case *APIKeyCreated:
		d.keys[e.KeyHash] = Principal{ID: e.Name, Role: e.Role, Kind: KindAPIKey}
		return nil
	case *StaffAdded:
		staffID = e.StaffID
	case *StaffLoggedIn:
		staffID = e.StaffID
	case *LoginFailed:
		staffID = e.StaffID
	default:
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
	if in, ok := e.(*StaffLoggedIn); ok {
		d.sessions[in.SessionTokenHash] = session{staffID: in.StaffID, expiresAt: in.ExpiresAt}
	}
	return nil
}

// maxTokenLength bounds what is hashed; real tokens are 43 (session) or 46 (API key) characters.
const maxTokenLength = 256

// Authenticate resolves a bearer token, a session token or an API key, to its principal. It
// fails with ErrSessionExpired for a session that ended at or before now, and with
// ErrUnauthenticated for anything else it does not know.
func (d *Directory) Authenticate(token string, now time.Time) (Principal, error) {
	if token == "" || len(token) > maxTokenLength {
		return Principal{}, ErrUnauthenticated
	}
	h := TokenHash(token)
	d.mu.RLock()
	if p, ok := d.keys[h]; ok {
		d.mu.RUnlock()
		return p, nil
	}
	s, ok := d.sessions[h]
	member := d.staff[s.staffID]
	d.mu.RUnlock()
	switch {
	case !ok || !member.Exists():
		return Principal{}, ErrUnauthenticated
	case !now.Before(s.expiresAt):
		d.mu.Lock()
		delete(d.sessions, h)
		d.mu.Unlock()
		return Principal{}, ErrSessionExpired
	}
	return Principal{ID: member.id, Role: member.role, Kind: KindStaff}, nil
}

// Staff returns the state of a staff member, for deciding a login. It may lag the event log by
// a moment; Login's events are appended expecting its Version, so a stale state only costs a retry.
func (d *Directory) Staff(id string) (Staff, bool) {
	d.mu.RLock()
	defer d.mu.RUnlock()
	s, ok := d.staff[id]
	return s, ok && s.Exists()
}

// PruneSessions forgets sessions that ended at or before now and returns how many. Call it now
// and then (a rebuild from the log folds every session ever opened).
func (d *Directory) PruneSessions(now time.Time) int {
	d.mu.Lock()
	defer d.mu.Unlock()
	n := 0
	for h, s := range d.sessions {
		if !now.Before(s.expiresAt) {
			delete(d.sessions, h)
			n++
		}
	}
	return n
}
