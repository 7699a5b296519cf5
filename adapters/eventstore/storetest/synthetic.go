package storetest

import (
	"encoding/json"
	"fmt"
	"iter"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// syntheticData is a typical business event's payload: about 250 bytes of JSON.
var syntheticData = json.RawMessage(`{"orderId":"0193a6f2-7c1e-7d3a-9b2e-4f5a6b7c8d9e","customerNumber":"N000012345",` +
	`"commonCustomerId":"C0123456789","plan":"standard","additionalIds":3,"options":["webFilter"],` +
	`"appliedAt":"2026-11-02T09:30:00Z","monthlyFeeYen":5500,"note":"renewal"}`)

// SyntheticLog yields a whole log of n sealed events at positions 1..n, for benchmarks that load
// a store by Import: 10,000 streams, batches of 1 to 3 events sharing a command ID, every event
// with a full envelope and a typical payload of about 250 bytes, every chain intact.
func SyntheticLog(n int) iter.Seq2[event.Record, error] {
	return func(yield func(event.Record, error) bool) {
		type tip struct {
			version uint64
			hash    event.Hash
		}
		tips := make(map[int]tip)
		at := time.Date(2026, 1, 5, 0, 0, 0, 0, time.UTC)
		pos := event.Position(0)
		for pos < event.Position(n) {
			s := int(pos) * 7919 % 10_000
			name := fmt.Sprintf("order-%08d", s)
			command := uuid.NewString()
			for range 1 + int(pos)%3 {
				if pos == event.Position(n) {
					break
				}
				tp := tips[s]
				d := event.Draft{ID: uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint(pos))), Type: "OrderReceived", SchemaVersion: 1,
					EffectiveAt: at, RecordedAt: at, Actor: "staff-0042", CommandID: command, CorrelationID: command, Data: syntheticData}
				pos++
				r := event.Seal(d, name, tp.version+1, tp.hash)
				r.Position = pos
				tips[s] = tip{r.StreamVersion, r.Hash}
				if !yield(r, nil) {
					return
				}
			}
			at = at.Add(time.Second)
		}
	}
}
