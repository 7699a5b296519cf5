package invoices_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/shopspring/decimal"

	"yorozu/commands"
	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/projections/invoices"
)

// The benchmarks run the billing of many contracts on each engine: the embedded default (bbolt
// log, in-memory read models) and PostgreSQL. Commands, with the sizes of the targets:
//
//	go test ./projections/invoices/ -run '^$' -bench 'MonthClose' -benchtime 1x -timeout 30m
//	go test ./projections/invoices/ -run '^$' -bench 'InvoiceQueries' -benchtime 20000x -timeout 30m
//
// With -short they bill 2,000 contracts instead of 100,000.

// benchContracts is the number of contracts the benchmarks bill.
func benchContracts(*testing.B) int {
	n := 100_000
	if testing.Short() {
		n = 2_000
	}
	return n
}

// seed publishes a price list and opens n contracts in the first half of 2025: every other one
// with additional IDs, every third with web filtering, every tenth buying tickets, and every
// fifth changed 20 days after its opening. It returns once the projection has them all.
func (env *billingEnv) seed(b *testing.B, n int) {
	b.Helper()
	start := time.Now()
	prices := billing.PriceList{EffectiveFrom: month("2025-01"), BaseMenu: 2980, HealthCheckIDAddition: 198,
		WebFiltering: 165, SecurityTicket: 11000, TaxRate: decimal.RequireFromString("0.10")}
	env.append(b, billing.PriceListStream, &billing.PriceListPublished{PriceList: prices, PublishedAt: time.Now()})

	work := make(chan int)
	var wg sync.WaitGroup
	for range 64 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				cn := fmt.Sprintf("N%09d", i+1)
				opened := calendar.MustDate(2025, time.Month(1+i%6), 1+i%28)
				e := &contract.ContractOpened{CustomerNumber: cn, OpenedOn: opened,
					Contractor:     contract.Contractor{Name: "株式会社ベンチ" + cn},
					BillingAddress: contract.BillingAddress{PostalCode: "1000005", Address: "東京都千代田区丸の内一丁目", AddressNumber: "１番１号"}}
				if i%2 == 0 {
					e.AdditionalIDs = 10 + i%50
				}
				if i%3 == 0 {
					e.AdditionalIDs = max(e.AdditionalIDs, 10)
					e.WebFiltering = true
				}
				if i%10 == 0 {
					e.TicketsBought = 1 + i%3
				}
				events := []any{e}
				if i%5 == 0 {
					ids := e.AdditionalIDs + 10
					events = append(events, &contract.ContractChanged{CustomerNumber: cn, EffectiveOn: opened.AddDays(20), AdditionalIDs: &ids})
				}
				env.append(b, contract.Stream(cn), events...)
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	env.catchUp(b)
	b.Logf("seeded %d contracts in %s", n, time.Since(start).Round(time.Millisecond))
}

// BenchmarkMonthClose closes a month of every seeded contract: close-s is the command (the view
// read, every invoice computed, numbered and appended), final-s until the read model shows the
// final invoices (what the API's read-your-writes wait covers).
func BenchmarkMonthClose(b *testing.B) {
	for _, engine := range []string{"embedded", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			env := startEnv(b, engine)
			n := benchContracts(b)
			env.seed(b, n)
			close := commands.NewCloseMonthHandler(env.deps, closingView{View: env.view, log: env.events, runner: env.runner}, env.issuer)
			var decided, visible time.Duration
			b.ResetTimer()
			for i := range b.N {
				m := month("2025-07")
				for range i {
					m = m.Prev() // every iteration closes an earlier month
				}
				start := time.Now()
				out, err := close.Handle(context.Background(), commands.CloseMonth{Meta: commands.Meta{CommandID: uuid.NewString(), Actor: "bench"}, Month: m})
				if err != nil {
					b.Fatal(err)
				}
				decided += time.Since(start)
				if err := env.runner.WaitFor(context.Background(), out.Position); err != nil {
					b.Fatal(err)
				}
				visible += time.Since(start)
				if c := out; i == 0 {
					b.Logf("%s: %d invoices, total %d yen, %d events", m, c.Invoices, c.Total, 1+c.Parts)
				}
			}
			b.StopTimer()
			b.ReportMetric(decided.Seconds()/float64(b.N), "close-s")
			b.ReportMetric(visible.Seconds()/float64(b.N), "final-s")
			b.ReportMetric(float64(n), "contracts")
		})
	}
}

// BenchmarkInvoiceQueries runs invoice queries from 50 concurrent clients: one customer's draft
// (computed on read), one customer's final invoice, and a page of 100 drafts of a month. It
// reports the latency percentiles of each.
func BenchmarkInvoiceQueries(b *testing.B) {
	const clients = 50
	for _, engine := range []string{"embedded", "postgres"} {
		b.Run(engine, func(b *testing.B) {
			env := startEnv(b, engine)
			n := benchContracts(b)
			env.seed(b, n)
			close := commands.NewCloseMonthHandler(env.deps, closingView{View: env.view, log: env.events, runner: env.runner}, env.issuer)
			out, err := close.Handle(context.Background(), commands.CloseMonth{Meta: commands.Meta{CommandID: uuid.NewString()}, Month: month("2025-06")})
			if err != nil {
				b.Fatal(err)
			}
			if err := env.runner.WaitFor(context.Background(), out.Position); err != nil {
				b.Fatal(err)
			}
			queries := []struct {
				name string
				run  func(ctx context.Context, r *rand.Rand) error
			}{
				{"draft", func(ctx context.Context, r *rand.Rand) error {
					_, err := env.view.Invoice(ctx, fmt.Sprintf("N%09d", 1+r.IntN(n)), month("2025-07"))
					return ignoreNoInvoice(err)
				}},
				{"final", func(ctx context.Context, r *rand.Rand) error {
					_, err := env.view.Invoice(ctx, fmt.Sprintf("N%09d", 1+r.IntN(n)), month("2025-06"))
					return ignoreNoInvoice(err)
				}},
				{"draftPage100", func(ctx context.Context, r *rand.Rand) error {
					_, err := env.view.Invoices(ctx, month("2025-07"), "", 100)
					return err
				}},
			}
			for _, q := range queries {
				b.Run(q.name, func(b *testing.B) {
					latencies := make([]time.Duration, b.N)
					var next sync.Mutex
					i := 0
					var wg sync.WaitGroup
					b.ResetTimer()
					for c := range clients {
						wg.Add(1)
						go func() {
							defer wg.Done()
							r := rand.New(rand.NewPCG(uint64(c), 1))
							for {
								next.Lock()
								k := i
								i++
								next.Unlock()
								if k >= b.N {
									return
								}
								start := time.Now()
								if err := q.run(context.Background(), r); err != nil {
									b.Error(err)
									return
								}
								latencies[k] = time.Since(start)
							}
						}()
					}
					wg.Wait()
					b.StopTimer()
					slices.Sort(latencies)
					at := func(p float64) float64 {
						return float64(latencies[int(p*float64(len(latencies)-1))].Microseconds()) / 1000
					}
					b.ReportMetric(at(0.50), "p50-ms")
					b.ReportMetric(at(0.99), "p99-ms")
					b.ReportMetric(at(1), "max-ms")
				})
			}
		})
	}
}

func ignoreNoInvoice(err error) error {
	if err != nil && err == invoices.ErrNoInvoice {
		return nil
	}
	return err
}
