package commands

import (
	"context"
	"errors"

	"yorozu/domain/access"
)

// ChangeOwnPassword is a staff member changing their password with the current one
// (POST /api/v1/auth/password). Every session of the member ends, the one asking included.
type ChangeOwnPassword struct {
	Meta
	StaffID  string
	Current  string
	Password string
}

// ChangeOwnPasswordHandler handles ChangeOwnPassword.
type ChangeOwnPasswordHandler struct{ deps AccessDeps }

// NewChangeOwnPasswordHandler builds the handler.
func NewChangeOwnPasswordHandler(d AccessDeps) ChangeOwnPasswordHandler {
	return ChangeOwnPasswordHandler{deps: d}
}

// Handle implements the use case. A wrong current password is recorded as a failed login (and
// counts toward the lock) before the refusal is returned.
func (h ChangeOwnPasswordHandler) Handle(ctx context.Context, cmd ChangeOwnPassword) (StaffChanged, error) {
	policy := h.deps.policy(ctx)
	var refusal error
	out, err := changeStaff(ctx, h.deps, cmd.Meta, cmd.StaffID, func(s access.Staff) ([]access.Event, error) {
		es, err := policy.ChangeOwnPassword(s, cmd.Current, cmd.Password, h.deps.Clock(), h.deps.Random)
		refusal = nil
		if errors.Is(err, access.ErrCurrentPassword) {
			refusal = err
			return es, nil
		}
		return es, err
	})
	if err == nil && refusal != nil {
		return out, refusal
	}
	return out, err
}
