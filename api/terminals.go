package api

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
	"yorozu/projections/reports/render"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/healthcheck"
	"yorozu/domain/telemetry"
	"yorozu/projections/reports"
	"yorozu/projections/terminals"
)

// terminalRoutes are the staff's terminal endpoints and the agents' own.
func (s *Server) terminalRoutes() []route {
	return []route{
		{"POST", "/api/v1/contracts/{customerNumber}/enrollment-tokens", access.PermCommand, true, s.issueEnrollmentToken},
		{"GET", "/api/v1/terminals", access.PermReadOperations, false, s.listTerminals},
		{"POST", "/api/v1/terminals/{terminalId}/retire", access.PermCommand, true, s.retireTerminal},
		// Agents authenticate with their own tokens, inside the handlers.
		{"POST", "/agent/v1/enroll", 0, false, s.agentEnroll},
		{"POST", "/agent/v1/telemetry", 0, false, s.agentTelemetry},
	}
}

// registerTelemetryErrors maps the terminal, telemetry and report errors (called from
// newErrorMapper). The enrollment refusals carry the agent contract's codes as their type.
func registerTelemetryErrors(m *httpx.ErrorMapper) {
	m.Register(telemetry.ErrBadEnrollmentToken, http.StatusUnauthorized, "bad-enrollment-token", "Bad or expired enrollment token")
	m.Register(telemetry.ErrBadAgentToken, http.StatusUnauthorized, "bad-agent-token", "Unknown agent token")
	m.Register(telemetry.ErrIDLimitReached, http.StatusConflict, "idLimitReached", "Every device ID of the contract is in use")
	m.Register(telemetry.ErrUnsupportedOS, http.StatusUnprocessableEntity, "unsupportedOs", "Only Windows terminals can enroll")
	m.Register(telemetry.ErrAssetManagementToolPresent, http.StatusUnprocessableEntity, "assetManagementToolPresent",
		"Another IT asset-management tool is installed")
	m.Register(telemetry.ErrContractNotActive, http.StatusUnprocessableEntity, "contractNotActive", "The contract is not active")
	m.Register(telemetry.ErrTerminalRetired, http.StatusForbidden, "terminalRetired", "The terminal was retired")
	m.Register(telemetry.ErrContractTerminated, http.StatusForbidden, "contractTerminated", "The terminal's contract was terminated")
	m.Register(telemetry.ErrTerminalNotFound, http.StatusNotFound, "terminal-not-found", "Terminal not found")
	m.Register(telemetry.ErrMalformed, http.StatusBadRequest, "malformed-body", "Malformed request body")
	m.Register(reports.ErrNoReport, http.StatusNotFound, "no-report", "No report for that month")
	m.Register(render.ErrUnknownSection, http.StatusNotFound, "unknown-section", "The report has no such section")
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var inv *telemetry.InvalidError
		if !errors.As(err, &inv) {
			return nil, false
		}
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation", "The request has errors",
			fmt.Sprintf("%d field errors; nothing was stored", len(inv.Errors)))
		for _, f := range inv.Errors {
			p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		return p, true
	})
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var inv *healthcheck.ValidationError
		if !errors.As(err, &inv) {
			return nil, false
		}
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation", "The catalog has errors",
			fmt.Sprintf("%d field errors; nothing was stored", len(inv.Errors)))
		for _, f := range inv.Errors {
			p.Errors = append(p.Errors, httpx.FieldError{Field: f.Field, Code: f.Code, Message: f.Message})
		}
		return p, true
	})
}

// enrollmentTokenBody is the optional body of POST .../enrollment-tokens.
type enrollmentTokenBody struct {
	// ValidDays is how long the token works: 1 to 365 days, 30 by default.
	ValidDays *int `json:"validDays"`
}

func (s *Server) issueEnrollmentToken(w http.ResponseWriter, r *http.Request) {
	var body enrollmentTokenBody
	if r.ContentLength != 0 {
		if err := httpx.DecodeJSON(r, &body); err != nil {
			s.fail(w, r, err)
			return
		}
	}
	var v httpx.ValidationError
	var ttl time.Duration
	if body.ValidDays != nil {
		if *body.ValidDays < 1 || *body.ValidDays > 365 {
			v.Add("validDays", "range", "validDays is 1 to 365")
		}
		ttl = time.Duration(*body.ValidDays) * 24 * time.Hour
	}
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.IssueEnrollmentToken.Handle(r.Context(), commands.IssueEnrollmentToken{
		Meta: meta(r), CustomerNumber: mux.Vars(r)["customerNumber"], TTL: ttl})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated),
		map[string]any{"enrollmentToken": out.Token, "expiresAt": out.ExpiresAt})
}

// terminalJSON is a terminal as staff see it.
type terminalJSON struct {
	TerminalID     string       `json:"terminalId"`
	CustomerNumber string       `json:"customerNumber"`
	Hostname       string       `json:"hostname"`
	Status         string       `json:"status"`
	OS             telemetry.OS `json:"os"`
	EnrolledAt     time.Time    `json:"enrolledAt"`
	LastSeenAt     *time.Time   `json:"lastSeenAt"`
	RetiredAt      *time.Time   `json:"retiredAt,omitempty"`
}

func terminalOf(v terminals.View) terminalJSON {
	return terminalJSON{TerminalID: v.TerminalID, CustomerNumber: v.CustomerNumber, Hostname: v.Hostname, Status: v.Status,
		OS: v.OS, EnrolledAt: v.EnrolledAt, LastSeenAt: v.LastSeenAt, RetiredAt: v.RetiredAt}
}

func (s *Server) listTerminals(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := terminals.Filter{CustomerNumber: q.Get("customerNumber"), Status: q.Get("status")}
	switch f.Status {
	case "", telemetry.StatusActive, telemetry.StatusRetired:
	default:
		v.Add("status", "invalidChoice", "must be active or retired")
	}
	if sd := q.Get("silentDays"); sd != "" {
		n, err := strconv.Atoi(sd)
		if err != nil || n < 0 || n > 3650 {
			v.Add("silentDays", "invalidNumber", "must be a whole number of days, 0 to 3650")
		} else {
			f.SilentSince = s.Clock().Add(-time.Duration(n) * 24 * time.Hour)
		}
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Terminals.Find(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]terminalJSON, len(list))
	for i, t := range list {
		items[i] = terminalOf(t)
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

func (s *Server) retireTerminal(w http.ResponseWriter, r *http.Request) {
	id, err := uuid.Parse(mux.Vars(r)["terminalId"])
	if err != nil {
		s.fail(w, r, telemetry.ErrTerminalNotFound)
		return
	}
	cmd := commands.RetireTerminal{Meta: meta(r), TerminalID: id}
	if t, ok, err := s.App.Queries.Terminals.Get(r.Context(), id.String()); err == nil && ok {
		cmd.CustomerNumber = t.CustomerNumber
	}
	out, err := s.App.Commands.RetireTerminal.Handle(r.Context(), cmd)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := s.awaitRead(r, out.Outcome, http.StatusOK)
	t, ok, err := s.App.Queries.Terminals.Get(r.Context(), id.String())
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if !ok { // the read model has not caught up (202): say what is known
		writeCommandResult(w, out.Outcome, status, map[string]any{"terminalId": id.String(), "customerNumber": out.CustomerNumber,
			"status": telemetry.StatusRetired})
		return
	}
	writeCommandResult(w, out.Outcome, status, terminalOf(t))
}
