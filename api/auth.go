package api

import (
	"context"
	"net/http"
	"time"

	"github.com/google/uuid"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
)

// loginWait bounds how long a login waits, past the read-your-writes bound, for its session to
// reach the staff directory.
const loginWait = 30 * time.Second

type loginRequest struct {
	StaffID  string `json:"staffId"`
	Password string `json:"password"`
	OTP      string `json:"otp"`
}

type loginResponse struct {
	Token     string    `json:"token"`
	ExpiresAt time.Time `json:"expiresAt"`
}

// login opens a staff session: ID + password + TOTP, only from an allowed network. A refused
// login is recorded first (the lockout counts it); an ID locked by repeated failures answers
// 401 /problems/locked with Retry-After; too many logins at once answer 429 with Retry-After.
func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	if !s.clientAllowed(r) {
		httpx.WriteProblem(w, r, httpx.NewProblem(http.StatusForbidden, "network-not-allowed", "Client network not allowed",
			"staff may log in only from the allowed client networks"))
		return
	}
	var req loginRequest
	if err := httpx.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	var v httpx.ValidationError
	for _, f := range []struct{ name, value string }{{"staffId", req.StaffID}, {"password", req.Password}, {"otp", req.OTP}} {
		if f.value == "" {
			v.Add(f.name, "required", "is required")
		}
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	m := freshMeta(r)
	m.Actor = req.StaffID
	in, err := s.App.Commands.LogIn.Handle(r.Context(), commands.LogIn{Meta: m, StaffID: req.StaffID, Password: req.Password, OTP: req.OTP})
	if err != nil {
		// The error names the staff ID, or the pseudonym of an ID nobody has: what was typed
		// there may be a password in the wrong field, which no log may hold.
		httpx.LoggerFrom(r.Context()).Info("login refused", "err", err)
		s.awaitRead(r, in.Outcome, http.StatusUnauthorized) // the failure shows in the audit trail
		s.fail(w, r, err)
		return
	}
	out, sess := in.Outcome, in.Session
	if s.awaitRead(r, out, http.StatusOK) == http.StatusAccepted {
		// The token must work on the next request: wait for the staff directory past the
		// read-your-writes bound rather than hand out a token no replica accepts yet.
		ctx, cancel := context.WithTimeout(r.Context(), loginWait)
		defer cancel()
		if err := s.Runner.WaitFor(ctx, out.Position); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	httpx.WriteJSON(w, http.StatusOK, loginResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt})
}

// freshMeta is meta(r) for a request that does not honour Idempotency-Key (a login, a
// password change, an answer holding a secret): a new command ID whatever the header says, so
// that a repeated key cannot make a second failed login the "same" event as the first (and
// escape the lockout's count), nor a second reset the same as the first.
func freshMeta(r *http.Request) commands.Meta {
	m := meta(r)
	m.CommandID = uuid.Must(uuid.NewV7()).String()
	return m
}

// session is the caller's staff principal and token hash; an API key is not a session.
func session(r *http.Request) (access.Principal, string, error) {
	p, _ := httpx.PrincipalFrom(r.Context())
	token, ok := httpx.BearerToken(r)
	if p.Kind != access.KindStaff || !ok {
		return access.Principal{}, "", access.ErrNotASession
	}
	return p, access.TokenHash(token), nil
}

type logoutResponse struct {
	StaffID   string `json:"staffId"`
	LoggedOut bool   `json:"loggedOut"`
}

// logout ends the caller's session. Once it has answered 200 the token is refused by every
// replica (each one's staff directory reads the log up to what it knows before authenticating).
func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	p, hash, err := session(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.LogOut.Handle(r.Context(), commands.LogOut{Meta: meta(r), StaffID: p.ID, SessionTokenHash: hash})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out, s.awaitRead(r, out, http.StatusOK), logoutResponse{StaffID: p.ID, LoggedOut: true})
}

type ownPasswordRequest struct {
	CurrentPassword string `json:"currentPassword"`
	NewPassword     string `json:"newPassword"`
}

// changeOwnPassword changes the caller's password, given the current one. Every session of the
// caller ends, this one included. It does not honour Idempotency-Key: that would keep a
// fingerprint of a request holding two passwords for a day.
func (s *Server) changeOwnPassword(w http.ResponseWriter, r *http.Request) {
	p, _, err := session(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var req ownPasswordRequest
	if err := httpx.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	var v httpx.ValidationError
	for _, f := range []struct{ name, value string }{{"currentPassword", req.CurrentPassword}, {"newPassword", req.NewPassword}} {
		if f.value == "" {
			v.Add(f.name, "required", "is required")
		}
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.ChangeOwnPassword.Handle(r.Context(), commands.ChangeOwnPassword{
		Meta: freshMeta(r), StaffID: p.ID, Current: req.CurrentPassword, Password: req.NewPassword})
	if err != nil {
		s.awaitRead(r, out.Outcome, http.StatusForbidden) // a wrong current password is a recorded failure
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusOK), out.Staff)
}
