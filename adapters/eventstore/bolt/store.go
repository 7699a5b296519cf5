// Package bolt is the embedded event store: the default event log of `yorozu serve`, kept in one
// bbolt file (DIR/events.db) that a single process owns.
//
// # Layout
//
// Top-level buckets:
//
//	meta      "format" → 1, "position" → last global position, "stream" → last stream number
//	streams   stream name → stream number, last version, last hash, deleted flag, first kept version
//	names     stream number → stream name
//	log       position → record                       (streams that are not time-partitioned)
//	versions  stream number + version → position       (same streams)
//	ids       event ID → stream number, version, position, place in its batch  (same streams)
//	days      UTC day → bucket with the same three (log, versions, ids) plus "range" → lowest and
//	          highest position in the day, for the events of time-partitioned streams
//	          (event.TimePartitioned: telemetry), by the UTC day of RecordedAt
//
// Positions and versions are big-endian keys, so bbolt's key order is numeric order and reading
// the global log is a cursor walk. A record is a compact binary encoding of the envelope with
// Data kept byte for byte and the stream by number (see codec.go): about 100 bytes of envelope
// besides the data.
//
// # Why telemetry lives in day buckets
//
// ExpireBefore must drop a day of telemetry at the cost of freeing its pages, never by deleting
// its rows one by one (with bbolt that would rewrite every leaf of every index it touches). So
// everything a telemetry event puts anywhere, its record, its place in its stream and its ID, is
// inside the bucket of its day, and expiry is one DeleteBucket per day: the global log, the
// version index and the ID index of that day go together, and nothing else refers to them.
// DeleteBucket walks the day's pages to hand them to the freelist and rewrites none of them
// (BenchmarkExpireDay). What remains of an expired stream is its row in streams (last version
// and hash), which is what lets the next append continue the chain.
//
// The price is paid by readers of the global log, which merge the main log with every day that
// holds positions after the reader's (ReadAll, in position order; a day whose range ends before
// gets no cursor), by ReadStream of a telemetry stream, which looks into every day, and by the
// ID check of appends, which looks into every live day, about 90 with three months of retention
// (BenchmarkAppendBatch100WithRetainedTelemetry).
//
// # Writes
//
// Appends go through a groupcommit.Writer: concurrent appends share one bbolt transaction and so
// one commit (bbolt's two fdatasyncs; NoSync is never set, so a nil error from Append means the
// events are on disk). In it each append is checked against the stream as left by the appends
// before it in the same transaction, sealed with event.Seal onto the previous hash, and numbered
// from the position counter kept in the file, so positions follow commit order. DeleteStream,
// TruncateBefore and ExpireBefore are transactions of their own; bbolt runs one writer at a time.
//
// # Idempotency and IDs of removed events
//
// The ID index records, for each event, its stream, version, position and place in its batch:
// an append whose drafts are exactly a stored batch of the same stream is a retry and gets the
// original result; any other reuse of a stored ID is event.ErrDuplicateEvent. The index keeps
// the entries of truncated and deleted events (about 30 bytes each), so that a late retry of a
// truncated batch is still recognised instead of appended again, and an ID is never reused.
// Entries of telemetry events go with their day.
//
// # A damaged file
//
// bbolt trusts its pages: on a page it cannot read (a disk error, a file changed by hand) it
// panics, deep in a read or a commit. Every use of the file here goes through view or update,
// which turn such a panic into a *DamagedError naming the file (ErrDamaged). From then on the
// store refuses everything with that error (nothing more is written to a damaged file), and
// Options.OnDamage tells the owner, which stops the service: the file must be restored from a
// backup.
//
// # Export and import
//
// Backups read the whole log in one read transaction, and restores load a whole log into an
// empty file in large transactions, indexes last and in key order (transfer.go).
package bolt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"yorozu/adapters/eventstore/catchup"
	"yorozu/adapters/eventstore/groupcommit"
	"yorozu/domain/event"
)

// FileName is the name of the event log inside the data directory.
const FileName = "events.db"

