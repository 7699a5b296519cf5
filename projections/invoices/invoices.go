// Package invoices is the billing read model (docs/billing.md, docs/api.md): per customer number, what the
// contract events say about billing (its Timeline, rebuilt in effective-date order whatever order
// the events arrived in); the published price lists; the closed months with their final invoices,
// in the order they were finalized (the billing feed).
//
// Draft invoices are not stored: the View computes one when asked, with billing.ComputeInvoice,
// from the customer's timeline, so a back-dated event changes every draft it touches at once.
// Final invoices are stored as the month close recorded them and never rewritten; a later event
// that changes a closed month shows as adjustment lines on the customer's earliest month that is
// not closed (see View).
//
// Documents (collections of the projection Name):
//
//	accounts/{customerNumber}        account: the billing facts of one contract
//	ledger/billing                   ledger: price lists, closed months
//	finals/{customerNumber}/{month}  billing.Invoice, final; insertion order = finalization order
//	finals/~tail                     feedTail: always the last document of finals (the feed's end)
//
// The package reads and writes only through the readmodel port, so the same code serves the
// in-memory store and PostgreSQL.
package invoices

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"yorozu/domain/billing"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's checkpoint key and consumer group: part of the storage schema.
const Name = "invoices"

const (
	accountsCollection = "accounts"
	ledgerCollection   = "ledger"
	finalsCollection   = "finals"
	ledgerID           = "billing"
	feedTailID         = "~tail"
)

// Projection keeps the billing read model.
type Projection struct {
	handlers *projections.Handlers
}

// NewProjection returns the projection, decoding with codec.
func NewProjection(codec *event.Registry) Projection {
	h := projections.NewHandlers(codec)
	projections.On(h, contractOpened)
	projections.On(h, contractChanged)
	projections.On(h, contractTerminated)
	projections.On(h, contractorDetailsChanged)
	projections.On(h, priceListPublished)
	projections.On(h, monthClosed)
	projections.On(h, invoicesFinalized)
	return Projection{handlers: h}
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return p.handlers.Apply(ctx, unit, rec)
}

func contractOpened(ctx context.Context, tx readmodel.Tx, rec event.Record, e *contract.ContractOpened) error {
	return updateAccount(ctx, tx, e.CustomerNumber, func(a *account) {
		ids, wf := e.AdditionalIDs, e.WebFiltering
		a.OpenedOn = e.OpenedOn
		a.Recipient = recipientOf(e.Contractor, e.BillingAddress)
		a.record(rec, fact{Kind: factOpened, On: e.OpenedOn, AdditionalIDs: &ids, WebFiltering: &wf, Tickets: e.TicketsBought})
	})
}

func contractChanged(ctx context.Context, tx readmodel.Tx, rec event.Record, e *contract.ContractChanged) error {
	if e.AdditionalIDs == nil && e.WebFiltering == nil && e.TicketsBought == 0 {
		return nil // a new security contact: nothing billed changes
	}
	return updateAccount(ctx, tx, e.CustomerNumber, func(a *account) {
		a.record(rec, fact{Kind: factChanged, On: e.EffectiveOn, AdditionalIDs: e.AdditionalIDs, WebFiltering: e.WebFiltering, Tickets: e.TicketsBought})
	})
}

func contractTerminated(ctx context.Context, tx readmodel.Tx, rec event.Record, e *contract.ContractTerminated) error {
	return updateAccount(ctx, tx, e.CustomerNumber, func(a *account) {
		a.record(rec, fact{Kind: factTerminated, On: e.TerminatedOn})
	})
}

// contractorDetailsChanged renames the recipient of later invoices (a transfer or a rename);
// final invoices keep the name they were issued to.
func contractorDetailsChanged(ctx context.Context, tx readmodel.Tx, _ event.Record, e *contract.ContractorDetailsChanged) error {
	if e.Contractor.Name == "" {
		return nil
	}
	return updateAccount(ctx, tx, e.CustomerNumber, func(a *account) { a.Recipient.Name = e.Contractor.Name })
}

