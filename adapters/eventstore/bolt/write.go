package bolt

import (
	"encoding/binary"
	"fmt"

	bbolt "go.etcd.io/bbolt"

	"yorozu/domain/event"
)

// writeTx is one group-commit transaction. It keeps what the appends of the batch change
// (stream rows, counters, day ranges) in memory and writes it once in finish.
type writeTx struct {
	meta, streamsBucket, names *bbolt.Bucket
	main                       partition
	days                       *bbolt.Bucket

	position   uint64 // last position assigned
	lastStream uint64 // last stream number assigned
	streams    map[string]*streamMeta
	dirty      map[string]bool

	// dayList is every day bucket, loaded on the first ID lookup; dayByNum the ones used here.
	dayList   []*partition
	dayLoaded bool
	dayByNum  map[int64]*partition

	arena   []byte
	scratch []byte // encoding buffer, copied into the arena
}

// partition is a set of log, version index and ID index: the main one, or one day's.
type partition struct {
	bucket                 *bbolt.Bucket // the day bucket; nil for the main partition
	log, versions, ids     *bbolt.Bucket
	minPos, maxPos         uint64
	rangeDirty, rangeKnown bool
}

func newWriteTx(tx *bbolt.Tx) *writeTx {
	w := &writeTx{
		meta:          tx.Bucket(bucketMeta),
		streamsBucket: tx.Bucket(bucketStreams),
		names:         tx.Bucket(bucketNames),
		days:          tx.Bucket(bucketDays),
		main: partition{
			log:      tx.Bucket(bucketLog),
			versions: tx.Bucket(bucketVersions),
			ids:      tx.Bucket(bucketIDs),
		},
		streams:  make(map[string]*streamMeta),
		dirty:    make(map[string]bool),
		dayByNum: make(map[int64]*partition),
	}
	w.main.setFill()
	w.position = counter(w.meta, keyPosition)
	w.lastStream = counter(w.meta, keyStream)
	return w
}

// alloc returns n bytes that stay valid until the transaction ends, as bbolt requires of the
// keys and values given to Put; carving them from large chunks saves an allocation per Put.
// The slice's capacity is n, so appending to it cannot reach the next one.
func (w *writeTx) alloc(n int) []byte {
	if n > 16<<10 {
		return make([]byte, n)
	}
	if cap(w.arena)-len(w.arena) < n {
		// Start small (most transactions hold a few events) and double up to 1 MiB.
		size := min(max(2*cap(w.arena), 8<<10), 1<<20)
		w.arena = make([]byte, 0, size)
	}
	b := w.arena[len(w.arena) : len(w.arena)+n : len(w.arena)+n]
	w.arena = w.arena[:len(w.arena)+n]
	return b
}

// append stores one append of the batch. refused is the caller's answer when the append is
// refused (concurrency, duplicate, deleted stream); err aborts the whole transaction.
func (w *writeTx) append(stream string, expected event.ExpectedVersion, drafts []event.Draft) (res event.AppendResult, refused, err error) {
	m, err := w.stream(stream)
	if err != nil {
		return res, nil, err
	}
	if m != nil && m.deleted {
		return res, fmt.Errorf("%w: %q", event.ErrStreamDeleted, stream), nil
	}
	if res, found, refused, err := w.alreadyStored(stream, m, drafts); found || refused != nil || err != nil {
		return res, refused, err
	}
	var current uint64
	if m != nil {
		current = m.lastVersion
	}
	if !expected.Allows(current) {
		return res, &event.ConcurrencyError{Stream: stream, Expected: expected, Actual: current}, nil
	}
	if m == nil {
		w.lastStream++
		m = &streamMeta{id: w.lastStream, first: 1}
		w.streams[stream] = m
		if err := w.names.Put(u64Key(m.id), []byte(stream)); err != nil {
			return res, nil, err
		}
	}

	partitioned := event.TimePartitioned(stream)
	prev := m.lastHash
	for i, d := range drafts {
		rec := event.Seal(d, stream, current+1+uint64(i), prev)
		prev = rec.Hash
		w.position++
		p := &w.main
		if partitioned {
			if p, err = w.day(dayOf(rec.RecordedAt)); err != nil {
				return res, nil, err
			}
		}
		entry := idEntry{stream: m.id, version: rec.StreamVersion, position: w.position, index: uint16(i), count: uint16(len(drafts))}
		if err := w.put(p, &rec, entry); err != nil {
			return res, nil, err
		}
	}
	m.lastVersion = current + uint64(len(drafts))
	m.lastHash = prev
	w.dirty[stream] = true
	return event.AppendResult{FirstVersion: current + 1, LastVersion: m.lastVersion, LastPosition: event.Position(w.position)}, nil, nil
}

