package contract

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/order"
)

// The events of a contract's own stream, Stream(customerNumber). Orders on an existing contract
// (change, cancel, simpleChange) append their order events (package order) to this stream too,
// and their completion appends OrderCompleted together with the effect below, in one append.

// ContractOpened: a `new` order completed; the contract is active from OpenedOn.
type ContractOpened struct {
	CustomerNumber   string          `json:"customerNumber"`
	CommonCustomerID string          `json:"commonCustomerId"`
	OrderID          uuid.UUID       `json:"orderId"`
	OpenedOn         calendar.Date   `json:"openedOn"`
	Contractor       Contractor      `json:"contractor"`
	ContractContact  Contact         `json:"contractContact"`
	BillingAddress   BillingAddress  `json:"billingAddress"`
	BillingContact   Contact         `json:"billingContact"`
	SecurityContact  SecurityContact `json:"securityContact"`
	AdditionalIDs    int             `json:"additionalIds"`
	WebFiltering     bool            `json:"webFiltering"`
	TicketsBought    int             `json:"ticketsBought"`
	// SecurityReportPasswordSealed is the report password sealed with the deployment key.
	SecurityReportPasswordSealed []byte `json:"securityReportPasswordSealed,omitempty" secret:"sealed"`
}

// EffectiveTime is the opening date, 00:00 JST.
func (e *ContractOpened) EffectiveTime() time.Time { return e.OpenedOn.Start() }

// ContractChanged: a `change` order completed on EffectiveOn. Nil fields did not change.
type ContractChanged struct {
	CustomerNumber  string           `json:"customerNumber"`
	OrderID         uuid.UUID        `json:"orderId"`
	EffectiveOn     calendar.Date    `json:"effectiveOn"`
	AdditionalIDs   *int             `json:"additionalIds,omitempty"`
	WebFiltering    *bool            `json:"webFiltering,omitempty"`
	TicketsBought   int              `json:"ticketsBought,omitempty"`
	SecurityContact *SecurityContact `json:"securityContact,omitempty"`
	// SecurityReportPasswordSealed replaces the report password when the security contact changed.
	SecurityReportPasswordSealed []byte `json:"securityReportPasswordSealed,omitempty" secret:"sealed"`
}

// EffectiveTime is the change date, 00:00 JST.
func (e *ContractChanged) EffectiveTime() time.Time { return e.EffectiveOn.Start() }

// ContractorDetailsChanged: a `simpleChange` order completed (transfer, rename, succession,
// move, new contacts); no price changes.
type ContractorDetailsChanged struct {
	CustomerNumber  string        `json:"customerNumber"`
	OrderID         uuid.UUID     `json:"orderId"`
	EffectiveOn     calendar.Date `json:"effectiveOn"`
	Contractor      Contractor    `json:"contractor"`
	ContractContact Contact       `json:"contractContact"`
}

// EffectiveTime is the change date, 00:00 JST.
func (e *ContractorDetailsChanged) EffectiveTime() time.Time { return e.EffectiveOn.Start() }

// ContractTerminated: a `cancel` order completed; the contract and every option end on
// TerminatedOn.
type ContractTerminated struct {
	CustomerNumber string        `json:"customerNumber"`
	OrderID        uuid.UUID     `json:"orderId"`
	TerminatedOn   calendar.Date `json:"terminatedOn"`
}

// EffectiveTime is the termination date, 00:00 JST.
func (e *ContractTerminated) EffectiveTime() time.Time { return e.TerminatedOn.Start() }

// ContractViewed: a staff member read the contract's personal data (SPEC 9). Stored in
// ViewStream(customerNumber), apart from the contract's own stream, so reads never conflict
// with changes.
type ContractViewed struct {
	CustomerNumber string    `json:"customerNumber"`
	Viewer         string    `json:"viewer"`
	What           string    `json:"what"` // contract, history, asOf
	At             time.Time `json:"at"`
}

// CustomerNumberIssued: the next customer number went to a new order at its acceptance.
// Stored in NumberingStream, whose version order is the issue order.
type CustomerNumberIssued struct {
	CustomerNumber string    `json:"customerNumber"`
	OrderID        uuid.UUID `json:"orderId"`
}

// RegisterEvents adds the contract events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*ContractOpened)(nil), (*ContractChanged)(nil), (*ContractorDetailsChanged)(nil),
		(*ContractTerminated)(nil), (*ContractViewed)(nil), (*CustomerNumberIssued)(nil))
	r.RegisterCustomerStreams(streamCategory, viewStreamCategory)
}

// Stream categories named by customer number.
const (
	streamCategory     = "contract"
	viewStreamCategory = "contractview"
)

// CustomerNumberOf implements event.ForCustomer.
func (e *ContractOpened) CustomerNumberOf() string           { return e.CustomerNumber }
func (e *ContractChanged) CustomerNumberOf() string          { return e.CustomerNumber }
func (e *ContractorDetailsChanged) CustomerNumberOf() string { return e.CustomerNumber }
func (e *ContractTerminated) CustomerNumberOf() string       { return e.CustomerNumber }
func (e *ContractViewed) CustomerNumberOf() string           { return e.CustomerNumber }
func (e *CustomerNumberIssued) CustomerNumberOf() string     { return e.CustomerNumber }

// Stream is the stream of a contract.
func Stream(customerNumber string) string { return "contract-" + customerNumber }

// ViewStream records staff reads of a contract.
func ViewStream(customerNumber string) string { return "contractview-" + customerNumber }

// NumberingStream issues customer numbers.
const NumberingStream = "customernumbers-1"

// OrderStream is the stream that holds an order's events: the contract's, for an order whose ID
// carries a customer number (order.NewID), else the order's own.
func OrderStream(id uuid.UUID) string {
	if cn, ok := order.CustomerNumberIn(id); ok {
		return Stream(cn)
	}
	return order.Stream(id)
}

// CustomerNumberOfStream returns the customer number of a contract's stream; ok is false for any
// other stream.
func CustomerNumberOfStream(stream string) (string, bool) {
	const prefix = "contract-"
	if len(stream) <= len(prefix) || stream[:len(prefix)] != prefix {
		return "", false
	}
	return stream[len(prefix):], true
}