func priceListPublished(ctx context.Context, tx readmodel.Tx, rec event.Record, e *billing.PriceListPublished) error {
	return updateLedger(ctx, tx, func(l *ledger) error {
		l.PriceLists = append(l.PriceLists, billing.PublishedPriceList{
			PriceList: e.PriceList, Number: rec.StreamVersion, PublishedAt: e.PublishedAt})
		return nil
	})
}

// monthClosed opens the record of a close; the month counts as closed once all its invoice parts
// (which follow in the same append) are recorded, so that no reader sees a closed month with
// some of its final invoices missing.
func monthClosed(ctx context.Context, tx readmodel.Tx, rec event.Record, e *billing.MonthClosed) error {
	return updateLedger(ctx, tx, func(l *ledger) error {
		if l.Months == nil {
			l.Months = map[billing.Month]*closure{}
		}
		if _, dup := l.Months[e.Month]; dup {
			return fmt.Errorf("invoices: %s closed twice", e.Month)
		}
		l.Months[e.Month] = &closure{MonthClosed: *e, Position: rec.Position}
		return nil
	})
}

func invoicesFinalized(ctx context.Context, tx readmodel.Tx, _ event.Record, e *billing.InvoicesFinalized) error {
	for i := range e.Invoices {
		inv := e.Invoice(i)
		if err := tx.Put(ctx, finalsCollection, finalID(inv.CustomerNumber, inv.Month), inv); err != nil {
			return err
		}
		if !slices.ContainsFunc(inv.Lines, func(l billing.Line) bool { return l.Kind == billing.KindAdjustment }) {
			continue
		}
		err := updateAccount(ctx, tx, inv.CustomerNumber, func(a *account) {
			if !slices.Contains(a.AdjustedIn, inv.Month) {
				a.AdjustedIn = append(a.AdjustedIn, inv.Month)
			}
		})
		if err != nil {
			return err
		}
	}
	// Deleted and put again, the tail moves behind the invoices just put: the feed's end.
	if err := tx.Delete(ctx, finalsCollection, feedTailID); err != nil {
		return err
	}
	if err := tx.Put(ctx, finalsCollection, feedTailID, feedTail{Tail: true}); err != nil {
		return err
	}
	return updateLedger(ctx, tx, func(l *ledger) error {
		c := l.Months[e.Month]
		if c == nil || e.Part != c.PartsRecorded+1 {
			return fmt.Errorf("invoices: part %d of %s out of order", e.Part, e.Month)
		}
		c.PartsRecorded++
		return nil
	})
}

// feedTail marks the end of the feed; it has no month, so month listings never see it.
type feedTail struct {
	Tail bool `json:"tail"`
}

func finalID(customerNumber string, m billing.Month) string {
	return customerNumber + "/" + m.String()
}

func updateAccount(ctx context.Context, tx readmodel.Tx, customerNumber string, change func(*account)) error {
	a := account{CustomerNumber: customerNumber}
	if err := getDoc(ctx, tx, accountsCollection, customerNumber, &a); err != nil {
		return err
	}
	change(&a)
	return tx.Put(ctx, accountsCollection, customerNumber, a)
}

func updateLedger(ctx context.Context, tx readmodel.Tx, change func(*ledger) error) error {
	var l ledger
	if err := getDoc(ctx, tx, ledgerCollection, ledgerID, &l); err != nil {
		return err
	}
	if err := change(&l); err != nil {
		return err
	}
	return tx.Put(ctx, ledgerCollection, ledgerID, l)
}

// getDoc reads a document into v; a missing document leaves v as it is.
func getDoc(ctx context.Context, tx readmodel.Tx, collection, id string, v any) error {
	raw, ok, err := tx.Get(ctx, collection, id)
	if err != nil || !ok {
		return err
	}
	return json.Unmarshal(raw, v)
}

// recipientOf addresses the invoice to the contracting company at its billing address.
func recipientOf(c contract.Contractor, b contract.BillingAddress) billing.Recipient {
	address := b.Address + b.AddressNumber
	if rest := strings.TrimSpace(b.Building + b.Floor); rest != "" {
		address += "　" + rest
	}
	return billing.Recipient{Name: c.Name, NameKana: b.RecipientKana, Department: b.RecipientDept,
		PostalCode: b.PostalCode, Address: address}
}
