package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5"

	"yorozu/adapters/eventstore/groupcommit"
	"yorozu/domain/event"
)

// Append implements event.Store.
func (s *Store) Append(ctx context.Context, stream string, expected event.ExpectedVersion, drafts []event.Draft) (event.AppendResult, error) {
	if err := s.usable(ctx); err != nil {
		return event.AppendResult{}, err
	}
	if err := event.ValidateDrafts(stream, drafts); err != nil {
		return event.AppendResult{}, err
	}
	if err := validateText(stream, drafts); err != nil {
		return event.AppendResult{}, err
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

// validateText refuses what a PostgreSQL text column cannot hold (invalid UTF-8, NUL) here,
// before the append joins a batch: in the batch it would fail the other callers' appends too.
func validateText(stream string, drafts []event.Draft) error {
	bad := func(s string) bool { return !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 }
	if bad(stream) {
		return fmt.Errorf("%w: stream name is not valid UTF-8 text", event.ErrInvalidDraft)
	}
	for i, d := range drafts {
		if bad(d.Type) || bad(d.Actor) || bad(d.CommandID) || bad(d.CorrelationID) || bad(d.CausationID) {
			return fmt.Errorf("%w: event %d has a text field that is not valid UTF-8 text", event.ErrInvalidDraft, i)
		}
	}
	return nil
}

// streamState is a stream's row in event_streams as the batch sees it.
type streamState struct {
	version uint64
	hash    event.Hash
	deleted bool
	changed bool
}

// storedEvent is where an event ID already lives.
type storedEvent struct {
	stream   string
	version  uint64
	position event.Position
}

// commit is the groupcommit.CommitFunc: one transaction for the whole batch.
func (s *Store) commit(batch []*groupcommit.Append) error {
	ctx, cancel := context.WithTimeout(s.ctx, s.opts.CommitTimeout)
	defer cancel()
	err := s.commitTx(ctx, batch)
	var stale *staleConnError
	if errors.As(err, &stale) {
		// The connection broke (a server restart, a killed backend) before anything was
		// written: nothing can have committed, so the batch runs once more on a new one.
		err = s.commitTx(ctx, batch)
	}
	if err != nil {
		return s.mapErr(fmt.Errorf("postgres event store: append: %w", err))
	}
	return nil
}

// staleConnError is a failure of the writer's connection in the batch's first round trip.
type staleConnError struct{ err error }

func (e *staleConnError) Error() string { return e.err.Error() }
func (e *staleConnError) Unwrap() error { return e.err }

func (s *Store) commitTx(ctx context.Context, batch []*groupcommit.Append) error {
	streams, ids, days := batchKeys(batch)

	conn, err := s.writerConn(ctx)
	if err != nil {
		return err
	}
	// The transaction is opened and committed inside the two pipelined batches, not by
	// conn.Begin/Commit: two round trips per group commit instead of four. Whatever fails
	// between them, rollback ends it.
	inTx := true
	defer func() {
		if inTx {
			rollback(conn)
		}
	}()

	// First round trip: BEGIN, the lock, then everything read under it.
	states := make(map[string]*streamState, len(streams))
	known := make(map[uuid.UUID]storedEvent, len(ids))
	var next int64
	var missingDays []string
	rb := &pgx.Batch{}
	rb.Queue("BEGIN")
	rb.Queue("SELECT pg_advisory_xact_lock($1)", appendLock)
	rb.Queue("SELECT stream, version, last_hash, deleted FROM event_streams WHERE stream = ANY($1)", streams).
		Query(func(rows pgx.Rows) error {
			var (
				name    string
				version int64
				hash    []byte
				deleted bool
			)
			_, err := pgx.ForEachRow(rows, []any{&name, &version, &hash, &deleted}, func() error {
				st := &streamState{version: uint64(version), deleted: deleted}
				copy(st.hash[:], hash)
				states[name] = st
				return nil
			})
			return err
		})
	rb.Queue("SELECT id, stream, stream_version, position FROM events WHERE id = ANY($1)", ids).
		Query(func(rows pgx.Rows) error {
			var (
				id       [16]byte
				stream   string
				version  int64
				position int64
			)
			_, err := pgx.ForEachRow(rows, []any{&id, &stream, &version, &position}, func() error {
				known[id] = storedEvent{stream: stream, version: uint64(version), position: event.Position(position)}
				return nil
			})
			return err
		})
	rb.Queue("SELECT CASE WHEN is_called THEN last_value + 1 ELSE last_value END FROM event_position_seq").
		QueryRow(func(row pgx.Row) error { return row.Scan(&next) })
	if len(days) > 0 {
		names := make([]string, 0, len(days))
		for name := range days {
			names = append(names, name)
		}
		rb.Queue("SELECT d FROM unnest($1::text[]) AS d WHERE to_regclass(d) IS NULL", names).
			Query(func(rows pgx.Rows) error {
				var err error
				missingDays, err = pgx.CollectRows(rows, pgx.RowTo[string])
				return err
			})
	}
	if err := conn.SendBatch(ctx, rb).Close(); err != nil {
		if conn.IsClosed() && ctx.Err() == nil {
			return &staleConnError{err}
		}
		return err
	}

	recs := decide(batch, states, known, next)
	if len(recs) == 0 {
		return nil // every append was refused or a replay: nothing to write
	}

	for _, name := range missingDays {
		if _, err := conn.Exec(ctx, createDaySQL(name, days[name])); err != nil {
			return fmt.Errorf("create partition %s: %w", name, err)
		}
	}
	// Large batches go in by COPY (see copy.go), at the cost of one more round trip.
	wb := &pgx.Batch{}
	if len(recs) >= copyFrom {
		if err := copyEvents(ctx, conn.PgConn(), recs); err != nil {
			return err
		}
	} else {
		queueInsert(wb, recs)
	}
	// Last round trip: the other writes and COMMIT. If a statement fails, PostgreSQL skips the
	// rest of the pipeline, COMMIT included, and the deferred rollback ends the transaction.
	queueStreams(wb, states)
	last := int64(recs[len(recs)-1].Position)
	wb.Queue("SELECT setval('event_position_seq', $1), pg_notify($2, $3)", last, notifyChannel, strconv.FormatInt(last, 10))
	wb.Queue("COMMIT")
	if err := conn.SendBatch(ctx, wb).Close(); err != nil {
		return err
	}
	inTx = false
	s.signal.Notify()
	return nil
}

// writerConn returns the writer's own connection, (re)connecting if needed. The single writer
// keeps one connection outside the pool: it never waits behind readers for a pooled one, and its
// session plans every statement for its actual arguments (plan_cache_mode): a generic plan
// cached while the tables were small (a sequential scan) would otherwise be kept as they grow.
// Only the writer goroutine uses it.
func (s *Store) writerConn(ctx context.Context) (*pgx.Conn, error) {
	if s.wconn != nil && !s.wconn.IsClosed() {
		return s.wconn, nil
	}
	cfg := s.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["plan_cache_mode"] = "force_custom_plan"
	cfg.RuntimeParams["application_name"] = "yorozu event writer"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, err
	}
	s.wconn = conn
	return conn, nil
}

// rollback ends a transaction left open by a failed batch. If even that fails the connection is
// closed, and the next batch opens a new one.
func rollback(conn *pgx.Conn) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := conn.Exec(ctx, "ROLLBACK"); err != nil {
		_ = conn.Close(ctx)
	}
}

