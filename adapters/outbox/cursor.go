package outbox

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"yorozu/domain/event"
)

// CursorFileName is the file of the data directory where the embedded engine keeps its relays'
// positions.
const CursorFileName = "integration-relays.json"

// ErrCorruptCursorFile: the cursor file exists but is not what FileCursors writes.
var ErrCorruptCursorFile = errors.New("outbox: corrupt cursor file")

// FileCursors keeps relay positions in one small JSON file, for the embedded engine (no
// PostgreSQL). The embedded event store is owned by one process, so the file has one writer;
// Save replaces it atomically (temporary file, fsync, rename, fsync of the directory), so a
// crash leaves the old positions or the new ones, never a torn file.
type FileCursors struct {
	path string

	mu        sync.Mutex
	positions map[string]event.Position // as on disk
}

var _ CursorStore = (*FileCursors)(nil)

// cursorFile is the file's content.
type cursorFile struct {
	Positions map[string]event.Position `json:"positions"`
}

// OpenFileCursors opens the cursor file of the data directory dir (creating dir if needed; the
// file itself appears with the first Save).
func OpenFileCursors(dir string) (*FileCursors, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("outbox: cursor directory: %w", err)
	}
	c := &FileCursors{path: filepath.Join(dir, CursorFileName), positions: make(map[string]event.Position)}
	b, err := os.ReadFile(c.path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return c, nil
	case err != nil:
		return nil, fmt.Errorf("outbox: read %s: %w", c.path, err)
	}
	var f cursorFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("%w: %s: %w", ErrCorruptCursorFile, c.path, err)
	}
	maps.Copy(c.positions, f.Positions)
	return c, nil
}

// Path is the cursor file.
func (c *FileCursors) Path() string { return c.path }

// Load returns the relay's saved position (0 if none).
func (c *FileCursors) Load(_ context.Context, relay string) (event.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.positions[relay], nil
}

// Save writes the relay's position to disk before it returns.
func (c *FileCursors) Save(_ context.Context, relay string, pos event.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	next := maps.Clone(c.positions)
	next[relay] = pos
	b, err := json.MarshalIndent(cursorFile{Positions: next}, "", "  ")
	if err != nil {
		return err
	}
	if err := writeFileAtomic(c.path, append(b, '\n')); err != nil {
		return fmt.Errorf("outbox: save %s: %w", c.path, err)
	}
	c.positions = next
	return nil
}

// writeFileAtomic replaces path with data so that after a crash the file holds either its old
// content or data: write a temporary file beside it, fsync it, rename it over path, then fsync
// the directory so that the rename itself is on disk.
func writeFileAtomic(path string, data []byte) (err error) {
	tmp := path + ".tmp" // one writer: a fixed name, so a crash leaves no litter that grows
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp)
		}
	}()
	if _, err = f.Write(data); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Sync(); err != nil {
		_ = f.Close()
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp, path); err != nil {
		return err
	}
	dir, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	if err = dir.Sync(); err != nil {
		_ = dir.Close()
		return err
	}
	return dir.Close()
}

// PostgresCursors keeps relay positions in integration_relays (adapters/postgres/migrate), for an
// at-least-once transport (nats) on PostgreSQL. The sql transport uses the same table through
// its transaction instead (SQLOutlet).
type PostgresCursors struct {
	pool *pgxpool.Pool
}

var _ CursorStore = (*PostgresCursors)(nil)

// NewPostgresCursors returns the cursor store of a migrated database.
func NewPostgresCursors(pool *pgxpool.Pool) *PostgresCursors { return &PostgresCursors{pool: pool} }

// Load returns the relay's saved position (0 if it has no row yet).
func (c *PostgresCursors) Load(ctx context.Context, relay string) (event.Position, error) {
	var pos int64
	err := c.pool.QueryRow(ctx, `SELECT position FROM integration_relays WHERE name = $1`, relay).Scan(&pos)
	if errors.Is(err, pgx.ErrNoRows) {
		return 0, nil
	}
	return event.Position(pos), err
}

// Save records the relay's position. It never moves a position back: two replicas relaying at
// once (each publishes, the stream drops the duplicates) must not make the slower one rewind the
// faster one's progress.
func (c *PostgresCursors) Save(ctx context.Context, relay string, pos event.Position) error {
	_, err := c.pool.Exec(ctx, `INSERT INTO integration_relays (name, position) VALUES ($1, $2)
		ON CONFLICT (name) DO UPDATE SET position = GREATEST(integration_relays.position, EXCLUDED.position)`,
		relay, int64(pos))
	return err
}

// HeadCursors starts each relay at the log's head, read at its first Load, and keeps positions
// in memory only: for consumers that exist only while the process runs (the channel transport),
// to whom the events before they started mean nothing and a restart owes nothing.
type HeadCursors struct {
	log event.Log

	mu        sync.Mutex
	positions map[string]event.Position
}

var _ CursorStore = (*HeadCursors)(nil)

// NewHeadCursors returns in-memory cursors that start at log's head.
func NewHeadCursors(log event.Log) *HeadCursors {
	return &HeadCursors{log: log, positions: make(map[string]event.Position)}
}

// Load returns the relay's position, the log's head the first time.
func (c *HeadCursors) Load(ctx context.Context, relay string) (event.Position, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if pos, ok := c.positions[relay]; ok {
		return pos, nil
	}
	head, err := c.log.Head(ctx)
	if err != nil {
		return 0, err
	}
	c.positions[relay] = head
	return head, nil
}

// Save keeps pos in memory.
func (c *HeadCursors) Save(_ context.Context, relay string, pos event.Position) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.positions[relay] = pos
	return nil
}
