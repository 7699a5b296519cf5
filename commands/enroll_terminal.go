package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/telemetry"
	"yorozu/projections/agents"
)

// EnrollTerminal enrolls an agent with an enrollment token.
type EnrollTerminal struct {
	Meta
	EnrollmentToken string
	telemetry.Enrollment
}

// TerminalEnrollment is what the agent receives: its terminal and its own token, shown once.
type TerminalEnrollment struct {
	Outcome
	TerminalID uuid.UUID
	AgentToken string
	// Reinstalled: the hardware ID was enrolled already; the terminal is the same, the token new.
	Reinstalled bool
}

// EnrollTerminalHandler handles EnrollTerminal.
type EnrollTerminalHandler struct{ deps TelemetryDeps }

// NewEnrollTerminalHandler builds the handler.
func NewEnrollTerminalHandler(d TelemetryDeps) EnrollTerminalHandler {
	return EnrollTerminalHandler{deps: d}
}

// Handle implements the use case. The enrollment token is checked first (nothing else is told to
// a caller without a good one), then the request's fields, then the fleet decides.
func (h EnrollTerminalHandler) Handle(ctx context.Context, cmd EnrollTerminal) (TerminalEnrollment, error) {
	cn, ok := telemetry.EnrollmentTokenContract(cmd.EnrollmentToken)
	if !ok {
		return TerminalEnrollment{}, telemetry.ErrBadEnrollmentToken
	}
	tokenHash := telemetry.HashToken(cmd.EnrollmentToken)
	newID := uuid.Must(uuid.NewV7())
	var result TerminalEnrollment
	out, err := appendToFleet(ctx, h.deps, cmd.Meta, cn, func(s agents.Snapshot) ([]any, error) {
		if err := s.Fleet.CheckEnrollmentToken(tokenHash, h.deps.Clock()); err != nil {
			return nil, err
		}
		if err := cmd.Enrollment.Validate(); err != nil {
			return nil, err
		}
		var err error
		result = TerminalEnrollment{TerminalID: newID}
		if id, found := s.Fleet.ActiveByHardware(cmd.HardwareID); found {
			result = TerminalEnrollment{TerminalID: id, Reinstalled: true}
		}
		if result.AgentToken, err = telemetry.NewAgentToken(cn, result.TerminalID, h.deps.Random); err != nil {
			return nil, err
		}
		e, err := s.Fleet.Enroll(s.Contract, cmd.Enrollment, newID, telemetry.HashToken(result.AgentToken), h.deps.Clock())
		if err != nil {
			return nil, err
		}
		return []any{e}, nil
	})
	if err != nil {
		return TerminalEnrollment{Outcome: out}, err
	}
	result.Outcome = out
	return result, nil
}
