package billing

import (
	"fmt"
	"slices"

	"yorozu/domain/calendar"
)

// IncludedIDs is the number of health-check IDs the basic menu includes (docs/product.md).
const IncludedIDs = 5

// Bounds of the quantities a timeline may carry (the docs/product.md's order form).
const (
	MaxAdditionalIDs = 9999
	MaxTicketCount   = 9999
)

// Timeline is what billing needs to know of one contract, filled from its completed orders, each
// taking effect on its scheduled date (00:00 JST):
//
//   - a `new` order: Open (opening date, initial additional IDs and web filtering) and, when it buys
//     tickets, BuyTickets on the same date;
//   - a `change` order: ChangeAdditionalIDs and/or ChangeWebFiltering, BuyTickets;
//   - a `cancel` order: Terminate (every option ends with the contract).
//
// The fields are plain data, so a projection may also fill them directly.
type Timeline struct {
	CustomerNumber string
	// Recipient is copied onto the invoice as its addressee.
	Recipient Recipient
	OpenedOn  calendar.Date
	// TerminatedOn is the termination date (the contract is terminated from that day), nil while
	// the contract runs.
	TerminatedOn *calendar.Date
	// Options are the option changes in the order they took effect; changes on the same date apply
	// in slice order. Before the first change a contract has no additional ID and no web filtering.
	Options []OptionChange
	Tickets []TicketPurchase
}

// OptionChange is what one order changed in the options on date On; a nil field is unchanged.
type OptionChange struct {
	On calendar.Date
	// AdditionalIDs is the count of IDs beyond the IncludedIDs after the change (0 ends the option).
	AdditionalIDs *int
	// WebFiltering is whether web filtering is on after the change.
	WebFiltering *bool
}

// TicketPurchase is the security tickets an order bought; they are charged in the month of
// CompletedOn.
type TicketPurchase struct {
	CompletedOn calendar.Date
	Count       int
}

// Open records the opening of the contract by its `new` order.
func (t *Timeline) Open(on calendar.Date, additionalIDs int, webFiltering bool) {
	t.OpenedOn = on
	t.Options = append(t.Options, OptionChange{On: on, AdditionalIDs: &additionalIDs, WebFiltering: &webFiltering})
}

// ChangeAdditionalIDs records a `change` order's new count of additional IDs (0 for `end`).
func (t *Timeline) ChangeAdditionalIDs(on calendar.Date, additionalIDs int) {
	t.Options = append(t.Options, OptionChange{On: on, AdditionalIDs: &additionalIDs})
}

// ChangeWebFiltering records a `change` order switching web filtering on or off.
func (t *Timeline) ChangeWebFiltering(on calendar.Date, enabled bool) {
	t.Options = append(t.Options, OptionChange{On: on, WebFiltering: &enabled})
}

// BuyTickets records tickets bought by a `new` or `change` order completed on the date.
func (t *Timeline) BuyTickets(completedOn calendar.Date, count int) {
	t.Tickets = append(t.Tickets, TicketPurchase{CompletedOn: completedOn, Count: count})
}

// Terminate records the termination date of a `cancel` order.
func (t *Timeline) Terminate(on calendar.Date) {
	t.TerminatedOn = &on
}

