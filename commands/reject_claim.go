package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/insurance"
)

// RejectClaim rejects a filed claim, with the reason staff give. An assessed claim cannot be
// rejected: its approval already counts against the limits.
type RejectClaim struct {
	Meta
	ClaimID uuid.UUID
	Reason  string
}

// RejectClaimHandler handles RejectClaim.
type RejectClaimHandler struct{ deps Deps }

// NewRejectClaimHandler builds the handler.
func NewRejectClaimHandler(d Deps) RejectClaimHandler { return RejectClaimHandler{deps: d} }

// Handle implements the use case.
func (h RejectClaimHandler) Handle(ctx context.Context, cmd RejectClaim) (Outcome, error) {
	now := h.deps.Clock()
	return execute(ctx, h.deps, cmd.Meta, insurance.ClaimStream(cmd.ClaimID), insurance.Claim{}, evolve,
		func(c insurance.Claim, _ uint64) ([]any, error) {
			if !c.Exists() {
				return nil, insurance.ErrNotFound
			}
			return one(c.Reject(cmd.Reason, now))
		})
}
