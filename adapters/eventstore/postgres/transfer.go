package postgres

// Export and Import: the whole log out of one store and into another (backups and restores).
//
// Export reads in one REPEATABLE READ, READ ONLY transaction: one snapshot of the database for
// the whole read, while appends go on. Since positions are handed out in commit order (under the
// append lock), the snapshot holds exactly the events up to its last position, and removals made
// after it began (retention, truncation) do not take events out of it.
//
// Import runs in one transaction under the append lock: it checks that the log is empty (no
// event, no stream row), writes the records by binary COPY in chunks (creating the telemetry day
// partitions they need first), then the stream rows and the position sequence, and commits. If
// anything fails, the transaction rolls back and the database is as it was. Appends of this
// Store are refused while it runs; those of other processes wait for the append lock.

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"yorozu/domain/event"
)

// importChunk is how many records one COPY of an import carries.
const importChunk = 20_000

var _ event.Exporter = (*Store)(nil)
var _ event.Importer = (*Store)(nil)

// Export implements event.Exporter. The head is the last position in the snapshot.
func (s *Store) Export(ctx context.Context, fn func(head event.Position, events iter.Seq2[event.Record, error]) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	tx, err := s.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return s.mapErr(fmt.Errorf("postgres event store: export: %w", err))
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	var head int64
	if err := tx.QueryRow(ctx, "SELECT COALESCE(max(position), 0) FROM events", customPlan).Scan(&head); err != nil {
		return s.mapErr(fmt.Errorf("postgres event store: export: %w", err))
	}
	read := false
	events := func(yield func(event.Record, error) bool) {
		if read {
			yield(event.Record{}, errors.New("postgres event store: the events of an export are read once"))
			return
		}
		read = true
		rows, err := tx.Query(ctx, "SELECT "+recordColumns+" FROM events ORDER BY position", customPlan)
		if err != nil {
			yield(event.Record{}, s.mapErr(fmt.Errorf("postgres event store: export: %w", err)))
			return
		}
		defer rows.Close()
		intern := newInterner(4096)
		first := true
		for rows.Next() {
			if first {
				first = false
				if err := checkFormats(rows.FieldDescriptions()); err != nil {
					yield(event.Record{}, fmt.Errorf("postgres event store: export: %w", err))
					return
				}
			}
			r, err := decodeRecordInterned(rows.RawValues(), intern)
			if err != nil {
				yield(event.Record{}, fmt.Errorf("postgres event store: export: %w", err))
				return
			}
			if !yield(r, nil) {
				return
			}
		}
		if err := rows.Err(); err != nil {
			yield(event.Record{}, s.mapErr(fmt.Errorf("postgres event store: export: %w", err)))
		}
	}
	return fn(event.Position(head), events)
}

// newInterner shares the strings that repeat (stream names, types, actors) up to a bound, so a
// read of millions of events neither allocates each again nor keeps every stream name.
func newInterner(limit int) func([]byte) string {
	seen := make(map[string]string)
	return func(b []byte) string {
		if s, ok := seen[string(b)]; ok {
			return s
		}
		s := string(b)
		if len(seen) < limit {
			seen[s] = s
		}
		return s
	}
}

// Import implements event.Importer (see the top of this file).
func (s *Store) Import(ctx context.Context, head event.Position, events iter.Seq2[event.Record, error]) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if !s.importing.CompareAndSwap(false, true) {
		return event.ErrImporting
	}
	defer s.importing.Store(false)
	if err := s.importTx(ctx, head, events); err != nil {
		if errors.Is(err, event.ErrNotEmpty) || errors.Is(err, event.ErrInvalidImport) {
			return err
		}
		return s.mapErr(fmt.Errorf("postgres event store: import: %w", err))
	}
	s.signal.Notify()
	return nil
}

