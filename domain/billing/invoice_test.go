package billing_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/shopspring/decimal"

	"yorozu/domain/billing"
)

// TestChargedLines covers which months the basic service, the options and the tickets are charged,
// and with which quantities (docs/billing.md), at the standard prices.
func TestChargedLines(t *testing.T) {
	tests := []struct {
		name     string
		contract *contract
		month    string
		want     []billing.Line // nil: no invoice for the month
	}{
		// The basic service.
		{"opened mid-July is not charged in July",
			opened("2025-07-15", 0, false), "2025-07", nil},
		{"opened mid-July, first charged in August",
			opened("2025-07-15", 0, false), "2025-08", []billing.Line{baseLine()}},
		{"opened on the 1st is still first charged the next month",
			opened("2025-07-01", 0, false), "2025-07", nil},
		{"no charge for months before the opening",
			opened("2025-07-15", 0, false), "2025-06", nil},
		{"a running contract is charged every month",
			opened("2025-07-15", 0, false), "2026-03", []billing.Line{baseLine()}},
		{"cancelled mid-September, September is charged",
			opened("2025-07-15", 0, false).terminated("2025-09-20"), "2025-09", []billing.Line{baseLine()}},
		{"nothing is charged after the month of termination",
			opened("2025-07-15", 0, false).terminated("2025-09-20"), "2025-10", nil},
		{"terminated on the 1st, that month is still charged",
			opened("2025-07-15", 0, false).terminated("2025-10-01"), "2025-10", []billing.Line{baseLine()}},
		{"opened and cancelled in the same month charges that month once",
			opened("2025-07-03", 0, false).terminated("2025-07-25"), "2025-07", []billing.Line{baseLine()}},
		{"opened and cancelled in the same month charges nothing the month after",
			opened("2025-07-03", 0, false).terminated("2025-07-25"), "2025-08", nil},
		{"opened and terminated on the same day charges that month with its options",
			opened("2025-07-31", 10, true).terminated("2025-07-31"), "2025-07",
			[]billing.Line{baseLine(), idLine(7, 10), wfLine(7, 15)}},
		{"opened in July and cancelled in August charges August only",
			opened("2025-07-15", 0, false).terminated("2025-08-10"), "2025-08", []billing.Line{baseLine()}},
		{"opened in July and cancelled in August charges nothing in July",
			opened("2025-07-15", 0, false).terminated("2025-08-10"), "2025-07", nil},
		{"opened in December is first charged in January",
			opened("2025-12-26", 0, false), "2026-01", []billing.Line{baseLine()}},

		// Health-check ID addition.
		{"ID addition ordered with the contract is first charged in August",
			opened("2025-07-15", 20, false), "2025-08", []billing.Line{baseLine(), idLine(8, 20)}},
		{"ID addition ordered with the contract is not charged in the opening month",
			opened("2025-07-15", 20, false), "2025-07", nil},
		{"ID addition begun in August is not charged in August",
			opened("2025-05-10", 0, false).ids("2025-08-12", 10), "2025-08", []billing.Line{baseLine()}},
		{"ID addition begun in August is first charged in September",
			opened("2025-05-10", 0, false).ids("2025-08-12", 10), "2025-09", []billing.Line{baseLine(), idLine(9, 10)}},
		{"ID addition increased during the month bills the end-of-month quantity",
			opened("2025-05-10", 10, false).ids("2025-08-12", 30), "2025-08", []billing.Line{baseLine(), idLine(8, 30)}},
		{"ID addition reduced during the month bills the end-of-month quantity",
			opened("2025-05-10", 30, false).ids("2025-08-20", 12), "2025-08", []billing.Line{baseLine(), idLine(8, 12)}},
		{"ID addition changed twice in a month bills the last quantity",
			opened("2025-05-10", 30, false).ids("2025-08-05", 50).ids("2025-08-25", 40), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 40)}},
		{"ID addition changed on the 1st bills the new quantity for that month",
			opened("2025-05-10", 30, false).ids("2025-09-01", 10), "2025-09", []billing.Line{baseLine(), idLine(9, 10)}},
		{"ID addition ended mid-month is charged that month with the count just before it ended",
			opened("2025-05-10", 20, false).ids("2025-08-12", 0), "2025-08", []billing.Line{baseLine(), idLine(8, 20)}},
		{"ID addition ended in August is not charged in September",
			opened("2025-05-10", 20, false).ids("2025-08-12", 0), "2025-09", []billing.Line{baseLine()}},
		{"ID addition ended on the 1st is still charged that month",
			opened("2025-05-10", 20, false).ids("2025-09-01", 0), "2025-09", []billing.Line{baseLine(), idLine(9, 20)}},
		{"ID addition begun and ended in the same month is charged that month once",
			opened("2025-05-10", 0, false).ids("2025-08-05", 10).ids("2025-08-25", 0), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 10)}},
		{"ID addition begun and ended in August is not charged in September",
			opened("2025-05-10", 0, false).ids("2025-08-05", 10).ids("2025-08-25", 0), "2025-09",
			[]billing.Line{baseLine()}},
		{"ID addition stopped and not yet restarted is not charged",
			opened("2025-05-10", 10, false).ids("2025-07-10", 0).ids("2025-09-15", 20), "2025-08",
			[]billing.Line{baseLine()}},
		{"ID addition restarted is not charged in the month of the restart",
			opened("2025-05-10", 10, false).ids("2025-07-10", 0).ids("2025-09-15", 20), "2025-09",
			[]billing.Line{baseLine()}},
		{"ID addition restarted is charged again from the month after the restart",
			opened("2025-05-10", 10, false).ids("2025-07-10", 0).ids("2025-09-15", 20), "2025-10",
			[]billing.Line{baseLine(), idLine(10, 20)}},
		{"ID addition ended and restarted in the same month bills the end-of-month quantity",
			opened("2025-05-10", 10, false).ids("2025-08-05", 0).ids("2025-08-20", 30), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 30)}},
		{"ID addition ends with the contract: the termination month bills the count just before",
			opened("2025-05-10", 10, false).ids("2025-09-05", 20).terminated("2025-09-20"), "2025-09",
			[]billing.Line{baseLine(), idLine(9, 20)}},
		{"ID addition of a contract terminated on the 1st bills the count of the day before",
			opened("2025-05-10", 10, false).ids("2025-09-30", 20).terminated("2025-10-01"), "2025-10",
			[]billing.Line{baseLine(), idLine(10, 20)}},
		{"ID addition begun and ended in the opening month is charged in that month alone",
			opened("2025-07-03", 10, false).ids("2025-07-25", 0), "2025-07", []billing.Line{idLine(7, 10)}},
		{"ID addition begun and ended in the opening month leaves the basic menu from the next month",
			opened("2025-07-03", 10, false).ids("2025-07-25", 0), "2025-08", []billing.Line{baseLine()}},

		// Web filtering.
		{"web filtering bills all IDs, the 5 included ones too",
			opened("2025-07-15", 10, true), "2025-08", []billing.Line{baseLine(), idLine(8, 10), wfLine(8, 15)}},
		{"web filtering switched on in August is first charged in September",
			opened("2025-05-10", 20, false).webFiltering("2025-08-18", true), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 20)}},
		{"web filtering switched on in August is charged in September",
			opened("2025-05-10", 20, false).webFiltering("2025-08-18", true), "2025-09",
			[]billing.Line{baseLine(), idLine(9, 20), wfLine(9, 25)}},
		{"web filtering bills the IDs in effect at the end of the month",
			opened("2025-05-10", 10, true).ids("2025-08-15", 30), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 30), wfLine(8, 35)}},
		{"web filtering switched off with the ID addition is charged that month with the IDs just before",
			opened("2025-05-10", 20, true).ids("2025-08-10", 0).webFiltering("2025-08-10", false), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 20), wfLine(8, 25)}},
		{"web filtering switched off is not charged the month after",
			opened("2025-05-10", 20, true).webFiltering("2025-08-10", false), "2025-09",
			[]billing.Line{baseLine(), idLine(9, 20)}},
		{"web filtering ended in the month the contract ends",
			opened("2025-05-10", 20, true).terminated("2025-09-20"), "2025-09",
			[]billing.Line{baseLine(), idLine(9, 20), wfLine(9, 25)}},
		{"web filtering begun and ended in the same month is charged that month once",
			opened("2025-05-10", 20, false).webFiltering("2025-08-04", true).webFiltering("2025-08-28", false), "2025-08",
			[]billing.Line{baseLine(), idLine(8, 20), wfLine(8, 25)}},
		{"web filtering restarted is charged again from the month after the restart",
			opened("2025-05-10", 20, true).webFiltering("2025-06-10", false).webFiltering("2025-09-10", true), "2025-10",
			[]billing.Line{baseLine(), idLine(10, 20), wfLine(10, 25)}},

		// Security tickets.
		{"tickets bought in March are charged in March",
			opened("2025-05-10", 0, false).tickets("2026-03-12", 3), "2026-03",
			[]billing.Line{baseLine(), ticketLine(3, 3)}},
		{"tickets bought in March are not charged again in April",
			opened("2025-05-10", 0, false).tickets("2026-03-12", 3), "2026-04", []billing.Line{baseLine()}},
		{"tickets bought with the new order are charged in the opening month",
			opened("2025-07-15", 0, false).tickets("2025-07-15", 2), "2025-07", []billing.Line{ticketLine(7, 2)}},
		{"two ticket purchases in a month are two one-time lines in completion order",
			opened("2025-05-10", 0, false).tickets("2026-03-20", 2).tickets("2026-03-05", 1), "2026-03",
			[]billing.Line{baseLine(), ticketLine(3, 1), ticketLine(3, 2)}},
		{"tickets bought in the termination month are charged with it",
			opened("2025-05-10", 0, false).tickets("2025-09-02", 4).terminated("2025-09-20"), "2025-09",
			[]billing.Line{baseLine(), ticketLine(9, 4)}},

		// Everything at once, in the invoice's line order.
		{"lines follow the invoice's order: basic menu, ID addition, web filtering, tickets",
			opened("2025-05-10", 10, true).tickets("2025-10-02", 1), "2025-10",
			[]billing.Line{baseLine(), idLine(10, 10), wfLine(10, 15), ticketLine(10, 1)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, ok, err := billing.ComputeInvoice(tt.contract.t, standardBook(), month(tt.month))
			if err != nil {
				t.Fatalf("ComputeInvoice: %v", err)
			}
			if tt.want == nil {
				if ok {
					t.Fatalf("got an invoice, want none: %+v", inv.Lines)
				}
				return
			}
			if !ok {
				t.Fatal("got no invoice")
			}
			if diff := cmp.Diff(tt.want, inv.Lines, equate); diff != "" {
				t.Errorf("lines (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNotesAreWordedAsInTheSpec(t *testing.T) {
	c := opened("2025-05-10", 10, true).tickets("2025-07-01", 1)
	inv, _, err := billing.ComputeInvoice(c.t, standardBook(), month("2025-07"))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"", "7月ご利用分です。利用IDは10です", "7月ご利用分です。利用IDは15です", "7月ご利用分です。購入数は1です"}
	var got []string
	for _, l := range inv.Lines {
		got = append(got, l.Note)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
}

// TestPricesAndTax covers which price list applies, omitted zero lines and the consumption tax.
func TestPricesAndTax(t *testing.T) {
	running := opened("2025-05-10", 10, true)
	tests := []struct {
		name         string
		contract     *contract
		book         billing.PriceBook
		month        string
		adjustments  []billing.Adjustment
		wantAmounts  []billing.Yen
		wantSubtotal billing.Yen
		wantTax      billing.Yen
	}{
		{"price list change takes effect from its month",
			running, book(priceList("2025-04", 3000, 300, 200, 5000, "0.10"), priceList("2025-10", 3300, 330, 220, 5500, "0.10")),
			"2025-10", nil, []billing.Yen{3300, 3300, 3300}, 9900, 990},
		{"the month before a price list change keeps the old prices",
			running, book(priceList("2025-04", 3000, 300, 200, 5000, "0.10"), priceList("2025-10", 3300, 330, 220, 5500, "0.10")),
			"2025-09", nil, []billing.Yen{3000, 3000, 3000}, 9000, 900},
		{"the latest list effective on or before the month applies, whatever the publication order",
			running, book(priceList("2025-10", 3300, 330, 220, 5500, "0.10"), priceList("2025-04", 3000, 300, 200, 5000, "0.10")),
			"2026-02", nil, []billing.Yen{3300, 3300, 3300}, 9900, 990},
		{"the tax rate comes from the month's price list",
			running, book(priceList("2025-04", 3000, 300, 200, 5000, "0.08")),
			"2025-08", nil, []billing.Yen{3000, 3000, 3000}, 9000, 720},
		{"a zero price leaves its line out",
			running, book(priceList("2025-04", 3000, 300, 0, 5000, "0.10")),
			"2025-08", nil, []billing.Yen{3000, 3000}, 6000, 600},
		{"monthly lines are summed and taxed once (合算), rounded down",
			opened("2025-05-10", 10, false), book(priceList("2025-04", 1005, 1, 0, 0, "0.10")),
			"2025-08", nil, []billing.Yen{1005, 10}, 1015, 101}, // per line it would be 100 + 1
		{"each ticket line is taxed on its own (個別), rounded down",
			opened("2025-05-10", 0, false).tickets("2025-08-01", 1).tickets("2025-08-20", 1), book(priceList("2025-04", 0, 0, 0, 1005, "0.10")),
			"2025-08", nil, []billing.Yen{1005, 1005}, 2010, 200}, // together it would be 201
		{"tickets are not taxed together with the monthly lines",
			opened("2025-05-10", 0, false).tickets("2025-08-01", 1), book(priceList("2025-04", 1005, 0, 0, 1005, "0.10")),
			"2025-08", nil, []billing.Yen{1005, 1005}, 2010, 200},
		{"an adjustment is taxed together with the monthly lines",
			opened("2025-05-10", 0, false), book(priceList("2025-04", 1005, 0, 0, 0, "0.10")),
			"2025-08", []billing.Adjustment{{ForMonth: month("2025-07"), Amount: 1005}}, []billing.Yen{1005, 1005}, 2010, 201},
		{"adjustment credit rounds tax toward zero",
			opened("2025-05-10", 0, false).terminated("2025-06-10"), book(priceList("2025-04", 3000, 0, 0, 0, "0.10")),
			"2025-08", []billing.Adjustment{{ForMonth: month("2025-06"), Amount: -1005}}, []billing.Yen{-1005}, -1005, -100},
		{"a credit larger than the month's charges makes a negative total, tax toward zero",
			opened("2025-05-10", 0, false), book(priceList("2025-04", 1000, 0, 0, 0, "0.10")),
			"2025-08", []billing.Adjustment{{ForMonth: month("2025-07"), Amount: -2005}}, []billing.Yen{1000, -2005}, -1005, -100},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, ok, err := billing.ComputeInvoice(tt.contract.t, tt.book, month(tt.month), tt.adjustments...)
			if err != nil || !ok {
				t.Fatalf("ComputeInvoice: ok=%v err=%v", ok, err)
			}
			var amounts []billing.Yen
			for _, l := range inv.Lines {
				amounts = append(amounts, l.Amount)
			}
			if diff := cmp.Diff(tt.wantAmounts, amounts); diff != "" {
				t.Errorf("amounts (-want +got):\n%s", diff)
			}
			if inv.Subtotal != tt.wantSubtotal || inv.Tax != tt.wantTax || inv.Total != tt.wantSubtotal+tt.wantTax {
				t.Errorf("subtotal, tax, total = %d, %d, %d; want %d, %d, %d",
					inv.Subtotal, inv.Tax, inv.Total, tt.wantSubtotal, tt.wantTax, tt.wantSubtotal+tt.wantTax)
			}
			if len(inv.TaxByRate) != 1 || inv.TaxByRate[0].TaxableAmount != inv.Subtotal || inv.TaxByRate[0].Tax != inv.Tax {
				t.Errorf("tax by rate = %+v, want one rate with the subtotal and the tax", inv.TaxByRate)
			}
		})
	}
}

func TestInvoiceHeader(t *testing.T) {
	c := opened("2025-05-10", 0, false)
	inv, _, err := billing.ComputeInvoice(c.t, standardBook(), month("2025-08"))
	if err != nil {
		t.Fatal(err)
	}
	if inv.CustomerNumber != "N000000001" || inv.Month != month("2025-08") || inv.Status != billing.StatusDraft ||
		inv.InvoiceNumber != "" || inv.Recipient.Name != "株式会社よろず" {
		t.Errorf("header = %+v", inv)
	}
	if want := (billing.Period{From: day("2025-08-01"), To: day("2025-08-31")}); inv.UsagePeriod != want {
		t.Errorf("usage period = %+v, want %+v", inv.UsagePeriod, want)
	}
	if !inv.TaxByRate[0].Rate.Equal(decimal.RequireFromString("0.1")) {
		t.Errorf("rate = %s", inv.TaxByRate[0].Rate)
	}
}

func TestMonthWithoutPriceList(t *testing.T) {
	laterBook := book(priceList("2025-10", priceBase, priceID, priceWF, priceTicket, "0.10"))
	t.Run("something charged in a month no price list covers is an error", func(t *testing.T) {
		_, ok, err := billing.ComputeInvoice(opened("2025-05-10", 0, false).t, laterBook, month("2025-08"))
		var npl *billing.NoPriceListError
		if !errors.As(err, &npl) || !errors.Is(err, billing.ErrNoPriceList) || npl.Month != month("2025-08") || ok {
			t.Fatalf("got ok=%v err=%v, want a NoPriceListError for 2025-08", ok, err)
		}
	})
	t.Run("an adjustment alone in a month no price list covers is an error", func(t *testing.T) {
		c := opened("2025-05-10", 0, false).terminated("2025-06-10")
		_, _, err := billing.ComputeInvoice(c.t, laterBook, month("2025-08"), billing.Adjustment{ForMonth: month("2025-06"), Amount: 100})
		if !errors.Is(err, billing.ErrNoPriceList) {
			t.Fatalf("err = %v, want ErrNoPriceList", err)
		}
	})
	t.Run("a month with nothing charged needs no price list", func(t *testing.T) {
		_, ok, err := billing.ComputeInvoice(opened("2025-07-15", 0, false).t, billing.PriceBook{}, month("2025-07"))
		if err != nil || ok {
			t.Fatalf("got ok=%v err=%v, want no invoice and no error", ok, err)
		}
	})
}

func TestInvalidTimeline(t *testing.T) {
	neg, huge := -1, 10000
	tl := billing.Timeline{
		OpenedOn:     day("2025-07-15"),
		TerminatedOn: new(day("2025-07-01")),
		Options: []billing.OptionChange{
			{On: day("2025-07-10"), AdditionalIDs: &neg},
			{AdditionalIDs: &huge},
		},
		Tickets: []billing.TicketPurchase{{CompletedOn: day("2025-08-01"), Count: 0}},
	}
	_, _, err := billing.ComputeInvoice(tl, standardBook(), month("2025-07"))
	var ve *billing.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, billing.ErrInvalidTimeline) {
		t.Fatalf("err = %v, want a ValidationError for the timeline", err)
	}
	var fields []string
	for _, f := range ve.Errors {
		fields = append(fields, f.Field+" "+f.Code)
	}
	want := []string{
		"customerNumber required",
		"terminatedOn outOfRange",
		"options[0].on outOfRange",
		"options[0].additionalIds outOfRange",
		"options[1].on required",
		"options[1].additionalIds outOfRange",
		"tickets[0].completedOn outOfRange",
		"tickets[0].count outOfRange",
	}
	if diff := cmp.Diff(want, fields); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}

