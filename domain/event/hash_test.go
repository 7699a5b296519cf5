package event_test

import (
	"crypto/sha256"
	"encoding/binary"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// referenceHash is the canonical encoding written field by field, as the chain was defined:
// ComputeHash must give the same digest for every record, or stored chains would break.
func referenceHash(r *event.Record) event.Hash {
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
	var out event.Hash
	h.Sum(out[:0])
	return out
}

func TestComputeHashIsTheCanonicalEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(n int) string { return strings.Repeat("あa\\\"", n) }
	for i := range 300 {
		r := event.Record{
			ID: uuid.New(), Type: text(rng.IntN(5)), SchemaVersion: rng.IntN(4), Stream: "order-" + text(rng.IntN(40)),
			StreamVersion: rng.Uint64(), EffectiveAt: time.Unix(rng.Int64N(4e9)-2e9, rng.Int64N(1e9)),
			RecordedAt: time.Unix(rng.Int64N(4e9), 0).In(time.FixedZone("JST", 9*3600)), Actor: text(rng.IntN(3)),
			CommandID: text(rng.IntN(3)), CorrelationID: text(rng.IntN(3)), CausationID: text(rng.IntN(3)),
			Data: []byte(text(rng.IntN(1 + i*i/20))), // up to ~4,500 characters: both paths
		}
		rng.Shuffle(len(r.PrevHash), func(a, b int) { r.PrevHash[a], r.PrevHash[b] = byte(a), byte(b) })
		if got, want := event.ComputeHash(&r), referenceHash(&r); got != want {
			t.Fatalf("record %d (%d bytes of data): ComputeHash %s, canonical %s", i, len(r.Data), got, want)
		}
	}
}
