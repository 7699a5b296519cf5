package commands

import (
	"context"

	"yorozu/domain/access"
)

// LogIn opens a staff session with ID, password and one-time code. A refused login appends
// nothing: the refusal is logged, and repeated refusals are slowed down by the HTTP layer's rate
// limit.
type LogIn struct {
	Meta
	StaffID  string
	Password string
	OTP      string
}

// LoggedIn is what a login answers: the session, whose token is shown once.
type LoggedIn struct {
	Outcome
	Session access.Session
}

// LogInHandler handles LogIn.
type LogInHandler struct{ deps AccessDeps }

// NewLogInHandler builds the handler.
func NewLogInHandler(d AccessDeps) LogInHandler { return LogInHandler{deps: d} }

// Handle implements the use case.
func (h LogInHandler) Handle(ctx context.Context, cmd LogIn) (LoggedIn, error) {
	var session access.Session
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, access.StaffStream(cmd.StaffID), access.Staff{}, foldStaff,
		func(s access.Staff, _ uint64) ([]any, error) {
			es, sess, err := h.deps.Policy.Login(s, cmd.Password, cmd.OTP, h.deps.Clock(), h.deps.Random)
			if err != nil {
				return nil, err
			}
			session = sess
			return accessEvents(es), nil
		})
	return LoggedIn{Outcome: out, Session: session}, err
}