func (s *Store) importTx(ctx context.Context, head event.Position, events iter.Seq2[event.Record, error]) error {
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer func() { _ = tx.Rollback(context.Background()) }()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", appendLock); err != nil {
		return err
	}
	var used bool
	err = tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM events) OR EXISTS (SELECT 1 FROM event_streams)").Scan(&used)
	if err != nil {
		return err
	}
	if used {
		return event.ErrNotEmpty
	}
	rebuild, err := dropPlainIndexes(ctx, tx)
	if err != nil {
		return err
	}

	check := event.NewImportCheck(head)
	tips := make(map[string]*streamState)
	days := make(map[string]bool) // partitions known to exist
	chunk := make([]event.Record, 0, importChunk)
	flush := func() error {
		for i := range chunk {
			if !event.TimePartitioned(chunk[i].Stream) {
				continue
			}
			day := utcDay(chunk[i].RecordedAt)
			name := dayPartition(day)
			if days[name] {
				continue
			}
			if _, err := tx.Exec(ctx, createDaySQL(name, day)); err != nil {
				return fmt.Errorf("create partition %s: %w", name, err)
			}
			days[name] = true
		}
		if err := copyEvents(ctx, tx.Conn().PgConn(), chunk); err != nil {
			return err
		}
		clear(chunk)
		chunk = chunk[:0]
		return nil
	}
	for rec, err := range events {
		if err != nil {
			return err
		}
		if err := check.Check(&rec); err != nil {
			return err
		}
		if err := storableText(&rec); err != nil {
			return err
		}
		chunk = append(chunk, rec)
		st := tips[rec.Stream]
		if st == nil {
			st = &streamState{changed: true}
			tips[rec.Stream] = st
		}
		st.version, st.hash = rec.StreamVersion, rec.Hash
		if len(chunk) == importChunk {
			if err := flush(); err != nil {
				return err
			}
		}
	}
	if len(chunk) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	// The indexes of the plain partition, built once from the sorted rows.
	for _, stmt := range rebuild {
		if _, err := tx.Exec(ctx, stmt); err != nil {
			return fmt.Errorf("rebuild index: %w", err)
		}
	}
	// The stream rows, a few thousand per statement.
	for len(tips) > 0 {
		part := make(map[string]*streamState, min(len(tips), importChunk))
		for name, st := range tips {
			part[name] = st
			delete(tips, name)
			if len(part) == importChunk {
				break
			}
		}
		b := &pgx.Batch{}
		queueStreams(b, part)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
	}
	if last := max(int64(head), int64(check.Last())); last > 0 {
		if _, err := tx.Exec(ctx, "SELECT setval('event_position_seq', $1), pg_notify($2, $3)",
			last, notifyChannel, fmt.Sprint(last)); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

// dropPlainIndexes drops the indexes and unique constraints of events_plain (in the import's
// transaction, so a rollback brings them back) and returns the statements that create them
// again. Loading a million rows into a table with five B-tree indexes, one of them on random
// event IDs, updates every index row by row; building each index afterwards sorts once, and the
// import takes a fraction of the time. Whatever the migrations put on the table is found in the
// catalog, so an index added later is handled the same way.
func dropPlainIndexes(ctx context.Context, tx pgx.Tx) ([]string, error) {
	type def struct{ name, definition string }
	collect := func(sql string) ([]def, error) {
		rows, err := tx.Query(ctx, sql)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, func(r pgx.CollectableRow) (def, error) {
			var d def
			err := r.Scan(&d.name, &d.definition)
			return d, err
		})
	}
	constraints, err := collect(`SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'events_plain'::regclass AND contype IN ('p', 'u') AND conparentid = 0`)
	if err != nil {
		return nil, err
	}
	indexes, err := collect(`SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i
		WHERE i.indrelid = 'events_plain'::regclass
		AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
		AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)`)
	if err != nil {
		return nil, err
	}
	var rebuild []string
	for _, c := range constraints {
		name := pgx.Identifier{c.name}.Sanitize()
		if _, err := tx.Exec(ctx, "ALTER TABLE events_plain DROP CONSTRAINT "+name); err != nil {
			return nil, err
		}
		rebuild = append(rebuild, "ALTER TABLE events_plain ADD CONSTRAINT "+name+" "+c.definition)
	}
	for _, ix := range indexes {
		if _, err := tx.Exec(ctx, "DROP INDEX "+ix.name); err != nil {
			return nil, err
		}
		rebuild = append(rebuild, ix.definition)
	}
	if len(rebuild) > 0 {
		if _, err := tx.Exec(ctx, "SET LOCAL maintenance_work_mem = '256MB'"); err != nil {
			return nil, err
		}
	}
	return rebuild, nil
}

// storableText refuses, as Append does, text a PostgreSQL text column cannot hold.
func storableText(r *event.Record) error {
	for _, f := range [...]string{r.Stream, r.Type, r.Actor, r.CommandID, r.CorrelationID, r.CausationID} {
		if !utf8.ValidString(f) || strings.IndexByte(f, 0) >= 0 {
			return fmt.Errorf("%w: event %s (%q version %d): a text field is not valid UTF-8 text",
				event.ErrInvalidImport, r.ID, r.Stream, r.StreamVersion)
		}
	}
	return nil
}
