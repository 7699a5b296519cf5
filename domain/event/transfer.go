package event

import (
	"context"
	"errors"
	"fmt"
	"iter"

	"github.com/google/uuid"
)

// Moving a whole log out of a store and into another one: backups and restores, and moves from
// one engine to another. Both ports are optional: ExportLog falls back on ReadAll for a store
// that is not an Exporter, and only stores that are Importers can be restored into.

// Exporter is a store that can read one committed state of its whole log at once (a snapshot)
// while appends go on.
type Exporter interface {
	// Export calls fn once with the head of one committed state of the log and the events of
	// that state, in position order. Appends committed after the state was taken are not in it;
	// removals (retention, truncation) made after it do not take events out of it. The events
	// can be ranged over only while fn runs, and once; an error while reading them is yielded
	// and ends them.
	Export(ctx context.Context, fn func(head Position, events iter.Seq2[Record, error]) error) error
}

// ExportLog reads one committed state of log: through Export when log is an Exporter, otherwise
// by reading the events up to the head taken at the start, page by page. The second way is a
// consistent state too because positions follow commit order on every engine (an event at or
// below the head had committed when the head was read, and nothing commits below it later), as
// long as nothing is removed while it reads: a removal in the middle of the read can take away
// events the state had.
func ExportLog(ctx context.Context, log Log, fn func(head Position, events iter.Seq2[Record, error]) error) error {
	if e, ok := log.(Exporter); ok {
		return e.Export(ctx, fn)
	}
	head, err := log.Head(ctx)
	if err != nil {
		return err
	}
	return fn(head, func(yield func(Record, error) bool) {
		var after Position
		for after < head {
			recs, err := log.ReadAll(ctx, after, 4096)
			if err != nil {
				yield(Record{}, err)
				return
			}
			if len(recs) == 0 {
				return
			}
			for _, r := range recs {
				if r.Position > head {
					return
				}
				if !yield(r, nil) {
					return
				}
			}
			after = recs[len(recs)-1].Position
		}
	})
}

// Importer is a store that can be loaded with a whole log as another store held it: a restore
// from a backup, or a move to another engine.
type Importer interface {
	// Import writes events, one whole log in position order, into the store, which must hold no
	// event and no stream (ErrNotEmpty otherwise). The records are kept as they are: IDs, types,
	// streams and versions, times, actors, command, correlation and causation IDs, data and
	// both hashes; and their positions, on the engines where the store assigns positions itself
	// (embedded, PostgreSQL, memory). head is the position the log had reached (at least the
	// last record's): later appends get positions after it there. EventStoreDB assigns its own
	// commit positions: there the order of the log is kept, not its numbers.
	//
	// Import checks every record as an ImportCheck does before it writes it, and fails with
	// ErrInvalidImport on the first one that does not hold, or with the error events yields.
	// It is all or nothing where the engine allows (embedded, PostgreSQL, memory): whatever
	// ends it early, the store is left empty. Appends are refused while it runs.
	Import(ctx context.Context, head Position, events iter.Seq2[Record, error]) error
}

var (
	// ErrNotEmpty: Import into a store that already holds events or streams.
	ErrNotEmpty = errors.New("event store: not empty")
	// ErrInvalidImport: a record given to Import breaks a rule of the log (order of positions, a
	// hash chain, a field every store needs).
	ErrInvalidImport = errors.New("event store: invalid import")
	// ErrImporting: an append to a store while an Import runs.
	ErrImporting = errors.New("event store: an import is running")
)

// ImportCheck checks records on their way into a store, in log order: what every store needs
// of a record (an ID used once, a type, a stream, a version, data, a recorded time, times at the
// stores' precision), positions that grow and stay within the head, and every stream's hash
// chain (ChainVerifier: a stream's first record may follow removed ones, later ones must link).
type ImportCheck struct {
	head   Position
	last   Position
	count  int
	chains *ChainVerifier
	ids    map[uuid.UUID]struct{} // nil: IDs are not tracked
}

// NewImportCheck returns a check of a log whose head is head.
func NewImportCheck(head Position) *ImportCheck {
	return &ImportCheck{head: head, chains: NewChainVerifier(), ids: make(map[uuid.UUID]struct{})}
}

// WithoutIDs stops c from finding an event ID used twice, for a store that finds it itself
// (and refuses the import with ErrInvalidImport) at a lower cost than a map of every ID.
func (c *ImportCheck) WithoutIDs() *ImportCheck {
	c.ids = nil
	return c
}

// Check checks the next record; the error matches ErrInvalidImport.
func (c *ImportCheck) Check(r *Record) error {
	fail := func(format string, args ...any) error {
		return fmt.Errorf("%w: event %s (%q version %d, position %d): %s", ErrInvalidImport,
			r.ID, r.Stream, r.StreamVersion, r.Position, fmt.Sprintf(format, args...))
	}
	switch {
	case r.Position == 0:
		return fail("no position")
	case r.Position <= c.last:
		return fail("position does not follow %d", c.last)
	case r.Position > c.head:
		return fail("position is after the head %d", c.head)
	case r.ID == uuid.Nil:
		return fail("no event id")
	case r.Stream == "":
		return fail("no stream")
	case r.Type == "":
		return fail("no type")
	case r.StreamVersion == 0:
		return fail("no stream version")
	case len(r.Data) == 0:
		return fail("no data")
	case r.RecordedAt.IsZero():
		return fail("no recordedAt")
	case !r.RecordedAt.Equal(r.RecordedAt.Truncate(TimePrecision)) || !r.EffectiveAt.Equal(r.EffectiveAt.Truncate(TimePrecision)):
		return fail("times finer than %v, which no store keeps", TimePrecision)
	}
	if c.ids != nil {
		if _, dup := c.ids[r.ID]; dup {
			return fail("event id used twice")
		}
	}
	if !c.chains.Add(*r) {
		return fail("hash chain broken: %s", c.chains.Broken().Reason)
	}
	if c.ids != nil {
		c.ids[r.ID] = struct{}{}
	}
	c.last = r.Position
	c.count++
	return nil
}

// Count is the number of records that passed.
func (c *ImportCheck) Count() int { return c.count }

// Last is the position of the last record that passed (0 before the first).
func (c *ImportCheck) Last() Position { return c.last }
