package invoices

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"

	"yorozu/domain/billing"
	"yorozu/projections/readmodel"
)

// ErrNoInvoice: nothing is charged to the customer in the month, so there is no invoice (docs/api.md:
// 404).
var ErrNoInvoice = errors.New("invoices: no invoice for the customer and month")

// View answers the billing queries from the read model. Drafts are computed on each read; final
// invoices are read as stored.
//
// Adjustments: for every closed month X a fact may have changed after X's close (a fact recorded
// past X's BasedOn that takes effect in X or before), the customer's draft for its earliest month
// that is not closed recomputes X with the current timeline and X's own price list, and bills
// billing.AdjustmentDue: the difference to X's final invoice, less what the customer's final
// invoices already adjusted for X. Months whose facts did not change since their close are not
// recomputed at all, which keeps a draft as cheap as one ComputeInvoice for almost every customer.
type View struct {
	models readmodel.Store
	issuer billing.Issuer
	// last is the ledger last read, decoded: it changes only with a price list or a close, and
	// decoding it on every read would cost more than the draft itself.
	last atomic.Pointer[state]
}

// state is the ledger as the view reads it, with what drafts derive from it computed once.
// Readers share it and must not change it.
type state struct {
	*ledger
	raw          []byte
	book         billing.PriceBook
	bookErr      error
	closedMonths []*closure // the closed months, oldest first
}

// NewView returns the view; issuer is printed on drafts (final invoices carry their own).
func NewView(models readmodel.Store, issuer billing.Issuer) *View {
	return &View{models: models, issuer: issuer}
}

// Page is one page of invoices and the cursor of the next.
type Page struct {
	Invoices []billing.Invoice
	Next     string
}

// Invoice returns the customer's invoice for month m: the final one once m is closed, else the
// draft. It fails with ErrNoInvoice when nothing is charged, and with an error matching
// billing.ErrNoPriceList when something is but no price list covers m.
func (v *View) Invoice(ctx context.Context, customerNumber string, m billing.Month) (billing.Invoice, error) {
	l, err := v.state(ctx)
	if err != nil {
		return billing.Invoice{}, err
	}
	if _, closed := l.closed(m); closed {
		inv, found, err := v.final(ctx, customerNumber, m)
		if err == nil && !found {
			err = ErrNoInvoice
		}
		return inv, err
	}
	a, found, err := v.account(ctx, customerNumber)
	if err != nil {
		return billing.Invoice{}, err
	}
	if !found {
		return billing.Invoice{}, ErrNoInvoice
	}
	if l.bookErr != nil {
		return billing.Invoice{}, l.bookErr
	}
	inv, ok, err := v.draft(ctx, l, a, m, l.book)
	if err == nil && !ok {
		err = ErrNoInvoice
	}
	return inv, err
}

// cursor prefixes tell a page of final invoices from a page of drafts: a month closed between two
// pages of its listing makes the old cursor a bad one instead of a wrong one.
const (
	finalsCursor = "f."
	draftsCursor = "d."
)

// maxDraftRounds bounds the queries one page of drafts makes to fill itself: contracts that owe
// nothing in the month are skipped, so a page may come back short, with a cursor to go on.
const maxDraftRounds = 4

// Invoices lists the invoices of month m: the final ones in invoice-number order once m is
// closed, else the drafts of every contract that owes something in m.
func (v *View) Invoices(ctx context.Context, m billing.Month, after string, limit int) (Page, error) {
	l, err := v.state(ctx)
	if err != nil {
		return Page{}, err
	}
	if _, closed := l.closed(m); closed {
		return v.finals(ctx, m, after, limit)
	}
	return v.drafts(ctx, l, m, after, limit)
}

func (v *View) finals(ctx context.Context, m billing.Month, after string, limit int) (Page, error) {
	after, ok := strings.CutPrefix(after, finalsCursor)
	if !ok && after != "" {
		return Page{}, readmodel.ErrBadCursor
	}
	res, err := v.models.Find(ctx, Name, readmodel.Query{
		Collection: finalsCollection,
		Where:      []readmodel.Cond{{Field: "month", Op: readmodel.Eq, Value: m.String()}},
		After:      after, Limit: limit,
	})
	if err != nil {
		return Page{}, err
	}
	page := Page{Invoices: make([]billing.Invoice, len(res.Docs))}
	for i, d := range res.Docs {
		if err := json.Unmarshal(d, &page.Invoices[i]); err != nil {
			return Page{}, err
		}
	}
	if res.Next != "" {
		page.Next = finalsCursor + res.Next
	}
	return page, nil
}

