package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/insurance"
)

// AssessClaim assesses a filed claim at AssessedAmount; the approval is that amount capped by
// every limit that remains: the company's limit of the claim's kind in its period, and
// the pool of all companies in that period.
//
// The limits are aggregates of their own, appended with expected versions, so concurrent
// assessments on any engine and any number of replicas never approve more than a limit:
//
//  1. the claim records the assessment as started (AssessmentStarted), which fixes the amount
//     and makes every later step the completion of this one assessment;
//  2. the pool reserves up to the assessed amount, within what the pool and (as last read) the
//     company's cover have left (PoolReserved);
//  3. the company's cover is used up to the reservation, within what it has left now (CoverUsed);
//  4. the pool gets back what the cover did not take (PoolReleased);
//  5. the claim records the approval (ClaimAssessed).
//
// Each step is decided from its aggregate's state, appended with the version it was decided on
// and an event ID derived from the claim, and is a no-op when the aggregate shows it done. A crash
// between two steps therefore leaves a claim "being assessed" that the next attempt (a retry of
// the request, or CompletePendingAssessments) completes where it stopped: nothing is reserved or
// used twice, and what a crashed assessment holds in the pool is never more than it may use.
// docs/insurance.md gives the reasoning in full.
type AssessClaim struct {
	Meta
	ClaimID        uuid.UUID
	AssessedAmount insurance.Yen
}

// AssessClaimHandler handles AssessClaim.
type AssessClaimHandler struct{ deps InsuranceDeps }

// NewAssessClaimHandler builds the handler.
func NewAssessClaimHandler(d InsuranceDeps) AssessClaimHandler { return AssessClaimHandler{deps: d} }

// Handle implements the use case. A claim already being assessed (an earlier attempt stopped
// half-way) has that assessment completed; if this one asked for another amount, it then fails
// with insurance.ErrAssessmentDiffers.
func (h AssessClaimHandler) Handle(ctx context.Context, cmd AssessClaim) (Outcome, error) {
	now := h.deps.Clock()
	started, err := execute(ctx, h.deps.Deps, cmd.Meta, insurance.ClaimStream(cmd.ClaimID), insurance.Claim{}, evolve,
		func(c insurance.Claim, _ uint64) ([]any, error) {
			if !c.Exists() {
				return nil, insurance.ErrNotFound
			}
			return one(c.StartAssessment(cmd.AssessedAmount, now))
		})
	if err != nil {
		return started, err
	}
	done, err := completeAssessment(ctx, h.deps, cmd.Meta, cmd.ClaimID)
	out := later(started, done)
	if err != nil {
		return out, err
	}
	c, err := loadClaim(ctx, h.deps.Deps, cmd.ClaimID)
	if err != nil {
		return out, err
	}
	if c.AssessedAmount != nil && *c.AssessedAmount != cmd.AssessedAmount {
		return out, fmt.Errorf("%w (assessed at %d yen, approved %d)", insurance.ErrAssessmentDiffers, *c.AssessedAmount, *c.ApprovedAmount)
	}
	return out, nil
}

// completeAssessment takes the steps 2 to 5 of the assessment a claim has started (see
// AssessClaim), each only if it is not done yet. A claim already assessed needs nothing.
func completeAssessment(ctx context.Context, d InsuranceDeps, m Meta, id uuid.UUID) (Outcome, error) {
	c, err := loadClaim(ctx, d.Deps, id)
	switch {
	case err != nil:
		return Outcome{}, err
	case !c.Exists():
		return Outcome{}, insurance.ErrNotFound
	case c.Status == insurance.StatusAssessed || c.Status == insurance.StatusPaid:
		return Outcome{}, nil
	case !c.Assessing:
		_, err := c.CompleteAssessment(0, d.Clock())
		return Outcome{}, err
	}
	now, limits := d.Clock(), d.Terms.Limits
	cn, period, kind, assessed := c.CustomerNumber, c.Period, c.Kind, *c.AssessedAmount

	// Reserve no more than the cover had left when read: the cover only ever shrinks, so the
	// reservation is never less than what step 3 will find, and rarely more.
	var cover insurance.Cover
	if _, err := load(ctx, d.Deps, insurance.CoverStream(cn), &cover, evolve); err != nil {
		return Outcome{}, err
	}
	upTo := min(assessed, cover.Remaining(period, kind, limits))

	var reserved, used insurance.Yen
	out, err := settle(ctx, d.Deps, m, insurance.PoolStream(period), stepID("pool-reserve", id), insurance.Pool{}, evolve,
		func(p insurance.Pool) (any, error) {
			e, amount := p.Reserve(id, cn, period, upTo, limits, now)
			reserved = amount
			return orNil(e), nil
		})
	if err != nil {
		return out, err
	}
	step, err := settle(ctx, d.Deps, m, insurance.CoverStream(cn), stepID("cover-use", id), insurance.Cover{}, evolve,
		func(cv insurance.Cover) (any, error) {
			e, amount := cv.Use(id, cn, period, kind, reserved, limits, now)
			used = amount
			return orNil(e), nil
		})
	if out = later(out, step); err != nil {
		return out, err
	}
	step, err = settle(ctx, d.Deps, m, insurance.PoolStream(period), stepID("pool-release", id), insurance.Pool{}, evolve,
		func(p insurance.Pool) (any, error) { return orNil(p.Release(id, used, now)), nil })
	if out = later(out, step); err != nil {
		return out, err
	}
	step, err = settle(ctx, d.Deps, m, insurance.ClaimStream(id), stepID("claim-assessed", id), insurance.Claim{}, evolve,
		func(c insurance.Claim) (any, error) {
			e, err := c.CompleteAssessment(used, now)
			return orNil(e), err
		})
	return later(out, step), err
}

// orNil turns a decision's nil event pointer into a nil interface: a typed nil in an interface
// is not nil, and would be appended as "null".
func orNil[E any](e *E) any {
	if e == nil {
		return nil
	}
	return e
}
