package invoices_test

import (
	"context"
	"errors"
	"reflect"
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

// These tests append contract events to the log directly and read the view, on both engines,
// for the late-event cases the HTTP tests do not reach: several corrections of one closed month,
// credits, a back-dated opening, a rename, a price correction after the close. Prices: basic menu
// 3,000, ID 300, web filtering 200, ticket 5,000, tax 10%.

func forEachEngine(t *testing.T, fn func(t *testing.T, env *billingEnv)) {
	for _, engine := range []string{"embedded", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			env := startEnv(t, engine)
			env.publish(t, "2025-01", 3000)
			fn(t, env)
		})
	}
}

func (env *billingEnv) publish(t testing.TB, from string, base billing.Yen) {
	env.append(t, billing.PriceListStream, &billing.PriceListPublished{PublishedAt: time.Now(), PriceList: billing.PriceList{
		EffectiveFrom: month(from), BaseMenu: base, HealthCheckIDAddition: 300, WebFiltering: 200, SecurityTicket: 5000,
		TaxRate: decimal.RequireFromString("0.10")}})
	env.catchUp(t)
}

func (env *billingEnv) record(t testing.TB, cn string, events ...any) {
	t.Helper()
	env.append(t, contract.Stream(cn), events...)
	env.catchUp(t)
}

func opened(cn, on string, ids, tickets int) *contract.ContractOpened {
	return &contract.ContractOpened{CustomerNumber: cn, OpenedOn: date(on), AdditionalIDs: ids, TicketsBought: tickets,
		Contractor: contract.Contractor{Name: "株式会社テスト"}}
}

func idsChanged(cn, on string, ids int) *contract.ContractChanged {
	return &contract.ContractChanged{CustomerNumber: cn, EffectiveOn: date(on), AdditionalIDs: &ids}
}

// closeMonth closes m at the given JST instant and waits for the view.
func (env *billingEnv) closeMonth(t testing.TB, m, at string) commands.Closure {
	t.Helper()
	now, err := time.ParseInLocation("2006-01-02 15:04", at, calendar.JST())
	if err != nil {
		t.Fatal(err)
	}
	env.setNow(now)
	h := commands.NewCloseMonthHandler(env.deps, closingView{View: env.view, log: env.events, runner: env.runner}, env.issuer)
	out, err := h.Handle(context.Background(), commands.CloseMonth{Meta: commands.Meta{CommandID: uuid.NewString(), Actor: "test"}, Month: month(m)})
	if err != nil {
		t.Fatalf("close %s: %v", m, err)
	}
	if err := env.runner.WaitFor(context.Background(), out.Position); err != nil {
		t.Fatal(err)
	}
	return out
}

func (env *billingEnv) invoice(t testing.TB, cn, m string) (billing.Invoice, bool) {
	t.Helper()
	inv, err := env.view.Invoice(context.Background(), cn, month(m))
	if errors.Is(err, invoices.ErrNoInvoice) {
		return billing.Invoice{}, false
	}
	if err != nil {
		t.Fatalf("invoice %s %s: %v", cn, m, err)
	}
	return inv, true
}

// amounts is an invoice's lines as name → amount, and its subtotal and tax.
type amounts struct {
	lines         map[string]billing.Yen
	subtotal, tax billing.Yen
}

func amountsOf(inv billing.Invoice) amounts {
	a := amounts{lines: map[string]billing.Yen{}, subtotal: inv.Subtotal, tax: inv.Tax}
	for _, l := range inv.Lines {
		a.lines[l.Name] += l.Amount
	}
	return a
}

func (env *billingEnv) want(t *testing.T, cn, m string, status billing.Status, want amounts) billing.Invoice {
	t.Helper()
	inv, ok := env.invoice(t, cn, m)
	if !ok {
		t.Fatalf("%s %s: no invoice, want %+v", cn, m, want)
	}
	if got := amountsOf(inv); inv.Status != status || !reflect.DeepEqual(got, want) || inv.Total != want.subtotal+want.tax {
		t.Fatalf("%s %s: %s %+v total %d, want %s %+v", cn, m, inv.Status, got, inv.Total, status, want)
	}
	return inv
}

