package commands

import (
	"context"

	"yorozu/domain/access"
)

// SetPassword is an operator setting a staff member's password (yorozu staff set-password,
// PUT /api/v1/staff/{staffId}/password). Every session of the member ends.
type SetPassword struct {
	Meta
	StaffID  string
	Password string
}

// SetPasswordHandler handles SetPassword.
type SetPasswordHandler struct{ deps AccessDeps }

// NewSetPasswordHandler builds the handler.
func NewSetPasswordHandler(d AccessDeps) SetPasswordHandler { return SetPasswordHandler{deps: d} }

// Handle implements the use case.
func (h SetPasswordHandler) Handle(ctx context.Context, cmd SetPassword) (StaffChanged, error) {
	policy := h.deps.policy(ctx)
	return changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		return policy.SetPassword(s, cmd.Password, h.deps.Clock(), h.deps.Random)
	})
}
