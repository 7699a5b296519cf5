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
	// One buffer, hashed at once: hashing field by field through hash.Hash copies every string
	// into a new byte slice first, which was half the cost of checking a chain.
	var stack [1024]byte
	b := append(stack[:0], "yorozu-event-v1"...)
	b = append(b, r.PrevHash[:]...)
	b = append(b, r.ID[:]...)
	putString := func(s string) {
		b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	putUint := func(v uint64) { b = binary.BigEndian.AppendUint64(b, v) }
	putTime := func(t time.Time) { putUint(uint64(t.UTC().UnixNano())) }

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
	b = binary.BigEndian.AppendUint64(b, uint64(len(r.Data)))
	if len(b)+len(r.Data) <= len(stack) {
		b = append(b, r.Data...)
		return sha256.Sum256(b)
	}
	// Large payloads are not copied.
	h := sha256.New()
	h.Write(b)
	h.Write(r.Data)
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
