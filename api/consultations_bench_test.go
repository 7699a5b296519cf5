package api_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"yorozu/cmd/yorozu/app"
	"yorozu/cmd/yorozu/app/apptest"
)

// The help desk's benchmarks, on the embedded default:
//
//	go test ./api/ -run '^$' -bench 'Consultation(Intake|Queue)' -benchtime 1x -timeout 30m
//
// YOROZU_BENCH_CONSULTATIONS sets the size of the desk (default 100,000 consultations).

func benchConsultations() int {
	if n, err := strconv.Atoi(os.Getenv("YOROZU_BENCH_CONSULTATIONS")); err == nil && n > 0 {
		return n
	}
	return 100_000
}

// deskClient posts to the server from many goroutines (apptest.Env.Do fails the test from the
// calling goroutine, so it is for the benchmark's own goroutine only).
type deskClient struct {
	env *apptest.Env
	tok string
}

func (c deskClient) post(path string, body any) (int, []byte, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return 0, nil, err
	}
	req, err := http.NewRequest("POST", c.env.Server.URL+path, bytes.NewReader(raw))
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+c.tok)
	resp, err := c.env.Server.Client().Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

// fillDesk receives n e-mail consultations on the contract cn from `clients` concurrent
// clients, one every 7 minutes of business time from 2025-07-15 on, and answers all but every
// tenth an hour after its receipt, as a desk that keeps up would. It returns the intake
// throughput (consultations received per second of wall-clock time, answers not counted).
func fillDesk(b *testing.B, c deskClient, cn string, n, clients int) float64 {
	b.Helper()
	first := at("2025-07-15 09:30")
	receivedAt := func(i int) time.Time { return first.Add(time.Duration(i) * 7 * time.Minute) }
	var next atomic.Int64
	var failed atomic.Pointer[string]
	ids := make([]string, n)
	fail := func(format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		failed.CompareAndSwap(nil, &msg)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				status, body, err := c.post("/api/v1/consultations", intake(cn, receivedAt(i).In(jstZone).Format("2006-01-02 15:04"),
					map[string]any{"subject": fmt.Sprintf("相談 %d", i)}))
				if err != nil || status != http.StatusCreated {
					fail("intake %d: %d %s %v", i, status, body, err)
					return
				}
				var r received
				if err := json.Unmarshal(body, &r); err != nil || r.Status != "open" {
					fail("intake %d answered %s", i, body)
					return
				}
				ids[i] = r.ConsultationID
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if msg := failed.Load(); msg != nil {
		b.Fatal(*msg)
	}
	next.Store(0)
	for range clients {
		wg.Go(func() {
			for {
				i := int(next.Add(1)) - 1
				if i >= n || failed.Load() != nil {
					return
				}
				if i%10 == 0 {
					continue // left open
				}
				status, body, err := c.post("/api/v1/consultations/"+ids[i]+"/reply", map[string]any{
					"answeredAt": receivedAt(i).Add(time.Hour).Format(time.RFC3339), "body": "対処方法をご案内しました。"})
				if err != nil || status != http.StatusOK {
					fail("reply %d: %d %s %v", i, status, body, err)
					return
				}
			}
		})
	}
	wg.Wait()
	if msg := failed.Load(); msg != nil {
		b.Fatal(*msg)
	}
	return float64(n) / elapsed.Seconds()
}

var jstZone = time.FixedZone("JST", 9*3600)

// noRateLimit lifts the per-client rate limit: the benchmark is one client, the desk's staff.
func noRateLimit(c *app.Config) { c.RateLimit = -1 }

// BenchmarkConsultationIntake receives consultations over HTTP from 16 clients into a desk of
// YOROZU_BENCH_CONSULTATIONS; it reports intakes per second.
func BenchmarkConsultationIntake(b *testing.B) {
	n := benchConsultations()
	for range b.N {
		b.StopTimer()
		env := apptest.Start(b, apptest.Embedded, apptest.Options{Configure: noRateLimit})
		tok := env.StaffToken("bench-desk", "operator")
		cn, _ := openContract(b, env, tok, nil)
		env.Clock.Set(at("2025-07-15 09:30").Add(time.Duration(n)*7*time.Minute + time.Hour))
		b.StartTimer()
		rate := fillDesk(b, deskClient{env, tok}, cn, n, 16)
		b.ReportMetric(rate, "intakes/s")
		b.StopTimer()
		env.Stop()
	}
}

// BenchmarkConsultationQueue queries the desk of YOROZU_BENCH_CONSULTATIONS (a tenth of them
// open) the way staff read it: the open queue, the overdue ones, one customer's; each query 500
// times in a row over HTTP. It reports each query's p50 and p99 in milliseconds.
func BenchmarkConsultationQueue(b *testing.B) {
	n := benchConsultations()
	env := apptest.Start(b, apptest.Embedded, apptest.Options{Configure: noRateLimit})
	tok := env.StaffToken("bench-desk", "operator")
	cn, _ := openContract(b, env, tok, nil)
	end := at("2025-07-15 09:30").Add(time.Duration(n)*7*time.Minute + time.Hour)
	env.Clock.Set(end)
	start := time.Now()
	rate := fillDesk(b, deskClient{env, tok}, cn, n, 16)
	b.Logf("desk of %d consultations filled in %s (%.0f intakes/s)", n, time.Since(start).Round(time.Second), rate)
	// "Now" a week after the last receipt: the open ones of the last days are not overdue yet,
	// the older open ones are.
	env.Clock.Set(end.Add(-5 * 24 * time.Hour))

	queries := []struct{ name, path string }{
		{"open", "/api/v1/consultations?status=open"},
		{"open-overdue", "/api/v1/consultations?status=open&overdue=true"},
		{"overdue", "/api/v1/consultations?overdue=true"},
		{"customer", "/api/v1/consultations?customerNumber=" + cn + "&status=open"},
	}
	b.ResetTimer()
	for range b.N {
		for _, q := range queries {
			lat := make([]time.Duration, 0, 500)
			for range 500 {
				t0 := time.Now()
				r := env.Do("GET", q.path, tok, nil)
				lat = append(lat, time.Since(t0))
				if r.Status != http.StatusOK {
					b.Fatalf("%s: %d %s", q.path, r.Status, r.Body)
				}
				var page struct{ Items []consultationBody }
				r.JSON(b, &page)
				if len(page.Items) == 0 {
					b.Fatalf("%s: no items", q.path)
				}
			}
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, q.name+"-p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, q.name+"-p99-ms")
		}
	}
}
