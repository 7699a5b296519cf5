package billing_test

import (
	"errors"
	"testing"

	"github.com/google/go-cmp/cmp"

	"yorozu/domain/billing"
)

func TestAdjustmentLines(t *testing.T) {
	running := opened("2025-05-10", 0, false)
	ended := opened("2025-05-10", 0, false).terminated("2025-06-10")
	tests := []struct {
		name        string
		contract    *contract
		month       string
		adjustments []billing.Adjustment
		want        []billing.Line // nil: no invoice
	}{
		{"an adjustment line is named after the closed month it corrects",
			running, "2025-08", []billing.Adjustment{{ForMonth: month("2025-07"), Amount: 3000}},
			[]billing.Line{baseLine(), adjustmentLine("2025-07", 3000)}},
		{"a credit is a negative adjustment",
			running, "2025-08", []billing.Adjustment{{ForMonth: month("2025-07"), Amount: -3000}},
			[]billing.Line{baseLine(), adjustmentLine("2025-07", -3000)}},
		{"adjustments come after the charges, oldest closed month first",
			running, "2025-11", []billing.Adjustment{{ForMonth: month("2025-10"), Amount: 600}, {ForMonth: month("2024-12"), Amount: -300}},
			[]billing.Line{baseLine(), adjustmentLine("2024-12", -300), adjustmentLine("2025-10", 600)}},
		{"an invoice exists for an adjustment alone",
			ended, "2025-08", []billing.Adjustment{{ForMonth: month("2025-06"), Amount: -3000}},
			[]billing.Line{adjustmentLine("2025-06", -3000)}},
		{"a month may adjust a later closed month (months close in any order)",
			running, "2025-08", []billing.Adjustment{{ForMonth: month("2025-09"), Amount: 300}},
			[]billing.Line{baseLine(), adjustmentLine("2025-09", 300)}},
		{"a zero adjustment adds no line",
			running, "2025-08", []billing.Adjustment{{ForMonth: month("2025-07"), Amount: 0}},
			[]billing.Line{baseLine()}},
		{"a zero adjustment alone makes no invoice",
			ended, "2025-08", []billing.Adjustment{{ForMonth: month("2025-06"), Amount: 0}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			inv, ok, err := billing.ComputeInvoice(tt.contract.t, standardBook(), month(tt.month), tt.adjustments...)
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

func TestAdjustmentNameSpelling(t *testing.T) {
	inv, _, err := billing.ComputeInvoice(opened("2025-05-10", 0, false).t, standardBook(), month("2025-08"),
		billing.Adjustment{ForMonth: month("2025-07"), Amount: 1})
	if err != nil {
		t.Fatal(err)
	}
	if got := inv.Lines[1].Name; got != "調整（2025年7月分）" {
		t.Errorf("name = %q", got)
	}
}

func TestInvalidAdjustments(t *testing.T) {
	_, _, err := billing.ComputeInvoice(opened("2025-05-10", 0, false).t, standardBook(), month("2025-08"),
		billing.Adjustment{ForMonth: month("2025-08"), Amount: 1},
		billing.Adjustment{Amount: 1},
		billing.Adjustment{ForMonth: month("2025-06"), Amount: 1},
		billing.Adjustment{ForMonth: month("2025-06"), Amount: 2},
	)
	var ve *billing.ValidationError
	if !errors.As(err, &ve) || !errors.Is(err, billing.ErrInvalidAdjustment) {
		t.Fatalf("err = %v, want a ValidationError for the adjustments", err)
	}
	var got []string
	for _, f := range ve.Errors {
		got = append(got, f.Field+" "+f.Code)
	}
	want := []string{"adjustments[0].forMonth outOfRange", "adjustments[1].forMonth required", "adjustments[3].forMonth duplicate"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("field errors (-want +got):\n%s", diff)
	}
}

// invoiceOf computes an invoice a test expects to exist, or the zero Invoice for "none".
func invoiceOf(t *testing.T, c *contract, m string, adjustments ...billing.Adjustment) billing.Invoice {
	t.Helper()
	inv, _, err := billing.ComputeInvoice(c.t, standardBook(), month(m), adjustments...)
	if err != nil {
		t.Fatal(err)
	}
	return inv
}

func TestDifference(t *testing.T) {
	tests := []struct {
		name       string
		final      func(t *testing.T) billing.Invoice
		recomputed func(t *testing.T) billing.Invoice
		want       billing.Yen
	}{
		{"a back-dated ID increase is charged the pre-tax difference",
			func(t *testing.T) billing.Invoice { return invoiceOf(t, opened("2025-05-10", 10, false), "2025-07") },
			func(t *testing.T) billing.Invoice {
				return invoiceOf(t, opened("2025-05-10", 10, false).ids("2025-07-20", 30), "2025-07")
			},
			20 * priceID},
		{"a back-dated cancellation credits a month no longer charged in full",
			func(t *testing.T) billing.Invoice { return invoiceOf(t, opened("2025-05-10", 10, false), "2025-08") },
			func(t *testing.T) billing.Invoice {
				return invoiceOf(t, opened("2025-05-10", 10, false).terminated("2025-07-20"), "2025-08")
			},
			-(priceBase + 10*priceID)},
		{"a month that had no invoice when closed is charged in full",
			func(t *testing.T) billing.Invoice { return billing.Invoice{} },
			func(t *testing.T) billing.Invoice {
				return invoiceOf(t, opened("2025-05-10", 0, false).tickets("2025-05-10", 2), "2025-05")
			},
			2 * priceTicket},
		{"a month unchanged by the late event has no difference",
			func(t *testing.T) billing.Invoice { return invoiceOf(t, opened("2025-05-10", 10, false), "2025-06") },
			func(t *testing.T) billing.Invoice {
				return invoiceOf(t, opened("2025-05-10", 10, false).ids("2025-07-20", 30), "2025-06")
			},
			0},
		{"adjustment lines on the final invoice are not part of its month's charges",
			func(t *testing.T) billing.Invoice {
				return invoiceOf(t, opened("2025-05-10", 0, false), "2025-08", billing.Adjustment{ForMonth: month("2025-07"), Amount: 999})
			},
			func(t *testing.T) billing.Invoice { return invoiceOf(t, opened("2025-05-10", 0, false), "2025-08") },
			0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := billing.Difference(tt.final(t), tt.recomputed(t)); got != tt.want {
				t.Errorf("Difference = %d, want %d", got, tt.want)
			}
		})
	}
}

// TestLateOrderAdjustsTheEarliestOpenMonth walks the docs/billing.md's month close: July is closed, a
// back-dated order then raises July's ID count, and August's draft carries the difference once.
func TestLateOrderAdjustsTheEarliestOpenMonth(t *testing.T) {
	known := opened("2025-05-10", 10, false)
	julyFinal, err := invoiceOf(t, known, "2025-07").Finalize("INV-1")
	if err != nil {
		t.Fatal(err)
	}

	late := opened("2025-05-10", 10, false).ids("2025-07-20", 30)
	julyNow := invoiceOf(t, late, "2025-07")
	due := billing.AdjustmentDue(month("2025-07"), julyFinal, julyNow, []billing.Invoice{julyFinal})
	if want := (billing.Adjustment{ForMonth: month("2025-07"), Amount: 20 * priceID}); due != want {
		t.Fatalf("due = %+v, want %+v", due, want)
	}

	august := invoiceOf(t, late, "2025-08", due)
	wantLines := []billing.Line{baseLine(), idLine(8, 30), adjustmentLine("2025-07", 6000)}
	if diff := cmp.Diff(wantLines, august.Lines, equate); diff != "" {
		t.Errorf("August lines (-want +got):\n%s", diff)
	}
	if august.Subtotal != 18000 || august.Tax != 1800 || august.Total != 19800 {
		t.Errorf("August totals = %d + %d = %d", august.Subtotal, august.Tax, august.Total)
	}

	// A draft is not yet issued: while August is open, July stays due in full.
	if again := billing.AdjustmentDue(month("2025-07"), julyFinal, julyNow, []billing.Invoice{julyFinal, august}); again != due {
		t.Errorf("due with August still a draft = %+v, want %+v", again, due)
	}
	// Once August is final, July is settled.
	augustFinal, err := august.Finalize("INV-2")
	if err != nil {
		t.Fatal(err)
	}
	settled := billing.AdjustmentDue(month("2025-07"), julyFinal, julyNow, []billing.Invoice{julyFinal, augustFinal})
	if settled.Amount != 0 {
		t.Errorf("due after August closed = %d, want 0", settled.Amount)
	}
	september := invoiceOf(t, late, "2025-09", settled)
	if diff := cmp.Diff([]billing.Line{baseLine(), idLine(9, 30)}, september.Lines, equate); diff != "" {
		t.Errorf("September lines (-want +got):\n%s", diff)
	}
}