const (
	baseLine = billing.LineBaseMenu
	idLine   = billing.LineIDAddition
	tickLine = billing.LineSecurityTicket
)

func TestSecondCorrectionOfAClosedMonthBillsOnlyTheRest(t *testing.T) {
	forEachEngine(t, func(t *testing.T, env *billingEnv) {
		env.record(t, "N000000001", opened("N000000001", "2025-07-10", 10, 0))
		env.closeMonth(t, "2025-07", "2025-08-05 10:00")
		env.closeMonth(t, "2025-08", "2025-09-02 10:00")
		env.want(t, "N000000001", "2025-08", billing.StatusFinal, amounts{map[string]billing.Yen{baseLine: 3000, idLine: 3000}, 6000, 600})

		// Recorded after the close: 20 IDs from 08-20. September carries August's difference.
		env.record(t, "N000000001", idsChanged("N000000001", "2025-08-20", 20))
		env.want(t, "N000000001", "2025-08", billing.StatusFinal, amounts{map[string]billing.Yen{baseLine: 3000, idLine: 3000}, 6000, 600})
		env.want(t, "N000000001", "2025-09", billing.StatusDraft, amounts{map[string]billing.Yen{baseLine: 3000, idLine: 6000, "調整（2025年8月分）": 3000}, 12000, 1200})
		env.closeMonth(t, "2025-09", "2025-10-02 10:00")

		// A second correction of August (30 IDs from 08-25): August is now 3,000 + 9,000, billed
		// 6,000 and adjusted 3,000 already, so 3,000 more; September (closed with 20 IDs) owes 3,000.
		env.record(t, "N000000001", idsChanged("N000000001", "2025-08-25", 30))
		env.want(t, "N000000001", "2025-10", billing.StatusDraft, amounts{map[string]billing.Yen{baseLine: 3000, idLine: 9000,
			"調整（2025年8月分）": 3000, "調整（2025年9月分）": 3000}, 18000, 1800})
		// Only the earliest open month carries adjustments.
		env.want(t, "N000000001", "2025-11", billing.StatusDraft, amounts{map[string]billing.Yen{baseLine: 3000, idLine: 9000}, 12000, 1200})
	})
}

func TestBackDatedCancelBillsACredit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, env *billingEnv) {
		env.record(t, "N000000002", opened("N000000002", "2025-06-05", 0, 0))
		for _, c := range [][2]string{{"2025-06", "2025-07-03 10:00"}, {"2025-07", "2025-08-05 10:00"}, {"2025-08", "2025-09-02 10:00"}} {
			env.closeMonth(t, c[0], c[1])
		}
		// Cancelled on 07-15, recorded in September: July (the termination month) stays charged,
		// August is credited on an invoice of its own, the tax rounded toward zero.
		env.record(t, "N000000002", &contract.ContractTerminated{CustomerNumber: "N000000002", TerminatedOn: date("2025-07-15")})
		inv := env.want(t, "N000000002", "2025-09", billing.StatusDraft, amounts{map[string]billing.Yen{"調整（2025年8月分）": -3000}, -3000, -300})
		if l := inv.Lines[0]; l.Kind != billing.KindAdjustment || l.ForMonth != month("2025-08") {
			t.Fatalf("credit line: %+v", l)
		}
		// Closing September settles it: nothing is due any more.
		env.closeMonth(t, "2025-09", "2025-10-02 10:00")
		if inv, ok := env.invoice(t, "N000000002", "2025-10"); ok {
			t.Fatalf("October after the credit was issued: %+v", inv)
		}
	})
}