// batchKeys lists what the batch must read: its streams, its event IDs, and the day partitions
// its time-partitioned events go to.
func batchKeys(batch []*groupcommit.Append) (streams []string, ids [][16]byte, days map[string]time.Time) {
	seen := make(map[string]bool)
	for _, a := range batch {
		if !seen[a.Stream] {
			seen[a.Stream] = true
			streams = append(streams, a.Stream)
		}
		timed := event.TimePartitioned(a.Stream)
		for _, d := range a.Drafts {
			ids = append(ids, d.ID)
			if timed {
				day := utcDay(d.RecordedAt)
				if days == nil {
					days = make(map[string]time.Time)
				}
				days[dayPartition(day)] = day
			}
		}
	}
	return streams, ids, days
}

// decide runs the rules of event.Store over the batch in order, against the state read under
// the lock, and returns the records to insert. It sets Result or Err on every append.
func decide(batch []*groupcommit.Append, states map[string]*streamState, known map[uuid.UUID]storedEvent, next int64) []event.Record {
	var recs []event.Record
	for _, a := range batch {
		st := states[a.Stream]
		if st == nil {
			st = &streamState{}
			states[a.Stream] = st
		}
		if st.deleted {
			a.Err = fmt.Errorf("%w: %q", event.ErrStreamDeleted, a.Stream)
			continue
		}
		if res, replay, err := replayed(a, known); replay {
			a.Result, a.Err = res, err
			continue
		}
		if !a.Expected.Allows(st.version) {
			a.Err = &event.ConcurrencyError{Stream: a.Stream, Expected: a.Expected, Actual: st.version}
			continue
		}
		first := st.version + 1
		for _, d := range a.Drafts {
			r := event.Seal(d, a.Stream, st.version+1, st.hash)
			r.Position = event.Position(next)
			next++
			st.version, st.hash = r.StreamVersion, r.Hash
			known[r.ID] = storedEvent{stream: r.Stream, version: r.StreamVersion, position: r.Position}
			recs = append(recs, r)
		}
		st.changed = true
		a.Result = event.AppendResult{FirstVersion: first, LastVersion: st.version, LastPosition: recs[len(recs)-1].Position}
	}
	return recs
}

