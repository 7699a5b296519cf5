package esdb

import (
	"context"
	"fmt"
	"strings"

	esdbclient "github.com/EventStore/EventStore-Client-Go/v4/esdb"
	"github.com/google/uuid"

	"yorozu/domain/event"
)

// tip is what an append builds on: the version and hash of the stream's last event.
type tip struct {
	version uint64
	hash    event.Hash
	// seen: version and hash were read from the stream's last event just now. Otherwise the
	// stream shows no event (it is new, or truncation, retention or $maxAge removed them all),
	// and version and hash are the ones the last truncation kept in meta, or zero.
	seen bool
	meta streamMeta // read only when !seen
}

// Append adds drafts to the end of stream if its version satisfies expected.
//
// It reads the stream's last event for its version and hash, seals the drafts onto it with
// event.Seal and appends them with that exact revision as the server's expected revision, so a
// concurrent append makes one of them fail instead of both forking the chain. A refused append
// with event.Any() is retried from a fresh read up to Options.AnyRetries times; with an exact
// expectation it fails with *event.ConcurrencyError.
//
// Idempotence: a batch already stored in the same stream, in the same order with the same types
// and data, returns the result of its first append and stores nothing, whatever expected says.
// Any other reuse of a stored ID fails with event.ErrDuplicateEvent. For streams that are not
// time-partitioned this holds at any depth and across streams, through the event-ID claims
// described in claims.go. For time-partitioned streams (telemetry) the batch is looked for among
// the stream's last Options.IdempotencyWindow events only, and an ID reused in another stream is
// not detected. In both cases a batch whose events were removed since (truncation, retention,
// deletion) is not recognised and is appended again.
//
// A stream whose events are all removed still has its revision on the server: the append then
// builds on the version and hash its truncation kept in the stream metadata, or, when $maxAge
// removed them silently, on the version the server reports when it refuses the append, with an
// all-zero previous hash (the chain verifier takes the first remaining event of a stream on
// trust).
//
// Time-partitioned streams get their $maxAge (Options.TelemetryMaxAge) before their first event.
// Stream names and event types may not start with '$', which marks the server's own.
func (s *Store) Append(ctx context.Context, stream string, expected event.ExpectedVersion, drafts []event.Draft) (event.AppendResult, error) {
	if err := s.check(); err != nil {
		return event.AppendResult{}, err
	}
	if err := validate(stream, drafts); err != nil {
		return event.AppendResult{}, err
	}
	var known *tip
	for try := 0; ; try++ {
		res, again, err := s.tryAppend(ctx, stream, expected, drafts, known)
		if again == nil || try == s.opts.AnyRetries || ctx.Err() != nil {
			return res, err
		}
		known = again.known
	}
}

// retry asks Append to try again, on known when the server told what the stream holds.
type retry struct{ known *tip }

func (s *Store) tryAppend(ctx context.Context, stream string, expected event.ExpectedVersion, drafts []event.Draft, known *tip) (event.AppendResult, *retry, error) {
	var none event.AppendResult
	partitioned := event.TimePartitioned(stream)
	var t tip
	if known != nil {
		t = *known
	} else {
		var window []*esdbclient.RecordedEvent
		var err error
		if t, window, err = s.readTip(ctx, stream, partitioned); err != nil {
			return none, nil, s.failure(ctx, "read "+stream, err)
		}
		// A batch already stored is answered before expected is looked at: its retry carries the
		// expectation it had the first time.
		if partitioned {
			if res, found, err := s.storedInWindow(ctx, stream, window, drafts); found || err != nil {
				return res, nil, err
			}
		}
	}

	base, prev := t.version, t.hash
	if v, exact := expected.Version(); exact && v != t.version {
		if t.seen {
			return s.refuse(ctx, stream, expected, t.version, drafts)
		}
		// The stream shows no event, so t may be stale: let the server judge v. The hash of
		// version v is unknown unless the truncation kept it.
		base, prev = v, event.Hash{}
	}
	if partitioned && !t.seen && known == nil {
		if err := s.startPartitioned(ctx, stream, t.meta); err != nil {
			return none, nil, s.failure(ctx, "prepare "+stream, err)
		}
	}
	if !partitioned {
		res, stored, err := s.claim(ctx, stream, base, drafts)
		if err != nil || stored {
			return res, nil, err
		}
	}

	data := make([]esdbclient.EventData, len(drafts))
	for i, d := range drafts {
		r := event.Seal(d, stream, base+1+uint64(i), prev)
		prev = r.Hash
		var err error
		if data[i], err = eventData(r); err != nil {
			return none, nil, err
		}
	}
	wr, err := s.client.AppendToStream(ctx, stream, esdbclient.AppendToStreamOptions{ExpectedRevision: expectedRevision(base)}, data...)
	if err == nil {
		last := base + uint64(len(drafts))
		return event.AppendResult{FirstVersion: base + 1, LastVersion: last, LastPosition: s.positionOf(ctx, stream, last, wr)}, nil, nil
	}
	if !isWrongExpectedVersion(err) {
		return none, nil, s.failure(ctx, "append to "+stream, err)
	}

	actual, told := currentVersion(err)
	if !told {
		actual = t.version
	}
	conflict := &event.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
	if !expected.IsAny() {
		return s.refuse(ctx, stream, expected, actual, drafts)
	}
	if !t.seen && told && known == nil {
		// Every event is hidden and the server told the real version: build on it. Its hash is
		// known only if the truncation that hid it kept it.
		next := &tip{version: actual, seen: true}
		if v, h, ok := t.meta.tip(); ok && v == actual {
			next.hash = h
		}
		return none, &retry{known: next}, conflict
	}
	return none, &retry{}, conflict
}

