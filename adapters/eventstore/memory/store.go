// Package memory is an event store kept in the memory of one process. It exists for the tests
// of use cases, which need a store that behaves like the real ones but costs no disk and no
// server, and as an engine for tools that replay, check or transform a log without keeping the
// result. It is not durable: everything is lost when the process ends or the store is closed.
//
// It passes the conformance suite in adapters/eventstore/storetest, so a use case that works on
// it sees the same answers from the real adapters: the same errors, idempotent re-appends,
// positions in commit order, tombstones, truncation and retention by UTC day. Where the real
// adapters differ in a detail the suite leaves open, it follows the embedded one
// (adapters/eventstore/bolt): the IDs of deleted and truncated events stay known, so a late
// retry of their batch gets its original result and an ID is never reused, while the IDs of
// expired telemetry are forgotten with their day.
//
// FailAppends injects failures, for tests of use cases that must survive a crash between two
// appends.
package memory

import (
	"context"
	"fmt"
	"iter"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/catchup"
	"yorozu/domain/event"
)

// Store is the in-memory event store. It implements event.Store and is safe for concurrent use.
// The zero value is not usable; call New.
type Store struct {
	mu sync.RWMutex
	// closed is set under the write lock, so a holder of either lock sees it settled; the
	// atomic lets calls fail fast before they queue for the lock.
	closed  atomic.Bool
	head    uint64         // highest position ever assigned
	log     []event.Record // kept events, ascending positions
	streams map[string]*streamState
	ids     map[uuid.UUID]idEntry

	signal catchup.Signal
	fault  atomic.Pointer[appendFault]
	// importing is set, under the write lock, while Import gathers its records.
	importing bool
}

// streamState is what the store knows of one stream. It outlives the stream's events: the last
// version and hash let appends continue the chain after truncation and retention, and deleted
// is the tombstone.
type streamState struct {
	lastVersion uint64
	lastHash    event.Hash
	deleted     bool
	events      []event.Record // kept events, ascending versions (not dense after expiry)
}

// idEntry places a stored event ID in its batch, which is what tells a retry of that batch
// from another use of the ID.
type idEntry struct {
	stream       string
	version      uint64
	position     event.Position
	index, count int
}

type appendFault func(stream string, drafts []event.Draft) error

var _ event.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{
		streams: make(map[string]*streamState),
		ids:     make(map[uuid.UUID]idEntry),
	}
}

// FailAppends installs fn, which every later Append calls before it touches the store, with
// the stream and the drafts (which fn must not modify). When fn returns an error, that append
// stores nothing and returns that error, as if the process had died before the commit: a test
// fails the second of two appends of a use case and checks that a retry completes the work.
// fn == nil removes the hook.
//
// fn is not called for appends refused before storage is reached (invalid drafts, closed
// store), and is called without the store's lock held, so it may read the store or block to
// hold an append in flight. It may be called from several goroutines at once.
func (s *Store) FailAppends(fn func(stream string, drafts []event.Draft) error) {
	if fn == nil {
		s.fault.Store(nil)
		return
	}
	f := appendFault(fn)
	s.fault.Store(&f)
}

// Append implements event.Store.
func (s *Store) Append(ctx context.Context, stream string, expected event.ExpectedVersion, drafts []event.Draft) (event.AppendResult, error) {
	if err := s.usable(ctx); err != nil {
		return event.AppendResult{}, err
	}
	if err := event.ValidateDrafts(stream, drafts); err != nil {
		return event.AppendResult{}, err
	}
	if f := s.fault.Load(); f != nil {
		if err := (*f)(stream, drafts); err != nil {
			return event.AppendResult{}, err
		}
		// A hook that held the append may have outlived its caller.
		if err := ctx.Err(); err != nil {
			return event.AppendResult{}, err
		}
	}

	s.mu.Lock()
	res, err := s.append(stream, expected, drafts)
	s.mu.Unlock()
	if err != nil {
		return event.AppendResult{}, err
	}
	s.signal.Notify()
	return res, nil
}

