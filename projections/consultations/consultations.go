// Package consultations is the help desk's read model: every consultation as the
// domain's own Consultation.Evolve folds it, with what the queue is searched by (status, month of
// receipt, when it counts as overdue) and the change order that buys its ticket quote; the phone
// calls, for the report of calls over 30 minutes; and per contract the last consultation, for the
// list of customers to call because they have not consulted for three months.
//
// Documents (collections of the projection Name):
//
//	consultations/{consultationId}  View
//	calls/{consultationId}/{n}       Call: n = 0 the call of the intake, n >= 1 the n-th reply
//	quiet/{customerNumber}          Quiet
//	ticketorders/{orderId}           the consultation a change order buys the tickets of
package consultations

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/consultation"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's name: part of the storage schema.
const Name = "consultations"

const (
	consultationsCollection = "consultations"
	callsCollection         = "calls"
	quietCollection         = "quiet"
	ticketOrdersCollection  = "ticketorders"
)

// InstantLayout is the fixed-width UTC form of the instants queries compare as strings.
const InstantLayout = "2006-01-02T15:04:05.000000Z"

// never is the overdueFrom of a consultation that will never be overdue: it sorts after every
// instant, so "overdue at t" is overdueFrom < t and "not overdue" is overdueFrom >= t.
const never = "never"

// View is one consultation as the read model keeps it.
type View struct {
	consultation.Consultation
	// ReceivedMonth is the month of receipt in JST (YYYY-MM), for the statistics.
	ReceivedMonth string `json:"receivedMonth"`
	// OverdueFrom is OverdueFrom() in InstantLayout, or "never".
	OverdueFrom string `json:"overdueFrom"`
	// TicketOrder is the change order that buys the ticket quote, once one names the consultation.
	TicketOrder *TicketOrder `json:"ticketOrder,omitempty"`
}

// TicketOrder is the change order buying a consultation's tickets, as far as it has come.
type TicketOrder struct {
	OrderID uuid.UUID    `json:"orderId"`
	Status  order.Status `json:"status"`
	// Tickets is the number the order buys (it may differ from the quote).
	Tickets int `json:"tickets"`
}

// Call is one recorded phone call of a consultation: the intake's, or a reply by phone.
type Call struct {
	ConsultationID uuid.UUID `json:"consultationId"`
	CustomerNumber string    `json:"customerNumber"`
	// Kind is "intake" or "callback".
	Kind    string    `json:"kind"`
	At      time.Time `json:"at"`
	Minutes int       `json:"durationMinutes"`
	// Month is the JST month of the call, Long whether it took longer than consultation.LongCall.
	Month string `json:"month"`
	Long  bool   `json:"long"`
}

// Quiet is, per contract, when it last consulted the help desk.
type Quiet struct {
	CustomerNumber string          `json:"customerNumber"`
	CompanyName    string          `json:"companyName"`
	Status         contract.Status `json:"status"`
	OpenedOn       calendar.Date   `json:"openedOn"`
	// LastConsultationAt is the receipt of its latest accepted consultation (zero: none yet).
	LastConsultationAt time.Time `json:"lastConsultationAt,omitzero"`
	// QuietSince is the JST date of LastConsultationAt, or the opening date if it never consulted.
	QuietSince calendar.Date `json:"quietSince"`
}

// Projection builds the read model.
type Projection struct {
	handlers *projections.Handlers
}

// NewProjection returns the projection, decoding with codec.
func NewProjection(codec *event.Registry) Projection {
	h := projections.NewHandlers(codec)
	for _, fn := range []func(*projections.Handlers){
		on[consultation.ConsultationReceived], on[consultation.ConsultationRejected], on[consultation.ConsultationTriaged],
		on[consultation.ConsultationAnswered], on[consultation.ConsultationClosed], on[consultation.ConsultationReopened],
		on[consultation.TicketsQuoted],
	} {
		fn(h)
	}
	projections.On(h, contractOpened)
	projections.On(h, contractorDetailsChanged)
	projections.On(h, contractTerminated)
	projections.On(h, orderReceived)
	projections.On(h, orderAmended)
	projections.On(h, orderStatus[order.OrderAccepted](order.StatusAccepted))
	projections.On(h, orderStatus[order.OpeningNoticeSent](order.StatusNoticeSent))
	projections.On(h, orderStatus[order.OrderCompleted](order.StatusCompleted))
	projections.On(h, orderStatus[order.OrderWithdrawn](order.StatusWithdrawn))
	return Projection{handlers: h}
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return p.handlers.Apply(ctx, unit, rec)
}

