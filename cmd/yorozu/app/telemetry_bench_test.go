package app_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"

	"yorozu/cmd/yorozu/agentsim"
	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
	"yorozu/commands"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/report"
	"yorozu/domain/schema"
)

// The telemetry benchmarks run the whole service in-process (apptest, on the wall clock) and
// agentsim against it over HTTP on loopback. An acknowledged upload is also projected into the
// report (the service answers once the read models reflect it), so records/s here is "ingested
// and projected". Environment:
//
//	YOROZU_BENCH_TERMINALS  simulated terminals (default 1000)
//	YOROZU_BENCH_DURATION   wall-clock duration (default 60s)
//	YOROZU_BENCH_SPEEDUP    interval divisor (default 600: every terminal uploads every 1.5 s)
//	YOROZU_BENCH_CONCURRENCY requests in flight (default 32)

func envInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

func envFloat(name string, def float64) float64 {
	if f, err := strconv.ParseFloat(os.Getenv(name), 64); err == nil && f > 0 {
		return f
	}
	return def
}

// startIngestService starts the service on engine with the wall clock and a contract with enough
// IDs for n terminals, and returns it with an enrollment token.
func startIngestService(b *testing.B, engine apptest.Engine, n int) (*apptest.Env, string) {
	b.Helper()
	env := apptest.Start(b, engine, apptest.Options{Configure: func(c *app.Config) {
		c.Clock = time.Now
		c.RateLimit = 0
	}})
	codec := schema.Registry()
	e := &contract.ContractOpened{CustomerNumber: "N000000001", OpenedOn: calendar.MustDate(2025, 1, 1), AdditionalIDs: n,
		Contractor: contract.Contractor{Name: "株式会社ベンチ"}}
	typ, data, _ := codec.Encode(e)
	res, err := env.App.Events.Append(context.Background(), contract.Stream("N000000001"), event.NoStream(), []event.Draft{{
		ID: uuid.Must(uuid.NewV7()), Type: typ, SchemaVersion: 1, EffectiveAt: time.Now(), RecordedAt: time.Now(), Actor: "bench", Data: data}})
	if err != nil {
		b.Fatal(err)
	}
	if err := env.App.Runner.WaitFor(context.Background(), res.LastPosition); err != nil {
		b.Fatal(err)
	}
	// Staff login needs the fake clock (TOTP); the use case is what the endpoint calls.
	tok, err := env.App.Application.Commands.IssueEnrollmentToken.Handle(context.Background(),
		commands.IssueEnrollmentToken{Meta: commands.Meta{Actor: "bench"}, CustomerNumber: "N000000001"})
	if err != nil {
		b.Fatal(err)
	}
	return env, tok.Token
}

// staffToken is an API key with the operator role (a staff login needs the fake clock).
func staffToken(b *testing.B, env *apptest.Env) string { return env.APIKey("bench-reader", "operator") }

// BenchmarkAgentsimIngest is sustained ingest, end to end: N simulated terminals uploading every
// 15 min / speed-up.
func BenchmarkAgentsimIngest(b *testing.B) {
	for _, engine := range []apptest.Engine{apptest.Embedded, apptest.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			n := envInt("YOROZU_BENCH_TERMINALS", 1000)
			env, tok := startIngestService(b, engine, n)
			sim := agentsim.New(agentsim.Config{URL: env.Server.URL, EnrollmentToken: tok, Terminals: n,
				Duration:    time.Duration(envInt("YOROZU_BENCH_DURATION", 60)) * time.Second,
				Speedup:     envFloat("YOROZU_BENCH_SPEEDUP", 600),
				Concurrency: envInt("YOROZU_BENCH_CONCURRENCY", 32), Seed: 1})
			start := time.Now()
			terms, err := sim.Enroll(context.Background(), n)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("enrolled %d terminals in %s", n, time.Since(start).Round(time.Millisecond))
			b.ResetTimer()
			start = time.Now()
			cpu0 := cpuTime()
			res, err := sim.Play(context.Background(), terms)
			elapsed := time.Since(start)
			cpu := cpuTime() - cpu0
			b.StopTimer()
			if err != nil {
				b.Fatal(err)
			}
			out, _ := json.Marshal(res)
			b.Logf("agentsim: %s in %s", out, elapsed.Round(time.Millisecond))
			b.ReportMetric(float64(res.Records)/elapsed.Seconds(), "records/s")
			b.ReportMetric(float64(res.Acknowledged)/elapsed.Seconds(), "batches/s")
			b.ReportMetric(res.P50Ms, "p50-ms")
			b.ReportMetric(res.P99Ms, "p99-ms")
			b.ReportMetric(res.SteadyP99Ms, "steady-p99-ms")
			// CPU of the whole process (service and simulator) per record: what 2 free cores give.
			b.ReportMetric(float64(cpu.Microseconds())/float64(max(res.Records, 1)), "cpu-µs/record")
			b.ReportMetric(2e6/(float64(cpu.Microseconds())/float64(max(res.Records, 1))), "records/s-on-2-free-cores")
		})
	}
}

