package commands

import (
	"context"
	"fmt"
	"io"

	"yorozu/domain/access"
	"yorozu/domain/event"
)

// AccessDeps are what the staff and API-key use cases need besides Deps.
type AccessDeps struct {
	Deps
	Policy access.Policy
	// Random is crypto/rand.Reader in production.
	Random io.Reader
	// Hashing bounds how many password hashes run at once.
	Hashing *PasswordHashing
}

// policy is the policy one call decides with: its password hashes go through the hashing
// budget, and are remembered for the decisions the call makes again after a conflict.
func (d AccessDeps) policy(ctx context.Context) access.Policy {
	p := d.Policy
	if d.Hashing != nil {
		p.Argon2 = d.Hashing.KeyFunc(ctx)
	}
	return p
}

// foldStaff folds a staff stream (or an unknown staff ID's stream).
func foldStaff(s *access.Staff, r event.Record, e any) error {
	ae, ok := e.(access.Event)
	if !ok {
		return fmt.Errorf("commands: %s in staff stream %s", r.Type, r.Stream)
	}
	*s = s.Evolve(ae)
	return nil
}

// foldAPIKey folds an API key's stream.
func foldAPIKey(k *access.APIKey, r event.Record, e any) error {
	ae, ok := e.(access.Event)
	if !ok {
		return fmt.Errorf("commands: %s in API key stream %s", r.Type, r.Stream)
	}
	*k = k.Evolve(ae)
	return nil
}

func accessEvents(es []access.Event) []any {
	out := make([]any, len(es))
	for i, e := range es {
		out[i] = e
	}
	return out
}

// StaffChanged is what an operator's command on a staff member answers: the member as it is
// after the command.
type StaffChanged struct {
	Outcome
	Staff access.StaffInfo
}

// changeStaff runs one decision on a staff member's stream and reports the member after it.
func changeStaff(ctx context.Context, d AccessDeps, m Meta, staffID string,
	decide func(access.Staff) ([]access.Event, error)) (StaffChanged, error) {
	if !access.ValidName(staffID) {
		return StaffChanged{}, fmt.Errorf("%w: %q", access.ErrUnknownStaff, staffID)
	}
	var after access.Staff
	out, err := execute(ctx, d.Deps, m, access.StaffStream(staffID), access.Staff{}, foldStaff,
		func(s access.Staff, _ uint64) ([]any, error) {
			es, err := decide(s)
			after = s
			for _, e := range es {
				after = after.Evolve(e)
			}
			return accessEvents(es), err
		})
	if err != nil {
		return StaffChanged{Outcome: out}, err
	}
	return StaffChanged{Outcome: out, Staff: after.Info(d.Clock())}, nil
}
