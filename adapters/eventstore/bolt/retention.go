package bolt

import (
	"bytes"

	bbolt "go.etcd.io/bbolt"

	"yorozu/domain/event"
)

func deleteStream(tx *bbolt.Tx, stream string) error {
	streams := tx.Bucket(bucketStreams)
	m, err := loadMeta(streams, stream)
	if err != nil {
		return err
	}
	switch {
	case m == nil:
		// Never appended to: the tombstone alone keeps it from being created later. Stream
		// number 0 is never assigned, so it owns no index entry.
		m = &streamMeta{first: 1}
	case m.deleted:
		return nil
	default:
		if err := removeEvents(tx, stream, m.id, 0, ^uint64(0)); err != nil {
			return err
		}
	}
	m.deleted = true
	return streams.Put([]byte(stream), m.encode())
}

func truncateBefore(tx *bbolt.Tx, stream string, version uint64) error {
	streams := tx.Bucket(bucketStreams)
	m, err := loadMeta(streams, stream)
	if err != nil || m == nil || m.deleted {
		return err
	}
	// Truncating past the end empties the stream; its version and hash stay for the next append.
	version = min(version, m.lastVersion+1)
	if version <= m.first {
		return nil
	}
	if err := removeEvents(tx, stream, m.id, m.first, version); err != nil {
		return err
	}
	m.first = version
	return streams.Put([]byte(stream), m.encode())
}

// removeEvents deletes the records and version entries of stream number num with versions in
// [from, to), wherever the stream keeps them. ID entries stay (see the package doc).
func removeEvents(tx *bbolt.Tx, stream string, num, from, to uint64) error {
	if !event.TimePartitioned(stream) {
		return removeRange(tx.Bucket(bucketVersions), tx.Bucket(bucketLog), num, from, to)
	}
	days := tx.Bucket(bucketDays)
	return days.ForEachBucket(func(k []byte) error {
		b := days.Bucket(k)
		return removeRange(b.Bucket(bucketVersions), b.Bucket(bucketLog), num, from, to)
	})
}

func removeRange(versions, log *bbolt.Bucket, num, from, to uint64) error {
	// Collect first: deleting under a bbolt cursor can make it skip the next key.
	var keys, positions [][]byte
	prefix := u64Key(num)
	c := versions.Cursor()
	for k, v := c.Seek(versionKey(num, from)); k != nil && bytes.HasPrefix(k, prefix) && beUint64(k[8:]) < to; k, v = c.Next() {
		keys = append(keys, bytes.Clone(k))
		positions = append(positions, bytes.Clone(v))
	}
	for i := range keys {
		if err := log.Delete(positions[i]); err != nil {
			return err
		}
		if err := versions.Delete(keys[i]); err != nil {
			return err
		}
	}
	return nil
}

// expireBefore drops every day bucket before day: one DeleteBucket per day, which frees the
// day's pages without visiting its rows.
func expireBefore(tx *bbolt.Tx, day int64) error {
	days := tx.Bucket(bucketDays)
	var expired [][]byte
	c := days.Cursor()
	for k, _ := c.First(); k != nil && dayFromKey(k) < day; k, _ = c.Next() {
		expired = append(expired, bytes.Clone(k))
	}
	for _, k := range expired {
		if err := days.DeleteBucket(k); err != nil {
			return err
		}
	}
	return nil
}

func loadMeta(streams *bbolt.Bucket, stream string) (*streamMeta, error) {
	v := streams.Get([]byte(stream))
	if v == nil {
		return nil, nil
	}
	return decodeMeta(v)
}
