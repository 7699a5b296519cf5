package api

import (
	"net/http"
	"slices"

	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
)

// accessRoutes are the operators' endpoints for staff accounts and API keys. Those whose
// request or answer holds a credential (a password, a TOTP secret, a key) do not honour
// Idempotency-Key: honouring it means keeping the answer, or a fingerprint of the request, for
// a day, and a credential is kept nowhere. Repeating one of them does it again.
func (s *Server) accessRoutes() []route {
	return []route{
		{"GET", "/api/v1/staff", access.PermManageAccess, false, s.listStaff},
		{"GET", "/api/v1/staff/{staffId}", access.PermManageAccess, false, s.getStaff},
		{"POST", "/api/v1/staff/{staffId}/disable", access.PermManageAccess, true, s.staffCommand(s.disableStaff)},
		{"POST", "/api/v1/staff/{staffId}/enable", access.PermManageAccess, true, s.staffCommand(s.enableStaff)},
		{"POST", "/api/v1/staff/{staffId}/unlock", access.PermManageAccess, true, s.staffCommand(s.unlockStaff)},
		{"POST", "/api/v1/staff/{staffId}/reset-totp", access.PermManageAccess, false, s.resetTOTP},
		{"PUT", "/api/v1/staff/{staffId}/password", access.PermManageAccess, false, s.setPassword},
		{"GET", "/api/v1/api-keys", access.PermManageAccess, false, s.listAPIKeys},
		{"POST", "/api/v1/api-keys", access.PermManageAccess, false, s.createAPIKey},
		{"POST", "/api/v1/api-keys/{name}/revoke", access.PermManageAccess, true, s.revokeAPIKey},
	}
}

// pageBy cuts a sorted list at the cursor (the key of the last item of the previous page).
func pageBy[T any](items []T, key func(T) string, limit int, after string) ([]T, string) {
	start := 0
	if after != "" {
		start, _ = slices.BinarySearchFunc(items, after, func(it T, k string) int {
			switch {
			case key(it) < k:
				return -1
			case key(it) > k:
				return 1
			}
			return 0
		})
		if start < len(items) && key(items[start]) == after {
			start++
		}
	}
	items = items[start:]
	if len(items) <= limit {
		return items, ""
	}
	return items[:limit], key(items[limit-1])
}

func (s *Server) listStaff(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	items, next := pageBy(s.Directory.StaffList(s.Clock()), func(i access.StaffInfo) string { return i.StaffID }, limit, after)
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

func (s *Server) getStaff(w http.ResponseWriter, r *http.Request) {
	member, ok := s.Directory.Staff(mux.Vars(r)["staffId"])
	if !ok {
		s.fail(w, r, access.ErrUnknownStaff)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, member.Info(s.Clock()))
}

// staffCommand runs an operator's command on the staff member of the path and answers the
// member as it is afterwards.
func (s *Server) staffCommand(run func(r *http.Request, m commands.Meta, id string) (commands.StaffChanged, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		out, err := run(r, meta(r), mux.Vars(r)["staffId"])
		if err != nil {
			s.fail(w, r, err)
			return
		}
		writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusOK), out.Staff)
	}
}

func (s *Server) disableStaff(r *http.Request, m commands.Meta, id string) (commands.StaffChanged, error) {
	return s.App.Commands.DisableStaff.Handle(r.Context(), commands.DisableStaff{Meta: m, StaffID: id})
}

func (s *Server) enableStaff(r *http.Request, m commands.Meta, id string) (commands.StaffChanged, error) {
	return s.App.Commands.EnableStaff.Handle(r.Context(), commands.EnableStaff{Meta: m, StaffID: id})
}

func (s *Server) unlockStaff(r *http.Request, m commands.Meta, id string) (commands.StaffChanged, error) {
	return s.App.Commands.UnlockStaff.Handle(r.Context(), commands.UnlockStaff{Meta: m, StaffID: id})
}

// resetTOTP gives the staff member a new TOTP secret and answers it, once.
func (s *Server) resetTOTP(w http.ResponseWriter, r *http.Request) {
	out, err := s.App.Commands.ResetTOTP.Handle(r.Context(), commands.ResetTOTP{Meta: freshMeta(r), StaffID: mux.Vars(r)["staffId"]})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusOK), out.Enrollment)
}

type setPasswordRequest struct {
	Password string `json:"password"`
}

// setPassword is an operator setting a staff member's password.
func (s *Server) setPassword(w http.ResponseWriter, r *http.Request) {
	var req setPasswordRequest
	if err := httpx.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	if req.Password == "" {
		s.fail(w, r, &httpx.ValidationError{Errors: []httpx.FieldError{{Field: "password", Code: "required", Message: "is required"}}})
		return
	}
	out, err := s.App.Commands.SetPassword.Handle(r.Context(), commands.SetPassword{Meta: freshMeta(r), StaffID: mux.Vars(r)["staffId"], Password: req.Password})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusOK), out.Staff)
}

func (s *Server) listAPIKeys(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	items, next := pageBy(s.Directory.APIKeys(), func(k access.APIKeyInfo) string { return k.Name }, limit, after)
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

type createAPIKeyRequest struct {
	Name string `json:"name"`
	Role string `json:"role"`
}

type apiKeyCreated struct {
	Name string `json:"name"`
	Role string `json:"role"`
	Key  string `json:"key"`
}

// createAPIKey creates a service account's key and answers it, once.
func (s *Server) createAPIKey(w http.ResponseWriter, r *http.Request) {
	var req createAPIKeyRequest
	if err := httpx.DecodeJSON(r, &req); err != nil {
		s.fail(w, r, err)
		return
	}
	var v httpx.ValidationError
	if req.Name == "" {
		v.Add("name", "required", "is required")
	}
	if req.Role == "" {
		v.Add("role", "required", "is required")
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.CreateAPIKey.Handle(r.Context(), commands.CreateAPIKey{Meta: freshMeta(r), Name: req.Name, Role: req.Role})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), apiKeyCreated{Name: req.Name, Role: req.Role, Key: out.Key})
}

// revokeAPIKey ends a key for good and answers it as the listing shows it.
func (s *Server) revokeAPIKey(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["name"]
	out, err := s.App.Commands.RevokeAPIKey.Handle(r.Context(), commands.RevokeAPIKey{Meta: meta(r), Name: name})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := s.awaitRead(r, out.Outcome, http.StatusOK)
	info := out.Key
	for _, k := range s.Directory.APIKeys() {
		if k.Name == name {
			info.CreatedAt, info.RevokedAt = k.CreatedAt, k.RevokedAt // the envelopes' times
		}
	}
	writeCommandResult(w, out.Outcome, status, info)
}
