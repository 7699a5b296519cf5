package app

// Backups and restores of the event log (`yorozu backup`, `yorozu restore`; docs/backup.md).
// They touch the event log only: no read model, no master key, no key ring. A backup taken
// while `serve` runs on the embedded store goes through the server (admin.go), which owns the
// file; on PostgreSQL and EventStoreDB the tool reads the database itself.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/jackc/pgx/v5"

	"yorozu/adapters/backup"
	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/esdb"
	pgevents "yorozu/adapters/eventstore/postgres"
	"yorozu/adapters/postgres/migrate"
	"yorozu/domain/event"
)

// BackupGenerations is how many backup files a backup directory keeps.
const BackupGenerations = 2

// BackupSummary is what `yorozu backup` prints.
type BackupSummary struct {
	File   string `json:"file"`
	Events int    `json:"events"`
	SHA256 string `json:"sha256"`
}

// RestoreSummary is what `yorozu restore` prints.
type RestoreSummary struct {
	File   string `json:"file"`
	Events int    `json:"events"`
	SHA256 string `json:"sha256"`
	// Head is the position of the restored log's last event, or beyond it if the backed-up
	// log had removed events after it: later appends get positions after it.
	Head event.Position `json:"head"`
}

// DefaultBackupDir is where backups go without --out: DATA/backups on the embedded store,
// ./backups with --postgres or --eventstore (which have no data directory of their own).
func DefaultBackupDir(cfg Config) string {
	if cfg.PostgresURL != "" || cfg.EventStoreURL != "" {
		return "backups"
	}
	dir := cfg.DataDir
	if dir == "" {
		dir = "./var"
	}
	return filepath.Join(dir, "backups")
}

// engineOf names the event store's engine, as backup files record it.
func engineOf(cfg Config) string {
	switch {
	case cfg.EventStoreURL != "":
		return backup.EngineEventStore
	case cfg.PostgresURL != "":
		return backup.EnginePostgres
	}
	return backup.EngineEmbedded
}

// Backup writes a backup of the running service's event log into dir (the forwarded `backup`).
func (a *App) Backup(ctx context.Context, dir string) (BackupSummary, error) {
	log := a.Events
	if c, ok := log.(*countingStore); ok {
		log = c.Store // the adapter itself, which reads one committed state (event.Exporter)
	}
	return writeBackup(ctx, log, dir, engineOf(a.cfg))
}

func writeBackup(ctx context.Context, log event.Log, dir, engine string) (BackupSummary, error) {
	if dir == "" {
		return BackupSummary{}, errors.New("backup: no output directory")
	}
	sum, err := backup.Create(ctx, log, backup.CreateOptions{Dir: dir, Engine: engine, Keep: BackupGenerations})
	if errors.Is(err, backup.ErrBrokenChain) {
		return BackupSummary{}, fmt.Errorf("%w; no backup was written (`yorozu verify` reports the same link)", err)
	}
	if err != nil {
		return BackupSummary{}, err
	}
	return BackupSummary{File: sum.File, Events: sum.Events, SHA256: sum.SHA256}, nil
}

// Backup opens the event store cfg names, without the rest of the service, and writes a
// backup of it into dir. On the embedded store it fails with bolt.ErrLocked while a server
// holds the data directory (the caller then forwards to it), and refuses a directory without
// an event log instead of creating one.
func Backup(ctx context.Context, cfg Config, dir string) (BackupSummary, error) {
	if cfg.EventStoreURL == "" && cfg.PostgresURL == "" {
		if _, err := os.Stat(filepath.Join(cfg.DataDir, bolt.FileName)); errors.Is(err, os.ErrNotExist) {
			return BackupSummary{}, fmt.Errorf("backup: %s holds no event log (%s)", cfg.DataDir, bolt.FileName)
		}
	}
	store, err := openEventLog(ctx, cfg, false)
	if err != nil {
		return BackupSummary{}, err
	}
	defer store.Close()
	return writeBackup(ctx, store, dir, engineOf(cfg))
}

