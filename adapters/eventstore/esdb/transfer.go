package esdb

import (
	"context"
	"fmt"
	"iter"

	"yorozu/domain/event"
)

var _ event.Importer = (*Store)(nil)

// Import implements event.Importer on EventStoreDB, with the differences the server imposes:
//
//   - Positions are the server's commit positions: the records are appended in the order of
//     the log, each run of consecutive records of one stream in one append (at most
//     event.MaxBatch), so $all holds them in the same order, under new numbers. Read models and
//     cursors built on the restored store use the new numbers.
//   - It is not all or nothing: events appended before a failure stay (the server keeps even
//     deleted streams as tombstones). Check the whole source first (the restore command
//     verifies a backup file before it imports into EventStoreDB).
//   - A stream whose first events were removed (truncation, retention) cannot be recreated:
//     the server's revisions start at 0, so its first record must be version 1.
//   - Appends of other writers are not held off; the store must be left alone while it runs.
//
// Appends re-seal each record onto the stream's previous hash; with the same envelope the hash
// is the same, and Import checks it did not change by reading the run's last event back.
func (s *Store) Import(ctx context.Context, head event.Position, events iter.Seq2[event.Record, error]) error {
	if err := s.check(); err != nil {
		return err
	}
	h, err := s.Head(ctx)
	if err != nil {
		return err
	}
	if h != 0 {
		return event.ErrNotEmpty
	}
	check := event.NewImportCheck(head)
	started := make(map[string]bool)
	var run []event.Record
	flush := func() error {
		if len(run) == 0 {
			return nil
		}
		first, last := run[0], run[len(run)-1]
		drafts := make([]event.Draft, len(run))
		for i, r := range run {
			drafts[i] = event.Draft{ID: r.ID, Type: r.Type, SchemaVersion: r.SchemaVersion, EffectiveAt: r.EffectiveAt,
				RecordedAt: r.RecordedAt, Actor: r.Actor, CommandID: r.CommandID, CorrelationID: r.CorrelationID,
				CausationID: r.CausationID, Data: r.Data}
		}
		if _, err := s.Append(ctx, first.Stream, event.Exactly(first.StreamVersion-1), drafts); err != nil {
			return fmt.Errorf("eventstoredb: import %q versions %d to %d: %w", first.Stream, first.StreamVersion, last.StreamVersion, err)
		}
		stored, err := s.ReadStream(ctx, last.Stream, last.StreamVersion, 1)
		if err != nil {
			return err
		}
		if len(stored) != 1 || stored[0].Hash != last.Hash {
			return fmt.Errorf("eventstoredb: import %q version %d: the stored event does not hash as the imported one", last.Stream, last.StreamVersion)
		}
		run = run[:0]
		return nil
	}
	for rec, err := range events {
		if err != nil {
			return err
		}
		if err := check.Check(&rec); err != nil {
			return err
		}
		if !started[rec.Stream] && rec.StreamVersion != 1 {
			return fmt.Errorf("%w: stream %q begins at version %d (its first events were removed); "+
				"EventStoreDB cannot recreate it: restore into the embedded store or PostgreSQL", event.ErrInvalidImport, rec.Stream, rec.StreamVersion)
		}
		started[rec.Stream] = true
		if n := len(run); n > 0 && (run[n-1].Stream != rec.Stream || n == event.MaxBatch) {
			if err := flush(); err != nil {
				return err
			}
		}
		run = append(run, rec)
	}
	return flush()
}