func (v *View) drafts(ctx context.Context, l *state, m billing.Month, after string, limit int) (Page, error) {
	after, ok := strings.CutPrefix(after, draftsCursor)
	if !ok && after != "" {
		return Page{}, readmodel.ErrBadCursor
	}
	if l.bookErr != nil {
		return Page{}, l.bookErr
	}
	book := l.book
	var page Page
	q := openedBefore(m.Next())
	q.After = after
	for round := 0; len(page.Invoices) < limit && round < maxDraftRounds; round++ {
		// Never more accounts than invoices still wanted, so that every account of a page is
		// consumed and the store's cursor is exactly where this page stops.
		q.Limit = limit - len(page.Invoices)
		res, err := v.models.Find(ctx, Name, q)
		if err != nil {
			return Page{}, err
		}
		for _, d := range res.Docs {
			var a account
			if err := json.Unmarshal(d, &a); err != nil {
				return Page{}, err
			}
			inv, ok, err := v.draft(ctx, l, &a, m, book)
			if err != nil {
				return Page{}, err
			}
			if ok {
				page.Invoices = append(page.Invoices, inv)
			}
		}
		page.Next, q.After = res.Next, res.Next
		if res.Next == "" {
			break
		}
	}
	if page.Next != "" {
		page.Next = draftsCursor + page.Next
	}
	return page, nil
}

// openedBefore selects the accounts of contracts opened before month m: only those can owe
// anything in an earlier month.
func openedBefore(m billing.Month) readmodel.Query {
	return readmodel.Query{
		Collection: accountsCollection,
		Where:      []readmodel.Cond{{Field: "openedOn", Op: readmodel.Lt, Value: m.FirstDay().String()}},
	}
}

// Drafts serves the month close (commands.ClosingView) (CatchUp aside): the draft of m of every customer who
// owes something in m, computed with prices. The next page of accounts is read while the current
// one is computed, on every CPU.
func (v *View) Drafts(ctx context.Context, m billing.Month, prices billing.PriceList, fn func(billing.Invoice) error) error {
	l, err := v.state(ctx)
	if err != nil {
		return err
	}
	book, err := billing.NewPriceBook(prices)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	pages := make(chan []json.RawMessage, 1)
	fetched := make(chan error, 1)
	go func() {
		defer close(pages)
		q := openedBefore(m.Next())
		q.Limit = 1000
		for {
			res, err := v.models.Find(ctx, Name, q)
			if err != nil {
				fetched <- err
				return
			}
			select {
			case pages <- res.Docs:
			case <-ctx.Done():
				fetched <- ctx.Err()
				return
			}
			if res.Next == "" {
				fetched <- nil
				return
			}
			q.After = res.Next
		}
	}()
	for docs := range pages {
		drafts, err := v.draftsOf(ctx, l, docs, m, book)
		if err != nil {
			return err
		}
		for _, inv := range drafts {
			if err := fn(inv); err != nil {
				return err
			}
		}
	}
	return <-fetched
}

