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
	// One buffer and one digest: hashing is on the path of every append and of every event the
	// service reads at start (integrity checks), and many small writes to the digest cost twice
	// as much as the hashing itself.
	size := len(hashDomain) + 2*len(Hash{}) + len(r.ID) + 13*8 + len(r.Type) + len(r.Stream) + len(r.Actor) +
		len(r.CommandID) + len(r.CorrelationID) + len(r.CausationID) + len(r.Data)
	var stack [1024]byte
	b := stack[:0]
	if size > len(stack) {
		b = make([]byte, 0, size)
	}
	b = append(b, hashDomain...)
	b = append(b, r.PrevHash[:]...)
	b = append(b, r.ID[:]...)
	b = appendHashString(b, r.Type)
	b = binary.BigEndian.AppendUint64(b, uint64(r.SchemaVersion))
	b = appendHashString(b, r.Stream)
	b = binary.BigEndian.AppendUint64(b, r.StreamVersion)
	b = binary.BigEndian.AppendUint64(b, uint64(r.EffectiveAt.UTC().UnixNano()))
	b = binary.BigEndian.AppendUint64(b, uint64(r.RecordedAt.UTC().UnixNano()))
	b = appendHashString(b, r.Actor)
	b = appendHashString(b, r.CommandID)
	b = appendHashString(b, r.CorrelationID)
	b = appendHashString(b, r.CausationID)
	b = binary.BigEndian.AppendUint64(b, uint64(len(r.Data)))
	b = append(b, r.Data...)
	return sha256.Sum256(b)
}

// hashDomain starts every hashed encoding: it names the encoding's version.
const hashDomain = "yorozu-event-v1"

// appendHashString appends s with its length before it (8 bytes, big-endian).
func appendHashString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint64(b, uint64(len(s)))
	return append(b, s...)
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