// append does the work of Append under the write lock, in the order of the embedded adapter:
// a tombstone wins over everything, and a retry of a stored batch succeeds whatever version it
// expects, since the stream has moved on by its own first attempt.
func (s *Store) append(stream string, expected event.ExpectedVersion, drafts []event.Draft) (event.AppendResult, error) {
	if s.closed.Load() {
		return event.AppendResult{}, event.ErrClosed
	}
	if s.importing {
		return event.AppendResult{}, event.ErrImporting
	}
	st := s.streams[stream]
	if st != nil && st.deleted {
		return event.AppendResult{}, fmt.Errorf("%w: %q", event.ErrStreamDeleted, stream)
	}
	if res, found, err := s.alreadyStored(stream, drafts); found || err != nil {
		return res, err
	}
	var current uint64
	if st != nil {
		current = st.lastVersion
	}
	if !expected.Allows(current) {
		return event.AppendResult{}, &event.ConcurrencyError{Stream: stream, Expected: expected, Actual: current}
	}
	if st == nil {
		st = &streamState{}
		s.streams[stream] = st
	}

	prev := st.lastHash
	for i, d := range drafts {
		// The store keeps its own copy of the payload, as every real adapter does by encoding
		// it: a caller reusing its buffer must not rewrite history.
		d.Data = slices.Clone(d.Data)
		rec := event.Seal(d, stream, current+1+uint64(i), prev)
		prev = rec.Hash
		s.head++
		rec.Position = event.Position(s.head)
		s.log = append(s.log, rec)
		st.events = append(st.events, rec)
		s.ids[rec.ID] = idEntry{stream: stream, version: rec.StreamVersion, position: rec.Position, index: i, count: len(drafts)}
	}
	st.lastVersion = current + uint64(len(drafts))
	st.lastHash = prev
	return event.AppendResult{FirstVersion: current + 1, LastVersion: st.lastVersion, LastPosition: event.Position(s.head)}, nil
}

// alreadyStored applies the idempotency rule: drafts that are exactly a batch stored in this same
// stream, in the same order, are a retry and get the original result (found); any other use of a
// stored ID is event.ErrDuplicateEvent.
func (s *Store) alreadyStored(stream string, drafts []event.Draft) (res event.AppendResult, found bool, err error) {
	var first, last idEntry
	hits := 0
	for i, d := range drafts {
		e, ok := s.ids[d.ID]
		if !ok {
			continue
		}
		if hits == 0 {
			first = e
		}
		hits++
		sameBatch := hits == i+1 && e.stream == stream && e.version == first.version+uint64(i) &&
			e.index == i && e.count == len(drafts)
		if !sameBatch {
			return res, false, fmt.Errorf("%w: %s is stored as version %d of %q, appended to %q",
				event.ErrDuplicateEvent, d.ID, e.version, e.stream, stream)
		}
		last = e
	}
	switch hits {
	case 0:
		return res, false, nil
	case len(drafts):
		return event.AppendResult{FirstVersion: first.version, LastVersion: last.version, LastPosition: last.position}, true, nil
	}
	return res, false, fmt.Errorf("%w: part of the batch is already stored in %q", event.ErrDuplicateEvent, stream)
}

// ReadStream implements event.Store.
func (s *Store) ReadStream(ctx context.Context, stream string, from uint64, limit int) ([]event.Record, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return nil, event.ErrClosed
	}
	st := s.streams[stream]
	if st == nil || st.deleted {
		return nil, nil
	}
	i := sort.Search(len(st.events), func(i int) bool { return st.events[i].StreamVersion >= from })
	return copyRecords(st.events[i:], limit), nil
}