// draftsOf computes the drafts of m of a page of accounts, in parallel, in page order.
func (v *View) draftsOf(ctx context.Context, l *state, docs []json.RawMessage, m billing.Month, book billing.PriceBook) ([]billing.Invoice, error) {
	type result struct {
		inv billing.Invoice
		ok  bool
	}
	results := make([]result, len(docs))
	errs := make([]error, len(docs))
	workers := min(runtime.GOMAXPROCS(0), len(docs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(docs); i += workers {
				var a account
				if errs[i] = json.Unmarshal(docs[i], &a); errs[i] != nil {
					return
				}
				results[i].inv, results[i].ok, errs[i] = v.draft(ctx, l, &a, m, book)
				if errs[i] != nil {
					return
				}
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	var out []billing.Invoice
	for _, r := range results {
		if r.ok {
			out = append(out, r.inv)
		}
	}
	return out, nil
}

// draft computes the customer's draft of m, with the adjustments it carries when m is the
// customer's earliest month that is not closed.
func (v *View) draft(ctx context.Context, l *state, a *account, m billing.Month, book billing.PriceBook) (billing.Invoice, bool, error) {
	if !a.opened() {
		return billing.Invoice{}, false, nil
	}
	t := a.timeline()
	var adjustments []billing.Adjustment
	if m == l.earliestOpen(billing.MonthOf(a.OpenedOn)) {
		var err error
		if adjustments, err = v.adjustments(ctx, l, a, t); err != nil {
			return billing.Invoice{}, false, err
		}
	}
	inv, ok, err := billing.ComputeInvoice(t, book, m, adjustments...)
	if err != nil {
		return billing.Invoice{}, false, fmt.Errorf("invoice of %s for %s: %w", a.CustomerNumber, m, err)
	}
	inv.Issuer = v.issuer
	return inv, ok, nil
}

// adjustments returns what is still due for the customer's closed months (see View).
func (v *View) adjustments(ctx context.Context, l *state, a *account, t billing.Timeline) ([]billing.Adjustment, error) {
	var out []billing.Adjustment
	var issued []billing.Invoice // the customer's finals with adjustment lines, read when first needed
	for _, c := range l.closedMonths {
		if !a.revisedAfter(c.BasedOn, c.Month) {
			continue
		}
		final, _, err := v.final(ctx, a.CustomerNumber, c.Month)
		if err != nil {
			return nil, err
		}
		book, err := billing.NewPriceBook(c.PriceList)
		if err != nil {
			return nil, err
		}
		recomputed, _, err := billing.ComputeInvoice(t, book, c.Month)
		if err != nil {
			return nil, fmt.Errorf("recompute %s of %s: %w", c.Month, a.CustomerNumber, err)
		}
		if issued == nil {
			if issued, err = v.issuedAdjustments(ctx, a); err != nil {
				return nil, err
			}
		}
		if due := billing.AdjustmentDue(c.Month, final, recomputed, issued); due.Amount != 0 {
			out = append(out, due)
		}
	}
	return out, nil
}

func (v *View) issuedAdjustments(ctx context.Context, a *account) ([]billing.Invoice, error) {
	issued := make([]billing.Invoice, 0, len(a.AdjustedIn))
	for _, m := range a.AdjustedIn {
		inv, found, err := v.final(ctx, a.CustomerNumber, m)
		if err != nil {
			return nil, err
		}
		if found {
			issued = append(issued, inv)
		}
	}
	return issued, nil
}

// Feed returns final invoices in the order they were finalized (docs/billing.md), after the cursor. The
// cursor it returns points right after the last invoice returned, also at the end of the feed,
// so a consumer polls with it; the same cursor always gives the same invoices first.
func (v *View) Feed(ctx context.Context, after string, limit int) (Page, error) {
	q := readmodel.Query{Collection: finalsCollection, After: after, Limit: limit}
	res, err := v.models.Find(ctx, Name, q)
	if err != nil {
		return Page{}, err
	}
	var page Page
	atEnd := false
	for _, d := range res.Docs {
		var doc struct {
			billing.Invoice
			Tail bool `json:"tail"`
		}
		if err := json.Unmarshal(d, &doc); err != nil {
			return Page{}, err
		}
		if doc.Tail {
			atEnd = true
			continue
		}
		page.Invoices = append(page.Invoices, doc.Invoice)
	}
	if !atEnd {
		page.Next = res.Next
		return page, nil
	}
	if len(page.Invoices) == 0 {
		page.Next = after
		return page, nil
	}
	// The page ran into the tail, which moves on with every close: ask again for the invoices
	// alone, whose page then ends with a cursor before the tail, right after the last invoice.
	q.Limit = len(page.Invoices)
	res, err = v.models.Find(ctx, Name, q)
	if err != nil {
		return Page{}, err
	}
	page.Next = res.Next
	return page, nil
}

// PriceLists returns every published price list, in publication order.
func (v *View) PriceLists(ctx context.Context) ([]billing.PublishedPriceList, error) {
	l, err := v.state(ctx)
	if err != nil {
		return nil, err
	}
	return l.PriceLists, nil
}

// Closed reports whether month m is closed (with every final invoice stored) and its close.
func (v *View) Closed(ctx context.Context, m billing.Month) (billing.MonthClosed, bool, error) {
	l, err := v.state(ctx)
	if err != nil {
		return billing.MonthClosed{}, false, err
	}
	c, ok := l.closed(m)
	if !ok {
		return billing.MonthClosed{}, false, nil
	}
	return c.MonthClosed, true, nil
}

// state reads the ledger, decoding it only when it changed since the last read.
func (v *View) state(ctx context.Context) (*state, error) {
	raw, _, err := v.models.Get(ctx, Name, ledgerCollection, ledgerID)
	if err != nil {
		return nil, err
	}
	if last := v.last.Load(); last != nil && bytes.Equal(last.raw, raw) {
		return last, nil
	}
	s := &state{ledger: &ledger{}, raw: raw}
	if len(raw) > 0 {
		if err := json.Unmarshal(raw, s.ledger); err != nil {
			return nil, err
		}
	}
	s.book, s.bookErr = s.ledger.book()
	s.closedMonths = s.ledger.closedMonths()
	v.last.Store(s)
	return s, nil
}

func (v *View) account(ctx context.Context, customerNumber string) (*account, bool, error) {
	raw, found, err := v.models.Get(ctx, Name, accountsCollection, customerNumber)
	if err != nil || !found {
		return nil, false, err
	}
	var a account
	if err := json.Unmarshal(raw, &a); err != nil {
		return nil, false, err
	}
	return &a, true, nil
}

// final reads a final invoice; the zero Invoice when there is none.
func (v *View) final(ctx context.Context, customerNumber string, m billing.Month) (billing.Invoice, bool, error) {
	raw, found, err := v.models.Get(ctx, Name, finalsCollection, finalID(customerNumber, m))
	if err != nil || !found {
		return billing.Invoice{}, false, err
	}
	var inv billing.Invoice
	if err := json.Unmarshal(raw, &inv); err != nil {
		return billing.Invoice{}, false, err
	}
	return inv, true, nil
}
