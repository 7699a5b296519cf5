package app_test

import (
	"context"
	"crypto/rand"
	mrand "math/rand/v2"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/cmd/yorozu/agentsim"
	"yorozu/cmd/yorozu/app"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/schema"
	"yorozu/domain/telemetry"
	"yorozu/projections/reports"
)

// BenchmarkRebuildTelemetry loads YOROZU_BENCH_DAYS days (default 1) of telemetry of
// YOROZU_BENCH_TERMINALS terminals (default 1000) of one contract straight into the embedded
// log (96 sealed batches of about 170 records per terminal and day, as the agents would have
// sent them), then rebuilds the report read model from the log, as `yorozu rebuild` does.
func BenchmarkRebuildTelemetry(b *testing.B) {
	terminals := envInt("YOROZU_BENCH_TERMINALS", 1000)
	days := envInt("YOROZU_BENCH_DAYS", 1)
	start := time.Date(2025, 7, 1, 0, 0, 0, 0, calendar.JST())
	cfg := app.Config{DataDir: b.TempDir(), NoProjections: true, SchedulerInterval: -1,
		Clock: func() time.Time { return start.AddDate(0, 0, days) }}
	a, err := app.New(context.Background(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer a.Close()
	ctx := context.Background()
	codec := schema.Registry()
	draft := func(e any, at time.Time, id uuid.UUID) event.Draft {
		typ, data, err := codec.Encode(e)
		if err != nil {
			b.Fatal(err)
		}
		return event.Draft{ID: id, Type: typ, SchemaVersion: 1, EffectiveAt: at, RecordedAt: at, Actor: "bench", Data: data}
	}
	const cn = "N000000001"
	if _, err := a.Events.Append(ctx, contract.Stream(cn), event.NoStream(), []event.Draft{draft(&contract.ContractOpened{
		CustomerNumber: cn, OpenedOn: calendar.MustDate(2025, 6, 1), AdditionalIDs: terminals}, start, uuid.New())}); err != nil {
		b.Fatal(err)
	}
	ids := make([]uuid.UUID, terminals)
	var fleet []event.Draft
	for i := range ids {
		ids[i] = uuid.Must(uuid.NewV7())
		fleet = append(fleet, draft(&telemetry.TerminalEnrolled{CustomerNumber: cn, TerminalID: ids[i], Hostname: "PC-" + ids[i].String()[:8],
			HardwareID: ids[i].String(), OS: telemetry.OS{Edition: "Windows 11 Pro", Version: "23H2", Build: "22631.4037"},
			AgentTokenHash: "x", EnrolledAt: start}, start, uuid.New()))
	}
	if _, err := a.Events.Append(ctx, telemetry.FleetStream(cn), event.NoStream(), fleet); err != nil {
		b.Fatal(err)
	}
	key, err := a.KeyRing().DataKey(ctx, cn)
	if err != nil {
		b.Fatal(err)
	}
	loadStart := time.Now()
	var batches, records int
	for d := range days {
		day := start.AddDate(0, 0, d)
		for i, tid := range ids {
			rng := mrand.New(mrand.NewPCG(uint64(d), uint64(i)))
			drafts := make([]event.Draft, 0, 96)
			for k := range 96 {
				to := day.Add(time.Duration(k+1) * 15 * time.Minute)
				recs := agentsim.Records(rng, to.Add(-15*time.Minute), to, 170)
				bid := uuid.New()
				sealed, err := telemetry.SealPayload(key, rand.Reader, telemetry.PayloadAD(cn, tid, bid), &telemetry.Payload{Records: recs})
				if err != nil {
					b.Fatal(err)
				}
				drafts = append(drafts, draft(&telemetry.BatchReceived{CustomerNumber: cn, TerminalID: tid, BatchID: bid, Sequence: int64(k),
					CollectedFrom: to.Add(-15 * time.Minute), CollectedTo: to, ReceivedAt: to, Accepted: len(recs), PayloadSealed: sealed},
					to, telemetry.BatchEventID(tid, bid)))
				records += len(recs)
			}
			if _, err := a.Events.Append(ctx, telemetry.TelemetryStream(cn, tid, day), event.Any(), drafts); err != nil {
				b.Fatal(err)
			}
			batches += len(drafts)
		}
	}
	b.Logf("loaded %d batches, %d records (%d terminals, %d days) in %s", batches, records, terminals, days,
		time.Since(loadStart).Round(time.Millisecond))
	b.ResetTimer()
	rebuildStart := time.Now()
	counts, err := a.Runner.Rebuild(ctx, reports.Name)
	if err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(rebuildStart)
	b.StopTimer()
	b.Logf("rebuilt %v in %s", counts, elapsed.Round(time.Millisecond))
	b.ReportMetric(float64(batches)/elapsed.Seconds(), "batches/s")
	b.ReportMetric(float64(records)/elapsed.Seconds(), "records/s")
	b.ReportMetric(elapsed.Seconds(), "s")
}
