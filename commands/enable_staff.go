package commands

import (
	"context"

	"yorozu/domain/access"
)

// EnableStaff lets a disabled staff member log in again (yorozu staff enable,
// POST /api/v1/staff/{staffId}/enable).
type EnableStaff struct {
	Meta
	StaffID string
}

// EnableStaffHandler handles EnableStaff.
type EnableStaffHandler struct{ deps AccessDeps }

// NewEnableStaffHandler builds the handler.
func NewEnableStaffHandler(d AccessDeps) EnableStaffHandler { return EnableStaffHandler{deps: d} }

// Handle implements the use case.
func (h EnableStaffHandler) Handle(ctx context.Context, cmd EnableStaff) (StaffChanged, error) {
	return changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		return s.Enable(h.deps.Clock())
	})
}
