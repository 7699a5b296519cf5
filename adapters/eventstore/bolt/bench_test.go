package bolt_test

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/eventstore/bolt"
	"yorozu/adapters/eventstore/catchup"
	"yorozu/domain/event"
)

// Run with, for example:
//
//	go test ./adapters/eventstore/bolt -run xxx -bench . -benchtime=3s
//	go test ./adapters/eventstore/bolt -run xxx -bench ExpireDay -benchtime=10x
//
// YOROZU_BENCH_EVENTS sets the size of the catch-up fixture (default 1,000,000 events; it is
// written once per run, which took 20 s here, and removed at the end).

// A typical business event: about 250 bytes of JSON and a full envelope.
var benchData = json.RawMessage(`{"orderId":"0193a6f2-7c1e-7d3a-9b2e-4f5a6b7c8d9e","customerNumber":"N000012345",` +
	`"commonCustomerId":"C0123456789","plan":"standard","additionalIds":3,"options":["webFilter"],` +
	`"appliedAt":"2026-11-02T09:30:00Z","monthlyFeeYen":5500,"note":"renewal"}`)

func benchDraft(now time.Time) event.Draft {
	id := uuid.Must(uuid.NewV7())
	return event.Draft{
		ID:            id,
		Type:          "OrderPlaced",
		SchemaVersion: 1,
		EffectiveAt:   now,
		RecordedAt:    now,
		Actor:         "staff-0042",
		CommandID:     id.String(),
		CorrelationID: id.String(),
		Data:          benchData,
	}
}

func benchDrafts(n int) []event.Draft {
	now := time.Now()
	ds := make([]event.Draft, n)
	for i := range ds {
		ds[i] = benchDraft(now)
	}
	return ds
}

func openBench(b *testing.B, dir string) *bolt.Store {
	b.Helper()
	s, err := bolt.OpenDir(dir, bolt.Options{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = s.Close() })
	return s
}