// ReadAll implements event.Store.
func (s *Store) ReadAll(ctx context.Context, after event.Position, limit int) ([]event.Record, error) {
	if err := s.usable(ctx); err != nil {
		return nil, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return nil, event.ErrClosed
	}
	i := sort.Search(len(s.log), func(i int) bool { return s.log[i].Position > after })
	return copyRecords(s.log[i:], limit), nil
}

// copyRecords returns up to limit (all if <= 0) records of recs with payloads of their own, so
// that a caller changing what it read cannot change the store.
func copyRecords(recs []event.Record, limit int) []event.Record {
	if limit > 0 && len(recs) > limit {
		recs = recs[:limit]
	}
	if len(recs) == 0 {
		return nil
	}
	out := slices.Clone(recs)
	for i := range out {
		out[i].Data = slices.Clone(out[i].Data)
	}
	return out
}

// Head implements event.Store. It is the highest position ever assigned, so it never goes back,
// even when the event at it was removed since.
func (s *Store) Head(ctx context.Context) (event.Position, error) {
	if err := s.usable(ctx); err != nil {
		return 0, err
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed.Load() {
		return 0, event.ErrClosed
	}
	return event.Position(s.head), nil
}

// Subscribe implements event.Store. Only this process writes the store, so the commit signal
// alone wakes subscribers; there is no polling.
func (s *Store) Subscribe(ctx context.Context, after event.Position, fn func(event.Record) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return catchup.Subscribe(ctx, s, &s.signal, 0, after, fn)
}

// DeleteStream implements event.Store. The stream keeps a tombstone, so that later appends fail
// with event.ErrStreamDeleted (a stream never written can be deleted ahead), and its event IDs
// stay known.
func (s *Store) DeleteStream(ctx context.Context, stream string) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return event.ErrClosed
	}
	if s.importing {
		return event.ErrImporting
	}
	st := s.streams[stream]
	if st == nil {
		st = &streamState{}
		s.streams[stream] = st
	}
	if st.deleted {
		return nil
	}
	st.deleted = true
	if len(st.events) > 0 {
		st.events = nil
		s.log = slices.DeleteFunc(s.log, func(r event.Record) bool { return r.Stream == stream })
	}
	return nil
}

// TruncateBefore implements event.Store. The stream keeps its version and last hash, so later
// appends continue the chain, and the IDs of the removed events stay known.
func (s *Store) TruncateBefore(ctx context.Context, stream string, version uint64) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return event.ErrClosed
	}
	if s.importing {
		return event.ErrImporting
	}
	st := s.streams[stream]
	if st == nil || st.deleted || len(st.events) == 0 || st.events[0].StreamVersion >= version {
		return nil
	}
	gone := func(r event.Record) bool { return r.Stream == stream && r.StreamVersion < version }
	st.events = slices.DeleteFunc(st.events, gone)
	s.log = slices.DeleteFunc(s.log, gone)
	return nil
}

// ExpireBefore implements event.Store: it removes the events of time-partitioned streams recorded
// on a UTC day before the one that contains cutoff. Like a dropped day partition of the real
// adapters, the IDs of those events go with them.
func (s *Store) ExpireBefore(ctx context.Context, cutoff time.Time) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	c := cutoff.UTC()
	keepFrom := time.Date(c.Year(), c.Month(), c.Day(), 0, 0, 0, 0, time.UTC)
	gone := func(r event.Record) bool {
		return event.TimePartitioned(r.Stream) && r.RecordedAt.Before(keepFrom)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return event.ErrClosed
	}
	if s.importing {
		return event.ErrImporting
	}
	for name, st := range s.streams {
		if event.TimePartitioned(name) && len(st.events) > 0 {
			st.events = slices.DeleteFunc(st.events, gone)
		}
	}
	kept := s.log[:0]
	for _, r := range s.log {
		if gone(r) {
			delete(s.ids, r.ID)
			continue
		}
		kept = append(kept, r)
	}
	clear(s.log[len(kept):]) // let the removed payloads be collected
	s.log = kept
	return nil
}

