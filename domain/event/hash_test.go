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

// referenceHash is the chain hash written out field by field, as the encoding is specified: the
// domain tag, the previous hash, the ID, then every envelope field length-prefixed or as 8
// big-endian bytes. ComputeHash must give the same digest for every record: stored chains
// depend on it.
func referenceHash(r *event.Record) event.Hash {
	h := sha256.New()
	var num [8]byte
	putUint := func(v uint64) {
		binary.BigEndian.PutUint64(num[:], v)
		h.Write(num[:])
	}
	putString := func(s string) {
		putUint(uint64(len(s)))
		h.Write([]byte(s))
	}
	h.Write([]byte("yorozu-event-v1"))
	h.Write(r.PrevHash[:])
	h.Write(r.ID[:])
	putString(r.Type)
	putUint(uint64(r.SchemaVersion))
	putString(r.Stream)
	putUint(r.StreamVersion)
	putUint(uint64(r.EffectiveAt.UTC().UnixNano()))
	putUint(uint64(r.RecordedAt.UTC().UnixNano()))
	putString(r.Actor)
	putString(r.CommandID)
	putString(r.CorrelationID)
	putString(r.CausationID)
	putString(string(r.Data))
	var out event.Hash
	h.Sum(out[:0])
	return out
}

func TestComputeHashFollowsTheEncoding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	text := func(max int) string { return strings.Repeat("x", rng.IntN(max+1)) }
	for i := range 500 {
		// Data sizes on both sides of the stack buffer.
		data := `{"v":"` + text([]int{10, 900, 5000}[i%3]) + `"}`
		r := event.Record{
			ID: uuid.New(), Type: "Type" + text(20), SchemaVersion: rng.IntN(3), Stream: "order-" + text(40),
			StreamVersion: rng.Uint64(), EffectiveAt: time.Unix(0, rng.Int64()), RecordedAt: time.Unix(0, rng.Int64()),
			Actor: text(10), CommandID: text(36), CorrelationID: text(36), CausationID: text(36), Data: []byte(data),
		}
		for j := range r.PrevHash {
			r.PrevHash[j] = byte(rng.Uint32())
		}
		if got, want := event.ComputeHash(&r), referenceHash(&r); got != want {
			t.Fatalf("record %d: ComputeHash %s, the encoding gives %s", i, got, want)
		}
	}
}

func BenchmarkComputeHash(b *testing.B) {
	r := event.Seal(event.Draft{ID: uuid.New(), Type: "ContractViewed", SchemaVersion: 1,
		EffectiveAt: time.Now(), RecordedAt: time.Now(), Actor: "yamada", CommandID: uuid.NewString(),
		Data: []byte(`{"customerNumber":"N000000001","viewer":"yamada","what":"contract","at":"2025-07-01T00:00:00Z"}`)},
		"contractview-N000000001", 7, event.Hash{})
	b.ReportAllocs()
	for b.Loop() {
		event.ComputeHash(&r)
	}
}
