package consultation

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/contract"
	"yorozu/domain/event"
)

// The events of a consultation, all in its own stream Stream(id). Each names its consultation and
// the customer number the caller gave.

// Details are what the caller told at intake, as the intake recorded them.
type Details struct {
	ConsultationID uuid.UUID `json:"consultationId"`
	Channel        Channel   `json:"channel"`
	ReceivedAt     time.Time `json:"receivedAt"`
	CustomerNumber string    `json:"customerNumber"`
	CompanyName    string    `json:"companyName"`
	PersonName     string    `json:"personName"`
	Email          string    `json:"email,omitempty"`
	Phone          string    `json:"phone,omitempty"`
	Subject        string    `json:"subject"`
	Body           string    `json:"body,omitempty"`
	// CallMinutes is the length of the call that brought a phone consultation, when recorded.
	CallMinutes *int `json:"callMinutes,omitempty"`
}

// ConsultationReceived: an inquiry from an identified customer was accepted; an e-mail one is due
// by DueAt.
type ConsultationReceived struct {
	Details
	DueAt time.Time `json:"dueAt,omitzero"`
}

// ConsultationRejected: an inquiry was not accepted (unknown customer, inactive contract, wrong
// company name, phone call outside business hours). It is kept, with the reason.
type ConsultationRejected struct {
	Details
	Reason contract.CallerRejection `json:"reason"`
}

// ConsultationTriaged: staff classified the consultation, or declined or referred it.
type ConsultationTriaged struct {
	ConsultationID uuid.UUID     `json:"consultationId"`
	CustomerNumber string        `json:"customerNumber"`
	Category       Category      `json:"category,omitempty"`
	Decision       Decision      `json:"decision"`
	Reason         DeclineReason `json:"reason,omitempty"`
	Referral       Referral      `json:"referral,omitempty"`
	TriagedAt      time.Time     `json:"triagedAt"`
}

// ConsultationAnswered: staff replied, by e-mail or by calling back.
type ConsultationAnswered struct {
	ConsultationID uuid.UUID `json:"consultationId"`
	CustomerNumber string    `json:"customerNumber"`
	AnsweredAt     time.Time `json:"answeredAt"`
	Channel        Channel   `json:"channel"`
	Body           string    `json:"body"`
	CallMinutes    *int      `json:"callMinutes,omitempty"`
}

// ConsultationClosed: nothing more is to be done.
type ConsultationClosed struct {
	ConsultationID uuid.UUID `json:"consultationId"`
	CustomerNumber string    `json:"customerNumber"`
	ClosedAt       time.Time `json:"closedAt"`
}

// ConsultationReopened: an answered or closed consultation is open again; an e-mail one is due
// anew, counted from the reopening.
type ConsultationReopened struct {
	ConsultationID uuid.UUID `json:"consultationId"`
	CustomerNumber string    `json:"customerNumber"`
	ReopenedAt     time.Time `json:"reopenedAt"`
	DueAt          time.Time `json:"dueAt,omitzero"`
}

// TicketsQuoted: the consultation needs individual paid support, quoted in security tickets; a
// change order buys them.
type TicketsQuoted struct {
	ConsultationID uuid.UUID `json:"consultationId"`
	CustomerNumber string    `json:"customerNumber"`
	Tickets        int       `json:"tickets"`
	QuotedAt       time.Time `json:"quotedAt"`
}

// RegisterEvents adds the consultation events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*ConsultationReceived)(nil), (*ConsultationRejected)(nil), (*ConsultationTriaged)(nil),
		(*ConsultationAnswered)(nil), (*ConsultationClosed)(nil), (*ConsultationReopened)(nil), (*TicketsQuoted)(nil))
}

// Stream is the stream of a consultation.
func Stream(id uuid.UUID) string { return streamCategory + "-" + id.String() }

const streamCategory = "consultation"

// Event is implemented by every consultation event.
type Event interface{ ConsultationIDOf() uuid.UUID }

func (e *Details) ConsultationIDOf() uuid.UUID              { return e.ConsultationID }
func (e *ConsultationTriaged) ConsultationIDOf() uuid.UUID  { return e.ConsultationID }
func (e *ConsultationAnswered) ConsultationIDOf() uuid.UUID { return e.ConsultationID }
func (e *ConsultationClosed) ConsultationIDOf() uuid.UUID   { return e.ConsultationID }
func (e *ConsultationReopened) ConsultationIDOf() uuid.UUID { return e.ConsultationID }
func (e *TicketsQuoted) ConsultationIDOf() uuid.UUID        { return e.ConsultationID }

// CustomerNumberOf implements event.ForCustomer: the number the caller gave (for a rejected
// inquiry, possibly one no contract has).
func (e *Details) CustomerNumberOf() string              { return e.CustomerNumber }
func (e *ConsultationTriaged) CustomerNumberOf() string  { return e.CustomerNumber }
func (e *ConsultationAnswered) CustomerNumberOf() string { return e.CustomerNumber }
func (e *ConsultationClosed) CustomerNumberOf() string   { return e.CustomerNumber }
func (e *ConsultationReopened) CustomerNumberOf() string { return e.CustomerNumber }
func (e *TicketsQuoted) CustomerNumberOf() string        { return e.CustomerNumber }

// EffectiveTime implements event.BusinessTimed: when it happened at the help desk.
func (e *Details) EffectiveTime() time.Time              { return e.ReceivedAt }
func (e *ConsultationAnswered) EffectiveTime() time.Time { return e.AnsweredAt }
func (e *ConsultationClosed) EffectiveTime() time.Time   { return e.ClosedAt }
func (e *ConsultationReopened) EffectiveTime() time.Time { return e.ReopenedAt }
