package insurance

import (
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/validation"
)

// Status is where a claim is in its lifecycle.
type Status string

const (
	StatusFiled    Status = "filed"
	StatusAssessed Status = "assessed"
	StatusPaid     Status = "paid"
	StatusRejected Status = "rejected"
)

// Statuses lists every status.
var Statuses = []Status{StatusFiled, StatusAssessed, StatusPaid, StatusRejected}

// Why a claim is rejected when it is filed: it is not covered at all. The values are part of the
// HTTP API (`rejectionReason`); a rejection by staff carries their own words instead.
const (
	RejectContractNotActive   = "contractNotActive"
	RejectOutsidePolicyPeriod = "outsidePolicyPeriod"
	RejectEmergencyResponse   = "emergencyResponseNotCovered"
)

var (
	// ErrNotFound: no claim has that ID.
	ErrNotFound = errors.New("insurance: claim not found")
	// ErrInvalidTransition: the claim's status does not allow the operation.
	ErrInvalidTransition = errors.New("insurance: not allowed in the claim's status")
	// ErrAssessmentDiffers: an assessment was asked with another amount while one was in progress;
	// the one in progress was completed instead.
	ErrAssessmentDiffers = errors.New("insurance: another assessment of this claim was in progress and has been completed")
)

var idNamespace = uuid.MustParse("b1d0e7c4-2a5f-4c83-9e6b-7d4f1a2c8e53")

// NewClaimID names the claim a filing creates; seed is the filing command's ID, so a retried
// filing names the same claim. Part of the stored data: never change it.
func NewClaimID(seed string) uuid.UUID { return uuid.NewSHA1(idNamespace, []byte(seed)) }

// ClaimStream is the stream of a claim.
func ClaimStream(id uuid.UUID) string { return "claim-" + id.String() }

// ClaimInput is a claim as submitted (nil: absent or undecodable).
type ClaimInput struct {
	CustomerNumber, Kind, CostType *string
	IncidentDate                   *calendar.Date
	ClaimedAmount                  *int64
}

// maxAmount bounds any amount a claim or an assessment states: far above every limit, far below
// what int64 arithmetic could overflow on.
const maxAmount = 1_000_000_000_000

// ClaimForm is a valid claim.
type ClaimForm struct {
	CustomerNumber string
	IncidentDate   calendar.Date
	Kind           Kind
	CostType       CostType
	ClaimedAmount  Yen
}

// NewClaimForm applies a claim's rules, every broken one at once: customerNumber, incidentDate,
// kind and claimedAmount (1 yen or more) are required; costType is required for incident-response
// claims and must be absent for liability ones.
func NewClaimForm(in ClaimInput) (ClaimForm, validation.Errors) {
	var errs validation.Errors
	var f ClaimForm
	f.CustomerNumber, _ = errs.CustomerNumber("customerNumber", in.CustomerNumber)
	if in.IncidentDate == nil {
		errs.Add("incidentDate", validation.CodeRequired, "is required: a date YYYY-MM-DD")
	} else {
		f.IncidentDate = *in.IncidentDate
	}
	kind, kindOK := validation.Choice(&errs, "kind", in.Kind, true, Kinds...)
	f.Kind = kind
	switch {
	case kindOK && kind == KindLiability && in.CostType != nil:
		errs.Add("costType", validation.CodeMustBeAbsent, "goes only with kind incidentResponse")
	case kindOK:
		f.CostType, _ = validation.Choice(&errs, "costType", in.CostType, kind == KindIncidentResponse, CostTypes...)
	case in.CostType != nil:
		f.CostType, _ = validation.Choice(&errs, "costType", in.CostType, false, CostTypes...)
	}
	f.ClaimedAmount = amount(&errs, "claimedAmount", in.ClaimedAmount, 1)
	return f, errs
}

// NewAssessedAmount checks the amount an assessor assessed: whole yen, 0 or more.
func NewAssessedAmount(v *int64) (Yen, validation.Errors) {
	var errs validation.Errors
	a := amount(&errs, "assessedAmount", v, 0)
	return a, errs
}

func amount(errs *validation.Errors, field string, v *int64, lowest int64) Yen {
	switch {
	case v == nil:
		errs.Add(field, validation.CodeRequired, "is required: whole yen")
	case *v < lowest || *v > maxAmount:
		errs.Add(field, validation.CodeOutOfRange, "must be %d to %d yen", lowest, int64(maxAmount))
	default:
		return Yen(*v)
	}
	return 0
}

// Claim is the state of one claim, folded from its stream.
type Claim struct {
	ClaimID        uuid.UUID     `json:"claimId"`
	CustomerNumber string        `json:"customerNumber"`
	Period         Period        `json:"period,omitzero"`
	IncidentDate   calendar.Date `json:"incidentDate"`
	Kind           Kind          `json:"kind"`
	CostType       CostType      `json:"costType,omitempty"`
	ClaimedAmount  Yen           `json:"claimedAmount"`
	Status         Status        `json:"status"`
	// Assessing is true from the start of an assessment until its approval is recorded.
	Assessing bool `json:"assessing,omitempty"`
	// AssessingSince is when the assessment in progress started.
	AssessingSince  time.Time `json:"assessingSince,omitzero"`
	AssessedAmount  *Yen      `json:"assessedAmount,omitempty"`
	ApprovedAmount  *Yen      `json:"approvedAmount,omitempty"`
	RejectionReason string    `json:"rejectionReason,omitempty"`
	FiledAt         time.Time `json:"filedAt"`
	AssessedAt      time.Time `json:"assessedAt,omitzero"`
	PaidAt          time.Time `json:"paidAt,omitzero"`
	RejectedAt      time.Time `json:"rejectedAt,omitzero"`
	Version         uint64    `json:"version"`
}

