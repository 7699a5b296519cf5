package commands

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

var (
	// ErrMonthNotEnded: a month can be closed only once it is over in JST (SPEC 3).
	ErrMonthNotEnded = errors.New("billing: the month has not ended")
	// ErrNoIssuer: final invoices must name the issuer and its registration number; the service
	// was started without them.
	ErrNoIssuer = errors.New("billing: no invoice issuer is configured: final invoices name the issuer and its " +
		"qualified-invoice registration number, which the service must be configured with before a month is closed")
)

// CloseMonth closes a usage month: its invoices become final, numbered and published to the
// billing feed.
type CloseMonth struct {
	Meta
	Month billing.Month
}

// Closure is what closing a month answers, the same however often the month is closed: the
// summary of its billing.MonthClosed event, and where its last event is in the log.
type Closure struct {
	Outcome
	billing.MonthClosed
}

// ClosingView is what the close decides from: every contract's draft invoice for the month, from a
// view of the event log.
type ClosingView interface {
	// CatchUp returns once the view reflects every event committed before the call, and the
	// position of the last of them.
	CatchUp(ctx context.Context) (event.Position, error)
	// Drafts calls fn with the draft invoice of m of every customer who has one, computed with
	// prices for m itself (adjustments for closed months use those months' own lists).
	Drafts(ctx context.Context, m billing.Month, prices billing.PriceList, fn func(billing.Invoice) error) error
}

// CatchUpTimeout bounds how long a close waits for its view to reach the log head.
const CatchUpTimeout = 20 * time.Second

// CloseMonthHandler handles CloseMonth.
type CloseMonthHandler struct {
	deps   Deps
	view   ClosingView
	issuer billing.Issuer
}

// NewCloseMonthHandler builds the handler. issuer is printed on the final invoices; the zero
// Issuer (not configured) makes every close fail with ErrNoIssuer.
func NewCloseMonthHandler(d Deps, view ClosingView, issuer billing.Issuer) CloseMonthHandler {
	return CloseMonthHandler{deps: d, view: view, issuer: issuer}
}

// Handle implements the use case.
//
// The invoices are decided from the view once it has caught up with the log head read at the
// start: every event recorded before the close began is in them. An event recorded while the
// close runs may or may not be; it is after BasedOn either way, so the view recomputes the month
// for that customer and bills any difference as an adjustment on a later invoice.
func (h CloseMonthHandler) Handle(ctx context.Context, cmd CloseMonth) (Closure, error) {
	if !cmd.Month.InServiceRange() {
		return Closure{}, fmt.Errorf("%w: %s is not a month the service can close", billing.ErrInvalidMonth, cmd.Month)
	}
	stream := billing.MonthStream(cmd.Month)
	for attempt := 0; ; attempt++ {
		if c, closed, err := h.closure(ctx, stream); err != nil || closed {
			return c, err
		}
		events, err := h.decide(ctx, cmd.Month)
		if err != nil {
			return Closure{}, err
		}
		drafts, err := toDrafts(h.deps, cmd.Meta, stream, events)
		if err != nil {
			return Closure{}, err
		}
		res, err := h.deps.Events.Append(ctx, stream, event.Exactly(0), drafts)
		if errors.Is(err, event.ErrConcurrency) && attempt == 0 {
			continue // closed meanwhile by another request: answer its result
		}
		if err != nil {
			return Closure{}, err
		}
		return Closure{Outcome: Outcome{Stream: stream, Version: res.LastVersion, Position: res.LastPosition},
			MonthClosed: *events[0].(*billing.MonthClosed)}, nil
	}
}

// closure reads the close of a month already closed. Only the first event (MonthClosed) and the
// last one (for its position) are read, not the invoices in between.
func (h CloseMonthHandler) closure(ctx context.Context, stream string) (Closure, bool, error) {
	first, err := h.deps.Events.ReadStream(ctx, stream, 1, 1)
	if err != nil || len(first) == 0 {
		return Closure{}, false, err
	}
	e, err := h.deps.Codec.Decode(first[0])
	if err != nil {
		return Closure{}, false, err
	}
	closed, ok := e.(*billing.MonthClosed)
	if !ok {
		return Closure{}, false, fmt.Errorf("commands: %s starts with %s, not MonthClosed", stream, first[0].Type)
	}
	c := Closure{Outcome: Outcome{Stream: stream, Version: first[0].StreamVersion, Position: first[0].Position}, MonthClosed: *closed}
	if closed.Parts > 0 {
		last, err := h.deps.Events.ReadStream(ctx, stream, uint64(1+closed.Parts), 1)
		if err != nil {
			return Closure{}, false, err
		}
		if len(last) == 1 {
			c.Version, c.Position = last[0].StreamVersion, last[0].Position
		}
	}
	return c, true, nil
}

