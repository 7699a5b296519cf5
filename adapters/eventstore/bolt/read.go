package bolt

import (
	"bytes"
	"cmp"
	"context"
	"fmt"
	"slices"

	bbolt "go.etcd.io/bbolt"

	"yorozu/domain/event"
)

// ctxCheckEvery is how many records a long read decodes between two looks at its context.
const ctxCheckEvery = 4096

// streamEntry is one event of a stream found in a version index, before its record is read.
type streamEntry struct {
	version, position uint64
	log               *bbolt.Bucket
}

func readStream(ctx context.Context, tx *bbolt.Tx, stream string, from uint64, limit int) ([]event.Record, error) {
	v := tx.Bucket(bucketStreams).Get([]byte(stream))
	if v == nil {
		return nil, nil
	}
	m, err := decodeMeta(v)
	if err != nil {
		return nil, err
	}
	from = max(from, m.first, 1)
	if m.deleted || from > m.lastVersion {
		return nil, nil
	}

	var entries []streamEntry
	if !event.TimePartitioned(stream) {
		entries = versionEntries(tx.Bucket(bucketVersions), tx.Bucket(bucketLog), m.id, from, limit, nil)
	} else {
		// The stream's events are spread over days; each day holds an ascending run of them.
		days := tx.Bucket(bucketDays)
		err := days.ForEachBucket(func(k []byte) error {
			b := days.Bucket(k)
			entries = versionEntries(b.Bucket(bucketVersions), b.Bucket(bucketLog), m.id, from, limit, entries)
			return nil
		})
		if err != nil {
			return nil, err
		}
		slices.SortFunc(entries, func(a, b streamEntry) int { return cmp.Compare(a.version, b.version) })
		if limit > 0 && len(entries) > limit {
			entries = entries[:limit]
		}
	}

	rr := newRecordReader(tx)
	rr.streams[m.id] = stream
	out := make([]event.Record, 0, len(entries))
	for i, e := range entries {
		if i%ctxCheckEvery == ctxCheckEvery-1 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		val := e.log.Get(u64Key(e.position))
		if val == nil {
			return nil, fmt.Errorf("%w: %q version %d indexed at position %d, which holds nothing", errCorrupt, stream, e.version, e.position)
		}
		rec, err := rr.decode(val, e.position)
		if err != nil {
			return nil, err
		}
		out = append(out, rec)
	}
	return out, nil
}

// versionEntries appends to dst up to limit (all if <= 0) entries of stream number num from
// version `from` on, found in one version index.
func versionEntries(versions, log *bbolt.Bucket, num, from uint64, limit int, dst []streamEntry) []streamEntry {
	prefix := u64Key(num)
	c := versions.Cursor()
	n := 0
	for k, v := c.Seek(versionKey(num, from)); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
		if limit > 0 && n == limit {
			break
		}
		dst = append(dst, streamEntry{version: beUint64(k[8:]), position: beUint64(v), log: log})
		n++
	}
	return dst
}

// logCursor walks one partition's log from a position on.
type logCursor struct {
	c    *bbolt.Cursor
	pos  uint64
	val  []byte
	done bool
}

func (lc *logCursor) set(k, v []byte) {
	if k == nil {
		lc.done = true
		return
	}
	lc.pos, lc.val = beUint64(k), v
}

func readAll(ctx context.Context, tx *bbolt.Tx, after uint64, limit int) ([]event.Record, error) {
	// Start small and let append grow: a caught-up reader asks for a page of thousands and gets a
	// few events, many times a second, and zeroing a page-sized slice each time costs more than
	// the read.
	size := limit
	if size <= 0 || size > 64 {
		size = 64
	}
	out := make([]event.Record, 0, size)
	err := scanAll(ctx, tx, after, func(rec event.Record) bool {
		out = append(out, rec)
		return limit <= 0 || len(out) < limit
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// scanAll calls yield with every event after `after` in position order, until yield returns
// false, within one read transaction.
func scanAll(ctx context.Context, tx *bbolt.Tx, after uint64, yield func(event.Record) bool) error {
	if after == ^uint64(0) {
		return nil
	}
	start := u64Key(after + 1)
	var cursors []*logCursor
	open := func(log *bbolt.Bucket) {
		lc := &logCursor{c: log.Cursor()}
		lc.set(lc.c.Seek(start))
		if !lc.done {
			cursors = append(cursors, lc)
		}
	}
	open(tx.Bucket(bucketLog))
	days := tx.Bucket(bucketDays)
	err := days.ForEachBucket(func(k []byte) error {
		b := days.Bucket(k)
		if r := b.Get(keyRange); len(r) == 16 && beUint64(r[8:]) <= after {
			return nil // the whole day is behind the reader
		}
		open(b.Bucket(bucketLog))
		return nil
	})
	if err != nil {
		return err
	}

	rr := newRecordReader(tx)
	for n := 1; ; n++ {
		// Merge by position. There is one cursor per partition that still has events after the
		// reader (the main log and a few days), so a linear pick is cheaper than a heap.
		var next *logCursor
		for _, lc := range cursors {
			if !lc.done && (next == nil || lc.pos < next.pos) {
				next = lc
			}
		}
		if next == nil {
			return nil
		}
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		rec, err := rr.decode(next.val, next.pos)
		if err != nil {
			return err
		}
		if !yield(rec) {
			return nil
		}
		next.set(next.c.Next())
	}
}
