package keyring

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"
)

// FileName is the key ring's file in the data directory, beside (never inside) the event log.
const FileName = "keyring.json"

// FileBackend keeps the wrapped keys in one JSON file, rewritten whole on every change (a
// temporary file, synced, then renamed over the old one): a destroyed key is not left behind in
// the live file, as it would be on a freed page of a B-tree file. One process owns the file: the
// one that owns the data directory.
type FileBackend struct {
	path string
	mu   sync.Mutex
	data fileData
}

type fileData struct {
	Format int `json:"format"`
	// Keys: customer number → wrapped key; Destroyed: customer number → when.
	Keys      map[string][]byte    `json:"keys"`
	Destroyed map[string]time.Time `json:"destroyed"`
}

// OpenFile opens (or starts) the key ring file of a data directory.
func OpenFile(dir string) (*FileBackend, error) {
	b := &FileBackend{path: filepath.Join(dir, FileName), data: fileData{Format: 1, Keys: map[string][]byte{}, Destroyed: map[string]time.Time{}}}
	raw, err := os.ReadFile(b.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return b, nil
	case err != nil:
		return nil, fmt.Errorf("keyring: %w", err)
	}
	if err := json.Unmarshal(raw, &b.data); err != nil {
		return nil, fmt.Errorf("keyring: %s: %w", b.path, err)
	}
	if b.data.Format != 1 {
		return nil, fmt.Errorf("keyring: %s: unknown format %d", b.path, b.data.Format)
	}
	if b.data.Keys == nil {
		b.data.Keys = map[string][]byte{}
	}
	if b.data.Destroyed == nil {
		b.data.Destroyed = map[string]time.Time{}
	}
	return b, nil
}

// Load implements Backend.
func (b *FileBackend) Load(_ context.Context, cn string) ([]byte, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.data.Destroyed[cn]; ok {
		return nil, true, nil
	}
	return b.data.Keys[cn], false, nil
}

// Create implements Backend.
func (b *FileBackend) Create(_ context.Context, cn string, wrapped []byte) ([]byte, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.data.Destroyed[cn]; ok {
		return nil, true, nil
	}
	if k, ok := b.data.Keys[cn]; ok {
		return k, false, nil
	}
	b.data.Keys[cn] = wrapped
	if err := b.save(); err != nil {
		delete(b.data.Keys, cn)
		return nil, false, err
	}
	return wrapped, false, nil
}

// Destroy implements Backend.
func (b *FileBackend) Destroy(_ context.Context, cn string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if _, ok := b.data.Destroyed[cn]; ok {
		return nil
	}
	old := b.data.Keys[cn]
	delete(b.data.Keys, cn)
	b.data.Destroyed[cn] = time.Now().UTC()
	if err := b.save(); err != nil {
		b.data.Keys[cn] = old
		delete(b.data.Destroyed, cn)
		return err
	}
	return nil
}

func (b *FileBackend) save() error {
	raw, err := json.Marshal(b.data)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(b.path), 0o700); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(b.path), FileName+".*")
	if err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if _, err := tmp.Write(raw); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("keyring: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if err := os.Rename(tmp.Name(), b.path); err != nil {
		return fmt.Errorf("keyring: %w", err)
	}
	if d, err := os.Open(filepath.Dir(b.path)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
