// Package privacy records staff reads of customers' personal data: who looked at which
// contract or order, which lists and searches they ran, and when. Each read is an event of the
// audit trail with the reader as its actor.
//
// Reads are stored apart from the streams of the data they read, so recording one never
// conflicts with a change of that data: a read of one customer's data goes to
// CustomerStream(customerNumber) (the audit trail files it under that customer by the stream's
// name), any other read (a list, a search, an order that has no customer number yet) to
// ReaderStream(staffID). Both are appended to whatever their version, so concurrent reads never
// conflict with each other either.
package privacy

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
)

// What a read was of.
const (
	ReadContract     = "contract"     // GET one contract
	ReadHistory      = "history"      // a contract's history
	ReadAsOf         = "asOf"         // a contract's state as of a point in time
	ReadOrder        = "order"        // GET one order
	ReadOrderList    = "orderList"    // the order queue
	ReadContractList = "contractList" // a contract list or search (q=)
)

// PersonalDataRead: a staff member (Reader, also the envelope's actor) read personal data.
// CustomerNumber is set when the read concerns one customer, OrderID when it was one order.
// Query is what a list or search asked for (its query string, the search term included), and
// Shown the customer numbers (or, for orders without one, the order IDs) in the answer.
type PersonalDataRead struct {
	Reader         string    `json:"reader"`
	What           string    `json:"what"`
	CustomerNumber string    `json:"customerNumber,omitempty"`
	OrderID        uuid.UUID `json:"orderId,omitzero"`
	Query          string    `json:"query,omitempty"`
	Shown          []string  `json:"shown,omitempty"`
	At             time.Time `json:"at"`
}

// CustomerNumberOf implements event.ForCustomer.
func (e *PersonalDataRead) CustomerNumberOf() string { return e.CustomerNumber }

// Stream categories.
const (
	customerCategory = "personaldata"
	readerCategory   = "personaldatareads"
)

// CustomerStream holds the reads of one customer's data.
func CustomerStream(customerNumber string) string { return customerCategory + "-" + customerNumber }

// ReaderStream holds a staff member's reads that concern no single customer.
func ReaderStream(staffID string) string { return readerCategory + "-" + staffID }

// StreamOf is where a read is recorded.
func StreamOf(e *PersonalDataRead) string {
	if e.CustomerNumber != "" {
		return CustomerStream(e.CustomerNumber)
	}
	return ReaderStream(e.Reader)
}

// RegisterEvents adds the privacy events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*PersonalDataRead)(nil))
	r.RegisterCustomerStreams(customerCategory)
}