// ErrLocked: the file is held by another open store (another process, most likely a second
// `yorozu serve` on the same data directory).
var ErrLocked = errors.New("bolt event store: file is in use by another process")

// ErrDamaged: the file's pages are damaged. See DamagedError.
var ErrDamaged = errors.New("bolt event store: the file is damaged")

// DamagedError says which file is damaged and what bbolt found. It matches ErrDamaged.
type DamagedError struct {
	Path  string
	Cause string
}

func (e *DamagedError) Error() string {
	return fmt.Sprintf("bolt event store: the event log %s is damaged (%s); stop the service and restore the file from a backup", e.Path, e.Cause)
}

func (e *DamagedError) Unwrap() error { return ErrDamaged }

// MaxStreamName is the longest stream name Append accepts, in bytes.
const MaxStreamName = 1024

const formatVersion = 1

var (
	bucketMeta     = []byte("meta")
	bucketStreams  = []byte("streams")
	bucketNames    = []byte("names")
	bucketLog      = []byte("log")
	bucketVersions = []byte("versions")
	bucketIDs      = []byte("ids")
	bucketDays     = []byte("days")

	keyFormat   = []byte("format")
	keyPosition = []byte("position")
	keyStream   = []byte("stream")
	keyRange    = []byte("range")
	// keyImporting marks a file an Import is filling (transfer.go).
	keyImporting = []byte("importing")
)

// Options tune a store. The zero value is ready to use.
type Options struct {
	// LockTimeout is how long Open waits for another process to release the file before it
	// fails with ErrLocked. Default 1s.
	LockTimeout time.Duration
	// MaxBatch is the most appends that share one transaction. Default 256.
	MaxBatch int
	// OnDamage is called once, with the *DamagedError, when the file turns out to be damaged
	// after it was opened (Open itself returns the error).
	OnDamage func(error)

	// MmapSize is the address space reserved for the file's memory map at open (the file itself
	// grows only as needed). bbolt must remap when the file outgrows it, which waits for every
	// read transaction to end: with room to spare, a long read (Export, a backup) never holds
	// appends up, and a large import does not copy its pages at each remap. Default 4 GiB.
	MmapSize int
}

func (o Options) withDefaults() Options {
	if o.LockTimeout <= 0 {
		o.LockTimeout = time.Second
	}
	if o.MaxBatch <= 0 {
		o.MaxBatch = 256
	}
	if o.MmapSize <= 0 {
		o.MmapSize = 4 << 30
	}
	return o
}

// Store is the bbolt event store. It implements event.Store and is safe for concurrent use.
type Store struct {
	db        *bbolt.DB
	path      string
	onDamage  func(error)
	writer    *groupcommit.Writer
	signal    catchup.Signal
	head      atomic.Uint64
	closed    atomic.Bool
	damaged   atomic.Pointer[DamagedError]
	importing atomic.Bool
}

var _ event.Store = (*Store)(nil)

// OpenDir opens (creating if needed) the store of the data directory dir, in dir/events.db.
func OpenDir(dir string, opts Options) (*Store, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("bolt event store: %w", err)
	}
	return Open(filepath.Join(dir, FileName), opts)
}

// Open opens (creating if needed) the store in the file at path. A damaged file fails with a
// *DamagedError.
func Open(path string, opts Options) (*Store, error) {
	opts = opts.withDefaults()
	db, err := openDB(path, opts)
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("%w: %s", ErrLocked, path)
	}
	if err != nil {
		return nil, err
	}
	s := &Store{db: db, path: path}
	var head uint64
	err = s.update(func(tx *bbolt.Tx) error {
		for _, name := range [][]byte{bucketMeta, bucketStreams, bucketNames, bucketLog, bucketVersions, bucketIDs, bucketDays} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get(keyFormat); {
		case v == nil:
			if err := meta.Put(keyFormat, u64Key(formatVersion)); err != nil {
				return err
			}
		case len(v) != 8 || beUint64(v) != formatVersion:
			return fmt.Errorf("bolt event store: %s has an unknown format", path)
		}
		if meta.Get(keyImporting) != nil {
			return fmt.Errorf("%w: %s", ErrIncompleteImport, path)
		}
		head = counter(meta, keyPosition)
		return nil
	})
	if err != nil {
		_ = db.Close()
		if errors.Is(err, ErrDamaged) {
			return nil, err
		}
		return nil, fmt.Errorf("bolt event store: open %s: %w", path, err)
	}
	s.head.Store(head)
	s.onDamage = opts.OnDamage
	s.writer = groupcommit.New(s.commit, opts.MaxBatch)
	return s, nil
}

