package bolt

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"yorozu/domain/event"
)

// recordFormat is the first byte of every stored record, so that a later layout can be told
// apart from this one.
const recordFormat = 1

// errCorrupt reports a stored value this code cannot have written.
var errCorrupt = errors.New("bolt event store: corrupt value")

// A record is stored as (integers as Go varints, strings and data prefixed with their uvarint
// length):
//
//	format byte | event ID [16] | prev hash [32] | hash [32] | stream version | schema version |
//	effectiveAt µs | recordedAt µs | stream | type | actor | command | correlation | causation | data
//
// The global position is the key, not part of the value. Times are kept in microseconds, the
// precision event.Seal truncates to, so a decoded record hashes exactly as it was sealed.
func appendRecord(buf []byte, r *event.Record) []byte {
	buf = append(buf, recordFormat)
	buf = append(buf, r.ID[:]...)
	buf = append(buf, r.PrevHash[:]...)
	buf = append(buf, r.Hash[:]...)
	buf = binary.AppendUvarint(buf, r.StreamVersion)
	buf = binary.AppendVarint(buf, int64(r.SchemaVersion))
	buf = binary.AppendVarint(buf, r.EffectiveAt.UnixMicro())
	buf = binary.AppendVarint(buf, r.RecordedAt.UnixMicro())
	for _, s := range [...]string{r.Stream, r.Type, r.Actor, r.CommandID, r.CorrelationID, r.CausationID} {
		buf = binary.AppendUvarint(buf, uint64(len(s)))
		buf = append(buf, s...)
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Data)))
	return append(buf, r.Data...)
}

// recordSize is an upper bound of the encoded size of r.
func recordSize(r *event.Record) int {
	n := 1 + 16 + 32 + 32 + 4*binary.MaxVarintLen64 + 7*binary.MaxVarintLen64
	return n + len(r.Stream) + len(r.Type) + len(r.Actor) + len(r.CommandID) + len(r.CorrelationID) +
		len(r.CausationID) + len(r.Data)
}

// decodeRecord copies a stored record out of the (memory-mapped, transaction-scoped) value v.
func decodeRecord(v []byte, pos uint64) (event.Record, error) {
	d := decoder{buf: v}
	if d.byte() != recordFormat {
		return event.Record{}, fmt.Errorf("%w: record at position %d has an unknown format", errCorrupt, pos)
	}
	r := event.Record{Position: event.Position(pos)}
	d.fixed(r.ID[:])
	d.fixed(r.PrevHash[:])
	d.fixed(r.Hash[:])
	r.StreamVersion = d.uvarint()
	r.SchemaVersion = int(d.varint())
	r.EffectiveAt = time.UnixMicro(d.varint()).UTC()
	r.RecordedAt = time.UnixMicro(d.varint()).UTC()
	r.Stream = d.string()
	r.Type = d.string()
	r.Actor = d.string()
	r.CommandID = d.string()
	r.CorrelationID = d.string()
	r.CausationID = d.string()
	r.Data = d.bytes()
	if d.bad || len(d.buf) != 0 {
		return event.Record{}, fmt.Errorf("%w: record at position %d", errCorrupt, pos)
	}
	return r, nil
}

// recordID reads only the event ID of an encoded record.
func recordID(v []byte) ([16]byte, bool) {
	var id [16]byte
	if len(v) < 17 || v[0] != recordFormat {
		return id, false
	}
	copy(id[:], v[1:17])
	return id, true
}

// decoder reads the fields of one value; the first malformed field sets bad and every later
// read returns zero values.
type decoder struct {
	buf []byte
	bad bool
}

func (d *decoder) byte() byte {
	if d.bad || len(d.buf) < 1 {
		d.bad = true
		return 0
	}
	b := d.buf[0]
	d.buf = d.buf[1:]
	return b
}

func (d *decoder) fixed(dst []byte) {
	if d.bad || len(d.buf) < len(dst) {
		d.bad = true
		return
	}
	copy(dst, d.buf)
	d.buf = d.buf[len(dst):]
}