// Restore loads the backup file into the empty event store cfg names. It refuses a damaged
// file and a store that holds events, writing nothing; on PostgreSQL it applies the schema
// migrations to an empty database first. Restoring into EventStoreDB, which cannot undo an
// import, reads the whole file once to check it before it writes anything.
func Restore(ctx context.Context, cfg Config, file string) (RestoreSummary, error) {
	if _, err := os.Stat(file); err != nil {
		return RestoreSummary{}, fmt.Errorf("restore: %w", err)
	}
	if abs, err := filepath.Abs(file); err == nil {
		file = abs
	}
	embedded := cfg.EventStoreURL == "" && cfg.PostgresURL == ""
	logFile := filepath.Join(cfg.DataDir, bolt.FileName)
	_, statErr := os.Stat(logFile)
	created := embedded && errors.Is(statErr, os.ErrNotExist)
	_, statErr = os.Stat(cfg.DataDir)
	createdDir := embedded && errors.Is(statErr, os.ErrNotExist)
	if cfg.PostgresURL != "" && cfg.EventStoreURL == "" {
		if err := refuseUsedDatabase(ctx, cfg.PostgresURL); err != nil {
			return RestoreSummary{}, err
		}
	}
	store, err := openEventLog(ctx, cfg, true)
	if err != nil {
		return RestoreSummary{}, err
	}
	imp, ok := store.(event.Importer)
	if !ok {
		store.Close()
		return RestoreSummary{}, fmt.Errorf("restore: the %s event store cannot be restored into", engineOf(cfg))
	}
	sum, err := backup.Restore(ctx, file, imp, backup.RestoreOptions{VerifyFirst: cfg.EventStoreURL != ""})
	closeErr := store.Close()
	if err != nil {
		if created {
			// The store this restore made holds nothing: leave the directory as it was.
			_ = os.Remove(logFile)
			if createdDir {
				_ = os.Remove(cfg.DataDir) // only if empty
			}
		}
		return RestoreSummary{}, restoreError(file, err)
	}
	if closeErr != nil {
		return RestoreSummary{}, closeErr
	}
	return RestoreSummary{File: sum.File, Events: sum.Events, SHA256: sum.SHA256, Head: sum.Head}, nil
}

func restoreError(file string, err error) error {
	switch {
	case errors.Is(err, event.ErrNotEmpty):
		return errors.New("restore refused: the target event store already holds events; restore into an empty one " +
			"(a new --data directory or a new database); nothing was written")
	case errors.Is(err, backup.ErrDamaged), errors.Is(err, event.ErrInvalidImport):
		return fmt.Errorf("restore refused: %s is not an intact backup (%v); nothing was written", file, err)
	}
	return fmt.Errorf("restore failed: %w", err)
}

// refuseUsedDatabase refuses, before any migration touches it, a database whose event log
// holds events.
func refuseUsedDatabase(ctx context.Context, url string) error {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return fmt.Errorf("postgres: %w", err)
	}
	defer conn.Close(ctx)
	var used bool
	err = conn.QueryRow(ctx, `SELECT to_regclass('events') IS NOT NULL AND to_regclass('event_streams') IS NOT NULL`).Scan(&used)
	if err != nil || !used {
		return err
	}
	if err := conn.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM event_streams)`).Scan(&used); err != nil {
		return err
	}
	if used {
		return restoreError("", event.ErrNotEmpty)
	}
	return nil
}

// openEventLog opens only the event store that cfg names. forRestore applies the PostgreSQL
// migrations (a new database gets its schema).
func openEventLog(ctx context.Context, cfg Config, forRestore bool) (event.Store, error) {
	switch {
	case cfg.EventStoreURL != "":
		return esdb.Open(ctx, cfg.EventStoreURL, esdb.Options{})
	case cfg.PostgresURL != "":
		s, err := pgevents.Open(ctx, cfg.PostgresURL, pgevents.Options{Migrate: forRestore})
		if err != nil {
			return nil, err
		}
		if !forRestore {
			if err := schemaPresent(ctx, s); err != nil {
				s.Close()
				return nil, err
			}
		}
		return s, nil
	}
	return bolt.OpenDir(cfg.DataDir, bolt.Options{})
}

func schemaPresent(ctx context.Context, s *pgevents.Store) error {
	applied, err := migrate.Applied(ctx, s.Pool())
	if err != nil {
		return err
	}
	if len(applied) == 0 {
		return errors.New("postgres: the database has no event log (run `yorozu migrate` first)")
	}
	return nil
}