// refuse answers an append whose expectation the stream does not meet: with the original result
// if the batch is already stored (the retry of an append that succeeded), else with a conflict.
func (s *Store) refuse(ctx context.Context, stream string, expected event.ExpectedVersion, actual uint64, drafts []event.Draft) (event.AppendResult, *retry, error) {
	if !event.TimePartitioned(stream) {
		if res, found, err := s.claimedBatch(ctx, stream, drafts); found || err != nil {
			return res, nil, err
		}
	}
	return event.AppendResult{}, nil, &event.ConcurrencyError{Stream: stream, Expected: expected, Actual: actual}
}

// readTip reads the stream's last event, or for a time-partitioned stream its last
// IdempotencyWindow events (newest first), which storedInWindow searches.
func (s *Store) readTip(ctx context.Context, stream string, partitioned bool) (tip, []*esdbclient.RecordedEvent, error) {
	count := uint64(1)
	if partitioned {
		count = uint64(s.opts.IdempotencyWindow)
	}
	evs, err := s.readStream(ctx, stream, esdbclient.End{}, esdbclient.Backwards, count)
	if err != nil {
		return tip{}, nil, err
	}
	if len(evs) > 0 {
		r, ours, err := decode(evs[0])
		if err != nil {
			return tip{}, nil, err
		}
		if !ours {
			return tip{}, nil, fmt.Errorf("stream %s ends with event %s that this store did not write", stream, evs[0].EventID)
		}
		return tip{version: r.StreamVersion, hash: r.Hash, seen: true}, evs, nil
	}
	meta, err := s.readMeta(ctx, stream)
	if err != nil {
		return tip{}, nil, err
	}
	t := tip{meta: meta}
	if v, h, ok := meta.tip(); ok {
		t.version, t.hash = v, h
	}
	return t, nil, nil
}

// storedInWindow looks for drafts among the last events of a time-partitioned stream.
func (s *Store) storedInWindow(ctx context.Context, stream string, window []*esdbclient.RecordedEvent, drafts []event.Draft) (event.AppendResult, bool, error) {
	if len(window) == 0 {
		return event.AppendResult{}, false, nil
	}
	at := make(map[uuid.UUID]uint64, len(window))
	for _, ev := range window {
		at[ev.EventID] = versionOf(ev.EventNumber)
	}
	first, found := at[drafts[0].ID]
	if !found {
		for _, d := range drafts[1:] {
			if _, dup := at[d.ID]; dup {
				return event.AppendResult{}, false, fmt.Errorf("%w: event %s is stored in %s", event.ErrDuplicateEvent, d.ID, stream)
			}
		}
		return event.AppendResult{}, false, nil
	}
	res, err := s.storedBatch(ctx, stream, first, drafts)
	return res, true, err
}

// startPartitioned prepares a time-partitioned stream that shows no event for its next one: it
// is listed for ExpireBefore, and given its $maxAge unless its metadata has one. Both happen
// before the event is written, so a crash in between leaves no event unlisted or ageless.
func (s *Store) startPartitioned(ctx context.Context, stream string, meta streamMeta) error {
	if err := s.registerPartitioned(ctx, stream); err != nil {
		return err
	}
	if s.opts.TelemetryMaxAge <= 0 {
		return nil
	}
	return s.updateMeta(ctx, stream, meta, func(m *streamMeta) bool {
		if _, set := m.maxAge(); set {
			return false
		}
		m.setMaxAge(s.opts.TelemetryMaxAge)
		return true
	})
}

// positionOf is the commit position of the event just appended at version v. It is read back
// because the client's WriteResult carries the position of the write as a whole, which for a
// batch is not documented to be that of its last event. The append has succeeded either way,
// so a failed read falls back to the write's position instead of failing it.
func (s *Store) positionOf(ctx context.Context, stream string, v uint64, wr *esdbclient.WriteResult) event.Position {
	ev, err := s.eventAt(ctx, stream, v)
	if err != nil || ev == nil {
		s.opts.Logger.Warn("eventstoredb: position of appended event not read back; using the write's",
			"stream", stream, "version", v, "err", err)
		return event.Position(wr.CommitPosition)
	}
	return event.Position(ev.Position.Commit)
}

// validate refuses what every store refuses, and names the server keeps for itself: events of
// a stream or type starting with '$' would be taken for server events and never read back.
func validate(stream string, drafts []event.Draft) error {
	if err := event.ValidateDrafts(stream, drafts); err != nil {
		return err
	}
	if strings.HasPrefix(stream, "$") {
		return fmt.Errorf("%w: stream %q: names starting with '$' are EventStoreDB's", event.ErrInvalidDraft, stream)
	}
	for i, d := range drafts {
		if strings.HasPrefix(d.Type, "$") {
			return fmt.Errorf("%w: event %d has type %q: types starting with '$' are EventStoreDB's", event.ErrInvalidDraft, i, d.Type)
		}
	}
	return nil
}