func (d *decoder) uvarint() uint64 {
	if d.bad {
		return 0
	}
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.bad {
		return 0
	}
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		d.bad = true
		return 0
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) raw() []byte {
	n := d.uvarint()
	if d.bad || n > uint64(len(d.buf)) {
		d.bad = true
		return nil
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	return b
}

func (d *decoder) string() string { return string(d.raw()) }

func (d *decoder) bytes() []byte {
	b := d.raw()
	if b == nil {
		return nil
	}
	return append([]byte(nil), b...)
}

// streamMeta is what the store keeps about a stream besides its events: enough to validate and
// chain the next append even when every event of the stream has been truncated or expired.
type streamMeta struct {
	id          uint64 // short key of the stream in the version and ID indexes
	lastVersion uint64
	lastHash    event.Hash
	// first is the lowest version TruncateBefore kept (1 if never truncated).
	first   uint64
	deleted bool
}

const metaDeleted = 1

func (m *streamMeta) encode() []byte {
	buf := make([]byte, 0, 8+32+1+2*binary.MaxVarintLen64)
	buf = binary.BigEndian.AppendUint64(buf, m.id)
	buf = append(buf, m.lastHash[:]...)
	var flags byte
	if m.deleted {
		flags |= metaDeleted
	}
	buf = append(buf, flags)
	buf = binary.AppendUvarint(buf, m.lastVersion)
	return binary.AppendUvarint(buf, m.first)
}

func decodeMeta(v []byte) (*streamMeta, error) {
	if len(v) < 8+32+1 {
		return nil, fmt.Errorf("%w: stream metadata", errCorrupt)
	}
	m := &streamMeta{id: binary.BigEndian.Uint64(v)}
	copy(m.lastHash[:], v[8:40])
	m.deleted = v[40]&metaDeleted != 0
	d := decoder{buf: v[41:]}
	m.lastVersion = d.uvarint()
	m.first = d.uvarint()
	if d.bad || len(d.buf) != 0 {
		return nil, fmt.Errorf("%w: stream metadata", errCorrupt)
	}
	return m, nil
}

// idEntry is where an event ID was stored, and as which event of which batch: a retry must be
// the same batch again, not just events that happen to be stored one after the other. Entries
// outlive truncation, so that a late retry is still recognised.
type idEntry struct {
	stream   uint64
	version  uint64
	position uint64
	index    uint16 // place of the event in its batch
	count    uint16 // events in the batch (event.MaxBatch fits)
}

const idEntrySize = 28

func (e idEntry) put(buf []byte) {
	binary.BigEndian.PutUint64(buf[0:], e.stream)
	binary.BigEndian.PutUint64(buf[8:], e.version)
	binary.BigEndian.PutUint64(buf[16:], e.position)
	binary.BigEndian.PutUint16(buf[24:], e.index)
	binary.BigEndian.PutUint16(buf[26:], e.count)
}

func decodeIDEntry(v []byte) (idEntry, error) {
	if len(v) != idEntrySize {
		return idEntry{}, fmt.Errorf("%w: event id entry", errCorrupt)
	}
	return idEntry{
		stream:   binary.BigEndian.Uint64(v[0:]),
		version:  binary.BigEndian.Uint64(v[8:]),
		position: binary.BigEndian.Uint64(v[16:]),
		index:    binary.BigEndian.Uint16(v[24:]),
		count:    binary.BigEndian.Uint16(v[26:]),
	}, nil
}

// Keys. Positions and versions are big-endian so that bbolt's byte order is numeric order.

func u64Key(v uint64) []byte { return binary.BigEndian.AppendUint64(make([]byte, 0, 8), v) }

// versionKey is the key of (stream, version) in a version index: the stream's numeric ID then
// the version, so one stream's events are adjacent and in order.
func versionKey(stream, version uint64) []byte {
	k := make([]byte, 16)
	binary.BigEndian.PutUint64(k, stream)
	binary.BigEndian.PutUint64(k[8:], version)
	return k
}

// dayOf is the UTC day (days since 1970-01-01) that holds t.
func dayOf(t time.Time) int64 {
	s := t.Unix()
	d := s / 86400
	if s < 0 && s%86400 != 0 {
		d--
	}
	return d
}

// dayKey orders days numerically, negative ones (before 1970) first.
func dayKey(day int64) []byte { return u64Key(uint64(day) ^ 1<<63) }

func dayFromKey(k []byte) int64 { return int64(binary.BigEndian.Uint64(k) ^ 1<<63) }
