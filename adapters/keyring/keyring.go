// Package keyring keeps the per-contract telemetry data keys (telemetry.KeyRing): AES-256 keys,
// each wrapped (AES-256-GCM) by the deployment's master key, in a store apart from the event
// log: a file in the data directory for the embedded engine (FileBackend), a table for
// PostgreSQL (PostgresBackend). A backup of the event log therefore holds no key, and destroying
// a contract's key makes every payload sealed under it unreadable, backups included.
//
// Destroyed keys leave a tombstone, so that a contract's key is never made again.
package keyring

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"errors"
	"fmt"
	"io"
	"sync"

	"yorozu/domain/telemetry"
)

// Backend stores wrapped keys.
type Backend interface {
	// Load returns the wrapped key of a contract; nil and destroyed=false when there is none.
	Load(ctx context.Context, customerNumber string) (wrapped []byte, destroyed bool, err error)
	// Create stores wrapped unless the contract already has a key (or a tombstone), and returns
	// what is stored after the call: the first writer wins, also across processes.
	Create(ctx context.Context, customerNumber string, wrapped []byte) (stored []byte, destroyed bool, err error)
	// Destroy removes the contract's wrapped key and leaves a tombstone.
	Destroy(ctx context.Context, customerNumber string) error
}

// Ring is the key ring: wrapping with the master key, and a cache of the unwrapped keys.
type Ring struct {
	backend Backend
	master  cipher.AEAD
	random  io.Reader

	mu        sync.RWMutex
	keys      map[string]cipher.AEAD
	destroyed map[string]bool
	creating  sync.Mutex
}

var _ telemetry.KeyRing = (*Ring)(nil)

// New returns a ring over backend whose keys are wrapped by the 32-byte master key.
func New(backend Backend, masterKey []byte, random io.Reader) (*Ring, error) {
	master, err := newAEAD(masterKey)
	if err != nil {
		return nil, fmt.Errorf("keyring: master key: %w", err)
	}
	return &Ring{backend: backend, master: master, random: random, keys: map[string]cipher.AEAD{}, destroyed: map[string]bool{}}, nil
}

func newAEAD(key []byte) (cipher.AEAD, error) {
	if len(key) != 32 {
		return nil, fmt.Errorf("want a 32-byte key, got %d bytes", len(key))
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(block)
}

func wrapAD(customerNumber string) []byte {
	return []byte("yorozu/telemetry-data-key/v1/" + customerNumber)
}

func (r *Ring) cached(customerNumber string) (cipher.AEAD, error, bool) {
	r.mu.RLock()
	defer r.mu.RUnlock()
	if r.destroyed[customerNumber] {
		return nil, telemetry.ErrKeyDestroyed, true
	}
	k, ok := r.keys[customerNumber]
	return k, nil, ok
}

// Key implements telemetry.KeyRing.
func (r *Ring) Key(ctx context.Context, customerNumber string) (cipher.AEAD, error) {
	if k, err, ok := r.cached(customerNumber); ok {
		return k, err
	}
	wrapped, destroyed, err := r.backend.Load(ctx, customerNumber)
	if err != nil {
		return nil, err
	}
	return r.remember(customerNumber, wrapped, destroyed)
}

// DataKey implements telemetry.KeyRing.
func (r *Ring) DataKey(ctx context.Context, customerNumber string) (cipher.AEAD, error) {
	k, err := r.Key(ctx, customerNumber)
	if !errors.Is(err, telemetry.ErrNoKey) {
		return k, err
	}
	r.creating.Lock()
	defer r.creating.Unlock()
	if k, err, ok := r.cached(customerNumber); ok {
		return k, err
	}
	raw := make([]byte, 32)
	if _, err := io.ReadFull(r.random, raw); err != nil {
		return nil, fmt.Errorf("keyring: new key: %w", err)
	}
	nonce := make([]byte, r.master.NonceSize(), r.master.NonceSize()+len(raw)+r.master.Overhead())
	if _, err := io.ReadFull(r.random, nonce); err != nil {
		return nil, fmt.Errorf("keyring: nonce: %w", err)
	}
	wrapped := r.master.Seal(nonce, nonce, raw, wrapAD(customerNumber))
	stored, destroyed, err := r.backend.Create(ctx, customerNumber, wrapped)
	if err != nil {
		return nil, err
	}
	return r.remember(customerNumber, stored, destroyed)
}

func (r *Ring) remember(customerNumber string, wrapped []byte, destroyed bool) (cipher.AEAD, error) {
	if destroyed {
		r.mu.Lock()
		r.destroyed[customerNumber] = true
		delete(r.keys, customerNumber)
		r.mu.Unlock()
		return nil, telemetry.ErrKeyDestroyed
	}
	if wrapped == nil {
		return nil, telemetry.ErrNoKey
	}
	n := r.master.NonceSize()
	if len(wrapped) < n+r.master.Overhead() {
		return nil, fmt.Errorf("keyring: %s: wrapped key too short", customerNumber)
	}
	raw, err := r.master.Open(nil, wrapped[:n], wrapped[n:], wrapAD(customerNumber))
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: the key does not unwrap with this master key: %w", customerNumber, err)
	}
	k, err := newAEAD(raw)
	if err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", customerNumber, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.destroyed[customerNumber] {
		return nil, telemetry.ErrKeyDestroyed
	}
	r.keys[customerNumber] = k
	return k, nil
}

// Destroy implements telemetry.KeyRing.
func (r *Ring) Destroy(ctx context.Context, customerNumber string) error {
	r.mu.Lock()
	r.destroyed[customerNumber] = true
	delete(r.keys, customerNumber)
	r.mu.Unlock()
	return r.backend.Destroy(ctx, customerNumber)
}

// Forget implements telemetry.KeyRing: the next use of the key asks the backend again.
func (r *Ring) Forget(customerNumber string) {
	r.mu.Lock()
	delete(r.keys, customerNumber)
	r.mu.Unlock()
}