// replayed reports whether any event of a is already stored (or earlier in this batch). If the
// whole batch is stored, in order, on the same stream, it is a retry and gets the original
// result; any other overlap is event.ErrDuplicateEvent.
func replayed(a *groupcommit.Append, known map[uuid.UUID]storedEvent) (event.AppendResult, bool, error) {
	found := 0
	for _, d := range a.Drafts {
		if _, ok := known[d.ID]; ok {
			found++
		}
	}
	if found == 0 {
		return event.AppendResult{}, false, nil
	}
	first := known[a.Drafts[0].ID]
	for i, d := range a.Drafts {
		if k, ok := known[d.ID]; ok && k.stream == a.Stream && k.version == first.version+uint64(i) {
			continue
		}
		for _, d := range a.Drafts { // name a stored one
			if k, ok := known[d.ID]; ok {
				return event.AppendResult{}, true, fmt.Errorf("%w: %s is stored as version %d of %q, appended to %q",
					event.ErrDuplicateEvent, d.ID, k.version, k.stream, a.Stream)
			}
		}
	}
	last := known[a.Drafts[len(a.Drafts)-1].ID]
	return event.AppendResult{FirstVersion: first.version, LastVersion: last.version, LastPosition: last.position}, true, nil
}

const insertEvents = `INSERT INTO events (position, id, stream, stream_version, type, schema_version,
	effective_at, recorded_at, actor, command_id, correlation_id, causation_id, data, prev_hash, hash,
	time_partitioned)
SELECT * FROM unnest($1::bigint[], $2::uuid[], $3::text[], $4::bigint[], $5::text[], $6::integer[],
	$7::timestamptz[], $8::timestamptz[], $9::text[], $10::text[], $11::text[], $12::text[], $13::bytea[],
	$14::bytea[], $15::bytea[], $16::boolean[])`

// queueInsert adds one multi-row INSERT of recs (column arrays unnested server-side: one
// statement, one round trip, whatever the batch size).
func queueInsert(b *pgx.Batch, recs []event.Record) {
	n := len(recs)
	var (
		position      = make([]int64, n)
		id            = make([][16]byte, n)
		stream        = make([]string, n)
		version       = make([]int64, n)
		typ           = make([]string, n)
		schemaVersion = make([]int32, n)
		effectiveAt   = make([]time.Time, n)
		recordedAt    = make([]time.Time, n)
		actor         = make([]string, n)
		commandID     = make([]string, n)
		correlationID = make([]string, n)
		causationID   = make([]string, n)
		data          = make([][]byte, n)
		prevHash      = make([][]byte, n)
		hash          = make([][]byte, n)
		timed         = make([]bool, n)
	)
	for i := range recs {
		r := &recs[i]
		position[i] = int64(r.Position)
		id[i] = r.ID
		stream[i] = r.Stream
		version[i] = int64(r.StreamVersion)
		typ[i] = r.Type
		schemaVersion[i] = int32(r.SchemaVersion)
		effectiveAt[i] = r.EffectiveAt
		recordedAt[i] = r.RecordedAt
		actor[i] = r.Actor
		commandID[i] = r.CommandID
		correlationID[i] = r.CorrelationID
		causationID[i] = r.CausationID
		data[i] = r.Data
		prevHash[i] = r.PrevHash[:]
		hash[i] = r.Hash[:]
		timed[i] = event.TimePartitioned(r.Stream)
	}
	b.Queue(insertEvents, position, id, stream, version, typ, schemaVersion, effectiveAt, recordedAt,
		actor, commandID, correlationID, causationID, data, prevHash, hash, timed)
}

const upsertStreams = `INSERT INTO event_streams (stream, version, last_hash)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bytea[])
ON CONFLICT (stream) DO UPDATE SET version = excluded.version, last_hash = excluded.last_hash`

func queueStreams(b *pgx.Batch, states map[string]*streamState) {
	var (
		names    []string
		versions []int64
		hashes   [][]byte
	)
	for name, st := range states {
		if !st.changed {
			continue
		}
		names = append(names, name)
		versions = append(versions, int64(st.version))
		hashes = append(hashes, st.hash[:])
	}
	b.Queue(upsertStreams, names, versions, hashes)
}