func reportRate(b *testing.B, events int) {
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// appendConcurrently runs b.N appends of batch events each, spread over writers goroutines, each
// writing its own stream.
func appendConcurrently(b *testing.B, s *bolt.Store, writers, batch int) {
	ctx := context.Background()
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	for range writers {
		wg.Go(func() {
			stream := "order-" + uuid.NewString()
			for next.Add(1) <= int64(b.N) {
				if _, err := s.Append(ctx, stream, event.Any(), benchDrafts(batch)); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	reportRate(b, b.N*batch)
}

// BenchmarkAppendSingle: one event per append, 32 writers at once (command handlers serving
// concurrent requests). One op is one append.
func BenchmarkAppendSingle(b *testing.B) {
	b.Run("writers=32", func(b *testing.B) {
		appendConcurrently(b, openBench(b, b.TempDir()), 32, 1)
	})
	b.Run("writers=1", func(b *testing.B) {
		appendConcurrently(b, openBench(b, b.TempDir()), 1, 1)
	})
}

// BenchmarkAppendBatch100: 100 events per append (imports, telemetry uploads). One op is one
// append of 100 events.
func BenchmarkAppendBatch100(b *testing.B) {
	for _, writers := range []int{1, 4} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			appendConcurrently(b, openBench(b, b.TempDir()), writers, 100)
		})
	}
}

// BenchmarkAppendBatch100WithRetainedTelemetry is AppendBatch100 with 90 days of telemetry in the
// file, as in production with three months of retention: each new event ID is also looked up
// in the ID index of every day.
func BenchmarkAppendBatch100WithRetainedTelemetry(b *testing.B) {
	s := openBench(b, b.TempDir())
	now := time.Now()
	for day := range 90 {
		ds := benchDrafts(100)
		for i := range ds {
			ds[i].RecordedAt = now.AddDate(0, 0, -day)
		}
		if _, err := s.Append(context.Background(), fmt.Sprintf("telemetry-%d", day%7), event.Any(), ds); err != nil {
			b.Fatal(err)
		}
	}
	appendConcurrently(b, s, 1, 100)
}

// BenchmarkExpireDay drops one UTC day of telemetry holding 20,000 events (200 terminals
// reporting every 15 minutes). One op is one ExpireBefore that removes one day; writing the day
// is not timed but takes a good part of a second, so the benchmark runs only with a count of
// iterations (-benchtime=10x): a time target would have it write days for minutes.
func BenchmarkExpireDay(b *testing.B) {
	if f := flag.Lookup("test.benchtime"); f == nil || !strings.HasSuffix(f.Value.String(), "x") {
		b.Skip("run with -benchtime=Nx")
	}
	const perDay, batch = 20_000, 2_000
	s := openBench(b, b.TempDir())
	ctx := context.Background()
	day0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	b.ResetTimer()
	for op := range b.N {
		b.StopTimer()
		on := day0.AddDate(0, 0, op)
		for i := 0; i < perDay; i += batch {
			ds := benchDrafts(batch)
			for j := range ds {
				ds[j].RecordedAt = on.Add(time.Duration(i+j) * time.Second)
			}
			if _, err := s.Append(ctx, fmt.Sprintf("telemetry-%d", (i/batch)%200), event.Any(), ds); err != nil {
				b.Fatal(err)
			}
		}
		b.StartTimer()
		if err := s.ExpireBefore(ctx, on.AddDate(0, 0, 1)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b, b.N*perDay)
}

var catchUpFixture struct {
	once   sync.Once
	dir    string
	events int
	err    error
}

// catchUpStore opens the shared catch-up fixture, writing it on first use.
func catchUpStore(b *testing.B) (*bolt.Store, int) {
	b.Helper()
	f := &catchUpFixture
	f.once.Do(func() {
		f.events = 1_000_000
		if v, err := strconv.Atoi(os.Getenv("YOROZU_BENCH_EVENTS")); err == nil && v > 0 {
			f.events = v
		}
		if f.dir, f.err = os.MkdirTemp("", "yorozu-bolt-bench-"); f.err != nil {
			return
		}
		start := time.Now()
		s, err := bolt.OpenDir(f.dir, bolt.Options{})
		if err != nil {
			f.err = err
			return
		}
		defer s.Close()
		const batch, streams = 1000, 1000
		for i := 0; i < f.events; i += batch {
			n := min(batch, f.events-i)
			stream := fmt.Sprintf("order-%d", (i/batch)%streams)
			if _, err := s.Append(context.Background(), stream, event.Any(), benchDrafts(n)); err != nil {
				f.err = err
				return
			}
		}
		took := time.Since(start)
		if fi, err := os.Stat(filepath.Join(f.dir, bolt.FileName)); err == nil {
			b.Logf("wrote the catch-up fixture: %d events in %v, file %d MiB (%d bytes/event)",
				f.events, took, fi.Size()>>20, fi.Size()/int64(f.events))
		}
	})
	if f.err != nil {
		b.Fatal(f.err)
	}
	return openBench(b, f.dir), f.events
}

// BenchmarkCatchUp reads the whole global log from the start, as a projection rebuilding its
// read model at start-up does. One op is one full pass; the fixture is warm in the page cache.
func BenchmarkCatchUp(b *testing.B) {
	b.Run("ReadAll", func(b *testing.B) {
		s, events := catchUpStore(b)
		ctx := context.Background()
		b.ResetTimer()
		for range b.N {
			var after event.Position
			n := 0
			for {
				page, err := s.ReadAll(ctx, after, catchup.PageSize)
				if err != nil {
					b.Fatal(err)
				}
				if len(page) == 0 {
					break
				}
				n += len(page)
				after = page[len(page)-1].Position
			}
			if n != events {
				b.Fatalf("read %d events, want %d", n, events)
			}
		}
		b.StopTimer()
		reportRate(b, b.N*events)
	})
	b.Run("Subscribe", func(b *testing.B) {
		s, events := catchUpStore(b)
		caughtUp := errors.New("caught up")
		b.ResetTimer()
		for range b.N {
			n := 0
			err := s.Subscribe(context.Background(), 0, func(event.Record) error {
				if n++; n == events {
					return caughtUp
				}
				return nil
			})
			if !errors.Is(err, caughtUp) {
				b.Fatal(err)
			}
		}
		b.StopTimer()
		reportRate(b, b.N*events)
	})
}

func TestMain(m *testing.M) {
	code := m.Run()
	if catchUpFixture.dir != "" {
		_ = os.RemoveAll(catchUpFixture.dir)
	}
	os.Exit(code)
}

// BenchmarkImport loads a log of 200,000 events (100-event batches over 1,000 streams, sealed
// beforehand) into an empty store, as a restore does.
func BenchmarkImport(b *testing.B) {
	const events, batch, streams = 200_000, 100, 1000
	recs := make([]event.Record, 0, events)
	tips := make(map[string]event.Record)
	now := time.Now()
	for i := 0; i < events; i += batch {
		st := fmt.Sprintf("order-%04d", (i/batch)%streams)
		for _, d := range benchDrafts(batch) {
			d.RecordedAt = now
			prev := tips[st]
			r := event.Seal(d, st, prev.StreamVersion+1, prev.Hash)
			r.Position = event.Position(len(recs) + 1)
			tips[st] = r
			recs = append(recs, r)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		s := openBench(b, b.TempDir())
		b.StartTimer()
		err := s.Import(context.Background(), event.Position(len(recs)), func(yield func(event.Record, error) bool) {
			for _, r := range recs {
				if !yield(r, nil) {
					return
				}
			}
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	reportRate(b, b.N*events)
}
