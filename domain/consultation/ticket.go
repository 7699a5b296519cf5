package consultation

import (
	"github.com/google/uuid"

	"yorozu/domain/order"
)

// Codes of the order form's consultationId field, beside the form's own (domain/order).
const (
	// CodeNoTicketQuote: the consultation has no ticket quote to buy.
	CodeNoTicketQuote = "noTicketQuote"
)

// TicketOrderLink reads the consultationId of an order form: the consultation whose ticket quote
// the order buys. ok is false when the form names none. The form's own rules for the field are
// here because it concerns consultations: only a change order that buys tickets
// (changes.securityTickets true) may name one, as a UUID.
func TicketOrderLink(f order.Form) (id uuid.UUID, ok bool, errs order.FieldErrors) {
	if f.ConsultationID == nil {
		return uuid.Nil, false, nil
	}
	field := "consultationId"
	buysTickets := f.Changes != nil && f.Changes.SecurityTickets != nil && *f.Changes.SecurityTickets
	switch {
	case f.Type != order.TypeChange:
		return uuid.Nil, false, order.FieldErrors{{Field: field, Code: order.CodeMustBeAbsent, Message: "must be absent on a " + string(f.Type) + " order: only a change order buys a consultation's tickets"}}
	case !buysTickets:
		return uuid.Nil, false, order.FieldErrors{{Field: field, Code: order.CodeMustBeAbsent, Message: "must be absent when changes.securityTickets is not true"}}
	}
	id, err := uuid.Parse(*f.ConsultationID)
	if err != nil {
		return uuid.Nil, false, order.FieldErrors{{Field: field, Code: order.CodeInvalidFormat, Message: "must be the consultationId of a consultation (a UUID)"}}
	}
	return id, true, nil
}

// CheckTicketOrder checks that c is a consultation the order form may buy the tickets of: it
// exists, belongs to the order's contract and has a ticket quote. The order may buy another
// number of tickets than quoted (the customer decides); the consultation shows both.
func (c Consultation) CheckTicketOrder(f order.Form) order.FieldErrors {
	field := "consultationId"
	switch {
	case !c.Exists() || c.Status == StatusRejected:
		return order.FieldErrors{{Field: field, Code: order.CodeNotFound, Message: "no consultation has this ID"}}
	case f.CustomerNumber == nil || *f.CustomerNumber != c.CustomerNumber:
		return order.FieldErrors{{Field: field, Code: order.CodeMismatch, Message: "is a consultation of another customer"}}
	case c.TicketQuote == nil:
		return order.FieldErrors{{Field: field, Code: CodeNoTicketQuote, Message: "the consultation has no ticket quote"}}
	}
	return nil
}
