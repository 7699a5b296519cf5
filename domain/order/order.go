// Package order is the application form (申込) and its lifecycle (SPEC 2): the form's rules, and
// the Order aggregate that decides receive, amend, accept, opening notice, completion and
// withdrawal. It is pure: the clock's reading and the business calendar are passed in.
package order

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
)

// Status is where an order is in its lifecycle.
type Status string

const (
	StatusReceived   Status = "received"
	StatusAccepted   Status = "accepted"
	StatusNoticeSent Status = "noticeSent"
	StatusCompleted  Status = "completed"
	StatusWithdrawn  Status = "withdrawn"
)

// Open reports whether the order still counts against "one open order per contract".
func (s Status) Open() bool { return s != StatusCompleted && s != StatusWithdrawn && s != "" }

var (
	// ErrNotFound: no order with that ID.
	ErrNotFound = errors.New("order: not found")
	// ErrInvalidTransition: the order's status does not allow the operation.
	ErrInvalidTransition = errors.New("order: not allowed in its current status")
	// ErrTooEarly: completing before the scheduled date.
	ErrTooEarly = errors.New("order: scheduled date not reached")
	// ErrTypeChanged: an amendment may not change the order type or its contract.
	ErrTypeChanged = errors.New("order: an amendment cannot change the order type or customer number")
)

// LeadTime is the number of business days between acceptance day and the earliest date.
func (t Type) LeadTime() int {
	switch t {
	case TypeNew, TypeChange:
		return 8
	case TypeCancel:
		return 5
	case TypeSimpleChange:
		return 6
	}
	return 0
}

// HasOpeningNotice reports whether the type sends an opening notice (new and change).
func (t Type) HasOpeningNotice() bool { return t == TypeNew || t == TypeChange }

// Order is the state of one order, folded from its events.
type Order struct {
	ID             uuid.UUID     `json:"orderId"`
	Type           Type          `json:"type"`
	Status         Status        `json:"status"`
	CustomerNumber string        `json:"customerNumber,omitempty"`
	Form           Form          `json:"form"`
	Secrets        Secrets       `json:"-"`
	ReceivedAt     time.Time     `json:"receivedAt"`
	AcceptedAt     time.Time     `json:"acceptedAt,omitzero"`
	AcceptanceDay  calendar.Date `json:"acceptanceDay"`
	EarliestDate   calendar.Date `json:"earliestDate"`
	ScheduledDate  calendar.Date `json:"scheduledDate"`
	NoticeSentAt   time.Time     `json:"noticeSentAt,omitzero"`
	CompletedOn    calendar.Date `json:"completedOn"`
	WithdrawnAt    time.Time     `json:"withdrawnAt,omitzero"`
	// Version counts this order's events (the If-Match version of the order).
	Version uint64 `json:"version"`
}

// Exists reports whether the order was received.
func (o Order) Exists() bool { return o.Status != "" }

// Evolve applies one event of this order; events of other orders leave it unchanged.
func (o Order) Evolve(e any) Order {
	switch e := e.(type) {
	case *OrderReceived:
		if o.Exists() {
			return o
		}
		o = Order{ID: e.OrderID, Type: e.Type, Status: StatusReceived, CustomerNumber: e.CustomerNumber,
			Form: e.Form, Secrets: e.Secrets, ReceivedAt: e.ReceivedAt}
	case *OrderAmended:
		if e.OrderID != o.ID {
			return o
		}
		o.Form, o.Secrets = e.Form, e.Secrets
		if !e.ScheduledDate.IsZero() {
			o.ScheduledDate = e.ScheduledDate
		}
	case *OrderAccepted:
		if e.OrderID != o.ID {
			return o
		}
		o.Status, o.CustomerNumber, o.AcceptedAt = StatusAccepted, e.CustomerNumber, e.AcceptedAt
		o.AcceptanceDay, o.EarliestDate, o.ScheduledDate = e.AcceptanceDay, e.EarliestDate, e.ScheduledDate
	case *OpeningNoticeSent:
		if e.OrderID != o.ID {
			return o
		}
		o.Status, o.NoticeSentAt = StatusNoticeSent, e.SentAt
	case *OrderCompleted:
		if e.OrderID != o.ID {
			return o
		}
		o.Status, o.CompletedOn = StatusCompleted, e.CompletedOn
	case *OrderWithdrawn:
		if e.OrderID != o.ID {
			return o
		}
		o.Status, o.WithdrawnAt = StatusWithdrawn, e.WithdrawnAt
	default:
		return o
	}
	o.Version++
	return o
}

