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
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"

	bbolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"

	"yorozu/domain/event"
)

// ErrIncompleteImport: the file holds an import that did not finish (the process died in it).
var ErrIncompleteImport = errors.New("bolt event store: the file holds an interrupted import; remove it and import again")

// Import transactions end at whichever of these comes first (variables for the tests).
var (
	importChunkEvents = 50_000
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

	// Event IDs used twice are found when the ID index is sorted.
	check := event.NewImportCheck(head).WithoutIDs()
	ix := newImportIndex(int(min(head, 1<<24)))
	w := startImportWriter(s.db, ix)
	var c importChunk
	for rec, rerr := range events {
		if rerr != nil {
			return errors.Join(rerr, w.stop())
		}
		if err := check.Check(&rec); err != nil {
			return errors.Join(err, w.stop())
		}
		c.add(rec)
		if len(c.recs) >= importChunkEvents || c.bytes >= importChunkBytes {
			if err := ctx.Err(); err != nil {
				return errors.Join(err, w.stop())
			}
			next, err := w.write(&c, false)
			if err != nil {
				return err
			}
			c = next
		}
	}
	if err := ctx.Err(); err != nil {
		return errors.Join(err, w.stop())
	}
	if _, err := w.write(&c, true); err != nil {
		return err
	}
	if err := w.stop(); err != nil {
		return err
	}
	if err := ix.write(ctx, s.db); err != nil {
		return err
	}
	last := max(uint64(head), uint64(check.Last()))
	err = s.db.Update(func(tx *bbolt.Tx) error {
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

// importChunk gathers records for one import transaction, with each one's place in the batch
// it was appended with (runIndex). The run at its end may go on in the next records, so a chunk
// that is not the last is written without it, and it begins the next chunk.
type importChunk struct {
	recs     []event.Record
	runIndex []uint16
	bytes    int
	// open is where the last run starts in recs.
	open int
}

func (c *importChunk) add(r event.Record) {
	if c.recs == nil {
		// A transaction's worth, and the run that may be carried over: no growth on the way.
		c.recs = make([]event.Record, 0, importChunkEvents+event.MaxBatch)
		c.runIndex = make([]uint16, 0, importChunkEvents+event.MaxBatch)
	}
	n := len(c.recs)
	if n > 0 {
		p := &c.recs[n-1]
		if i := c.runIndex[n-1]; int(i)+1 < event.MaxBatch && p.Stream == r.Stream && p.CommandID == r.CommandID &&
			p.StreamVersion+1 == r.StreamVersion && p.Position+1 == r.Position {
			c.recs = append(c.recs, r)
			c.runIndex = append(c.runIndex, i+1)
			c.bytes += len(r.Data)
			return
		}
	}
	c.open = n
	c.recs = append(c.recs, r)
	c.runIndex = append(c.runIndex, 0)
	c.bytes += len(r.Data)
}

// importWriter writes chunks in transactions of its own goroutine, one while the next is
// gathered and checked.
type importWriter struct {
	jobs    chan *importChunk
	free    chan *importChunk
	failed  chan struct{} // closed at the writer's first error
	done    chan error
	stopped bool
	err     error
}

func startImportWriter(db *bbolt.DB, ix *importIndex) *importWriter {
	w := &importWriter{jobs: make(chan *importChunk), free: make(chan *importChunk, 1),
		failed: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		var err error
		for c := range w.jobs {
			if err == nil {
				err = db.Update(func(tx *bbolt.Tx) error {
					wt := newWriteTx(tx)
					if err := wt.importRecords(c.recs, c.runIndex, ix); err != nil {
						return err
					}
					return wt.finish()
				})
				if err != nil {
					close(w.failed)
				}
			}
			clear(c.recs)
			c.recs, c.runIndex, c.bytes, c.open = c.recs[:0], c.runIndex[:0], 0, 0
			select {
			case w.free <- c:
			default:
			}
		}
		w.done <- err
	}()
	return w
}

// write hands the closed runs of c (all of it if last) to the writer and returns the chunk to
// go on with, which starts with c's open run. It fails with the error of an earlier chunk.
func (w *importWriter) write(c *importChunk, last bool) (importChunk, error) {
	upTo := c.open
	if last {
		upTo = len(c.recs)
	}
	var next importChunk
	select {
	case f := <-w.free:
		next = *f
	default:
	}
	for i := upTo; i < len(c.recs); i++ {
		next.add(c.recs[i])
	}
	job := &importChunk{recs: c.recs[:upTo], runIndex: c.runIndex[:upTo]}
	select {
	case w.jobs <- job:
		return next, nil
	case <-w.failed:
		return next, w.stop()
	}
}

// stop waits for the chunks handed over and returns the writer's first error.
func (w *importWriter) stop() error {
	if !w.stopped {
		w.stopped = true
		close(w.jobs)
		w.err = <-w.done
	}
	return w.err
}

// importRecords stores the records of recs in the log as they are and gathers their version and
// ID entries into ix; runIndex is each record's place in its batch, and a batch ends where the
// next record's runIndex is 0 (or at the end of recs, which holds whole runs).
func (w *writeTx) importRecords(recs []event.Record, runIndex []uint16, ix *importIndex) error {
	// Counts, from the end: a record's batch is as long as the last index of its run plus one.
	counts := make([]uint16, len(recs))
	for i := len(recs) - 1; i >= 0; i-- {
		if i+1 < len(recs) && runIndex[i+1] != 0 {
			counts[i] = counts[i+1]
		} else {
			counts[i] = runIndex[i] + 1
		}
	}
	var (
		prevName string
		m        *streamMeta
	)
	for i := range recs {
		r := &recs[i]
		if m == nil || r.Stream != prevName { // the events of a batch share their stream
			var err error
			if m, err = w.stream(r.Stream); err != nil {
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
			w.dirty[r.Stream] = true
			prevName = r.Stream
		}
		var err error
		p := &w.main
		day := mainPartition
		if event.TimePartitioned(r.Stream) {
			day = dayOf(r.RecordedAt)
			if p, err = w.day(day); err != nil {
				return err
			}
		}
		w.position = uint64(r.Position)
		posKey := w.alloc(8)
		binary.BigEndian.PutUint64(posKey, w.position)
		if err := p.log.Put(posKey, w.encodeRecord(r, m.id)); err != nil {
			return err
		}
		ix.add(day, r.ID, idEntry{stream: m.id, version: r.StreamVersion, position: w.position, index: runIndex[i], count: counts[i]})
		if p.bucket != nil {
			if !p.rangeKnown || w.position < p.minPos {
				p.minPos = w.position
			}
			if !p.rangeKnown || w.position > p.maxPos {
				p.maxPos = w.position
			}
			p.rangeKnown, p.rangeDirty = true, true
		}
		m.lastVersion, m.lastHash = r.StreamVersion, r.Hash
	}
	return nil
}

// encodeRecord encodes r straight into the transaction's arena (alloc, then copy, would write
// every record twice).
func (w *writeTx) encodeRecord(r *event.Record, streamNum uint64) []byte {
	most := 1 + 16 + 2*32 + 7*binary.MaxVarintLen64 + 4*(1+binary.MaxVarintLen64) +
		len(r.Type) + len(r.Actor) + len(r.CommandID) + len(r.CorrelationID) + len(r.CausationID) + len(r.Data)
	if most > 16<<10 {
		return appendRecord(make([]byte, 0, most), r, streamNum)
	}
	if cap(w.arena)-len(w.arena) < most {
		w.arena = make([]byte, 0, 1<<20)
	}
	start := len(w.arena)
	rec := appendRecord(w.arena[start:start:start+most], r, streamNum)
	w.arena = w.arena[:start+len(rec)]
	return rec[:len(rec):len(rec)]
}

// mainPartition stands for the main log among the days of importIndex.
const mainPartition int64 = math.MinInt64

// importIndex holds the version and ID entries of an import until the whole log is in, then
// writes them in key order. bbolt keeps a transaction's inserts into a page in one sorted slice
// until the commit splits it: keys in random order (event IDs, and versions of interleaved
// streams) would cost a copy of that slice per insert, and spread over a grown tree they would
// make every commit rewrite most of its pages. In key order, each insert appends to the right
// edge of the tree and every page is written about once. Sorted, the IDs also show an ID used
// twice, in one partition or two.
type importIndex struct {
	entries []importID
}

type importID struct {
	id  [16]byte
	day int64 // partition: mainPartition or a UTC day
	e   idEntry
}

// newImportIndex expects about n entries.
func newImportIndex(n int) *importIndex { return &importIndex{entries: make([]importID, 0, n)} }

func (ix *importIndex) add(day int64, id [16]byte, e idEntry) {
	ix.entries = append(ix.entries, importID{id: id, day: day, e: e})
}

// importIndexChunk is how many entries one index transaction writes.
const importIndexChunk = 250_000

func (ix *importIndex) write(ctx context.Context, db *bbolt.DB) error {
	es := ix.entries
	// The version index, in (stream, version) order, partition by partition. The entries are in
	// log order, where each stream's versions ascend: ordering them by partition and stream,
	// keeping that order, is enough: the main partition's by counting (stream numbers are
	// dense), the days' by a stable sort, into a copy.
	versions := byStream(es)
	sorted := make(chan struct{})
	go func() {
		// es, no longer needed in log order, is sorted by ID on the other core while the
		// version index is written. Two integers compare several times faster than
		// bytes.Compare, in the same order.
		defer close(sorted)
		slices.SortFunc(es, func(a, b importID) int {
			if c := cmp.Compare(binary.BigEndian.Uint64(a.id[:8]), binary.BigEndian.Uint64(b.id[:8])); c != 0 {
				return c
			}
			return cmp.Compare(binary.BigEndian.Uint64(a.id[8:]), binary.BigEndian.Uint64(b.id[8:]))
		})
	}()
	err := writeSorted(ctx, db, versions, func(w *writeTx, part *partition, e *importID) error {
		key := w.alloc(16)
		binary.BigEndian.PutUint64(key, e.e.stream)
		binary.BigEndian.PutUint64(key[8:], e.e.version)
		val := w.alloc(8)
		binary.BigEndian.PutUint64(val, e.e.position)
		return part.versions.Put(key, val)
	})
	versions = nil
	<-sorted // waited for even on error: the sorting goroutine ends
	if err != nil {
		return err
	}
	// The ID index, in ID order, partition by partition.
	for i := 1; i < len(es); i++ {
		if es[i].id == es[i-1].id {
			return fmt.Errorf("%w: event %x is at positions %d and %d", event.ErrInvalidImport, es[i].id, es[i-1].e.position, es[i].e.position)
		}
	}
	// A stable sort by partition keeps each partition's entries in ID order.
	slices.SortStableFunc(es, func(a, b importID) int { return cmp.Compare(a.day, b.day) })
	err = writeSorted(ctx, db, es, func(w *writeTx, part *partition, e *importID) error {
		w.scratch = e.e.append(w.scratch[:0])
		val := w.alloc(len(w.scratch))
		copy(val, w.scratch)
		return part.ids.Put(e.id[:], val)
	})
	ix.entries = nil
	return err
}

// byStream returns es (in log order) ordered by partition and stream number, keeping the log
// order within each stream: the main partition first, by counting, then the days.
func byStream(es []importID) []importID {
	var maxStream uint64
	mains := 0
	for i := range es {
		if es[i].day == mainPartition {
			mains++
			maxStream = max(maxStream, es[i].e.stream)
		}
	}
	start := make([]int, maxStream+2)
	for i := range es {
		if es[i].day == mainPartition {
			start[es[i].e.stream+1]++
		}
	}
	for i := 1; i < len(start); i++ {
		start[i] += start[i-1]
	}
	out := make([]importID, len(es))
	days := out[mains:mains]
	for i := range es {
		if es[i].day == mainPartition {
			out[start[es[i].e.stream]] = es[i]
			start[es[i].e.stream]++
		} else {
			days = append(days, es[i])
		}
	}
	slices.SortStableFunc(days, func(a, b importID) int {
		if c := cmp.Compare(a.day, b.day); c != 0 {
			return c
		}
		return cmp.Compare(a.e.stream, b.e.stream)
	})
	return out
}

// writeSorted calls put for every entry, grouped by partition, in transactions of
// importIndexChunk entries.
func writeSorted(ctx context.Context, db *bbolt.DB, es []importID, put func(w *writeTx, part *partition, e *importID) error) error {
	for from := 0; from < len(es); from += importIndexChunk {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := db.Update(func(tx *bbolt.Tx) error {
			w := newWriteTx(tx)
			full := func(p *partition) { p.versions.FillPercent, p.ids.FillPercent = 1, 1 }
			full(&w.main) // keys in order: pages filled up, not split half empty
			for i := from; i < min(from+importIndexChunk, len(es)); i++ {
				e := &es[i]
				part := &w.main
				if e.day != mainPartition {
					var err error
					if part, err = w.day(e.day); err != nil {
						return err
					}
					full(part)
				}
				if err := put(w, part, e); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
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