// BenchmarkReportQuery is the report of a 100-terminal contract with a day of telemetry (96
// batches per terminal), queried by 8 concurrent clients over HTTP.
func BenchmarkReportQuery(b *testing.B) {
	for _, engine := range []apptest.Engine{apptest.Embedded, apptest.Postgres} {
		b.Run(string(engine), func(b *testing.B) {
			const terminals = 100
			env, tok := startIngestService(b, engine, terminals)
			// A day of batches in 96 × 1.5 s... too slow at 1 s pacing; upload back to back instead.
			sim := agentsim.New(agentsim.Config{URL: env.Server.URL, EnrollmentToken: tok, Terminals: terminals,
				Duration: time.Duration(envInt("YOROZU_BENCH_DURATION", 30)) * time.Second, Speedup: 900 * 15 / 4, Concurrency: 32, Seed: 2})
			terms, err := sim.Enroll(context.Background(), terminals)
			if err != nil {
				b.Fatal(err)
			}
			res, err := sim.Play(context.Background(), terms)
			if err != nil {
				b.Fatal(err)
			}
			b.Logf("loaded: %d batches, %d records", res.Batches, res.Records)
			staff := staffToken(b, env)
			month := time.Now().In(calendar.JST()).Format("2006-01")
			var mu sync.Mutex
			var lat []time.Duration
			var size atomic.Int64
			b.ResetTimer()
			var wg sync.WaitGroup
			per := max(1, b.N/8)
			for range 8 {
				wg.Go(func() {
					for range per {
						req, _ := http.NewRequest("GET", env.Server.URL+"/api/v1/reports/N000000001/"+month, nil)
						req.Header.Set("Authorization", "Bearer "+staff)
						t := time.Now()
						resp, err := http.DefaultClient.Do(req)
						if err != nil {
							b.Error(err)
							return
						}
						n, _ := io.Copy(io.Discard, resp.Body) // the client's own parsing is not the server's latency
						resp.Body.Close()
						d := time.Since(t)
						if resp.StatusCode != 200 || n < 1000 {
							b.Errorf("report: %d, %d bytes", resp.StatusCode, n)
							return
						}
						size.Store(n)
						mu.Lock()
						lat = append(lat, d)
						mu.Unlock()
					}
				})
			}
			wg.Wait()
			b.StopTimer()
			// Computing the report afresh (what a query costs right after data arrived): the
			// view's Compute, without the cache, one at a time.
			m, _ := billing.ParseMonth(month)
			var fresh []time.Duration
			cpu0 := cpuTime()
			for range 20 {
				t := time.Now()
				rep, err := env.App.Application.Queries.Reports.Compute(context.Background(), "N000000001", m, time.Now(), report.StatusProvisional)
				if err != nil || rep.Terminals != terminals {
					b.Fatalf("compute: %v, %d terminals", err, rep.Terminals)
				}
				fresh = append(fresh, time.Since(t))
			}
			b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/1000/20, "compute-cpu-ms")
			slices.Sort(fresh)
			b.ReportMetric(float64(fresh[len(fresh)/2].Microseconds())/1000, "compute-p50-ms")
			b.ReportMetric(float64(fresh[len(fresh)-1].Microseconds())/1000, "compute-max-ms")

			slices.Sort(lat)
			if len(lat) > 0 {
				b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
				b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
			}
			b.Logf("%d queries of a %d-byte report", len(lat), size.Load())
		})
	}
}

// cpuTime is the CPU time this process used so far (user and system).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
