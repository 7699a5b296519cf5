package order

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

// The events of an order's lifecycle. A `new` order's events live in its own stream
// (Stream(id)) until it opens a contract; the events of orders on an existing contract live in
// that contract's stream, so that "one open order per contract" and the order's effect on the
// contract are decided and stored together. Every event names its order.

// Secrets holds the form's passwords in the only forms they are ever stored in (SPEC 2): the
// opening-notice password as an argon2id hash (it is a login password), the security-report
// password sealed with the deployment key (the service needs it to encrypt report files).
type Secrets struct {
	OpeningNoticePasswordHash    string `json:"openingNoticePasswordHash,omitempty" secret:"hash"`
	SecurityReportPasswordSealed []byte `json:"securityReportPasswordSealed,omitempty" secret:"sealed"`
}

// OrderReceived: a valid form was submitted.
type OrderReceived struct {
	OrderID        uuid.UUID `json:"orderId"`
	Type           Type      `json:"type"`
	CustomerNumber string    `json:"customerNumber,omitempty"`
	Form           Form      `json:"form"` // redacted: no passwords
	Secrets        Secrets   `json:"secrets" secret:"hash,sealed"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// OrderAmended: the form was replaced before the opening notice (or completion).
type OrderAmended struct {
	OrderID        uuid.UUID     `json:"orderId"`
	CustomerNumber string        `json:"customerNumber,omitempty"`
	Form           Form          `json:"form"`
	Secrets        Secrets       `json:"secrets" secret:"hash,sealed"`
	AmendedAt      time.Time     `json:"amendedAt"`
	ScheduledDate  calendar.Date `json:"scheduledDate"` // recomputed when already accepted
}

// OrderAccepted: the order was accepted (受理) at AcceptedAt; a new order got its customer number.
type OrderAccepted struct {
	OrderID        uuid.UUID     `json:"orderId"`
	CustomerNumber string        `json:"customerNumber"`
	AcceptedAt     time.Time     `json:"acceptedAt"`
	AcceptanceDay  calendar.Date `json:"acceptanceDay"`
	EarliestDate   calendar.Date `json:"earliestDate"`
	ScheduledDate  calendar.Date `json:"scheduledDate"`
}

// OpeningNoticeSent: the opening notice (開通案内) went out.
type OpeningNoticeSent struct {
	OrderID        uuid.UUID `json:"orderId"`
	CustomerNumber string    `json:"customerNumber"`
	SentAt         time.Time `json:"sentAt"`
}

// OrderCompleted: the order took effect on CompletedOn (its scheduled date, 00:00 JST).
type OrderCompleted struct {
	OrderID        uuid.UUID     `json:"orderId"`
	CustomerNumber string        `json:"customerNumber"`
	CompletedOn    calendar.Date `json:"completedOn"`
}

// EffectiveTime is the business time of the completion: the start of its day in JST.
func (e *OrderCompleted) EffectiveTime() time.Time { return e.CompletedOn.Start() }

// EffectiveTime is the acceptance instant, which staff may back-date to when the paper form
// arrived.
func (e *OrderAccepted) EffectiveTime() time.Time { return e.AcceptedAt }

// OrderWithdrawn: the applicant withdrew the order.
type OrderWithdrawn struct {
	OrderID        uuid.UUID `json:"orderId"`
	CustomerNumber string    `json:"customerNumber,omitempty"`
	WithdrawnAt    time.Time `json:"withdrawnAt"`
}

// RegisterEvents adds the order events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*OrderReceived)(nil), (*OrderAmended)(nil), (*OrderAccepted)(nil), (*OpeningNoticeSent)(nil),
		(*OrderCompleted)(nil), (*OrderWithdrawn)(nil))
}

// Event is implemented by every event of an order's lifecycle: each names its order.
type Event interface{ OrderIDOf() uuid.UUID }

func (e *OrderReceived) OrderIDOf() uuid.UUID     { return e.OrderID }
func (e *OrderAmended) OrderIDOf() uuid.UUID      { return e.OrderID }
func (e *OrderAccepted) OrderIDOf() uuid.UUID     { return e.OrderID }
func (e *OpeningNoticeSent) OrderIDOf() uuid.UUID { return e.OrderID }
func (e *OrderCompleted) OrderIDOf() uuid.UUID    { return e.OrderID }
func (e *OrderWithdrawn) OrderIDOf() uuid.UUID    { return e.OrderID }

// CustomerNumberOf implements event.ForCustomer: a new order learns its customer number when
// it is accepted, so its earlier events name none.
func (e *OrderReceived) CustomerNumberOf() string     { return e.CustomerNumber }
func (e *OrderAmended) CustomerNumberOf() string      { return e.CustomerNumber }
func (e *OrderAccepted) CustomerNumberOf() string     { return e.CustomerNumber }
func (e *OpeningNoticeSent) CustomerNumberOf() string { return e.CustomerNumber }
func (e *OrderCompleted) CustomerNumberOf() string    { return e.CustomerNumber }
func (e *OrderWithdrawn) CustomerNumberOf() string    { return e.CustomerNumber }

// Stream is the stream of a `new` order.
func Stream(id uuid.UUID) string { return "order-" + id.String() }
