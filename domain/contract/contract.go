package contract

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/order"
)

// Status of a contract.
type Status string

const (
	StatusActive     Status = "active"
	StatusTerminated Status = "terminated"
)

// IncludedIDs are the health-check IDs of the basic menu.
const IncludedIDs = 5

var (
	// ErrNotFound: no contract has that customer number.
	ErrNotFound = errors.New("contract: not found")
	// ErrOrderOpen: the contract already has an open order (docs/product.md: at most one).
	ErrOrderOpen = errors.New("contract: another order of this contract is still open")
)

// Contract is the state of one contract, folded from its stream.
type Contract struct {
	CustomerNumber   string          `json:"customerNumber"`
	CommonCustomerID string          `json:"commonCustomerId"`
	Status           Status          `json:"status"`
	OpenedOn         calendar.Date   `json:"openedOn"`
	TerminatedOn     calendar.Date   `json:"terminatedOn"`
	AdditionalIDs    int             `json:"additionalIds"`
	WebFiltering     bool            `json:"webFiltering"`
	TicketsPurchased int             `json:"ticketsPurchased"`
	Contractor       Contractor      `json:"contractor"`
	ContractContact  Contact         `json:"contractContact"`
	BillingAddress   BillingAddress  `json:"billingAddress"`
	BillingContact   Contact         `json:"billingContact"`
	SecurityContact  SecurityContact `json:"securityContact"`
	// OpenOrder is the order of this contract that is neither completed nor withdrawn.
	OpenOrder uuid.UUID `json:"openOrder,omitzero"`
	// Version is the stream version folded so far.
	Version uint64 `json:"version"`
}

// Exists reports whether the contract was opened.
func (c Contract) Exists() bool { return c.Status != "" }

// TotalIDs is the base IDs plus the additional ones.
func (c Contract) TotalIDs() int { return IncludedIDs + c.AdditionalIDs }

// Evolve applies one event of the contract's stream (its own or an order's) and counts it.
func (c Contract) Evolve(e any) Contract {
	c.Version++
	switch e := e.(type) {
	case *ContractOpened:
		c = Contract{
			CustomerNumber: e.CustomerNumber, CommonCustomerID: e.CommonCustomerID, Status: StatusActive,
			OpenedOn: e.OpenedOn, AdditionalIDs: e.AdditionalIDs, WebFiltering: e.WebFiltering,
			TicketsPurchased: e.TicketsBought, Contractor: e.Contractor, ContractContact: e.ContractContact,
			BillingAddress: e.BillingAddress, BillingContact: e.BillingContact, SecurityContact: e.SecurityContact,
			Version: c.Version,
		}
	case *ContractChanged:
		if e.AdditionalIDs != nil {
			c.AdditionalIDs = *e.AdditionalIDs
		}
		if e.WebFiltering != nil {
			c.WebFiltering = *e.WebFiltering
		}
		c.TicketsPurchased += e.TicketsBought
		if e.SecurityContact != nil {
			c.SecurityContact = *e.SecurityContact
		}
	case *ContractorDetailsChanged:
		c.Contractor, c.ContractContact = e.Contractor, e.ContractContact
	case *ContractTerminated:
		c.Status, c.TerminatedOn = StatusTerminated, e.TerminatedOn
		c.WebFiltering, c.AdditionalIDs = false, 0
	case *order.OrderReceived:
		c.OpenOrder = e.OrderID
	case *order.OrderCompleted:
		if c.OpenOrder == e.OrderID {
			c.OpenOrder = uuid.Nil
		}
	case *order.OrderWithdrawn:
		if c.OpenOrder == e.OrderID {
			c.OpenOrder = uuid.Nil
		}
	}
	return c
}

// Facts are what the form's cross-checks need to know of the contract.
func (c Contract) Facts() order.ContractFacts {
	return order.ContractFacts{
		Exists: c.Exists(), Active: c.Status == StatusActive, CommonCustomerID: c.CommonCustomerID,
		ContractorName: c.Contractor.Name, AdditionalIDs: c.AdditionalIDs, WebFiltering: c.WebFiltering,
	}
}

// ReceiveOrder decides the receipt of an order on this contract (change, cancel, simpleChange).
// The form was validated against c.Facts() by the caller.
func (c Contract) ReceiveOrder(id uuid.UUID, f order.Form, secrets order.Secrets, now time.Time) (*order.OrderReceived, error) {
	if !c.Exists() {
		return nil, ErrNotFound
	}
	if c.OpenOrder != uuid.Nil {
		return nil, fmt.Errorf("%w: order %s", ErrOrderOpen, c.OpenOrder)
	}
	return order.Receive(id, f, secrets, now), nil
}

