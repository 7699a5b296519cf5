package commands

import (
	"context"

	"yorozu/domain/access"
)

// AddStaff registers a staff member (yorozu staff add).
type AddStaff struct {
	Meta
	StaffID  string
	Role     string
	Password string // travels only in memory; the event keeps an argon2id hash
}

// StaffAdded is what adding a staff member answers: the enrollment holding the TOTP secret,
// shown once.
type StaffAdded struct {
	Outcome
	Enrollment access.Enrollment
}

// AddStaffHandler handles AddStaff.
type AddStaffHandler struct{ deps AccessDeps }

// NewAddStaffHandler builds the handler.
func NewAddStaffHandler(d AccessDeps) AddStaffHandler { return AddStaffHandler{deps: d} }

// Handle implements the use case.
func (h AddStaffHandler) Handle(ctx context.Context, cmd AddStaff) (StaffAdded, error) {
	role, err := access.ParseRole(cmd.Role)
	if err != nil {
		return StaffAdded{}, err
	}
	policy := h.deps.policy(ctx)
	var enrollment access.Enrollment
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, access.StaffStream(cmd.StaffID), access.Staff{}, foldStaff,
		func(s access.Staff, _ uint64) ([]any, error) {
			es, en, err := policy.AddStaff(s, access.NewStaff{ID: cmd.StaffID, Role: role, Password: cmd.Password}, h.deps.Random)
			enrollment = en
			return accessEvents(es), err
		})
	return StaffAdded{Outcome: out, Enrollment: enrollment}, err
}
