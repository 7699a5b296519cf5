package app

// Moving the telemetry key ring between deployments and engines (`yorozu keyring export`,
// `yorozu keyring import`; docs/backup.md). A backup holds the event log only; the data keys that
// open the contracts' telemetry live in the key ring, where wireTelemetry keeps it: the table
// telemetry_keys with --postgres (with or without --eventstore), else DATA/keyring.json. These
// commands read and load that key ring, wrapped keys and tombstones as they are stored: a key
// never leaves its wrapping, and a destroyed key stays destroyed where the key ring goes.
//
// The export needs no forwarding to a running server: on the embedded store the tool reads
// keyring.json, which the server rewrites only by renaming a complete new file over the old one,
// so a reader sees it whole, before or after a change; the table is read in one statement. The
// import does not go through a server either: it loads an empty key ring, which a running
// server must not be using (its FileBackend keeps the file's content in memory and would write
// over the imported one), so a directory whose event log a server holds is refused.

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/keyring"
	"yorozu/adapters/postgres/migrate"
)

// KeyRingSummary is what `yorozu keyring export --out` and `yorozu keyring import` print:
// the file, and how many keys and tombstones it holds.
type KeyRingSummary struct {
	File      string `json:"file"`
	Keys      int    `json:"keys"`
	Destroyed int    `json:"destroyed"`
}

// openKeyRing opens the key ring cfg names, as the service would. forImport applies the
// PostgreSQL migrations (a new database gets its table) and, on the embedded store, holds the
// event log's lock while the key ring is loaded, so that no server starts on the directory
// meanwhile; it fails with bolt.ErrLocked when a server holds it.
func openKeyRing(ctx context.Context, cfg Config, forImport bool) (keyring.Transfer, string, func(), error) {
	if cfg.PostgresURL != "" {
		pool, err := pgxpool.New(ctx, cfg.PostgresURL)
		if err != nil {
			return nil, "", nil, fmt.Errorf("postgres: %w", err)
		}
		if err := pool.Ping(ctx); err != nil {
			pool.Close()
			return nil, "", nil, fmt.Errorf("postgres: %w", err)
		}
		if forImport {
			err = migrate.Up(ctx, pool)
		} else {
			var present bool
			err = pool.QueryRow(ctx, "SELECT to_regclass('telemetry_keys') IS NOT NULL").Scan(&present)
			if err == nil && !present {
				err = errors.New("postgres: the database has no key ring (table telemetry_keys; run `yorozu migrate` first)")
			}
		}
		if err != nil {
			pool.Close()
			return nil, "", nil, err
		}
		return keyring.NewPostgres(pool), keyring.BackendPostgres, pool.Close, nil
	}
	dir := cfg.DataDir
	release := func() {}
	if forImport && cfg.EventStoreURL == "" {
		if _, err := os.Stat(filepath.Join(dir, bolt.FileName)); err == nil {
			// A server on this directory holds its event log: refused (bolt.ErrLocked).
			s, err := bolt.OpenDir(dir, bolt.Options{})
			if err != nil {
				return nil, "", nil, err
			}
			release = func() { _ = s.Close() }
		}
		// Without an event log no server runs on the directory (serve makes one at its start).
	}
	if !forImport && !holdsAny(dir, keyring.FileName, bolt.FileName, "master.key") {
		return nil, "", nil, fmt.Errorf("%s holds no key ring (%s), no event log and no master key: "+
			"not a data directory", dir, keyring.FileName)
	}
	b, err := keyring.OpenFile(dir)
	if err != nil {
		release()
		return nil, "", nil, err
	}
	return b, keyring.BackendFile, release, nil
}

func holdsAny(dir string, names ...string) bool {
	for _, n := range names {
		if _, err := os.Stat(filepath.Join(dir, n)); err == nil {
			return true
		}
	}
	return false
}

func summarize(file string, entries []keyring.Entry) KeyRingSummary {
	s := KeyRingSummary{File: file}
	for _, e := range entries {
		if e.Destroyed() {
			s.Destroyed++
		} else {
			s.Keys++
		}
	}
	return s
}

// exportDocument reads the key ring cfg names into an export document.
func exportDocument(ctx context.Context, cfg Config) (*keyring.Document, []keyring.Entry, error) {
	b, backend, release, err := openKeyRing(ctx, cfg, false)
	if err != nil {
		return nil, nil, err
	}
	defer release()
	entries, err := b.List(ctx)
	if err != nil {
		return nil, nil, err
	}
	now := time.Now
	if cfg.Clock != nil {
		now = cfg.Clock
	}
	return keyring.NewDocument(backend, now(), entries), entries, nil
}

