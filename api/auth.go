package api

import (
	"context"
	"net/http"
	"time"

	"yorozu/api/httpx"
	"yorozu/commands"
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

// login opens a staff session: ID + password + TOTP, only from an allowed network (SPEC 10).
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
	for field, val := range map[string]string{"staffId": req.StaffID, "password": req.Password, "otp": req.OTP} {
		if val == "" {
			v.Add(field, "required", "is required")
		}
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	m := meta(r)
	m.Actor = req.StaffID
	in, err := s.App.Commands.LogIn.Handle(r.Context(), commands.LogIn{Meta: m, StaffID: req.StaffID, Password: req.Password, OTP: req.OTP})
	if err != nil {
		httpx.LoggerFrom(r.Context()).Info("login refused", "staffId", req.StaffID, "err", err)
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
