package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/insurance"
)

// PayClaim records the payment of an assessed claim.
type PayClaim struct {
	Meta
	ClaimID uuid.UUID
}

// PayClaimHandler handles PayClaim.
type PayClaimHandler struct{ deps Deps }

// NewPayClaimHandler builds the handler.
func NewPayClaimHandler(d Deps) PayClaimHandler { return PayClaimHandler{deps: d} }

// Handle implements the use case.
func (h PayClaimHandler) Handle(ctx context.Context, cmd PayClaim) (Outcome, error) {
	now := h.deps.Clock()
	return execute(ctx, h.deps, cmd.Meta, insurance.ClaimStream(cmd.ClaimID), insurance.Claim{}, evolve,
		func(c insurance.Claim, _ uint64) ([]any, error) {
			if !c.Exists() {
				return nil, insurance.ErrNotFound
			}
			return one(c.Pay(now))
		})
}
