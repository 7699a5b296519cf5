package event

import (
	"context"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The event-store port, split by the role of its user. Every adapter (embedded bbolt,
// PostgreSQL, EventStoreDB) implements Store, the union, and passes the conformance suite in
// adapters/eventstore/storetest.
//
// Guarantees every adapter gives:
//   - Append is atomic and durable before it returns: a nil error means the events survive a crash.
//   - Append is idempotent by event ID: re-appending the exact batch already stored at the end of,
//     or anywhere in, the same stream returns the original result and stores nothing new.
//   - ReadAll returns events in commit order and never skips one that commits late.

// Streams is what the use cases need: an aggregate's stream to load, and appends to it under
// optimistic concurrency.
type Streams interface {
	// Append adds drafts to the end of stream if its version satisfies expected. It fails with a
	// *ConcurrencyError (matching ErrConcurrency) if not.
	Append(ctx context.Context, stream string, expected ExpectedVersion, drafts []Draft) (AppendResult, error)
	// ReadStream returns up to limit events of stream with StreamVersion >= from, in order.
	// limit <= 0 means all. A stream that never existed or was deleted reads as empty.
	ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]Record, error)
}

// Log is what the projection runner and the outbox relay need: the global log in commit order.
type Log interface {
	// ReadAll returns up to limit events with Position > after, in commit order.
	ReadAll(ctx context.Context, after Position, limit int) ([]Record, error)
	// Head is the position of the last committed event (0 for an empty store).
	Head(ctx context.Context) (Position, error)
	// Subscribe calls fn for every event after `after`: first those already stored, then each new
	// one as it commits, in commit order. It returns fn's error, or ctx.Err() when ctx ends.
	Subscribe(ctx context.Context, after Position, fn func(Record) error) error
}

// Maintenance removes events: retention of telemetry, crypto-shredded streams, truncation.
type Maintenance interface {
	// DeleteStream removes every event of stream for good; appending to it later fails with
	// ErrStreamDeleted.
	DeleteStream(ctx context.Context, stream string) error
	// TruncateBefore removes the events of stream with StreamVersion < version. The stream keeps
	// its version and hash chain, so later appends continue it.
	TruncateBefore(ctx context.Context, stream string, version uint64) error
	// ExpireBefore removes events of time-partitioned streams (see TimePartitioned) recorded before
	// cutoff, a whole partition at a time (a day, in UTC): events of the day that contains cutoff
	// stay. It never removes events of other streams.
	ExpireBefore(ctx context.Context, cutoff time.Time) error
}

// Store is a whole event store, what an adapter implements and the composition root opens.
type Store interface {
	Streams
	Log
	Maintenance
	// Close releases the store. Calls after Close fail with ErrClosed.
	Close() error
}

// AppendResult tells where an append landed.
type AppendResult struct {
	// FirstVersion and LastVersion are the stream versions of the first and last appended events.
	FirstVersion, LastVersion uint64
	// LastPosition is the global position of the last appended event.
	LastPosition Position
}

// MaxBatch is the largest number of events one Append takes.
const MaxBatch = 10000

// ValidateDrafts checks what every adapter must refuse before touching storage, the same on
// every engine: among it, envelope text (stream, type, actor, command, correlation and causation
// IDs) that is not valid UTF-8 or holds a NUL, which no PostgreSQL text column or jsonb
// document can hold, so the log never keeps an event a read model cannot.
func ValidateDrafts(stream string, drafts []Draft) error {
	if stream == "" {
		return fmt.Errorf("%w: empty stream name", ErrInvalidDraft)
	}
	if !storableText(stream) {
		return fmt.Errorf("%w: stream name is not valid UTF-8 text without NUL", ErrInvalidDraft)
	}
	if len(drafts) == 0 || len(drafts) > MaxBatch {
		return fmt.Errorf("%w: a batch holds 1 to %d events, got %d", ErrInvalidDraft, MaxBatch, len(drafts))
	}
	seen := make(map[[16]byte]struct{}, len(drafts))
	for i, d := range drafts {
		switch {
		case d.ID == [16]byte{}:
			return fmt.Errorf("%w: event %d has no id", ErrInvalidDraft, i)
		case d.Type == "":
			return fmt.Errorf("%w: event %d has no type", ErrInvalidDraft, i)
		case len(d.Data) == 0:
			return fmt.Errorf("%w: event %d has no data", ErrInvalidDraft, i)
		case d.RecordedAt.IsZero():
			return fmt.Errorf("%w: event %d has no recordedAt", ErrInvalidDraft, i)
		case !storableText(d.Type) || !storableText(d.Actor) || !storableText(d.CommandID) ||
			!storableText(d.CorrelationID) || !storableText(d.CausationID):
			return fmt.Errorf("%w: event %d has envelope text that is not valid UTF-8 without NUL", ErrInvalidDraft, i)
		}
		if _, dup := seen[d.ID]; dup {
			return fmt.Errorf("%w: event id %s twice in one batch", ErrInvalidDraft, d.ID)
		}
		seen[d.ID] = struct{}{}
	}
	return nil
}

// storableText: valid UTF-8 without NUL.
func storableText(s string) bool { return utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 }
