package commands

import (
	"context"
	"errors"

	"yorozu/domain/access"
)

// LogIn opens a staff session with ID, password and one-time code. A refused login is
// recorded (StaffLoginFailed, and StaffLocked at the limit) before the refusal is returned:
// that is what the lockout counts.
type LogIn struct {
	Meta
	StaffID  string
	Password string
	OTP      string
}

// LoggedIn is what a login answers: the session, whose token is shown once. A refused login
// answers its error with the Outcome of the failure it recorded.
type LoggedIn struct {
	Outcome
	Session access.Session
}

// LogInHandler handles LogIn.
type LogInHandler struct{ deps AccessDeps }

// NewLogInHandler builds the handler.
func NewLogInHandler(d AccessDeps) LogInHandler { return LogInHandler{deps: d} }

// Handle implements the use case.
//
// An ID that is not registered is decided on its own stream (access.UnknownStaffStream, named
// and acted by the ID's pseudonym): it costs a password hash, a stream read and an append like
// a known ID (both paths read two streams), and it locks like one, so neither the time nor the
// answers tell which IDs exist. An ID no member can have (access.ValidName) costs the hash and
// appends nothing.
func (h LogInHandler) Handle(ctx context.Context, cmd LogIn) (LoggedIn, error) {
	policy := h.deps.policy(ctx)
	attempt := access.LoginAttempt{StaffID: cmd.StaffID, Password: cmd.Password, OTP: cmd.OTP}
	if !access.ValidName(cmd.StaffID) {
		return LoggedIn{}, policy.RefuseMalformed(attempt)
	}
	var member access.Staff
	if _, err := load(ctx, h.deps.Deps, access.StaffStream(cmd.StaffID), &member, foldStaff); err != nil {
		return LoggedIn{}, err
	}
	stream := access.StaffStream(cmd.StaffID)
	if !member.Exists() {
		// Under the ID's pseudonym: what was typed may be a password in the wrong field.
		pseudonym := policy.UnknownID(cmd.StaffID)
		stream, cmd.Actor = access.UnknownStaffStream(pseudonym), pseudonym
	}
	var (
		session access.Session
		refusal error
	)
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, stream, access.Staff{}, foldStaff,
		func(s access.Staff, _ uint64) ([]any, error) {
			es, sess, err := policy.Login(s, attempt, h.deps.Clock(), h.deps.Random)
			var refused *access.CredentialError
			switch {
			case errors.As(err, &refused):
				session, refusal = access.Session{}, err
				return accessEvents(es), nil // the failure is recorded; the refusal comes after
			case err != nil:
				return nil, err
			}
			session, refusal = sess, nil
			return accessEvents(es), nil
		})
	if err != nil {
		return LoggedIn{Outcome: out}, err
	}
	if refusal != nil {
		return LoggedIn{Outcome: out}, refusal
	}
	return LoggedIn{Outcome: out, Session: session}, nil
}
