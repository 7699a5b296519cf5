package app_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/adapters/postgres/pgtest"
	"yorozu/cmd/yorozu/app"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/schema"
	"yorozu/projections/audit"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

// benchEvents is how many events the rebuild benchmark loads (YOROZU_BENCH_EVENTS, default 1M).
func benchEvents() int {
	if n, err := strconv.Atoi(os.Getenv("YOROZU_BENCH_EVENTS")); err == nil && n > 0 {
		return n
	}
	return 1_000_000
}

// load appends n events: 100-event batches over streams of 1,000 events. Every event is a
// ContractViewed, a staff read of a contract: an event the trail must decode for its customer
// number, the dearest kind for the audit projection.
func load(b *testing.B, s event.Store, n int) {
	b.Helper()
	ctx := context.Background()
	codec := schema.Registry()
	now := time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC)
	const batch, perStream = 100, 1000
	for i := 0; i < n; i += batch {
		cn := fmt.Sprintf("N%09d", i/perStream+1)
		stream := contract.ViewStream(cn)
		ds := make([]event.Draft, 0, batch)
		for j := i; j < i+batch && j < n; j++ {
			at := now.Add(time.Duration(j) * time.Millisecond)
			typ, data, err := codec.Encode(&contract.ContractViewed{CustomerNumber: cn, Viewer: "bench", What: "contract", At: at})
			if err != nil {
				b.Fatal(err)
			}
			ds = append(ds, event.Draft{ID: uuid.New(), Type: typ, SchemaVersion: 1, EffectiveAt: at, RecordedAt: at,
				Actor: "bench", CommandID: "c", Data: data})
		}
		if _, err := s.Append(ctx, stream, event.Any(), ds); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRebuildAudit measures `yorozu rebuild --projection audit` over benchEvents() events
// on the embedded engine and on PostgreSQL: the whole path, log read → projection →
// read-model units of work with checkpoints.
func BenchmarkRebuildAudit(b *testing.B) {
	n := benchEvents()
	for _, engine := range []string{"embedded", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			cfg := app.Config{DataDir: b.TempDir(), Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), NoProjections: true}
			if engine == "postgres" {
				cfg.PostgresURL, cfg.Migrate = pgtest.NewDatabase(b), true
			}
			ctx := context.Background()
			a, err := app.New(ctx, cfg)
			if err != nil {
				b.Fatal(err)
			}
			defer a.Close()
			if err := a.Start(ctx); err != nil {
				b.Fatal(err)
			}
			load(b, a.Events, n)
			// The catch-up read of the same log in the same run: the floor a rebuild cannot beat.
			start := time.Now()
			read := 0
			for after := event.Position(0); ; {
				recs, err := a.Events.ReadAll(ctx, after, 2000)
				if err != nil {
					b.Fatal(err)
				}
				if len(recs) == 0 {
					break
				}
				read += len(recs)
				after = recs[len(recs)-1].Position
			}
			if read != n {
				b.Fatalf("read %d events, want %d", read, n)
			}
			readSeconds := time.Since(start).Seconds()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start, cpu := time.Now(), processCPU()
				counts, err := a.Runner.Rebuild(ctx, audit.Name)
				if err != nil {
					b.Fatal(err)
				}
				if counts[audit.Name] != uint64(n) {
					b.Fatalf("rebuilt %d events, want %d", counts[audit.Name], n)
				}
				b.ReportMetric(float64(n)/time.Since(start).Seconds(), "events/s")
				b.ReportMetric(time.Since(start).Seconds(), "rebuild-s")
				b.ReportMetric(readSeconds, "read-s")
				b.ReportMetric((processCPU() - cpu).Seconds(), "cpu-s")
			}
			b.StopTimer()
			// An auditor's queries on the rebuilt trail: one customer's events (the middle one of
			// the log), and one actor's over the whole log.
			for _, q := range []struct {
				metric string
				filter audit.Filter
			}{
				{"customer-query-ms", audit.Filter{CustomerNumber: fmt.Sprintf("N%09d", n/2000+1), Limit: 100}},
				{"actor-query-ms", audit.Filter{Actor: "bench", Limit: 100}},
			} {
				start := time.Now()
				entries, _, err := a.Application.Queries.Audit.Query(ctx, q.filter)
				if err != nil || len(entries) != min(100, n) {
					b.Fatalf("%s: %d entries, %v", q.metric, len(entries), err)
				}
				b.ReportMetric(float64(time.Since(start).Microseconds())/1000, q.metric)
			}
		})
	}
}