// on registers the fold of a consultation event type.
func on[E any](h *projections.Handlers) {
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *E) error {
		return applyConsultation(ctx, tx, rec, any(e))
	})
}

func get[T any](ctx context.Context, tx readmodel.Tx, collection, id string) (T, bool, error) {
	var v T
	raw, found, err := tx.Get(ctx, collection, id)
	if err != nil || !found {
		return v, found, err
	}
	return v, true, json.Unmarshal(raw, &v)
}

// applyConsultation folds one event of a consultation's stream, which must be the next one.
func applyConsultation(ctx context.Context, tx readmodel.Tx, rec event.Record, e any) error {
	id := e.(consultation.Event).ConsultationIDOf()
	v, _, err := get[View](ctx, tx, consultationsCollection, id.String())
	if err != nil {
		return err
	}
	if err := projections.NextInStream(rec, v.Version); err != nil {
		return err
	}
	v.Consultation = v.Consultation.Evolve(e)
	v.ReceivedMonth = v.ReceivedAt.In(calendar.JST()).Format("2006-01")
	v.OverdueFrom = never
	if from, ok := v.Consultation.OverdueFrom(); ok {
		v.OverdueFrom = from.UTC().Format(InstantLayout)
	}
	if err := tx.Put(ctx, consultationsCollection, id.String(), v); err != nil {
		return err
	}
	switch e := e.(type) {
	case *consultation.ConsultationReceived:
		if e.CallMinutes != nil {
			if err := putCall(ctx, tx, v, 0, "intake", e.ReceivedAt, *e.CallMinutes); err != nil {
				return err
			}
		}
		return consulted(ctx, tx, e.CustomerNumber, e.ReceivedAt)
	case *consultation.ConsultationAnswered:
		if e.CallMinutes != nil {
			return putCall(ctx, tx, v, len(v.Replies), "callback", e.AnsweredAt, *e.CallMinutes)
		}
	}
	return nil
}

func putCall(ctx context.Context, tx readmodel.Tx, v View, n int, kind string, at time.Time, minutes int) error {
	c := Call{ConsultationID: v.ConsultationID, CustomerNumber: v.CustomerNumber, Kind: kind, At: at.UTC(), Minutes: minutes,
		Month: at.In(calendar.JST()).Format("2006-01"), Long: time.Duration(minutes)*time.Minute > consultation.LongCall}
	return tx.Put(ctx, callsCollection, fmt.Sprintf("%s/%d", v.ConsultationID, n), c)
}

// consulted moves a contract's last consultation forward (consultations may be recorded out of
// order of receipt).
func consulted(ctx context.Context, tx readmodel.Tx, customerNumber string, at time.Time) error {
	q, found, err := get[Quiet](ctx, tx, quietCollection, customerNumber)
	if err != nil || !found || !at.After(q.LastConsultationAt) {
		return err
	}
	q.LastConsultationAt = at.UTC()
	if d := calendar.DateOf(at); d.After(q.QuietSince) {
		q.QuietSince = d
	}
	return tx.Put(ctx, quietCollection, customerNumber, q)
}

func contractOpened(ctx context.Context, tx readmodel.Tx, _ event.Record, e *contract.ContractOpened) error {
	q, _, err := get[Quiet](ctx, tx, quietCollection, e.CustomerNumber)
	if err != nil {
		return err
	}
	q.CustomerNumber, q.CompanyName, q.Status, q.OpenedOn = e.CustomerNumber, e.Contractor.Name, contract.StatusActive, e.OpenedOn
	if q.QuietSince.Before(e.OpenedOn) {
		q.QuietSince = e.OpenedOn
	}
	return tx.Put(ctx, quietCollection, e.CustomerNumber, q)
}

