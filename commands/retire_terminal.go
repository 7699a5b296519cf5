package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/telemetry"
	"yorozu/projections/agents"
)

// RetireTerminal retires a terminal: its ID is free again and its agent refused.
type RetireTerminal struct {
	Meta
	TerminalID uuid.UUID
	// CustomerNumber of the terminal, when the caller knows it (the read model); the directory
	// is asked otherwise.
	CustomerNumber string
}

// TerminalRetirement is where the retirement landed (nothing new when it was retired already).
type TerminalRetirement struct {
	Outcome
	CustomerNumber string
}

// RetireTerminalHandler handles RetireTerminal.
type RetireTerminalHandler struct{ deps TelemetryDeps }

// NewRetireTerminalHandler builds the handler.
func NewRetireTerminalHandler(d TelemetryDeps) RetireTerminalHandler {
	return RetireTerminalHandler{deps: d}
}

// Handle implements the use case; retiring a retired terminal changes nothing.
func (h RetireTerminalHandler) Handle(ctx context.Context, cmd RetireTerminal) (TerminalRetirement, error) {
	cn := cmd.CustomerNumber
	if cn == "" {
		var ok bool
		if cn, ok = h.deps.Agents.CustomerOf(cmd.TerminalID); !ok {
			return TerminalRetirement{}, telemetry.ErrTerminalNotFound
		}
	}
	out, err := appendToFleet(ctx, h.deps, cmd.Meta, cn, func(s agents.Snapshot) ([]any, error) {
		return one(s.Fleet.Retire(cmd.TerminalID, h.deps.Clock()))
	})
	return TerminalRetirement{Outcome: out, CustomerNumber: cn}, err
}
