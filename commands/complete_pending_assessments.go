package commands

import (
	"context"
	"time"

	"github.com/google/uuid"
)

// PendingAssessments lists the claims whose assessment started before a time and is not
// complete: the read side the recovery of interrupted assessments decides from.
type PendingAssessments interface {
	PendingAssessments(ctx context.Context, startedBefore time.Time) ([]uuid.UUID, error)
}

// assessmentGrace is how long an assessment may be in progress before the recovery job takes it
// over: an assessment takes milliseconds, so one still in progress after a minute stopped half-way
// (a crash, a lost connection). Completing it twice at once would be safe, only wasteful.
const assessmentGrace = time.Minute

// CompletePendingAssessments completes the assessments that stopped half-way (see AssessClaim),
// so that what they hold in the pool becomes an approval instead of staying held. The scheduler
// sends it; the steps are idempotent, so replicas may run it at once.
type CompletePendingAssessments struct{}

// CompletedAssessments is what the run did.
type CompletedAssessments struct {
	Outcome
	Completed int
}

// CompletePendingAssessmentsHandler handles CompletePendingAssessments.
type CompletePendingAssessmentsHandler struct {
	deps    InsuranceDeps
	pending PendingAssessments
}

// NewCompletePendingAssessmentsHandler builds the handler; pending nil finds none.
func NewCompletePendingAssessmentsHandler(d InsuranceDeps, pending PendingAssessments) CompletePendingAssessmentsHandler {
	return CompletePendingAssessmentsHandler{deps: d, pending: pending}
}

// Handle implements the use case: every pending claim it can complete, the first error after.
func (h CompletePendingAssessmentsHandler) Handle(ctx context.Context, _ CompletePendingAssessments) (CompletedAssessments, error) {
	var done CompletedAssessments
	if h.pending == nil {
		return done, nil
	}
	ids, err := h.pending.PendingAssessments(ctx, h.deps.Clock().Add(-assessmentGrace))
	if err != nil {
		return done, err
	}
	var first error
	for _, id := range ids {
		out, err := completeAssessment(ctx, h.deps, Meta{}, id)
		if err != nil {
			if first == nil {
				first = err
			}
			continue
		}
		done.Outcome = later(done.Outcome, out)
		done.Completed++
	}
	return done, first
}
