package bolt

import (
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	bbolt "go.etcd.io/bbolt"

	"yorozu/domain/event"
)

// recordFormat is the first byte of every stored record, so that a later layout can be told
// apart from this one.
const recordFormat = 1

// errCorrupt reports a stored value this code cannot have written.
var errCorrupt = errors.New("bolt event store: corrupt value")

// A record is stored as (integers as Go varints):
//
//	format byte | event ID [16] | prev hash [32] | hash [32] | stream number | stream version |
//	schema version | effectiveAt µs | recordedAt µs | type | actor | command | correlation |
//	causation | data
//
// The global position is the key and the stream is its number (names bucket), not repeated in
// every record. Type and data are uvarint length + bytes, data byte for byte. Actor and the three
// IDs are often UUIDs: such a string, in its canonical lowercase form, is stored as the uvarint 1
// and its 16 bytes; any other string as the uvarint 2×length and its bytes. Times are kept in
// microseconds, the precision event.Seal truncates to, so a decoded record hashes exactly as it
// was sealed.
func appendRecord(buf []byte, r *event.Record, streamNum uint64) []byte {
	buf = append(buf, recordFormat)
	buf = append(buf, r.ID[:]...)
	buf = append(buf, r.PrevHash[:]...)
	buf = append(buf, r.Hash[:]...)
	buf = binary.AppendUvarint(buf, streamNum)
	buf = binary.AppendUvarint(buf, r.StreamVersion)
	buf = binary.AppendVarint(buf, int64(r.SchemaVersion))
	buf = binary.AppendVarint(buf, r.EffectiveAt.UnixMicro())
	buf = binary.AppendVarint(buf, r.RecordedAt.UnixMicro())
	buf = binary.AppendUvarint(buf, uint64(len(r.Type)))
	buf = append(buf, r.Type...)
	for _, s := range [...]string{r.Actor, r.CommandID, r.CorrelationID, r.CausationID} {
		buf = appendMaybeUUID(buf, s)
	}
	buf = binary.AppendUvarint(buf, uint64(len(r.Data)))
	return append(buf, r.Data...)
}

func appendMaybeUUID(buf []byte, s string) []byte {
	if len(s) == 36 {
		if id, err := uuid.Parse(s); err == nil {
			// Only the canonical form (lowercase) comes back as the same string.
			var canon [36]byte
			hex.Encode(canon[0:8], id[0:4])
			canon[8] = '-'
			hex.Encode(canon[9:13], id[4:6])
			canon[13] = '-'
			hex.Encode(canon[14:18], id[6:8])
			canon[18] = '-'
			hex.Encode(canon[19:23], id[8:10])
			canon[23] = '-'
			hex.Encode(canon[24:], id[10:])
			if string(canon[:]) == s {
				buf = append(buf, 1)
				return append(buf, id[:]...)
			}
		}
	}
	buf = binary.AppendUvarint(buf, uint64(len(s))<<1)
	return append(buf, s...)
}

// recordReader decodes records for one read transaction. It resolves stream numbers to names
// and shares the strings that repeat from record to record (stream, type, actor), which saves
// most of the allocations of a long read.
type recordReader struct {
	names   *bbolt.Bucket
	streams map[uint64]string
	strings map[string]string
}

func newRecordReader(tx *bbolt.Tx) *recordReader {
	return &recordReader{names: tx.Bucket(bucketNames), streams: make(map[uint64]string), strings: make(map[string]string)}
}

func (rr *recordReader) stream(num uint64) (string, bool) {
	if name, ok := rr.streams[num]; ok {
		return name, true
	}
	v := rr.names.Get(u64Key(num))
	if v == nil {
		return "", false
	}
	name := string(v)
	rr.streams[num] = name
	return name, true
}

func (rr *recordReader) intern(b []byte) string {
	if s, ok := rr.strings[string(b)]; ok {
		return s
	}
	if len(rr.strings) >= 1024 {
		return string(b)
	}
	s := string(b)
	rr.strings[s] = s
	return s
}

// decode copies a stored record out of the (memory-mapped, transaction-scoped) value v.
func (rr *recordReader) decode(v []byte, pos uint64) (event.Record, error) {
	d := decoder{buf: v}
	if d.byte() != recordFormat {
		return event.Record{}, fmt.Errorf("%w: record at position %d has an unknown format", errCorrupt, pos)
	}
	r := event.Record{Position: event.Position(pos)}
	d.fixed(r.ID[:])
	d.fixed(r.PrevHash[:])
	d.fixed(r.Hash[:])
	streamNum := d.uvarint()
	r.StreamVersion = d.uvarint()
	r.SchemaVersion = int(d.varint())
	r.EffectiveAt = time.UnixMicro(d.varint()).UTC()
	r.RecordedAt = time.UnixMicro(d.varint()).UTC()
	r.Type = rr.intern(d.raw())
	r.Actor = d.maybeUUID(rr.intern)
	r.CommandID = d.maybeUUID(nil)
	r.CorrelationID = d.maybeUUID(nil)
	r.CausationID = d.maybeUUID(nil)
	r.Data = d.bytes()
	if d.bad || len(d.buf) != 0 {
		return event.Record{}, fmt.Errorf("%w: record at position %d", errCorrupt, pos)
	}
	var ok bool
	if r.Stream, ok = rr.stream(streamNum); !ok {
		return event.Record{}, fmt.Errorf("%w: record at position %d names unknown stream %d", errCorrupt, pos, streamNum)
	}
	return r, nil
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

// maybeUUID reads a string written by appendMaybeUUID; intern, if set, makes the string.
func (d *decoder) maybeUUID(intern func([]byte) string) string {
	h := d.uvarint()
	if d.bad {
		return ""
	}
	if h == 1 {
		var id uuid.UUID
		d.fixed(id[:])
		return id.String()
	}
	n := h >> 1
	if h&1 != 0 || n > uint64(len(d.buf)) {
		d.bad = true
		return ""
	}
	b := d.buf[:n]
	d.buf = d.buf[n:]
	if intern != nil {
		return intern(b)
	}
	return string(b)
}

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

func (e idEntry) append(buf []byte) []byte {
	buf = binary.AppendUvarint(buf, e.stream)
	buf = binary.AppendUvarint(buf, e.version)
	buf = binary.AppendUvarint(buf, e.position)
	buf = binary.AppendUvarint(buf, uint64(e.index))
	return binary.AppendUvarint(buf, uint64(e.count))
}

func decodeIDEntry(v []byte) (idEntry, error) {
	d := decoder{buf: v}
	e := idEntry{stream: d.uvarint(), version: d.uvarint(), position: d.uvarint()}
	index, count := d.uvarint(), d.uvarint()
	if d.bad || len(d.buf) != 0 || index >= count || count > event.MaxBatch {
		return idEntry{}, fmt.Errorf("%w: event id entry", errCorrupt)
	}
	e.index, e.count = uint16(index), uint16(count)
	return e, nil
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
