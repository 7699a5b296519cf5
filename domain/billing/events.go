package billing

import (
	"fmt"
	"time"

	"yorozu/domain/event"
)

// The billing events: price lists published and months closed. Stored by struct name.

// PriceListStream holds every published price list; its version order is the publication order,
// which decides between two lists for the same effective month (the later one is a correction).
const PriceListStream = "pricelists-1"

// PriceListPublished: staff published a price list (docs/billing.md). Months already closed keep the list
// they were closed with (MonthClosed.PriceList); every other month uses the latest list whose
// effectiveFrom is on or before it.
type PriceListPublished struct {
	PriceList   PriceList `json:"priceList"`
	PublishedAt time.Time `json:"publishedAt"`
}

// The close of a usage month (docs/billing.md) is one append to the month's own stream, MonthStream(m):
// MonthClosed first, then the final invoices in parts of at most InvoicesPerPart, in invoice-number
// order. The stream is written once (expected version 0), so a month is closed at most once and
// its final invoices never change; closing it again reads the stream and answers the same Closure.

// MonthStream is the stream of one usage month's close: "billingmonth-2025-07".
func MonthStream(m Month) string { return "billingmonth-" + m.String() }

// InvoicesPerPart bounds the invoices of one InvoicesFinalized event, so that no event grows with
// the number of contracts (about 1 KB per invoice).
const InvoicesPerPart = 500

// MonthClosed: staff (or the scheduler) closed a usage month. Its final invoices are the
// InvoicesFinalized events that follow it in the month's stream, Parts of them.
type MonthClosed struct {
	Month    Month     `json:"month"`
	ClosedAt time.Time `json:"closedAt"`
	// PriceList is the list the month was billed with. Adjustments for the month, when a later
	// event changes it, are computed with this list too: a price list published after the close
	// does not reprice a closed month.
	PriceList PriceList `json:"priceList"`
	Issuer    Issuer    `json:"issuer"`
	// BasedOn is a log position every final invoice reflects: the invoices were computed from a view
	// that had processed the log at least that far. An event past it may or may not be in them;
	// whether it is, the adjustments settle (see projections/invoices).
	BasedOn            event.Position `json:"basedOn"`
	Parts              int            `json:"parts"`
	Invoices           int            `json:"invoices"`
	FirstInvoiceNumber string         `json:"firstInvoiceNumber,omitempty"`
	LastInvoiceNumber  string         `json:"lastInvoiceNumber,omitempty"`
	Subtotal           Yen            `json:"subtotal"`
	Tax                Yen            `json:"tax"`
	Total              Yen            `json:"total"`
}

// EffectiveTime is the moment of the close.
func (e *MonthClosed) EffectiveTime() time.Time { return e.ClosedAt }

// InvoicesFinalized: one part of the final invoices of a closed month, in invoice-number order.
// Each part carries what it needs to render its invoices whole (month, issuer), so a reader of
// one part (the integration-event relay) needs no other event.
type InvoicesFinalized struct {
	Month    Month          `json:"month"`
	Part     int            `json:"part"` // 1 to MonthClosed.Parts
	Issuer   Issuer         `json:"issuer"`
	ClosedAt time.Time      `json:"closedAt"`
	Invoices []FinalInvoice `json:"invoices"`
}

// EffectiveTime is the moment of the close.
func (e *InvoicesFinalized) EffectiveTime() time.Time { return e.ClosedAt }

// FinalInvoice is a final invoice as stored: what the month does not already say.
type FinalInvoice struct {
	InvoiceNumber  string      `json:"invoiceNumber"`
	CustomerNumber string      `json:"customerNumber"`
	Recipient      Recipient   `json:"recipient"`
	Lines          []Line      `json:"lines"`
	Subtotal       Yen         `json:"subtotal"`
	Tax            Yen         `json:"tax"`
	Total          Yen         `json:"total"`
	TaxByRate      []TaxByRate `json:"taxByRate"`
}

// Invoice returns the i-th invoice of the part whole, as the API and the billing feed show it.
func (e InvoicesFinalized) Invoice(i int) Invoice {
	f := e.Invoices[i]
	return Invoice{
		CustomerNumber: f.CustomerNumber,
		Month:          e.Month,
		Status:         StatusFinal,
		InvoiceNumber:  f.InvoiceNumber,
		Issuer:         e.Issuer,
		Recipient:      f.Recipient,
		UsagePeriod:    Period{From: e.Month.FirstDay(), To: e.Month.LastDay()},
		Lines:          f.Lines,
		Subtotal:       f.Subtotal,
		Tax:            f.Tax,
		Total:          f.Total,
		TaxByRate:      f.TaxByRate,
	}
}

// FinalInvoiceOf keeps what a final invoice adds to its month.
func FinalInvoiceOf(inv Invoice) FinalInvoice {
	return FinalInvoice{InvoiceNumber: inv.InvoiceNumber, CustomerNumber: inv.CustomerNumber, Recipient: inv.Recipient,
		Lines: inv.Lines, Subtotal: inv.Subtotal, Tax: inv.Tax, Total: inv.Total, TaxByRate: inv.TaxByRate}
}

// InvoiceNumber is the number of the n-th (from 1) final invoice of month m, in customer-number
// order: "INV-2025-07-000001". The month makes it unique across months; the close, which happens
// once per month, makes it unique within.
func InvoiceNumber(m Month, n int) string {
	return fmt.Sprintf("INV-%04d-%02d-%06d", m.Year(), int(m.Month()), n)
}

// PublishedPriceList is a price list as published: its publication number (the version of
// PriceListStream its PriceListPublished got) and time.
type PublishedPriceList struct {
	PriceList   PriceList `json:"priceList"`
	Number      uint64    `json:"number"`
	PublishedAt time.Time `json:"publishedAt"`
}

// RegisterEvents adds the billing events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*PriceListPublished)(nil), (*MonthClosed)(nil), (*InvoicesFinalized)(nil))
}