// openDB opens the bbolt file. bbolt reads the meta and freelist pages here and may panic on a
// damaged one; the file then stays open (and locked) until the process ends, which it is about to.
func openDB(path string, opts Options) (db *bbolt.DB, err error) {
	defer func() {
		if p := recover(); p != nil {
			db, err = nil, &DamagedError{Path: path, Cause: fmt.Sprint(p)}
		}
	}()
	db, err = bbolt.Open(path, 0o600, &bbolt.Options{
		Timeout: opts.LockTimeout,
		// The array freelist slows down badly once retention has freed many pages.
		FreelistType:    bbolt.FreelistMapType,
		InitialMmapSize: opts.MmapSize,
	})
	switch {
	case errors.Is(err, bolterrors.ErrInvalid), errors.Is(err, bolterrors.ErrChecksum), errors.Is(err, bolterrors.ErrVersionMismatch):
		return nil, &DamagedError{Path: path, Cause: err.Error()}
	case err != nil && !errors.Is(err, bolterrors.ErrTimeout):
		return nil, fmt.Errorf("bolt event store: open %s: %w", path, err)
	}
	return db, err
}

// view runs fn in a read transaction, and update in a write transaction; both turn a panic of
// bbolt on a damaged page into a *DamagedError (see the package doc). bbolt rolls the
// transaction back (releasing its locks) while the panic unwinds.
func (s *Store) view(fn func(*bbolt.Tx) error) error {
	return s.guard(func() error { return s.db.View(fn) })
}

func (s *Store) update(fn func(*bbolt.Tx) error) error {
	return s.guard(func() error { return s.db.Update(fn) })
}

// guard runs do unless the file is known to be damaged. A panic of bbolt, or a stored value this
// code cannot have written (errCorrupt), marks the file damaged.
func (s *Store) guard(do func() error) (err error) {
	if d := s.damaged.Load(); d != nil {
		return d
	}
	defer func() {
		if p := recover(); p != nil {
			err = s.markDamaged(fmt.Sprint(p))
		}
	}()
	err = do()
	if errors.Is(err, errCorrupt) {
		return s.markDamaged(err.Error())
	}
	return err
}

func (s *Store) markDamaged(cause string) error {
	d := &DamagedError{Path: s.path, Cause: cause}
	if s.damaged.CompareAndSwap(nil, d) && s.onDamage != nil {
		s.onDamage(d)
	}
	return s.damaged.Load()
}

// Append implements event.Store.
func (s *Store) Append(ctx context.Context, stream string, expected event.ExpectedVersion, drafts []event.Draft) (event.AppendResult, error) {
	if s.closed.Load() {
		return event.AppendResult{}, event.ErrClosed
	}
	if err := event.ValidateDrafts(stream, drafts); err != nil {
		return event.AppendResult{}, err
	}
	if len(stream) > MaxStreamName {
		return event.AppendResult{}, fmt.Errorf("%w: stream name longer than %d bytes", event.ErrInvalidDraft, MaxStreamName)
	}
	if s.importing.Load() {
		return event.AppendResult{}, event.ErrImporting
	}
	a := &groupcommit.Append{Stream: stream, Expected: expected, Drafts: drafts}
	if err := s.writer.Do(ctx, a); err != nil {
		return event.AppendResult{}, err
	}
	return a.Result, nil
}

