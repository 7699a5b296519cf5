package event

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"time"
)

// Hash is a SHA-256 digest in the per-stream chain.
type Hash [sha256.Size]byte

// IsZero reports whether h is the all-zero hash that precedes the first event of a stream.
func (h Hash) IsZero() bool { return h == Hash{} }

func (h Hash) String() string { return hex.EncodeToString(h[:]) }

// ParseHash reads the hex form written by String.
func ParseHash(s string) (Hash, error) {
	var h Hash
	b, err := hex.DecodeString(s)
	if err != nil || len(b) != len(h) {
		return h, ErrInvalidDraft
	}
	copy(h[:], b)
	return h, nil
}

// ComputeHash returns the chain hash of r: SHA-256 over a canonical, length-prefixed encoding of
// every envelope field that is the same on every engine, chained to r.PrevHash. The global
// position is left out on purpose: it is assigned by the engine at commit and differs between
// engines, while the chain must survive a migration from one engine to another.
//
// Times are encoded as UTC nanoseconds, so an engine that stores microseconds (PostgreSQL) must
// truncate RecordedAt/EffectiveAt before hashing: adapters call Seal, which does that.
func ComputeHash(r *Record) Hash {
	h := sha256.New()
	var num [8]byte
	putString := func(s string) {
		binary.BigEndian.PutUint64(num[:], uint64(len(s)))
		h.Write(num[:])
		h.Write([]byte(s))
	}
	putUint := func(v uint64) {
		binary.BigEndian.PutUint64(num[:], v)
		h.Write(num[:])
	}
	putTime := func(t time.Time) { putUint(uint64(t.UTC().UnixNano())) }

	h.Write([]byte("yorozu-event-v1"))
	h.Write(r.PrevHash[:])
	h.Write(r.ID[:])
	putString(r.Type)
	putUint(uint64(r.SchemaVersion))
	putString(r.Stream)
	putUint(r.StreamVersion)
	putTime(r.EffectiveAt)
	putTime(r.RecordedAt)
	putString(r.Actor)
	putString(r.CommandID)
	putString(r.CorrelationID)
	putString(r.CausationID)
	putString(string(r.Data))
	var out Hash
	h.Sum(out[:0])
	return out
}

// TimePrecision is the resolution every adapter keeps for envelope times (PostgreSQL's).
const TimePrecision = time.Microsecond

// Seal turns a draft into the record stored at stream version `version` after `prev`, filling
// the hash chain. Adapters call it inside their write transaction, where prev is known for sure.
func Seal(d Draft, stream string, version uint64, prev Hash) Record {
	r := Record{
		ID:            d.ID,
		Type:          d.Type,
		SchemaVersion: d.SchemaVersion,
		Stream:        stream,
		StreamVersion: version,
		EffectiveAt:   d.EffectiveAt.UTC().Truncate(TimePrecision),
		RecordedAt:    d.RecordedAt.UTC().Truncate(TimePrecision),
		Actor:         d.Actor,
		CommandID:     d.CommandID,
		CorrelationID: d.CorrelationID,
		CausationID:   d.CausationID,
		Data:          d.Data,
		PrevHash:      prev,
	}
	if r.SchemaVersion == 0 {
		r.SchemaVersion = 1
	}
	r.Hash = ComputeHash(&r)
	return r
}