func TestChangeOnTheTerminationDateHasNoEffect(t *testing.T) {
	c := opened("2025-05-10", 20, false).ids("2025-09-20", 40).terminated("2025-09-20")
	inv, _, err := billing.ComputeInvoice(c.t, standardBook(), month("2025-09"))
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]billing.Line{baseLine(), idLine(9, 20)}, inv.Lines, equate); diff != "" {
		t.Errorf("lines (-want +got):\n%s", diff)
	}
}

func TestZeroMonthIsAnError(t *testing.T) {
	_, _, err := billing.ComputeInvoice(opened("2025-05-10", 0, false).t, standardBook(), billing.Month{})
	if !errors.Is(err, billing.ErrInvalidMonth) {
		t.Fatalf("err = %v, want ErrInvalidMonth", err)
	}
}

func TestFinalize(t *testing.T) {
	draft, _, err := billing.ComputeInvoice(opened("2025-05-10", 0, false).t, standardBook(), month("2025-08"))
	if err != nil {
		t.Fatal(err)
	}
	final, err := draft.Finalize("INV-202508-000001")
	if err != nil {
		t.Fatal(err)
	}
	if final.Status != billing.StatusFinal || final.InvoiceNumber != "INV-202508-000001" || draft.Status != billing.StatusDraft {
		t.Errorf("final = %s %q, draft = %s", final.Status, final.InvoiceNumber, draft.Status)
	}
	final.Lines[0].Amount = 1
	if draft.Lines[0].Amount == 1 {
		t.Error("the final invoice shares its lines with the draft")
	}
	if _, err := final.Finalize("INV-2"); !errors.Is(err, billing.ErrAlreadyFinal) {
		t.Errorf("finalizing twice: err = %v, want ErrAlreadyFinal", err)
	}
	if _, err := draft.Finalize(""); err == nil {
		t.Error("finalizing without an invoice number succeeded")
	}
}
