package commands

import (
	"context"

	"yorozu/domain/access"
)

// UnlockStaff lifts the lock that repeated failed logins put on a staff ID (yorozu staff
// unlock, POST /api/v1/staff/{staffId}/unlock).
type UnlockStaff struct {
	Meta
	StaffID string
}

// UnlockStaffHandler handles UnlockStaff.
type UnlockStaffHandler struct{ deps AccessDeps }

// NewUnlockStaffHandler builds the handler.
func NewUnlockStaffHandler(d AccessDeps) UnlockStaffHandler { return UnlockStaffHandler{deps: d} }

// Handle implements the use case.
func (h UnlockStaffHandler) Handle(ctx context.Context, cmd UnlockStaff) (StaffChanged, error) {
	return changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		return s.Unlock(h.deps.Clock())
	})
}
