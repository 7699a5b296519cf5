package commands

import (
	"context"
	"time"

	"yorozu/domain/contract"
	"yorozu/domain/telemetry"
	"yorozu/projections/agents"
)

// IssueEnrollmentToken creates an enrollment token for a contract's agents.
type IssueEnrollmentToken struct {
	Meta
	CustomerNumber string
	// TTL is how long the token works (telemetry.DefaultEnrollmentTokenTTL when zero).
	TTL time.Duration
}

// EnrollmentTokenIssued is the token, shown once, and when it expires.
type EnrollmentTokenIssued struct {
	Outcome
	Token     string
	ExpiresAt time.Time
}

// IssueEnrollmentTokenHandler handles IssueEnrollmentToken.
type IssueEnrollmentTokenHandler struct{ deps TelemetryDeps }

// NewIssueEnrollmentTokenHandler builds the handler.
func NewIssueEnrollmentTokenHandler(d TelemetryDeps) IssueEnrollmentTokenHandler {
	return IssueEnrollmentTokenHandler{deps: d}
}

// Handle implements the use case: an unknown contract is contract.ErrNotFound, a terminated one
// telemetry.ErrContractNotActive.
func (h IssueEnrollmentTokenHandler) Handle(ctx context.Context, cmd IssueEnrollmentToken) (EnrollmentTokenIssued, error) {
	token, err := telemetry.NewEnrollmentToken(cmd.CustomerNumber, h.deps.Random)
	if err != nil {
		return EnrollmentTokenIssued{}, err
	}
	var issued *telemetry.EnrollmentTokenIssued
	out, err := appendToFleet(ctx, h.deps, cmd.Meta, cmd.CustomerNumber, func(s agents.Snapshot) ([]any, error) {
		switch {
		case !s.ContractExists:
			return nil, contract.ErrNotFound
		case !s.Contract.Active:
			return nil, telemetry.ErrContractNotActive
		}
		issued = s.Fleet.IssueEnrollmentToken(telemetry.HashToken(token), h.deps.Clock(), cmd.TTL)
		return []any{issued}, nil
	})
	if err != nil {
		return EnrollmentTokenIssued{Outcome: out}, err
	}
	return EnrollmentTokenIssued{Outcome: out, Token: token, ExpiresAt: issued.ExpiresAt}, nil
}
