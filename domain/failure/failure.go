// Package failure is the failure reports (故障) of the help desk: a customer tells that something
// of the service fails, from when, and whom to call; the report is authenticated against the
// contract like a consultation, and tracked from receipt to resolution. It is pure.
package failure

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/validation"
)

// Status is where a failure report is.
type Status string

const (
	StatusReceived Status = "received"
	StatusResolved Status = "resolved"
	StatusRejected Status = "rejected"
)

// Statuses lists every status.
var Statuses = []Status{StatusReceived, StatusResolved, StatusRejected}

var (
	// ErrNotFound: no failure report has that ID.
	ErrNotFound = errors.New("failure report: not found")
	// ErrInvalidTransition: the report's status does not allow the operation.
	ErrInvalidTransition = errors.New("failure report: not allowed in its current status")
)

var idNamespace = uuid.MustParse("8c2b5f0d-4e6a-4b1c-9a7d-1f3e5c7b9d02")

// NewID names the report an intake creates; seed is the intake command's ID, so a retried intake
// names the same report. Part of the stored data: never change it.
func NewID(seed string) uuid.UUID { return uuid.NewSHA1(idNamespace, []byte(seed)) }

// Details are what the customer reported.
type Details struct {
	FailureID      uuid.UUID `json:"failureId"`
	CustomerNumber string    `json:"customerNumber"`
	CompanyName    string    `json:"companyName"`
	What           string    `json:"what"`
	StartedAt      time.Time `json:"startedAt"`
	PersonName     string    `json:"personName"`
	Email          string    `json:"email,omitempty"`
	Phone          string    `json:"phone,omitempty"`
	ReceivedAt     time.Time `json:"receivedAt"`
}

// FailureReported: an identified customer reported a failure.
type FailureReported struct{ Details }

// FailureRejected: a report from a caller the contract does not identify; kept, with the reason.
type FailureRejected struct {
	Details
	Reason contract.CallerRejection `json:"reason"`
}

// FailureResolved: the failure was resolved.
type FailureResolved struct {
	FailureID      uuid.UUID `json:"failureId"`
	CustomerNumber string    `json:"customerNumber"`
	ResolvedAt     time.Time `json:"resolvedAt"`
	Resolution     string    `json:"resolution,omitempty"`
}

// RegisterEvents adds the failure-report events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*FailureReported)(nil), (*FailureRejected)(nil), (*FailureResolved)(nil))
}

// Stream is the stream of a failure report.
func Stream(id uuid.UUID) string { return "failure-" + id.String() }

// CustomerNumberOf implements event.ForCustomer.
func (e *Details) CustomerNumberOf() string         { return e.CustomerNumber }
func (e *FailureResolved) CustomerNumberOf() string { return e.CustomerNumber }

// EffectiveTime implements event.BusinessTimed.
func (e *Details) EffectiveTime() time.Time         { return e.ReceivedAt }
func (e *FailureResolved) EffectiveTime() time.Time { return e.ResolvedAt }

// Report is the state of one failure report.
type Report struct {
	Details
	Status          Status                   `json:"status"`
	RejectionReason contract.CallerRejection `json:"rejectionReason,omitempty"`
	ResolvedAt      time.Time                `json:"resolvedAt,omitzero"`
	Resolution      string                   `json:"resolution,omitempty"`
	Version         uint64                   `json:"version"`
}

// Exists reports whether the report was recorded.
func (r Report) Exists() bool { return r.Status != "" }

// Evolve applies one event of the report.
func (r Report) Evolve(e any) Report {
	r.Version++
	switch e := e.(type) {
	case *FailureReported:
		r.Details, r.Status = e.Details, StatusReceived
	case *FailureRejected:
		r.Details, r.Status, r.RejectionReason = e.Details, StatusRejected, e.Reason
	case *FailureResolved:
		r.Status, r.ResolvedAt, r.Resolution = StatusResolved, e.ResolvedAt, e.Resolution
	}
	return r
}

// Input is a report as submitted (nil: absent or undecodable).
type Input struct {
	CustomerNumber, CompanyName, What, PersonName, Email, Phone *string
	StartedAt, ReceivedAt                                       *time.Time
}

// NewReport applies the report's rules, every broken one at once: customerNumber, companyName,
// what, startedAt and personName are required, and a way to reach the person: an e-mail address,
// a phone number or both. receivedAt is when the help desk took the report; now when absent.
func NewReport(id uuid.UUID, in Input, now time.Time) (Details, validation.Errors) {
	var errs validation.Errors
	d := Details{FailureID: id, ReceivedAt: now.UTC()}
	if in.ReceivedAt != nil {
		d.ReceivedAt = in.ReceivedAt.UTC()
	}
	d.CustomerNumber, _ = errs.CustomerNumber("customerNumber", in.CustomerNumber)
	d.CompanyName, _ = errs.Text("companyName", in.CompanyName, true, 100, false)
	d.What, _ = errs.Text("what", in.What, true, 4000, true)
	if in.StartedAt == nil {
		errs.Add("startedAt", validation.CodeRequired, "is required: when the failure started, an RFC 3339 instant")
	} else {
		d.StartedAt = in.StartedAt.UTC()
	}
	d.PersonName, _ = errs.Text("personName", in.PersonName, true, 100, false)
	d.Email, _ = errs.Email("email", in.Email, false)
	d.Phone, _ = errs.Phone("phone", in.Phone, false)
	if in.Email == nil && in.Phone == nil {
		errs.Add("phone", validation.CodeRequired, "is required when there is no email: the person must be reachable")
	}
	return d, errs
}

// Receive decides the intake of a report: recorded when the caller is identified by customer as
// the contract stood at the time of receipt, rejected with the reason otherwise. It returns
// *FailureReported or *FailureRejected.
func Receive(d Details, customer contract.Standing) any {
	if reason := customer.IdentifiesCaller(d.CompanyName); reason != "" {
		return &FailureRejected{Details: d, Reason: reason}
	}
	return &FailureReported{Details: d}
}

// Resolve decides the resolution of a received report.
func (r Report) Resolve(at time.Time, resolution string) (*FailureResolved, error) {
	switch {
	case !r.Exists():
		return nil, ErrNotFound
	case r.Status != StatusReceived:
		return nil, fmt.Errorf("%w: the report is %s", ErrInvalidTransition, r.Status)
	case at.Before(r.ReceivedAt):
		return nil, validation.Errors{{Field: "resolvedAt", Code: validation.CodeTooEarly, Message: "must not be before the report was received"}}
	}
	return &FailureResolved{FailureID: r.FailureID, CustomerNumber: r.CustomerNumber, ResolvedAt: at.UTC(), Resolution: resolution}, nil
}
