package invoices

import (
	"slices"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

// account is one customer's billing document: every billing fact the contract events stated, in
// the order they were recorded (each with its log position), and which of the customer's final
// invoices carry adjustment lines.
type account struct {
	CustomerNumber string            `json:"customerNumber"`
	OpenedOn       calendar.Date     `json:"openedOn"`
	Recipient      billing.Recipient `json:"recipient"`
	Facts          []fact            `json:"facts"`
	// AdjustedIn lists the months whose final invoice of this customer has adjustment lines.
	AdjustedIn []billing.Month `json:"adjustedIn,omitempty"`
}

type factKind string

const (
	factOpened     factKind = "opened"
	factChanged    factKind = "changed"
	factTerminated factKind = "terminated"
)

// fact is what one contract event changed in billing, effective on On.
type fact struct {
	Position      event.Position `json:"position"`
	Kind          factKind       `json:"kind"`
	On            calendar.Date  `json:"on"`
	AdditionalIDs *int           `json:"additionalIds,omitempty"`
	WebFiltering  *bool          `json:"webFiltering,omitempty"`
	Tickets       int            `json:"tickets,omitempty"`
}

// record adds the fact of the event being handled.
func (a *account) record(rec event.Record, f fact) {
	f.Position = rec.Position
	a.Facts = append(a.Facts, f)
}

// opened reports whether the contract's opening is known (only then can it be billed).
func (a *account) opened() bool { return !a.OpenedOn.IsZero() }

// timeline is the contract as billing sees it. Facts apply in effective-date order, facts of one
// day in the order they were recorded: a back-dated change recorded after later ones lands where
// it belongs. Of two terminations (a correction) the later recorded wins.
func (a *account) timeline() billing.Timeline {
	t := billing.Timeline{CustomerNumber: a.CustomerNumber, Recipient: a.Recipient}
	byDate := slices.Clone(a.Facts)
	slices.SortStableFunc(byDate, func(x, y fact) int { return x.On.Compare(y.On) })
	for _, f := range byDate {
		switch f.Kind {
		case factOpened:
			t.Open(f.On, deref(f.AdditionalIDs), deref(f.WebFiltering))
		case factChanged:
			if f.AdditionalIDs != nil {
				t.ChangeAdditionalIDs(f.On, *f.AdditionalIDs)
			}
			if f.WebFiltering != nil {
				t.ChangeWebFiltering(f.On, *f.WebFiltering)
			}
		case factTerminated:
			continue
		}
		if f.Tickets > 0 {
			t.BuyTickets(f.On, f.Tickets)
		}
	}
	for _, f := range a.Facts {
		if f.Kind == factTerminated {
			t.Terminate(f.On)
		}
	}
	return t
}

// revisedAfter reports whether a fact recorded after log position pos changes month m: it takes
// effect in m or before. A final invoice of m computed from the log up to pos may then be out of
// date; otherwise it is certainly not, and need not be recomputed.
func (a *account) revisedAfter(pos event.Position, m billing.Month) bool {
	for _, f := range a.Facts {
		if f.Position > pos && !billing.MonthOf(f.On).After(m) {
			return true
		}
	}
	return false
}

func deref[T any](p *T) T {
	var zero T
	if p == nil {
		return zero
	}
	return *p
}

// ledger is the billing state shared by every customer: the price lists and the closes.
type ledger struct {
	// PriceLists are every published list, in publication order.
	PriceLists []billing.PublishedPriceList `json:"priceLists"`
	Months     map[billing.Month]*closure   `json:"months,omitempty"`
}

// closure is the record of one month's close.
type closure struct {
	billing.MonthClosed
	// Position is where MonthClosed is in the log.
	Position event.Position `json:"position"`
	// PartsRecorded counts the InvoicesFinalized parts stored so far.
	PartsRecorded int `json:"partsRecorded"`
}

// closed reports whether month m is closed with all its final invoices stored.
func (l *ledger) closed(m billing.Month) (*closure, bool) {
	c := l.Months[m]
	if c == nil || c.PartsRecorded < c.Parts {
		return nil, false
	}
	return c, true
}

// closedMonths returns the closed months, oldest first.
func (l *ledger) closedMonths() []*closure {
	var out []*closure
	for m := range l.Months {
		if c, ok := l.closed(m); ok {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b *closure) int { return a.Month.Compare(b.Month) })
	return out
}

// earliestOpen is the first month from `from` on that is not closed: the month whose invoice
// carries the adjustments for closed months (docs/billing.md).
func (l *ledger) earliestOpen(from billing.Month) billing.Month {
	m := from
	for {
		if _, ok := l.closed(m); !ok {
			return m
		}
		m = m.Next()
	}
}

// book is the price book of every published list.
func (l *ledger) book() (billing.PriceBook, error) {
	lists := make([]billing.PriceList, len(l.PriceLists))
	for i, p := range l.PriceLists {
		lists[i] = p.PriceList
	}
	return billing.NewPriceBook(lists...)
}
