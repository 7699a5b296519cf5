package bolt

// Export and Import: the whole log out of one store and into another (backups and restores).
//
// Export reads in one bbolt read transaction, which pins one committed state of the file for as
// long as the reader takes, while appends go on (bbolt lets one writer commit beside any number
// of readers). A writer that needs to grow the memory map waits for the read to end.
//
// Import fills an empty file in transactions of many thousands of events (one commit and its two
// fdatasyncs per chunk, never one per event). Its first transaction checks that the file is empty
// and marks it as being imported (meta "importing"); the last one sets the position counter to
// the head and removes the mark. While the mark is there, appends are refused (also those that
// were already queued: the commit looks at the mark in its own transaction). If the import fails,
// every bucket is emptied again in one transaction; if the process dies in the middle, the mark
// stays and Open refuses the file with ErrIncompleteImport, so that a half-restored log is never
// served: remove the file and import again.
//
// Records are written exactly as given, positions included. The ID index keeps, for each event,
// its place in the batch it was appended with, which the backup does not carry: a batch is taken
// to be a run of records of one stream with one command ID, consecutive versions and consecutive
// positions (how one append is stored), at most event.MaxBatch long.

import (
	"context"
	"errors"
	"fmt"
	"iter"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"yorozu/domain/event"
)

// ErrIncompleteImport: the file holds an import that did not finish (the process died in it).
var ErrIncompleteImport = errors.New("bolt event store: the file holds an interrupted import; remove it and import again")

// Import transactions end at whichever of these comes first (variables for the tests).
var (
	importChunkEvents = 100_000
	importChunkBytes  = 64 << 20
)

var _ event.Exporter = (*Store)(nil)
var _ event.Importer = (*Store)(nil)

// Export implements event.Exporter: the state of one read transaction; its head is the highest
// position ever assigned in that state.
func (s *Store) Export(ctx context.Context, fn func(head event.Position, events iter.Seq2[event.Record, error]) error) error {
	if err := s.usable(ctx); err != nil {
		return err
	}
	return s.mapErr(s.db.View(func(tx *bbolt.Tx) error {
		head := counter(tx.Bucket(bucketMeta), keyPosition)
		read := false
		events := func(yield func(event.Record, error) bool) {
			if read {
				yield(event.Record{}, errors.New("bolt event store: the events of an export are read once"))
				return
			}
			read = true
			if err := scanAll(ctx, tx, 0, func(r event.Record) bool { return yield(r, nil) }); err != nil {
				yield(event.Record{}, s.mapErr(err))
			}
		}
		return fn(event.Position(head), events)
	}))
}