// Of folds the events of one order out of a stream that may hold other orders' events too.
func Of(id uuid.UUID, events []any) Order {
	var o Order
	for _, e := range events {
		if r, ok := e.(*OrderReceived); ok && r.OrderID != id {
			continue
		}
		o = o.Evolve(e)
	}
	return o
}

// appliedOn is the form's application date, zero if it has none.
func (f Form) appliedOn() calendar.Date {
	if f.AppliedOn == nil {
		return calendar.Date{}
	}
	d, err := calendar.ParseFormDate(*f.AppliedOn)
	if err != nil {
		return calendar.Date{}
	}
	return d
}

// desired is the form's desired date, zero for types without one.
func (f Form) desired() calendar.Date {
	if f.DesiredDate == nil {
		return calendar.Date{}
	}
	d, err := calendar.ParseFormDate(*f.DesiredDate)
	if err != nil {
		return calendar.Date{}
	}
	return d
}

// Receive decides the receipt of a valid form. The caller has validated the form (DecodeForm,
// CheckAgainstContract) and turned its passwords into Secrets.
func Receive(id uuid.UUID, f Form, secrets Secrets, now time.Time) *OrderReceived {
	cn := ""
	if f.CustomerNumber != nil {
		cn = *f.CustomerNumber
	}
	return &OrderReceived{OrderID: id, Type: f.Type, CustomerNumber: cn, Form: f.Redacted(), Secrets: secrets, ReceivedAt: now.UTC()}
}

// Amendable reports whether the form may still be replaced: until the opening notice for new
// and change orders, until completion for cancel and simple change.
func (o Order) Amendable() bool {
	switch o.Status {
	case StatusReceived, StatusAccepted:
		return true
	}
	return false
}

// Amend decides replacing the form. An accepted order keeps its earliest date; its scheduled
// date follows the new desired date.
func (o Order) Amend(f Form, secrets Secrets, now time.Time) (*OrderAmended, error) {
	if !o.Exists() {
		return nil, ErrNotFound
	}
	if !o.Amendable() {
		return nil, fmt.Errorf("%w: %s order is %s", ErrInvalidTransition, o.Type, o.Status)
	}
	if f.Type != o.Type || (o.Type != TypeNew && (f.CustomerNumber == nil || *f.CustomerNumber != o.CustomerNumber)) {
		return nil, ErrTypeChanged
	}
	e := &OrderAmended{OrderID: o.ID, CustomerNumber: o.CustomerNumber, Form: f.Redacted(), Secrets: secrets, AmendedAt: now.UTC()}
	if o.Status == StatusAccepted {
		e.ScheduledDate = scheduled(f.desired(), o.EarliestDate)
	}
	return e, nil
}

func scheduled(desired, earliest calendar.Date) calendar.Date {
	if desired.After(earliest) {
		return desired
	}
	return earliest
}

// ClockSkew is how far past the present an acceptance time may lie: the clocks of the staff's
// machines and of the service disagree by that much at most.
const ClockSkew = 5 * time.Minute

// Accept decides acceptance (受理) at acceptedAt, the clock reading now. customerNumber is the
// contract's number; for a new order the one issued now.
//
// acceptedAt may be back-dated (paper forms are entered later) but not before the form's
// appliedOn day (from 00:00 JST) nor after now plus ClockSkew: FieldErrors on "acceptedAt"
// otherwise.
func (o Order) Accept(acceptedAt, now time.Time, customerNumber string, cal *calendar.BusinessCalendar) (*OrderAccepted, error) {
	if !o.Exists() {
		return nil, ErrNotFound
	}
	if o.Status != StatusReceived {
		return nil, fmt.Errorf("%w: the order is %s", ErrInvalidTransition, o.Status)
	}
	if errs := o.checkAcceptedAt(acceptedAt, now); len(errs) > 0 {
		return nil, errs
	}
	day := cal.AcceptanceDay(acceptedAt)
	earliest := cal.AddBusinessDays(day, o.Type.LeadTime())
	return &OrderAccepted{
		OrderID: o.ID, CustomerNumber: customerNumber, AcceptedAt: acceptedAt.UTC(),
		AcceptanceDay: day, EarliestDate: earliest, ScheduledDate: scheduled(o.Form.desired(), earliest),
	}, nil
}

