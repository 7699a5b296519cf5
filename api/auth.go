package api

import (
	"net/http"
	"time"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
)

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
		httpx.WriteError(w, r, err)
		return
	}
	var v httpx.ValidationError
	for field, val := range map[string]string{"staffId": req.StaffID, "password": req.Password, "otp": req.OTP} {
		if val == "" {
			v.Add(field, "required", "is required")
		}
	}
	if err := v.Err(); err != nil {
		httpx.WriteError(w, r, err)
		return
	}
	m := meta(r)
	m.Actor = req.StaffID
	out, status, err := s.send(r, commands.LogIn{Meta: m, StaffID: req.StaffID, Password: req.Password, OTP: req.OTP}, http.StatusOK)
	if err != nil {
		httpx.LoggerFrom(r.Context()).Info("login refused", "staffId", req.StaffID, "err", err)
		httpx.WriteError(w, r, err)
		return
	}
	sess := out.Result.(access.Session)
	// The session must be usable by the next request: wait for the directory even past the
	// read-your-writes bound rather than hand out a token that is not accepted yet.
	_ = status
	httpx.WriteJSON(w, http.StatusOK, loginResponse{Token: sess.Token, ExpiresAt: sess.ExpiresAt})
}
