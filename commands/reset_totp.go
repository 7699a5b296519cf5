package commands

import (
	"context"

	"yorozu/domain/access"
)

// ResetTOTP gives a staff member a new TOTP secret (yorozu staff reset-totp,
// POST /api/v1/staff/{staffId}/reset-totp): the old codes stop working and the member's
// sessions end.
type ResetTOTP struct {
	Meta
	StaffID string
}

// TOTPReset is what a reset answers: the new secret, shown once.
type TOTPReset struct {
	StaffChanged
	Enrollment access.Enrollment
}

// ResetTOTPHandler handles ResetTOTP.
type ResetTOTPHandler struct{ deps AccessDeps }

// NewResetTOTPHandler builds the handler.
func NewResetTOTPHandler(d AccessDeps) ResetTOTPHandler { return ResetTOTPHandler{deps: d} }

// Handle implements the use case.
func (h ResetTOTPHandler) Handle(ctx context.Context, cmd ResetTOTP) (TOTPReset, error) {
	var enrollment access.Enrollment
	out, err := changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		es, en, err := h.deps.Policy.ResetTOTP(s, h.deps.Clock(), h.deps.Random)
		enrollment = en
		return es, err
	})
	return TOTPReset{StaffChanged: out, Enrollment: enrollment}, err
}