// put writes one sealed record into a partition: the record, its version entry, its ID entry.
func (w *writeTx) put(p *partition, rec *event.Record, entry idEntry) error {
	pos := entry.position
	posKey := w.alloc(8)
	binary.BigEndian.PutUint64(posKey, pos)
	w.scratch = appendRecord(w.scratch[:0], rec, entry.stream)
	val := w.alloc(len(w.scratch))
	copy(val, w.scratch)
	if err := p.log.Put(posKey, val); err != nil {
		return err
	}
	verKey := w.alloc(16)
	binary.BigEndian.PutUint64(verKey, entry.stream)
	binary.BigEndian.PutUint64(verKey[8:], rec.StreamVersion)
	if err := p.versions.Put(verKey, posKey); err != nil {
		return err
	}
	idKey := w.alloc(16)
	copy(idKey, rec.ID[:])
	w.scratch = entry.append(w.scratch[:0])
	idVal := w.alloc(len(w.scratch))
	copy(idVal, w.scratch)
	if err := p.ids.Put(idKey, idVal); err != nil {
		return err
	}
	if p.bucket != nil {
		if !p.rangeKnown || pos < p.minPos {
			p.minPos = pos
		}
		if !p.rangeKnown || pos > p.maxPos {
			p.maxPos = pos
		}
		p.rangeKnown, p.rangeDirty = true, true
	}
	return nil
}

// alreadyStored applies the idempotency rule: if the drafts are exactly a batch stored in this
// same stream, in the same order, the append is a retry and gets the original result (found). If
// only some are stored, or they belong elsewhere or to another batch, the append is refused with
// event.ErrDuplicateEvent.
func (w *writeTx) alreadyStored(stream string, m *streamMeta, drafts []event.Draft) (res event.AppendResult, found bool, refused, err error) {
	var first, last idEntry
	hits := 0
	for i, d := range drafts {
		e, ok, err := w.lookupID(d.ID)
		if err != nil {
			return res, false, nil, err
		}
		if !ok {
			continue
		}
		if hits == 0 {
			first = e
		}
		hits++
		sameBatch := hits == i+1 && m != nil && e.stream == m.id && e.version == first.version+uint64(i) &&
			int(e.index) == i && int(e.count) == len(drafts)
		if !sameBatch {
			return res, false, fmt.Errorf("%w: %s (appending to %q)", event.ErrDuplicateEvent, d.ID, stream), nil
		}
		last = e
	}
	switch hits {
	case 0:
		return res, false, nil, nil
	case len(drafts):
		return event.AppendResult{FirstVersion: first.version, LastVersion: last.version, LastPosition: event.Position(last.position)}, true, nil, nil
	}
	return res, false, fmt.Errorf("%w: part of the batch is already stored in %q", event.ErrDuplicateEvent, stream), nil
}

// lookupID finds an event ID in the main ID index or in any day's.
func (w *writeTx) lookupID(id [16]byte) (idEntry, bool, error) {
	if v := w.main.ids.Get(id[:]); v != nil {
		e, err := decodeIDEntry(v)
		return e, err == nil, err
	}
	if err := w.loadDays(); err != nil {
		return idEntry{}, false, err
	}
	// Newest day first: a retry is most likely of something recent.
	for i := len(w.dayList) - 1; i >= 0; i-- {
		if v := w.dayList[i].ids.Get(id[:]); v != nil {
			e, err := decodeIDEntry(v)
			return e, err == nil, err
		}
	}
	return idEntry{}, false, nil
}

