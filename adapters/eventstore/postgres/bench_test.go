package postgres_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/catchup"
	"yorozu/adapters/eventstore/postgres"
	"yorozu/domain/event"
)

// Run with, for example:
//
//	go test -run '^$' -bench . -benchtime 20000x ./adapters/eventstore/postgres/
//	go test -run '^$' -bench CatchUp -benchtime 1x ./adapters/eventstore/postgres/

var benchStart = time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)

// The benchmarks measure the store, not the making of drafts: UUIDs from a pool of randomness
// instead of one getrandom call each, and payloads put together without reflection.
func init() { uuid.EnableRandPool() }

// benchDrafts makes n events of a realistic size (an envelope plus ~150 bytes of JSON), with
// UUIDv7 ids as the service uses.
func benchDrafts(n, seq int, recordedAt time.Time) []event.Draft {
	out := make([]event.Draft, n)
	command := uuid.NewString()
	for i := range out {
		data := make([]byte, 0, 192)
		data = append(data, `{"additionalIds":3,"customerNumber":"N123456789","note":"申込を受け付けました","orderId":"`...)
		data = append(data, uuid.NewString()...)
		data = append(data, `","plan":"standard","seq":`...)
		data = strconv.AppendInt(data, int64(seq+i), 10)
		data = append(data, '}')
		out[i] = event.Draft{
			ID:            uuid.Must(uuid.NewV7()),
			Type:          "OrderAccepted",
			SchemaVersion: 1,
			EffectiveAt:   recordedAt,
			RecordedAt:    recordedAt,
			Actor:         "staff-0001",
			CommandID:     command,
			CorrelationID: command,
			Data:          data,
		}
	}
	return out
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkAppendSingle: 32 concurrent writers, each appending one event at a time to its own
// stream with an exact expected version, as command handlers do.
func BenchmarkAppendSingle(b *testing.B) {
	const writers = 32
	s, _ := open(b, postgres.Options{})
	defer s.Close()
	ctx := context.Background()
	var next atomic.Int64
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			st := fmt.Sprintf("order-%d-%s", w, uuid.NewString())
			var version uint64
			for next.Add(1) <= int64(b.N) {
				res, err := s.Append(ctx, st, event.Exactly(version), benchDrafts(1, int(version), time.Now()))
				if err != nil {
					b.Error(err)
					return
				}
				version = res.LastVersion
			}
		})
	}
	wg.Wait()
	reportRate(b, b.N)
}

// BenchmarkAppendBatch100: 100-event batches, from one writer and from eight at once.
func BenchmarkAppendBatch100(b *testing.B) {
	for _, writers := range []int{1, 8} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			s, _ := open(b, postgres.Options{})
			defer s.Close()
			ctx := context.Background()
			var next atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			for w := range writers {
				wg.Go(func() {
					st := fmt.Sprintf("order-%d-%s", w, uuid.NewString())
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						if _, err := s.Append(ctx, st, event.Any(), benchDrafts(100, int(i)*100, time.Now())); err != nil {
							b.Error(err)
							return
						}
					}
				})
			}
			wg.Wait()
			reportRate(b, b.N*100)
		})
	}
}

// BenchmarkCatchUp reads a log of a million events from the start, page by page as a
// projection rebuilding its read model does (catchup.PageSize events per ReadAll). One event in
// five is telemetry, spread over three day partitions, so the read merges four tables.
func BenchmarkCatchUp(b *testing.B) {
	const total, batch = 1_000_000, 10_000
	s, _ := open(b, postgres.Options{})
	defer s.Close()
	ctx := context.Background()
	fill := time.Now()
	for i := 0; i < total/batch; i++ {
		st, at := fmt.Sprintf("order-%s", uuid.NewString()), benchStart.Add(time.Duration(i)*time.Minute)
		if i%5 == 4 {
			st, at = fmt.Sprintf("telemetry-%s", uuid.NewString()), benchStart.AddDate(0, 0, i%3)
		}
		if _, err := s.Append(ctx, st, event.NoStream(), benchDrafts(batch, i*batch, at)); err != nil {
			b.Fatal(err)
		}
	}
	b.Logf("filled %d events in %v (%.0f events/s, batches of %d)", total, time.Since(fill), total/time.Since(fill).Seconds(), batch)
	if _, err := s.Pool().Exec(ctx, "VACUUM ANALYZE events"); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	read := 0
	for b.Loop() {
		var after event.Position
		for {
			recs, err := s.ReadAll(ctx, after, catchup.PageSize)
			if err != nil {
				b.Fatal(err)
			}
			if len(recs) == 0 {
				break
			}
			read += len(recs)
			after = recs[len(recs)-1].Position
		}
	}
	reportRate(b, read)
}