// Validate reports every inconsistency at once as a *ValidationError (ErrInvalidTimeline). Option
// changes and ticket purchases must fall between the opening and the termination date (both
// included; a change dated on the termination date has no effect, the contract ends at 00:00).
func (t Timeline) Validate() error {
	errs := fieldErrors{kind: ErrInvalidTimeline}
	if t.CustomerNumber == "" {
		errs.add("customerNumber", CodeRequired, "customerNumber is required")
	}
	if t.OpenedOn.IsZero() {
		errs.add("openedOn", CodeRequired, "openedOn is required")
	}
	if t.TerminatedOn != nil && (t.TerminatedOn.IsZero() || t.TerminatedOn.Before(t.OpenedOn)) {
		errs.add("terminatedOn", CodeOutOfRange, "terminatedOn must not be before openedOn %s", t.OpenedOn)
	}
	inContract := func(field string, d calendar.Date) {
		switch {
		case d.IsZero():
			errs.add(field, CodeRequired, "%s is required", field)
		case d.Before(t.OpenedOn):
			errs.add(field, CodeOutOfRange, "%s %s is before the opening on %s", field, d, t.OpenedOn)
		case t.TerminatedOn != nil && d.After(*t.TerminatedOn):
			errs.add(field, CodeOutOfRange, "%s %s is after the termination on %s", field, d, *t.TerminatedOn)
		}
	}
	for i, c := range t.Options {
		inContract(fmt.Sprintf("options[%d].on", i), c.On)
		if c.AdditionalIDs != nil && (*c.AdditionalIDs < 0 || *c.AdditionalIDs > MaxAdditionalIDs) {
			errs.add(fmt.Sprintf("options[%d].additionalIds", i), CodeOutOfRange,
				"additionalIds must be 0 to %d, not %d", MaxAdditionalIDs, *c.AdditionalIDs)
		}
	}
	for i, p := range t.Tickets {
		inContract(fmt.Sprintf("tickets[%d].completedOn", i), p.CompletedOn)
		if p.Count < 1 || p.Count > MaxTicketCount {
			errs.add(fmt.Sprintf("tickets[%d].count", i), CodeOutOfRange,
				"count must be 1 to %d, not %d", MaxTicketCount, p.Count)
		}
	}
	return errs.err()
}

// segment is a stretch [from, to) of the contract over which the options do not change; to is
// zero while the contract runs. A contract terminated on its opening date has one empty segment
// [from, from), so that its options are still charged for that month.
type segment struct {
	from, to      calendar.Date
	additionalIDs int
	webFiltering  bool
}

// segments cuts the contract's life at every date an option changed.
func (t Timeline) segments() []segment {
	changes := slices.Clone(t.Options)
	slices.SortStableFunc(changes, func(a, b OptionChange) int { return a.On.Compare(b.On) })
	end := calendar.Date{}
	if t.TerminatedOn != nil {
		end = *t.TerminatedOn
	}
	var segs []segment
	cur := segment{from: t.OpenedOn}
	for _, c := range changes {
		// A change on the termination date comes too late to matter, except the opening's own
		// options of a contract terminated on its opening date.
		if !end.IsZero() && !c.On.Before(end) && c.On.After(t.OpenedOn) {
			break
		}
		if c.On.After(cur.from) {
			next := cur
			cur.to = c.On
			segs = append(segs, cur)
			next.from = c.On
			cur = next
		}
		if c.AdditionalIDs != nil {
			cur.additionalIDs = *c.AdditionalIDs
		}
		if c.WebFiltering != nil {
			cur.webFiltering = *c.WebFiltering
		}
	}
	cur.to = end
	return append(segs, cur)
}

// period is a stretch [start, end) of use of the service or of one option; end is zero while it
// runs.
type period struct {
	start, end calendar.Date
}

// charges tells whether the period is charged in m: from the month after the one it started in
// through the month containing its end, or only its month if it started and ended in the same
// month (docs/billing.md).
func (p period) charges(m Month) bool {
	first := MonthOf(p.start)
	if p.end.IsZero() {
		return m.After(first)
	}
	last := MonthOf(p.end)
	if first == last {
		return m == first
	}
	return m.After(first) && !m.After(last)
}

// usage is an option's quantity over a segment, 0 when the option is not in use.
type usage func(segment) int

func idAdditionUsage(s segment) int { return s.additionalIDs }

// webFilteringUsage counts every ID of the contract, the included ones too (docs/decisions.md).
func webFilteringUsage(s segment) int {
	if !s.webFiltering {
		return 0
	}
	return IncludedIDs + s.additionalIDs
}

// monthlyQuantity returns the quantity of the option charged in m, 0 when m is not charged. Each
// run of segments in use is a period of use charged by period.charges; the quantity is that of the
// last segment in use that started on or before the end of m: the quantity in effect at the end of
// m, or just before the option ended if it ended in m (docs/billing.md).
func monthlyQuantity(segs []segment, use usage, m Month) int {
	charged, quantity := false, 0
	var open *period
	for _, s := range segs {
		q := use(s)
		if q == 0 {
			if open != nil {
				charged = charged || open.charges(m)
				open = nil
			}
			continue
		}
		if open == nil {
			open = &period{start: s.from}
		}
		open.end = s.to
		if !MonthOf(s.from).After(m) {
			quantity = q
		}
	}
	if open != nil {
		charged = charged || open.charges(m)
	}
	if !charged {
		return 0
	}
	return quantity
}