// checkAcceptedAt applies the bounds of an acceptance time. The lower bound is the form's
// appliedOn day; since appliedOn lies in the years calendar.FirstYear to LastYear and the upper
// bound is the present, every date derived from an accepted time (acceptance day, earliest and
// scheduled dates) can be stored and read back.
func (o Order) checkAcceptedAt(acceptedAt, now time.Time) FieldErrors {
	if latest := now.Add(ClockSkew); acceptedAt.After(latest) {
		return FieldErrors{{Field: "acceptedAt", Code: CodeInFuture,
			Message: fmt.Sprintf("must not be later than the present (%s, %s of clock skew allowed)", now.UTC().Format(time.RFC3339), ClockSkew)}}
	}
	applied := o.Form.appliedOn()
	if applied.IsZero() {
		// Only a form that passed Validate is received, and it has appliedOn; an order without
		// one can only be a test's, and then no lower bound is known beyond the service's years.
		if !calendar.InstantInServiceRange(acceptedAt) {
			return FieldErrors{{Field: "acceptedAt", Code: CodeOutOfRange,
				Message: fmt.Sprintf("must fall in the years %d to %d", calendar.FirstYear, calendar.LastYear)}}
		}
		return nil
	}
	if acceptedAt.Before(applied.Start()) {
		return FieldErrors{{Field: "acceptedAt", Code: CodeBeforeAppliedOn,
			Message: fmt.Sprintf("must not be before the form's appliedOn day (%s, from 00:00 JST)", applied)}}
	}
	return nil
}

// NoticeDue is the day the opening notice goes out: one business day before the scheduled date.
func (o Order) NoticeDue(cal *calendar.BusinessCalendar) calendar.Date {
	return cal.AddBusinessDays(o.ScheduledDate, -1)
}

// SendNotice decides recording the opening notice. It is idempotent: an order whose notice is
// already out (or that completed) yields nothing.
func (o Order) SendNotice(at time.Time) (*OpeningNoticeSent, error) {
	switch {
	case !o.Exists():
		return nil, ErrNotFound
	case !o.Type.HasOpeningNotice():
		return nil, fmt.Errorf("%w: a %s order has no opening notice", ErrInvalidTransition, o.Type)
	case o.Status == StatusNoticeSent || o.Status == StatusCompleted:
		return nil, nil
	case o.Status != StatusAccepted:
		return nil, fmt.Errorf("%w: the order is %s", ErrInvalidTransition, o.Status)
	}
	return &OpeningNoticeSent{OrderID: o.ID, CustomerNumber: o.CustomerNumber, SentAt: at.UTC()}, nil
}

// Complete decides completion on today (a JST date). It takes effect on the scheduled date, not
// today, and is idempotent: a completed order yields nothing. A new or change order completed
// without a recorded notice gets its notice recorded first: it was due a business day ago.
func (o Order) Complete(today calendar.Date, now time.Time) ([]any, error) {
	switch {
	case !o.Exists():
		return nil, ErrNotFound
	case o.Status == StatusCompleted:
		return nil, nil
	case o.Status != StatusAccepted && o.Status != StatusNoticeSent:
		return nil, fmt.Errorf("%w: the order is %s", ErrInvalidTransition, o.Status)
	case today.Before(o.ScheduledDate):
		return nil, fmt.Errorf("%w: it is scheduled for %s", ErrTooEarly, o.ScheduledDate)
	}
	var out []any
	if o.Type.HasOpeningNotice() && o.Status == StatusAccepted {
		out = append(out, &OpeningNoticeSent{OrderID: o.ID, CustomerNumber: o.CustomerNumber, SentAt: now.UTC()})
	}
	return append(out, &OrderCompleted{OrderID: o.ID, CustomerNumber: o.CustomerNumber, CompletedOn: o.ScheduledDate}), nil
}

// Withdraw decides the applicant's withdrawal, allowed while the order is amendable.
func (o Order) Withdraw(at time.Time) (*OrderWithdrawn, error) {
	switch {
	case !o.Exists():
		return nil, ErrNotFound
	case o.Status == StatusWithdrawn:
		return nil, nil
	case !o.Amendable():
		return nil, fmt.Errorf("%w: the order is %s", ErrInvalidTransition, o.Status)
	}
	return &OrderWithdrawn{OrderID: o.ID, CustomerNumber: o.CustomerNumber, WithdrawnAt: at.UTC()}, nil
}
