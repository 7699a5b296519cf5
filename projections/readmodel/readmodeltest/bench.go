package readmodeltest

import (
	"context"
	"strconv"
	"testing"
	"time"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// BenchUnit is the number of documents a benchmark puts per unit of work, the batch a projection
// commits while it rebuilds from the log.
const BenchUnit = 500

// auditLine is the small document of the benchmarks: one line of the audit trail.
type auditLine struct {
	EventID        string `json:"eventId"`
	Type           string `json:"type"`
	Stream         string `json:"stream"`
	StreamVersion  int    `json:"streamVersion"`
	Position       int    `json:"position"`
	CustomerNumber string `json:"customerNumber"`
	Actor          string `json:"actor"`
	RecordedAt     string `json:"recordedAt"`
}

// customersInBench is how many customers the benchmark documents are spread over: with a
// million documents each has 50, so a query for one of them scans the whole collection.
const customersInBench = 20000

func benchLine(i int) auditLine {
	customer := i % customersInBench
	return auditLine{
		EventID:        "0190a0b0-0000-7000-8000-" + pad(strconv.Itoa(i), 12),
		Type:           "TelemetryReceived",
		Stream:         "terminal-" + strconv.Itoa(customer),
		StreamVersion:  i/customersInBench + 1,
		Position:       i + 1,
		CustomerNumber: customerNumber(customer),
		Actor:          "system",
		RecordedAt:     time.Date(2025, 7, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Second).Format(time.RFC3339),
	}
}

func customerNumber(n int) string { return "N" + pad(strconv.Itoa(n), 9) }

func pad(s string, width int) string {
	for len(s) < width {
		s = "0" + s
	}
	return s
}

// fill puts docs audit lines into the projection "audit", collection "events", in units of
// BenchUnit.
func fill(tb testing.TB, s readmodel.Store, docs int) {
	ctx := context.Background()
	for from := 0; from < docs; from += BenchUnit {
		to := min(from+BenchUnit, docs)
		err := s.Update(ctx, "audit", event.Position(to), func(tx readmodel.Tx) error {
			for i := from; i < to; i++ {
				line := benchLine(i)
				if err := tx.Put(ctx, "events", line.EventID, line); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatalf("Update through %d: %v", to, err)
		}
	}
}

// BenchRebuild measures a projection rebuild: from a Reset (not timed), docs small documents put
// in units of BenchUnit. It reports docs/s.
func BenchRebuild(b *testing.B, s readmodel.Store, docs int) {
	var elapsed time.Duration
	for b.Loop() {
		b.StopTimer()
		if err := s.Reset(context.Background(), "audit"); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		start := time.Now()
		fill(b, s, docs)
		elapsed += time.Since(start)
	}
	b.ReportMetric(float64(docs)*float64(b.N)/elapsed.Seconds(), "docs/s")
}

// BenchFindEq fills the store with docs documents (not timed), then measures one page of a query
// whose Eq condition holds for docs/20000 of them, so that it scans the whole collection. The
// first query, which may warm caches, is reported apart as cold-ms.
func BenchFindEq(b *testing.B, s readmodel.Store, docs int) {
	ctx := context.Background()
	if err := s.Reset(ctx, "audit"); err != nil {
		b.Fatal(err)
	}
	fill(b, s, docs)
	q := func(i int) readmodel.Query {
		return readmodel.Query{
			Collection: "events",
			Where:      []readmodel.Cond{{Field: "customerNumber", Op: readmodel.Eq, Value: customerNumber(i * 7919 % customersInBench)}},
		}
	}
	want := docs / customersInBench
	start := time.Now()
	page, err := s.Find(ctx, "audit", q(0))
	if err != nil {
		b.Fatal(err)
	}
	cold := time.Since(start)
	if len(page.Docs) != want {
		b.Fatalf("Find found %d documents, want %d", len(page.Docs), want)
	}
	i := 1
	for b.Loop() {
		page, err := s.Find(ctx, "audit", q(i))
		if err != nil {
			b.Fatal(err)
		}
		if len(page.Docs) != want {
			b.Fatalf("Find found %d documents, want %d", len(page.Docs), want)
		}
		i++
	}
	// After the loop: b.Loop's first call clears the metrics reported so far.
	b.ReportMetric(float64(cold.Milliseconds()), "cold-ms")
}