// Exists reports whether the claim was filed.
func (c Claim) Exists() bool { return c.Status != "" }

// Evolve applies one event of the claim.
func (c Claim) Evolve(e any) Claim {
	c.Version++
	switch e := e.(type) {
	case *ClaimFiled:
		c.ClaimID, c.CustomerNumber, c.Period, c.IncidentDate = e.ClaimID, e.CustomerNumber, e.Period, e.IncidentDate
		c.Kind, c.CostType, c.ClaimedAmount, c.Status, c.FiledAt = e.Kind, e.CostType, e.ClaimedAmount, StatusFiled, e.FiledAt
	case *ClaimRejected:
		c.Status, c.RejectionReason, c.RejectedAt = StatusRejected, e.Reason, e.RejectedAt
	case *AssessmentStarted:
		a := e.AssessedAmount
		c.Assessing, c.AssessingSince, c.AssessedAmount = true, e.StartedAt, &a
	case *ClaimAssessed:
		a := e.ApprovedAmount
		c.Assessing, c.AssessingSince = false, time.Time{}
		c.Status, c.ApprovedAmount, c.AssessedAt = StatusAssessed, &a, e.AssessedAt
	case *ClaimPaid:
		c.Status, c.PaidAt = StatusPaid, e.PaidAt
	}
	return c
}

// File decides a new claim: filed, and rejected at once when it is not covered at all — the
// contract was not active on the incident date (customer is the contract as of that day's start),
// the date is outside every policy period, or the costs are emergency response, which is never
// covered. It returns the events to append.
func File(id uuid.UUID, f ClaimForm, customer contract.Standing, year PolicyYear, now time.Time) []any {
	filed := &ClaimFiled{ClaimID: id, CustomerNumber: f.CustomerNumber, IncidentDate: f.IncidentDate, Kind: f.Kind,
		CostType: f.CostType, ClaimedAmount: f.ClaimedAmount, FiledAt: now.UTC()}
	period, inPeriod := year.PeriodOf(f.IncidentDate)
	if inPeriod {
		filed.Period = period
	}
	reason := ""
	switch {
	case !customer.ActiveAt():
		reason = RejectContractNotActive
	case !inPeriod:
		reason = RejectOutsidePolicyPeriod
	case f.CostType == CostEmergencyResponse:
		reason = RejectEmergencyResponse
	}
	if reason == "" {
		return []any{filed}
	}
	return []any{filed, &ClaimRejected{ClaimID: id, CustomerNumber: f.CustomerNumber, Reason: reason, RejectedAt: now.UTC()}}
}

func (c Claim) notAllowed(op string) error {
	if !c.Exists() {
		return ErrNotFound
	}
	state := string(c.Status)
	if c.Assessing {
		state = "being assessed"
	}
	return fmt.Errorf("%w: cannot %s a claim that is %s", ErrInvalidTransition, op, state)
}

// StartAssessment decides the start of an assessment of a filed claim. A claim already being
// assessed yields nothing: the caller completes the assessment in progress (a retry).
func (c Claim) StartAssessment(assessed Yen, now time.Time) (*AssessmentStarted, error) {
	switch {
	case c.Status != StatusFiled:
		return nil, c.notAllowed("assess")
	case c.Assessing:
		return nil, nil
	}
	return &AssessmentStarted{ClaimID: c.ClaimID, CustomerNumber: c.CustomerNumber, Period: c.Period, Kind: c.Kind,
		AssessedAmount: assessed, StartedAt: now.UTC()}, nil
}

// CompleteAssessment decides the approval of the assessment in progress: approved is the assessed
// amount as the limits capped it. A claim already assessed yields nothing.
func (c Claim) CompleteAssessment(approved Yen, now time.Time) (*ClaimAssessed, error) {
	switch {
	case c.Status == StatusAssessed || c.Status == StatusPaid:
		return nil, nil
	case !c.Assessing:
		return nil, c.notAllowed("complete the assessment of")
	}
	return &ClaimAssessed{ClaimID: c.ClaimID, CustomerNumber: c.CustomerNumber, AssessedAmount: *c.AssessedAmount,
		ApprovedAmount: approved, AssessedAt: now.UTC()}, nil
}

// Pay decides the payment of an assessed claim.
func (c Claim) Pay(now time.Time) (*ClaimPaid, error) {
	if c.Status != StatusAssessed {
		return nil, c.notAllowed("pay")
	}
	return &ClaimPaid{ClaimID: c.ClaimID, CustomerNumber: c.CustomerNumber, PaidAt: now.UTC()}, nil
}

// Reject decides the rejection of a filed claim by staff. Once an assessment has started the
// approval counts against the limits, so it can no longer be rejected.
func (c Claim) Reject(reason string, now time.Time) (*ClaimRejected, error) {
	if c.Status != StatusFiled || c.Assessing {
		return nil, c.notAllowed("reject")
	}
	return &ClaimRejected{ClaimID: c.ClaimID, CustomerNumber: c.CustomerNumber, Reason: reason, RejectedAt: now.UTC()}, nil
}

// NewRejectionReason checks a rejection's reason: required, one line of at most 500 characters.
func NewRejectionReason(v *string) (string, validation.Errors) {
	var errs validation.Errors
	s, _ := errs.Text("reason", v, true, 500, false)
	return s, errs
}