func (w *writeTx) loadDays() error {
	if w.dayLoaded {
		return nil
	}
	w.dayLoaded = true
	return w.days.ForEachBucket(func(k []byte) error {
		day := dayFromKey(k)
		if p, ok := w.dayByNum[day]; ok {
			w.dayList = append(w.dayList, p)
			return nil
		}
		p, err := openPartition(w.days.Bucket(k))
		if err != nil {
			return err
		}
		w.dayByNum[day] = p
		w.dayList = append(w.dayList, p)
		return nil
	})
}

// day returns the partition of a UTC day, creating it on first use.
func (w *writeTx) day(day int64) (*partition, error) {
	if p, ok := w.dayByNum[day]; ok {
		return p, nil
	}
	key := dayKey(day)
	b := w.days.Bucket(key)
	if b != nil {
		p, err := openPartition(b)
		if err != nil {
			return nil, err
		}
		w.dayByNum[day] = p
		return p, nil
	}
	b, err := w.days.CreateBucket(key)
	if err != nil {
		return nil, err
	}
	p := &partition{bucket: b}
	for _, sub := range []struct {
		name []byte
		dst  **bbolt.Bucket
	}{{bucketLog, &p.log}, {bucketVersions, &p.versions}, {bucketIDs, &p.ids}} {
		if *sub.dst, err = b.CreateBucket(sub.name); err != nil {
			return nil, err
		}
	}
	p.setFill()
	w.dayByNum[day] = p
	if w.dayLoaded {
		w.dayList = append(w.dayList, p)
	}
	return p, nil
}

// setFill packs pages fuller than bbolt's default of half a page, which suits keys that are
// mostly appended: positions only grow (full pages), and versions and time-ordered (v7) event
// IDs mostly grow, with some room left for streams and random IDs that insert in the middle.
func (p *partition) setFill() {
	p.log.FillPercent = 1
	p.versions.FillPercent = 0.9
	p.ids.FillPercent = 0.9
}

func openPartition(b *bbolt.Bucket) (*partition, error) {
	p := &partition{bucket: b, log: b.Bucket(bucketLog), versions: b.Bucket(bucketVersions), ids: b.Bucket(bucketIDs)}
	if p.log == nil || p.versions == nil || p.ids == nil {
		return nil, fmt.Errorf("%w: day bucket without its indexes", errCorrupt)
	}
	p.setFill()
	if r := b.Get(keyRange); r != nil {
		if len(r) != 16 {
			return nil, fmt.Errorf("%w: day range", errCorrupt)
		}
		p.minPos, p.maxPos, p.rangeKnown = beUint64(r), beUint64(r[8:]), true
	}
	return p, nil
}

// stream returns the row of a stream as this transaction left it, nil if the stream is new.
func (w *writeTx) stream(name string) (*streamMeta, error) {
	if m, ok := w.streams[name]; ok {
		return m, nil
	}
	v := w.streamsBucket.Get([]byte(name))
	if v == nil {
		return nil, nil
	}
	m, err := decodeMeta(v)
	if err != nil {
		return nil, err
	}
	w.streams[name] = m
	return m, nil
}

// finish writes the stream rows, day ranges and counters the batch changed.
func (w *writeTx) finish() error {
	for name := range w.dirty {
		if err := w.streamsBucket.Put([]byte(name), w.streams[name].encode()); err != nil {
			return err
		}
	}
	for _, p := range w.dayByNum {
		if !p.rangeDirty {
			continue
		}
		r := make([]byte, 16)
		binary.BigEndian.PutUint64(r, p.minPos)
		binary.BigEndian.PutUint64(r[8:], p.maxPos)
		if err := p.bucket.Put(keyRange, r); err != nil {
			return err
		}
	}
	if err := w.meta.Put(keyPosition, u64Key(w.position)); err != nil {
		return err
	}
	return w.meta.Put(keyStream, u64Key(w.lastStream))
}

// counter reads an 8-byte counter of the meta bucket (0 when absent).
func counter(meta *bbolt.Bucket, key []byte) uint64 {
	if v := meta.Get(key); len(v) == 8 {
		return beUint64(v)
	}
	return 0
}

func beUint64(b []byte) uint64 { return binary.BigEndian.Uint64(b) }
