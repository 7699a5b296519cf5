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
	b := &FileBackend{path: filepath.Join(dir, FileName)}
	data, err := readFile(b.path)
	if err != nil {
		return nil, err
	}
	b.data = data
	return b, nil
}

// readFile reads the key ring file at path; a missing file is an empty key ring.
func readFile(path string) (fileData, error) {
	data := fileData{Format: 1, Keys: map[string][]byte{}, Destroyed: map[string]time.Time{}}
	raw, err := os.ReadFile(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return data, nil
	case err != nil:
		return fileData{}, fmt.Errorf("keyring: %w", err)
	}
	if err := json.Unmarshal(raw, &data); err != nil {
		return fileData{}, fmt.Errorf("keyring: %s: %w", path, err)
	}
	if data.Format != 1 {
		return fileData{}, fmt.Errorf("keyring: %s: unknown format %d", path, data.Format)
	}
	if data.Keys == nil {
		data.Keys = map[string][]byte{}
	}
	if data.Destroyed == nil {
		data.Destroyed = map[string]time.Time{}
	}
	return data, nil
}

// List implements Transfer: the entries as this backend holds them, which is the file as it was
// read at OpenFile plus this process's own changes. Another process reading the file of a
// running server sees it whole, before or after a change: every change renames a complete new
// file over the old one.
func (b *FileBackend) List(context.Context) ([]Entry, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]Entry, 0, len(b.data.Keys)+len(b.data.Destroyed))
	for cn, w := range b.data.Keys {
		if _, gone := b.data.Destroyed[cn]; gone {
			continue // Load treats it as destroyed
		}
		out = append(out, Entry{CustomerNumber: cn, Wrapped: w})
	}
	for cn, at := range b.data.Destroyed {
		out = append(out, Entry{CustomerNumber: cn, DestroyedAt: at.UTC()})
	}
	sortEntries(out)
	return out, nil
}

// Import implements Transfer. The file is read again first, so that one written since OpenFile
// is not overwritten; the new file is written as every change is (a complete file renamed into
// place), so a failed import leaves no file, or the empty one that was there.
func (b *FileBackend) Import(_ context.Context, entries []Entry) error {
	if err := CheckEntries(entries); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	current, err := readFile(b.path)
	if err != nil {
		return err
	}
	if len(current.Keys) > 0 || len(current.Destroyed) > 0 || len(b.data.Keys) > 0 || len(b.data.Destroyed) > 0 {
		return fmt.Errorf("%w: %s holds %d keys and %d tombstones", ErrNotEmpty, b.path,
			max(len(current.Keys), len(b.data.Keys)), max(len(current.Destroyed), len(b.data.Destroyed)))
	}
	next := fileData{Format: 1, Keys: map[string][]byte{}, Destroyed: map[string]time.Time{}}
	for _, e := range entries {
		if e.Destroyed() {
			next.Destroyed[e.CustomerNumber] = e.DestroyedAt.UTC()
		} else {
			next.Keys[e.CustomerNumber] = e.Wrapped
		}
	}
	old := b.data
	b.data = next
	if err := b.save(); err != nil {
		b.data = old
		return err
	}
	return nil
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
