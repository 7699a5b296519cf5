package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/insurance"
)

// FileClaim files an insurance claim. A claim that is not covered at all (contract not
// active on the incident date, incident outside every policy period, emergency-response costs) is
// filed and rejected at once, with the reason. ClaimID comes from insurance.NewClaimID, so a
// retried filing names the same claim.
type FileClaim struct {
	Meta
	ClaimID uuid.UUID
	Claim   insurance.ClaimForm
}

// FiledClaim is the claim as filed.
type FiledClaim struct {
	Outcome
	Claim insurance.Claim
}

// FileClaimHandler handles FileClaim.
type FileClaimHandler struct{ deps InsuranceDeps }

// NewFileClaimHandler builds the handler.
func NewFileClaimHandler(d InsuranceDeps) FileClaimHandler { return FileClaimHandler{deps: d} }

// Handle implements the use case.
func (h FileClaimHandler) Handle(ctx context.Context, cmd FileClaim) (FiledClaim, error) {
	customer, err := contractAt(ctx, h.deps.Deps, cmd.Claim.CustomerNumber, cmd.Claim.IncidentDate.Start())
	if err != nil {
		return FiledClaim{}, err
	}
	now := h.deps.Clock()
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, insurance.ClaimStream(cmd.ClaimID), insurance.Claim{}, evolve,
		func(c insurance.Claim, _ uint64) ([]any, error) {
			if c.Exists() {
				return nil, nil // a retried filing
			}
			return insurance.File(cmd.ClaimID, cmd.Claim, customer, h.deps.Terms.Year, now), nil
		})
	if err != nil {
		return FiledClaim{}, err
	}
	c, err := loadClaim(ctx, h.deps.Deps, cmd.ClaimID)
	return FiledClaim{Outcome: out, Claim: c}, err
}