func TestBackDatedOpeningIntoAClosedMonth(t *testing.T) {
	forEachEngine(t, func(t *testing.T, env *billingEnv) {
		c := env.closeMonth(t, "2025-07", "2025-08-05 10:00")
		if c.Invoices != 0 || c.Parts != 0 || c.FirstInvoiceNumber != "" {
			t.Fatalf("July without contracts: %+v", c)
		}
		// Opened 07-20 with 2 tickets, recorded after July's close: no July invoice appears, August
		// bills the tickets as July's adjustment (taxed with the monthly lines).
		env.record(t, "N000000003", opened("N000000003", "2025-07-20", 0, 2))
		if _, ok := env.invoice(t, "N000000003", "2025-07"); ok {
			t.Fatal("a closed month grew an invoice")
		}
		env.want(t, "N000000003", "2025-08", billing.StatusDraft, amounts{map[string]billing.Yen{baseLine: 3000, "調整（2025年7月分）": 10000}, 13000, 1300})
	})
}

func TestFinalInvoicesKeepTheirRecipientAndPrices(t *testing.T) {
	forEachEngine(t, func(t *testing.T, env *billingEnv) {
		env.record(t, "N000000004", opened("N000000004", "2025-06-10", 10, 0))
		env.closeMonth(t, "2025-06", "2025-07-02 10:00")
		env.closeMonth(t, "2025-07", "2025-08-05 10:00")
		july, _ := env.invoice(t, "N000000004", "2025-07")

		// A rename, and a price correction for July published after its close.
		env.record(t, "N000000004", &contract.ContractorDetailsChanged{CustomerNumber: "N000000004", EffectiveOn: date("2025-08-10"),
			Contractor: contract.Contractor{Name: "株式会社新社名"}})
		env.publish(t, "2025-07", 3500)
		if again, _ := env.invoice(t, "N000000004", "2025-07"); !reflect.DeepEqual(again, july) || again.Recipient.Name != "株式会社テスト" {
			t.Fatalf("the final July invoice changed:\n%+v\n%+v", july, again)
		}
		aug := env.want(t, "N000000004", "2025-08", billing.StatusDraft, amounts{map[string]billing.Yen{baseLine: 3500, idLine: 3000}, 6500, 650})
		if aug.Recipient.Name != "株式会社新社名" {
			t.Fatalf("August recipient %q", aug.Recipient.Name)
		}
		// A back-dated change of July is adjusted at July's own prices (300 per ID), not repriced.
		env.record(t, "N000000004", idsChanged("N000000004", "2025-07-25", 15))
		env.want(t, "N000000004", "2025-08", billing.StatusDraft, amounts{map[string]billing.Yen{baseLine: 3500, idLine: 4500,
			"調整（2025年7月分）": 1500}, 9500, 950})
	})
}

func TestFeedCursorStaysPutAtTheEnd(t *testing.T) {
	forEachEngine(t, func(t *testing.T, env *billingEnv) {
		ctx := context.Background()
		for _, cn := range []string{"N000000011", "N000000012", "N000000013"} {
			env.record(t, cn, opened(cn, "2025-06-10", 0, 0))
		}
		if p, err := env.view.Feed(ctx, "", 10); err != nil || len(p.Invoices) != 0 || p.Next != "" {
			t.Fatalf("empty feed: %+v %v", p, err)
		}
		env.closeMonth(t, "2025-07", "2025-08-05 10:00")
		all, err := env.view.Feed(ctx, "", 10)
		if err != nil || len(all.Invoices) != 3 || all.Next == "" {
			t.Fatalf("feed: %+v %v", all, err)
		}
		idle, err := env.view.Feed(ctx, all.Next, 10)
		if err != nil || len(idle.Invoices) != 0 || idle.Next != all.Next {
			t.Fatalf("feed at its end: %+v %v", idle, err)
		}
		env.closeMonth(t, "2025-08", "2025-09-02 10:00")
		more, err := env.view.Feed(ctx, all.Next, 2)
		if err != nil || len(more.Invoices) != 2 || more.Invoices[0].InvoiceNumber != "INV-2025-08-000001" {
			t.Fatalf("feed after the next close: %+v %v", more, err)
		}
		last, err := env.view.Feed(ctx, more.Next, 2)
		if err != nil || len(last.Invoices) != 1 || last.Invoices[0].InvoiceNumber != "INV-2025-08-000003" {
			t.Fatalf("last page: %+v %v", last, err)
		}
	})
}

func date(s string) calendar.Date {
	d, err := calendar.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}
