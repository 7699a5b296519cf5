package commands

import (
	"context"

	"yorozu/domain/access"
)

// DisableStaff stops a staff member from logging in and ends their sessions (yorozu staff
// disable, POST /api/v1/staff/{staffId}/disable).
type DisableStaff struct {
	Meta
	StaffID string
}

// DisableStaffHandler handles DisableStaff.
type DisableStaffHandler struct{ deps AccessDeps }

// NewDisableStaffHandler builds the handler.
func NewDisableStaffHandler(d AccessDeps) DisableStaffHandler { return DisableStaffHandler{deps: d} }

// Handle implements the use case.
func (h DisableStaffHandler) Handle(ctx context.Context, cmd DisableStaff) (StaffChanged, error) {
	return changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		return s.Disable(h.deps.Clock())
	})
}