// commit is the groupcommit.CommitFunc: one bbolt transaction for the whole batch.
func (s *Store) commit(batch []*groupcommit.Append) error {
	var last uint64
	refused := false
	err := s.update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyImporting) != nil {
			// An Import began after these appends passed Append's own check.
			for _, a := range batch {
				a.Err = event.ErrImporting
			}
			refused = true
			return nil
		}
		w := newWriteTx(tx)
		for _, a := range batch {
			res, refused, err := w.append(a.Stream, a.Expected, a.Drafts)
			if err != nil {
				return err
			}
			a.Result, a.Err = res, refused
		}
		last = w.position
		return w.finish()
	})
	if err != nil {
		return s.mapErr(err)
	}
	if refused {
		return nil
	}
	s.head.Store(last)
	s.signal.Notify()
	return nil
}

// ReadStream implements event.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]event.Record, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	var out []event.Record
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		out, err = readStream(ctx, tx, stream, from, limit)
		return err
	})
	return out, s.mapErr(err)
}

// ReadAll implements event.Store.
func (s *Store) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	var out []event.Record
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		out, err = readAll(ctx, tx, uint64(after), limit)
		return err
	})
	return out, s.mapErr(err)
}

// Head implements event.Store. It is the highest position ever assigned, so it never goes back,
// even when the event at it was deleted since.
func (s *Store) Head(ctx context.Context) (event.Position, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	return event.Position(s.head.Load()), nil
}

// Subscribe implements event.Store. Only this process can write the file, so the commit signal
// alone wakes subscribers; there is no polling.
func (s *Store) Subscribe(ctx context.Context, after event.Position, fn func(event.Record) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return catchup.Subscribe(ctx, s, &s.signal, 0, after, fn)
}

// DeleteStream implements event.Store. The stream keeps a tombstone row, so that later appends
// fail with event.ErrStreamDeleted, and the ID index keeps its event IDs (see the package doc).
func (s *Store) DeleteStream(ctx context.Context, stream string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.maintain(func(tx *bbolt.Tx) error { return deleteStream(tx, stream) })
}

// TruncateBefore implements event.Store.
func (s *Store) TruncateBefore(ctx context.Context, stream string, version uint64) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.maintain(func(tx *bbolt.Tx) error { return truncateBefore(tx, stream, version) })
}

// ExpireBefore implements event.Store: it deletes the day buckets of the UTC days before the one
// that contains cutoff.
func (s *Store) ExpireBefore(ctx context.Context, cutoff time.Time) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.maintain(func(tx *bbolt.Tx) error { return expireBefore(tx, dayOf(cutoff.UTC())) })
}

// maintain runs one removal in its own transaction, unless an Import is filling the file.
func (s *Store) maintain(fn func(tx *bbolt.Tx) error) error {
	return s.mapErr(s.update(func(tx *bbolt.Tx) error {
		if tx.Bucket(bucketMeta).Get(keyImporting) != nil {
			return event.ErrImporting
		}
		return fn(tx)
	}))
}

// Backup writes a consistent copy of the store file to w while the store stays open for reads
// and appends: a read transaction pins one committed state for the length of the copy. The copy
// is a complete events.db; restoring is putting it in place of the file while no store has it
// open.
func (s *Store) Backup(ctx context.Context, w io.Writer) (int64, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	var n int64
	err := s.view(func(tx *bbolt.Tx) error {
		var err error
		n, err = tx.WriteTo(w)
		return err
	})
	return n, s.mapErr(err)
}

// Close implements event.Store. Appends already queued are committed first.
func (s *Store) Close() error {
	if !s.closed.CompareAndSwap(false, true) {
		return event.ErrClosed
	}
	s.writer.Close()
	// Wake subscribers: their next read fails with ErrClosed and ends them.
	s.signal.Notify()
	if err := s.db.Close(); err != nil {
		return fmt.Errorf("bolt event store: close: %w", err)
	}
	return nil
}

func (s *Store) usable(ctx context.Context) error {
	if s.closed.Load() {
		return event.ErrClosed
	}
	return ctx.Err()
}

// mapErr turns bbolt's "not open" (a Close raced with the call) into event.ErrClosed.
func (s *Store) mapErr(err error) error {
	if errors.Is(err, bolterrors.ErrDatabaseNotOpen) || errors.Is(err, bolterrors.ErrTxClosed) {
		return event.ErrClosed
	}
	return err
}