// Import implements event.Importer (see the top of this file).
func (s *Store) Import(ctx context.Context, head event.Position, events iter.Seq2[event.Record, error]) (err error) {
	if err := s.usable(ctx); err != nil {
		return err
	}
	if !s.importing.CompareAndSwap(false, true) {
		return event.ErrImporting
	}
	defer s.importing.Store(false)

	err = s.db.Update(func(tx *bbolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		first, _ := tx.Bucket(bucketStreams).Cursor().First()
		if counter(meta, keyPosition) != 0 || first != nil {
			return event.ErrNotEmpty
		}
		return meta.Put(keyImporting, []byte{1})
	})
	if err != nil {
		return s.mapErr(err)
	}
	defer func() {
		if err == nil {
			return
		}
		if rerr := s.db.Update(resetFile); rerr != nil {
			err = errors.Join(err, fmt.Errorf("bolt event store: emptying the file after the failed import: %w", rerr))
		}
		err = s.mapErr(err)
	}()

	check := event.NewImportCheck(head)
	var b importBatch
	for rec, rerr := range events {
		if rerr != nil {
			return rerr
		}
		if err := check.Check(&rec); err != nil {
			return err
		}
		b.add(rec)
		if len(b.recs) >= importChunkEvents || b.bytes >= importChunkBytes {
			if err := ctx.Err(); err != nil {
				return err
			}
			if err := s.db.Update(func(tx *bbolt.Tx) error { return b.write(tx, false) }); err != nil {
				return err
			}
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	last := max(uint64(head), uint64(check.Last()))
	err = s.db.Update(func(tx *bbolt.Tx) error {
		if err := b.write(tx, true); err != nil {
			return err
		}
		meta := tx.Bucket(bucketMeta)
		if err := meta.Put(keyPosition, u64Key(last)); err != nil {
			return err
		}
		return meta.Delete(keyImporting)
	})
	if err != nil {
		return err
	}
	s.head.Store(last)
	s.signal.Notify()
	return nil
}

// importBatch gathers records for one import transaction, with each one's place in the batch it
// was appended with (index). The run at the end may go on in the next records, so a write
// that is not the last keeps it for the next transaction.
type importBatch struct {
	recs  []event.Record
	index []uint16
	bytes int
	// open is where the last run starts in recs.
	open int
}

func (b *importBatch) add(r event.Record) {
	n := len(b.recs)
	if n > 0 {
		p := &b.recs[n-1]
		if i := b.index[n-1]; int(i)+1 < event.MaxBatch && p.Stream == r.Stream && p.CommandID == r.CommandID &&
			p.StreamVersion+1 == r.StreamVersion && p.Position+1 == r.Position {
			b.recs = append(b.recs, r)
			b.index = append(b.index, i+1)
			b.bytes += len(r.Data)
			return
		}
	}
	b.open = n
	b.recs = append(b.recs, r)
	b.index = append(b.index, 0)
	b.bytes += len(r.Data)
}

// write stores the closed runs (all of them if last) in tx and keeps the open one.
func (b *importBatch) write(tx *bbolt.Tx, last bool) error {
	upTo := b.open
	if last {
		upTo = len(b.recs)
	}
	if upTo == 0 {
		return nil
	}
	w := newWriteTx(tx)
	if err := w.importRecords(b.recs[:upTo], b.index[:upTo]); err != nil {
		return err
	}
	if err := w.finish(); err != nil {
		return err
	}
	rest := copy(b.recs, b.recs[upTo:])
	copy(b.index, b.index[upTo:])
	clear(b.recs[rest:])
	b.recs, b.index = b.recs[:rest], b.index[:rest]
	b.open, b.bytes = 0, 0
	for i := range b.recs {
		b.bytes += len(b.recs[i].Data)
	}
	return nil
}

// importRecords stores records as they are; index is each one's place in its batch, and the
// batch ends where the next record's index is 0 (or at the end of recs, which holds whole runs).
func (w *writeTx) importRecords(recs []event.Record, index []uint16) error {
	// Counts, from the end: a record's batch is as long as the last index of its run plus one.
	counts := make([]uint16, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		if i+1 < len(recs) && index[i+1] != 0 {
			counts[i] = counts[i+1]
		} else {
			counts[i] = index[i] + 1
		}
	}
	for i := range recs {
		r := &recs[i]
		m, err := w.stream(r.Stream)
		if err != nil {
			return err
		}
		if m == nil {
			w.lastStream++
			m = &streamMeta{id: w.lastStream, first: r.StreamVersion}
			w.streams[r.Stream] = m
			if err := w.names.Put(u64Key(m.id), []byte(r.Stream)); err != nil {
				return err
			}
		}
		p := &w.main
		if event.TimePartitioned(r.Stream) {
			if p, err = w.day(dayOf(r.RecordedAt)); err != nil {
				return err
			}
		}
		w.position = uint64(r.Position)
		entry := idEntry{stream: m.id, version: r.StreamVersion, position: w.position, index: index[i], count: counts[i]}
		if err := w.put(p, r, entry); err != nil {
			return err
		}
		m.lastVersion, m.lastHash = r.StreamVersion, r.Hash
		w.dirty[r.Stream] = true
	}
	return nil
}

// resetFile empties every bucket, leaving the file as Open makes a new one.
func resetFile(tx *bbolt.Tx) error {
	for _, name := range [][]byte{bucketMeta, bucketStreams, bucketNames, bucketLog, bucketVersions, bucketIDs, bucketDays} {
		if err := tx.DeleteBucket(name); err != nil && !errors.Is(err, bolterrors.ErrBucketNotFound) {
			return err
		}
		if _, err := tx.CreateBucket(name); err != nil {
			return err
		}
	}
	return tx.Bucket(bucketMeta).Put(keyFormat, u64Key(formatVersion))
}
