package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/failure"
)

// ResolveFailure records that a reported failure was resolved at ResolvedAt (the clock's time
// when zero).
type ResolveFailure struct {
	Meta
	FailureID  uuid.UUID
	ResolvedAt time.Time
	Resolution string
}

// ResolveFailureHandler handles ResolveFailure.
type ResolveFailureHandler struct{ deps Deps }

// NewResolveFailureHandler builds the handler.
func NewResolveFailureHandler(d Deps) ResolveFailureHandler { return ResolveFailureHandler{deps: d} }

// Handle implements the use case.
func (h ResolveFailureHandler) Handle(ctx context.Context, cmd ResolveFailure) (Outcome, error) {
	at := cmd.ResolvedAt
	if at.IsZero() {
		at = h.deps.Clock()
	}
	return execute(ctx, h.deps, cmd.Meta, failure.Stream(cmd.FailureID), failure.Report{}, evolve,
		func(r failure.Report, _ uint64) ([]any, error) { return one(r.Resolve(at, cmd.Resolution)) })
}
