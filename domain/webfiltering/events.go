package webfiltering

import (
	"github.com/google/uuid"

	"yorozu/domain/event"
)

// The events of a contract's policy stream, Stream(customerNumber). Each one changes the
// effective policy, so the stream version is the policy version agents see.

// WebFilteringEnabled: staff turned filtering on at the customer's request.
type WebFilteringEnabled struct {
	CustomerNumber string `json:"customerNumber"`
}

// WebFilteringDisabled: filtering went off, at the customer's request (ReasonRequested) or
// because the contract's web-filtering option ended (ReasonOptionEnded).
type WebFilteringDisabled struct {
	CustomerNumber string `json:"customerNumber"`
	Reason         string `json:"reason"`
}

// Reasons of a WebFilteringDisabled.
const (
	ReasonRequested   = "requested"
	ReasonOptionEnded = "optionEnded"
)

// WebFilteringEntryAdded: an allow-list or block-list entry, by item or by URL (one of the two).
type WebFilteringEntryAdded struct {
	CustomerNumber string    `json:"customerNumber"`
	EntryID        uuid.UUID `json:"entryId"`
	List           List      `json:"list"`
	Item           Item      `json:"item,omitempty"`
	URL            string    `json:"url,omitempty"`
}

// WebFilteringEntryRemoved: an entry was taken off its list.
type WebFilteringEntryRemoved struct {
	CustomerNumber string    `json:"customerNumber"`
	EntryID        uuid.UUID `json:"entryId"`
}

// CustomerNumberOf implements event.ForCustomer.
func (e *WebFilteringEnabled) CustomerNumberOf() string      { return e.CustomerNumber }
func (e *WebFilteringDisabled) CustomerNumberOf() string     { return e.CustomerNumber }
func (e *WebFilteringEntryAdded) CustomerNumberOf() string   { return e.CustomerNumber }
func (e *WebFilteringEntryRemoved) CustomerNumberOf() string { return e.CustomerNumber }

// StreamCategory is the category of the policy streams, named by customer number.
const StreamCategory = "webfiltering"

// Stream is the policy stream of a contract.
func Stream(customerNumber string) string { return StreamCategory + "-" + customerNumber }

// RegisterEvents adds the web-filtering events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*WebFilteringEnabled)(nil), (*WebFilteringDisabled)(nil), (*WebFilteringEntryAdded)(nil),
		(*WebFilteringEntryRemoved)(nil))
	r.RegisterCustomerStreams(StreamCategory)
}
