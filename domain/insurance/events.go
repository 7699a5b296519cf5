package insurance

import (
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

// The events of a claim, in ClaimStream(id).

// ClaimFiled: a claim was filed. Period is zero when the incident date is outside every period.
type ClaimFiled struct {
	ClaimID        uuid.UUID     `json:"claimId"`
	CustomerNumber string        `json:"customerNumber"`
	Period         Period        `json:"period,omitzero"`
	IncidentDate   calendar.Date `json:"incidentDate"`
	Kind           Kind          `json:"kind"`
	CostType       CostType      `json:"costType,omitempty"`
	ClaimedAmount  Yen           `json:"claimedAmount"`
	FiledAt        time.Time     `json:"filedAt"`
}

// ClaimRejected: the claim is not paid: not covered at all (at filing), or rejected by staff.
type ClaimRejected struct {
	ClaimID        uuid.UUID `json:"claimId"`
	CustomerNumber string    `json:"customerNumber"`
	Reason         string    `json:"reason"`
	RejectedAt     time.Time `json:"rejectedAt"`
}

// AssessmentStarted: an assessor assessed the claim at AssessedAmount; the limits decide how much
// of it is approved (ClaimAssessed).
type AssessmentStarted struct {
	ClaimID        uuid.UUID `json:"claimId"`
	CustomerNumber string    `json:"customerNumber"`
	Period         Period    `json:"period"`
	Kind           Kind      `json:"kind"`
	AssessedAmount Yen       `json:"assessedAmount"`
	StartedAt      time.Time `json:"startedAt"`
}

// ClaimAssessed: the assessment is approved at ApprovedAmount, the assessed amount capped by every
// remaining limit; it counts against them from now on.
type ClaimAssessed struct {
	ClaimID        uuid.UUID `json:"claimId"`
	CustomerNumber string    `json:"customerNumber"`
	AssessedAmount Yen       `json:"assessedAmount"`
	ApprovedAmount Yen       `json:"approvedAmount"`
	AssessedAt     time.Time `json:"assessedAt"`
}

// ClaimPaid: the approved amount was paid out.
type ClaimPaid struct {
	ClaimID        uuid.UUID `json:"claimId"`
	CustomerNumber string    `json:"customerNumber"`
	PaidAt         time.Time `json:"paidAt"`
}

// CoverUsed: a claim's approval took Amount of its company's limit of a kind in a period
// (CoverStream).
type CoverUsed struct {
	CustomerNumber string    `json:"customerNumber"`
	Period         Period    `json:"period"`
	Kind           Kind      `json:"kind"`
	ClaimID        uuid.UUID `json:"claimId"`
	Amount         Yen       `json:"amount"`
	UsedAt         time.Time `json:"usedAt"`
}

// PoolReserved: an assessment reserved Amount of the period's common limit (PoolStream).
type PoolReserved struct {
	Period         Period    `json:"period"`
	ClaimID        uuid.UUID `json:"claimId"`
	CustomerNumber string    `json:"customerNumber"`
	Amount         Yen       `json:"amount"`
	ReservedAt     time.Time `json:"reservedAt"`
}

// PoolReleased: an assessment gave back the part of its reservation its company's cover did not
// let it use.
type PoolReleased struct {
	Period         Period    `json:"period"`
	ClaimID        uuid.UUID `json:"claimId"`
	CustomerNumber string    `json:"customerNumber"`
	Amount         Yen       `json:"amount"`
	ReleasedAt     time.Time `json:"releasedAt"`
}

// RegisterEvents adds the insurance events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*ClaimFiled)(nil), (*ClaimRejected)(nil), (*AssessmentStarted)(nil), (*ClaimAssessed)(nil),
		(*ClaimPaid)(nil), (*CoverUsed)(nil), (*PoolReserved)(nil), (*PoolReleased)(nil))
	r.RegisterCustomerStreams(coverCategory)
}

// ClaimEvent is implemented by the events of a claim's stream.
type ClaimEvent interface{ ClaimIDOf() uuid.UUID }

func (e *ClaimFiled) ClaimIDOf() uuid.UUID        { return e.ClaimID }
func (e *ClaimRejected) ClaimIDOf() uuid.UUID     { return e.ClaimID }
func (e *AssessmentStarted) ClaimIDOf() uuid.UUID { return e.ClaimID }
func (e *ClaimAssessed) ClaimIDOf() uuid.UUID     { return e.ClaimID }
func (e *ClaimPaid) ClaimIDOf() uuid.UUID         { return e.ClaimID }

// CustomerNumberOf implements event.ForCustomer.
func (e *ClaimFiled) CustomerNumberOf() string        { return e.CustomerNumber }
func (e *ClaimRejected) CustomerNumberOf() string     { return e.CustomerNumber }
func (e *AssessmentStarted) CustomerNumberOf() string { return e.CustomerNumber }
func (e *ClaimAssessed) CustomerNumberOf() string     { return e.CustomerNumber }
func (e *ClaimPaid) CustomerNumberOf() string         { return e.CustomerNumber }
func (e *CoverUsed) CustomerNumberOf() string         { return e.CustomerNumber }
func (e *PoolReserved) CustomerNumberOf() string      { return e.CustomerNumber }
func (e *PoolReleased) CustomerNumberOf() string      { return e.CustomerNumber }