// Close implements event.Store. It drops every event, and wakes subscribers, whose next read
// fails with event.ErrClosed and ends them.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return event.ErrClosed
	}
	s.closed.Store(true)
	s.log, s.streams, s.ids = nil, nil, nil
	s.mu.Unlock()
	s.signal.Notify()
	return nil
}

// usable is the check made before taking the lock; the lock holders check closed again, since
// Close may have run in between.
func (s *Store) usable(ctx context.Context) error {
	if s.closed.Load() {
		return event.ErrClosed
	}
	return ctx.Err()
}

var _ event.Exporter = (*Store)(nil)
var _ event.Importer = (*Store)(nil)

// Export implements event.Exporter: the log as it was when Export took the read lock, copied,
// so that appends and removals go on while fn reads.
func (s *Store) Export(ctx context.Context, fn func(head event.Position, events iter.Seq2[event.Record, error]) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	s.mu.RLock()
	if s.closed.Load() {
		s.mu.RUnlock()
		return event.ErrClosed
	}
	head := event.Position(s.head)
	// Records are never changed in place, but ExpireBefore compacts the slice that holds them.
	recs := slices.Clone(s.log)
	s.mu.RUnlock()
	return fn(head, func(yield func(event.Record, error) bool) {
		for i, r := range recs {
			if i%4096 == 4095 && ctx.Err() != nil {
				yield(event.Record{}, ctx.Err())
				return
			}
			r.Data = slices.Clone(r.Data)
			if !yield(r, nil) {
				return
			}
		}
	})
}

// Import implements event.Importer. Records are checked and gathered first and the store takes
// them in one step at the end, so a failed import leaves it as empty as it was; appends are
// refused while it runs. A batch is taken to be a run of records of one stream with one command
// ID and consecutive versions and positions, as in the embedded store.
func (s *Store) Import(ctx context.Context, head event.Position, events iter.Seq2[event.Record, error]) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	s.mu.Lock()
	if s.closed.Load() {
		s.mu.Unlock()
		return event.ErrClosed
	}
	if s.head != 0 || len(s.streams) != 0 || s.importing {
		s.mu.Unlock()
		return event.ErrNotEmpty
	}
	s.importing = true
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.importing = false
		s.mu.Unlock()
	}()

	check := event.NewImportCheck(head)
	var (
		log     []event.Record
		streams = make(map[string]*streamState)
		ids     = make(map[uuid.UUID]idEntry)
		run     []uuid.UUID // the IDs of the batch being gathered
	)
	closeRun := func() {
		for i, id := range run {
			e := ids[id]
			e.index, e.count = i, len(run)
			ids[id] = e
		}
		run = run[:0]
	}
	for rec, err := range events {
		if err != nil {
			return err
		}
		if err := check.Check(&rec); err != nil {
			return err
		}
		if len(log)%4096 == 4095 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec.Data = slices.Clone(rec.Data)
		if n := len(log); n > 0 {
			p := &log[n-1]
			if !(len(run) < event.MaxBatch && p.Stream == rec.Stream && p.CommandID == rec.CommandID &&
				p.StreamVersion+1 == rec.StreamVersion && p.Position+1 == rec.Position) {
				closeRun()
			}
		}
		run = append(run, rec.ID)
		log = append(log, rec)
		st := streams[rec.Stream]
		if st == nil {
			st = &streamState{}
			streams[rec.Stream] = st
		}
		st.events = append(st.events, rec)
		st.lastVersion, st.lastHash = rec.StreamVersion, rec.Hash
		ids[rec.ID] = idEntry{stream: rec.Stream, version: rec.StreamVersion, position: rec.Position}
	}
	closeRun()

	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed.Load() {
		return event.ErrClosed
	}
	s.log, s.streams, s.ids = log, streams, ids
	s.head = max(uint64(head), uint64(check.Last()))
	s.signal.Notify()
	return nil
}