// Open decides the contract a completed new order opens. The completion events come from
// o.Complete; opened is their last (the OrderCompleted).
func Open(o order.Order, completed *order.OrderCompleted) *ContractOpened {
	f := o.Form
	e := &ContractOpened{
		CustomerNumber: completed.CustomerNumber, OrderID: o.ID, OpenedOn: completed.CompletedOn,
		Contractor: ContractorOf(f.Contractor), ContractContact: ContactOf(f.ContractContact),
		BillingAddress: BillingAddressOf(f.BillingAddress), BillingContact: ContactOf(f.BillingContact),
		SecurityContact: SecurityContactOf(f.SecurityContact), SecurityReportPasswordSealed: o.Secrets.SecurityReportPasswordSealed,
	}
	if f.CommonCustomerID != nil {
		e.CommonCustomerID = *f.CommonCustomerID
	}
	if f.HealthCheckIDAddition != nil && *f.HealthCheckIDAddition == order.UsageUse && f.AdditionalIDs != nil {
		e.AdditionalIDs = *f.AdditionalIDs
	}
	e.WebFiltering = f.WebFiltering != nil && *f.WebFiltering == order.UsageUse
	if f.SecurityTicketApplication != nil && *f.SecurityTicketApplication == order.TicketYes && f.SecurityTicketCount != nil {
		e.TicketsBought = *f.SecurityTicketCount
	}
	return e
}

// Effect decides what a completed order of this contract changes (change, cancel, simpleChange).
func Effect(o order.Order, completed *order.OrderCompleted) any {
	f, on := o.Form, completed.CompletedOn
	switch o.Type {
	case order.TypeCancel:
		return &ContractTerminated{CustomerNumber: o.CustomerNumber, OrderID: o.ID, TerminatedOn: on}
	case order.TypeSimpleChange:
		return &ContractorDetailsChanged{CustomerNumber: o.CustomerNumber, OrderID: o.ID, EffectiveOn: on,
			Contractor: ContractorOf(f.Contractor), ContractContact: ContactOf(f.ContractContact)}
	}
	e := &ContractChanged{CustomerNumber: o.CustomerNumber, OrderID: o.ID, EffectiveOn: on}
	ch := f.Changes
	if ch == nil {
		return e
	}
	if ch.HealthCheckIDs != nil && *ch.HealthCheckIDs {
		n := 0
		if f.HealthCheckIDChange != nil && *f.HealthCheckIDChange != order.IDChangeEnd && f.IDsAfterChange != nil {
			n = *f.IDsAfterChange
		}
		e.AdditionalIDs = &n
	}
	if ch.WebFiltering != nil && *ch.WebFiltering && f.WebFiltering != nil {
		on := *f.WebFiltering == order.UsageUse
		e.WebFiltering = &on
	}
	if ch.SecurityTickets != nil && *ch.SecurityTickets && f.SecurityTicketCount != nil {
		e.TicketsBought = *f.SecurityTicketCount
	}
	if ch.SecurityContact != nil && *ch.SecurityContact {
		sc := SecurityContactOf(f.SecurityContact)
		e.SecurityContact = &sc
		e.SecurityReportPasswordSealed = o.Secrets.SecurityReportPasswordSealed
	}
	return e
}

// ErrNumbersExhausted: all nine-digit customer numbers are used.
var ErrNumbersExhausted = errors.New("contract: customer numbers exhausted")

// CustomerNumberAt is the number issued by the event at version v of NumberingStream: numbers
// follow the stream, so they are unique, increasing and never reused (a number whose order was
// never accepted stays unused).
func CustomerNumberAt(v uint64) (string, error) {
	if v == 0 || v > 999_999_999 {
		return "", ErrNumbersExhausted
	}
	return fmt.Sprintf("N%09d", v), nil
}

// NumberVersion is the inverse of CustomerNumberAt: the version of NumberingStream whose event
// issued customerNumber, if it has the form of one.
func NumberVersion(customerNumber string) (uint64, bool) {
	if len(customerNumber) != 10 || customerNumber[0] != 'N' {
		return 0, false
	}
	var v uint64
	for _, c := range customerNumber[1:] {
		if c < '0' || c > '9' {
			return 0, false
		}
		v = v*10 + uint64(c-'0')
	}
	return v, v > 0
}