func updateQuiet(ctx context.Context, tx readmodel.Tx, customerNumber string, change func(*Quiet)) error {
	q, found, err := get[Quiet](ctx, tx, quietCollection, customerNumber)
	if err != nil || !found {
		return err
	}
	change(&q)
	return tx.Put(ctx, quietCollection, customerNumber, q)
}

func contractorDetailsChanged(ctx context.Context, tx readmodel.Tx, _ event.Record, e *contract.ContractorDetailsChanged) error {
	return updateQuiet(ctx, tx, e.CustomerNumber, func(q *Quiet) { q.CompanyName = e.Contractor.Name })
}

func contractTerminated(ctx context.Context, tx readmodel.Tx, _ event.Record, e *contract.ContractTerminated) error {
	return updateQuiet(ctx, tx, e.CustomerNumber, func(q *Quiet) { q.Status = contract.StatusTerminated })
}

// linkOf reads the consultation an order form names; false when it names none that parses.
func linkOf(f order.Form) (uuid.UUID, bool) {
	if f.ConsultationID == nil {
		return uuid.Nil, false
	}
	id, err := uuid.Parse(*f.ConsultationID)
	return id, err == nil
}

func orderReceived(ctx context.Context, tx readmodel.Tx, _ event.Record, e *order.OrderReceived) error {
	return linkOrder(ctx, tx, e.OrderID, e.Form, order.StatusReceived)
}

func orderAmended(ctx context.Context, tx readmodel.Tx, _ event.Record, e *order.OrderAmended) error {
	prev, linked, err := get[uuid.UUID](ctx, tx, ticketOrdersCollection, e.OrderID.String())
	if err != nil {
		return err
	}
	status := order.StatusReceived
	if linked {
		v, found, err := get[View](ctx, tx, consultationsCollection, prev.String())
		if err != nil {
			return err
		}
		if found && v.TicketOrder != nil && v.TicketOrder.OrderID == e.OrderID {
			status = v.TicketOrder.Status
			v.TicketOrder = nil // the amended form may name another consultation, or none
			if err := tx.Put(ctx, consultationsCollection, prev.String(), v); err != nil {
				return err
			}
		}
		if err := tx.Delete(ctx, ticketOrdersCollection, e.OrderID.String()); err != nil {
			return err
		}
	}
	return linkOrder(ctx, tx, e.OrderID, e.Form, status)
}

func linkOrder(ctx context.Context, tx readmodel.Tx, orderID uuid.UUID, f order.Form, status order.Status) error {
	id, ok := linkOf(f)
	if !ok {
		return nil
	}
	v, found, err := get[View](ctx, tx, consultationsCollection, id.String())
	if err != nil || !found {
		return err // the use case checked it exists; nothing to show otherwise
	}
	tickets := 0
	if f.SecurityTicketCount != nil {
		tickets = *f.SecurityTicketCount
	}
	v.TicketOrder = &TicketOrder{OrderID: orderID, Status: status, Tickets: tickets}
	if err := tx.Put(ctx, consultationsCollection, id.String(), v); err != nil {
		return err
	}
	return tx.Put(ctx, ticketOrdersCollection, orderID.String(), id)
}

// orderStatus follows the order buying a consultation's tickets through its lifecycle.
func orderStatus[E any](status order.Status) func(context.Context, readmodel.Tx, event.Record, *E) error {
	return func(ctx context.Context, tx readmodel.Tx, _ event.Record, e *E) error {
		orderID := any(e).(order.Event).OrderIDOf()
		id, linked, err := get[uuid.UUID](ctx, tx, ticketOrdersCollection, orderID.String())
		if err != nil || !linked {
			return err
		}
		v, found, err := get[View](ctx, tx, consultationsCollection, id.String())
		if err != nil || !found || v.TicketOrder == nil || v.TicketOrder.OrderID != orderID {
			return err
		}
		v.TicketOrder.Status = status
		return tx.Put(ctx, consultationsCollection, id.String(), v)
	}
}