// ExportKeyRing writes the key ring cfg names to w, as one JSON document.
func ExportKeyRing(ctx context.Context, cfg Config, w io.Writer) (KeyRingSummary, error) {
	doc, entries, err := exportDocument(ctx, cfg)
	if err != nil {
		return KeyRingSummary{}, err
	}
	if _, err := doc.WriteTo(w); err != nil {
		return KeyRingSummary{}, err
	}
	return summarize("", entries), nil
}

// ExportKeyRingFile writes the key ring cfg names into a new file at path (mode 0600), whole or
// not at all: a temporary file in the same directory, synced, then linked to its name, which
// must not exist yet.
func ExportKeyRingFile(ctx context.Context, cfg Config, path string) (KeyRingSummary, error) {
	if _, err := os.Lstat(path); err == nil {
		return KeyRingSummary{}, fmt.Errorf("keyring export: %s exists; name a new file", path)
	}
	doc, entries, err := exportDocument(ctx, cfg)
	if err != nil {
		return KeyRingSummary{}, err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, ".yorozu-keyring-*.tmp")
	if err != nil {
		return KeyRingSummary{}, fmt.Errorf("keyring export: %w", err)
	}
	defer os.Remove(tmp.Name())
	_, err = doc.WriteTo(tmp)
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Link(tmp.Name(), path) // fails if path was made meanwhile: nothing is overwritten
	}
	if err != nil {
		return KeyRingSummary{}, fmt.Errorf("keyring export: %w", err)
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return summarize(path, entries), nil
}

// ImportKeyRing loads a key ring export into the empty key ring cfg names. It refuses, writing
// nothing, a file that is not an intact export, wrapped keys that do not unwrap with this
// deployment's master key (YOROZU_MASTER_KEY, else DATA/master.key), a key ring that holds
// anything (keys or tombstones), and an embedded data directory a server holds (bolt.ErrLocked).
func ImportKeyRing(ctx context.Context, cfg Config, file string) (KeyRingSummary, error) {
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	f, err := os.Open(file)
	if err != nil {
		return KeyRingSummary{}, fmt.Errorf("keyring import: %w", err)
	}
	doc, err := keyring.ReadDocument(f)
	f.Close()
	if err != nil {
		return KeyRingSummary{}, fmt.Errorf("keyring import refused: %s is not an intact key ring export (%v); nothing was written", file, err)
	}
	entries := doc.Entries()
	sum := summarize(file, entries)
	if sum.Keys > 0 {
		master, where, err := existingMasterKey(cfg.DataDir)
		if err != nil {
			return KeyRingSummary{}, fmt.Errorf("keyring import refused: %v; the keys of %s are wrapped by the master key of the "+
				"deployment they come from: give that key first; nothing was written", err, file)
		}
		if err := keyring.CheckMasterKey(master, entries); err != nil {
			return KeyRingSummary{}, fmt.Errorf("keyring import refused: %v (the master key from %s); give the master key of the "+
				"deployment the export comes from; nothing was written", err, where)
		}
	}
	b, _, release, err := openKeyRing(ctx, cfg, true)
	if err != nil {
		return KeyRingSummary{}, err
	}
	defer release()
	if err := b.Import(ctx, entries); err != nil {
		if errors.Is(err, keyring.ErrNotEmpty) {
			return KeyRingSummary{}, fmt.Errorf("keyring import refused: the target key ring is not empty (%v); import into the key ring "+
				"of a new data directory or database, after `yorozu restore` and before the first `yorozu serve` there; nothing was written", err)
		}
		return KeyRingSummary{}, fmt.Errorf("keyring import failed: %w", err)
	}
	return sum, nil
}

// existingMasterKey is the deployment's master key as masterKey finds it, without ever making
// one: YOROZU_MASTER_KEY, else DIR/master.key. where says which.
func existingMasterKey(dir string) ([]byte, string, error) {
	if env := os.Getenv("YOROZU_MASTER_KEY"); env != "" {
		k, err := base64.StdEncoding.DecodeString(env)
		if err != nil || len(k) != 32 {
			return nil, "", errors.New("YOROZU_MASTER_KEY must be the base64 of 32 bytes")
		}
		return k, "YOROZU_MASTER_KEY", nil
	}
	path := filepath.Join(dir, "master.key")
	k, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, "", fmt.Errorf("no master key: YOROZU_MASTER_KEY is not set and %s does not exist", path)
	}
	if err != nil {
		return nil, "", err
	}
	if len(k) != 32 {
		return nil, "", fmt.Errorf("%s: want 32 bytes, found %d", path, len(k))
	}
	return k, path, nil
}