// decide checks that the month may be closed and computes its events: billing.MonthClosed and the parts.
func (h CloseMonthHandler) decide(ctx context.Context, m billing.Month) ([]any, error) {
	now := h.deps.Clock()
	if end := m.Next().FirstDay().Start(); now.Before(end) {
		return nil, fmt.Errorf("%w: %s ends at %s", ErrMonthNotEnded, m, end.Format(time.RFC3339))
	}
	if h.issuer == (billing.Issuer{}) {
		return nil, ErrNoIssuer
	}
	book, err := h.priceBook(ctx)
	if err != nil {
		return nil, err
	}
	prices, err := book.For(m)
	if err != nil {
		return nil, err
	}
	catchUp, cancel := context.WithTimeout(ctx, CatchUpTimeout)
	defer cancel()
	head, err := h.view.CatchUp(catchUp)
	if err != nil {
		return nil, fmt.Errorf("commands: the billing view did not catch up with the log: %w", err)
	}
	var invoices []billing.Invoice
	err = h.view.Drafts(ctx, m, prices, func(inv billing.Invoice) error {
		invoices = append(invoices, inv)
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(invoices, func(a, b billing.Invoice) int { return cmp.Compare(a.CustomerNumber, b.CustomerNumber) })

	closedAt := now.UTC()
	closed := &billing.MonthClosed{Month: m, ClosedAt: closedAt, PriceList: prices, Issuer: h.issuer, BasedOn: head, Invoices: len(invoices)}
	var parts []*billing.InvoicesFinalized
	for i, draft := range invoices {
		draft.Issuer = h.issuer
		final, err := draft.Finalize(billing.InvoiceNumber(m, i+1))
		if err != nil {
			return nil, err
		}
		if i%billing.InvoicesPerPart == 0 {
			parts = append(parts, &billing.InvoicesFinalized{Month: m, Part: len(parts) + 1, Issuer: h.issuer, ClosedAt: closedAt,
				Invoices: make([]billing.FinalInvoice, 0, min(billing.InvoicesPerPart, len(invoices)-i))})
		}
		part := parts[len(parts)-1]
		part.Invoices = append(part.Invoices, billing.FinalInvoiceOf(final))
		closed.Subtotal += final.Subtotal
		closed.Tax += final.Tax
		closed.Total += final.Total
	}
	closed.Parts = len(parts)
	if len(invoices) > 0 {
		closed.FirstInvoiceNumber = billing.InvoiceNumber(m, 1)
		closed.LastInvoiceNumber = billing.InvoiceNumber(m, len(invoices))
	}
	events := make([]any, 0, 1+len(parts))
	events = append(events, closed)
	for _, p := range parts {
		events = append(events, p)
	}
	return events, nil
}

// priceBook reads every published price list from the log, in publication order.
func (h CloseMonthHandler) priceBook(ctx context.Context) (billing.PriceBook, error) {
	var lists []billing.PriceList
	_, err := load(ctx, h.deps, billing.PriceListStream, &lists, func(lists *[]billing.PriceList, r event.Record, e any) error {
		if p, ok := e.(*billing.PriceListPublished); ok {
			*lists = append(*lists, p.PriceList)
		}
		return nil
	})
	if err != nil {
		return billing.PriceBook{}, err
	}
	return billing.NewPriceBook(lists...)
}

// MonthDueForAutoClose is the month the scheduler (serve --auto-close-months) closes at instant
// now: the previous month, once the first business day of the current month (JST) is over
// (SPEC 3: "after the 1st business day of M+1"). Earlier months are left to staff: a month the
// scheduler missed while the service was down is one staff should look at.
func MonthDueForAutoClose(now time.Time, cal *calendar.BusinessCalendar) (billing.Month, bool) {
	today := calendar.DateOf(now)
	current := billing.MonthOf(today)
	firstBusinessDay := cal.NextBusinessDay(current.FirstDay().AddDays(-1))
	if !today.After(firstBusinessDay) {
		return billing.Month{}, false
	}
	return current.Prev(), true
}
