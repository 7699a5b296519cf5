package commands

import (
	"context"

	"yorozu/domain/access"
)

// LogOut ends the session of the token the staff member sent (POST /api/v1/auth/logout).
type LogOut struct {
	Meta
	StaffID string
	// SessionTokenHash is access.TokenHash of the session token; the token itself never
	// reaches the use case.
	SessionTokenHash string
}

// LogOutHandler handles LogOut.
type LogOutHandler struct{ deps AccessDeps }

// NewLogOutHandler builds the handler.
func NewLogOutHandler(d AccessDeps) LogOutHandler { return LogOutHandler{deps: d} }

// Handle implements the use case.
func (h LogOutHandler) Handle(ctx context.Context, cmd LogOut) (Outcome, error) {
	out, err := changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		return s.LogOut(cmd.SessionTokenHash, h.deps.Clock())
	})
	return out.Outcome, err
}
