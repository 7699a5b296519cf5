package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/contract"
	"yorozu/domain/failure"
	"yorozu/domain/validation"
	"yorozu/projections/failures"
)

// failureRoutes: failure reports (故障).
func (s *Server) failureRoutes() []route {
	return []route{
		{"POST", "/api/v1/failures", access.PermCommand, true, s.reportFailure},
		{"GET", "/api/v1/failures", access.PermReadOperations, false, s.listFailures},
		{"GET", "/api/v1/failures/{id}", access.PermReadOperations, false, s.getFailure},
		{"POST", "/api/v1/failures/{id}/resolve", access.PermCommand, true, s.resolveFailure},
	}
}

// failureJSON is a failure report as the API shows it; the person's name, e-mail and phone only
// when one report is read.
type failureJSON struct {
	FailureID       uuid.UUID      `json:"failureId"`
	Status          failure.Status `json:"status"`
	CustomerNumber  string         `json:"customerNumber"`
	CompanyName     string         `json:"companyName"`
	What            string         `json:"what"`
	StartedAt       time.Time      `json:"startedAt"`
	ReceivedAt      time.Time      `json:"receivedAt"`
	RejectionReason *string        `json:"rejectionReason"`
	ResolvedAt      *time.Time     `json:"resolvedAt"`
	Resolution      *string        `json:"resolution"`
	Version         uint64         `json:"version"`

	PersonName *string `json:"personName,omitempty"`
	Email      *string `json:"email,omitempty"`
	Phone      *string `json:"phone,omitempty"`
}

func failureOf(rep failure.Report, personal bool) failureJSON {
	out := failureJSON{FailureID: rep.FailureID, Status: rep.Status, CustomerNumber: rep.CustomerNumber, CompanyName: rep.CompanyName,
		What: rep.What, StartedAt: rep.StartedAt.UTC(), ReceivedAt: rep.ReceivedAt.UTC(), RejectionReason: orNull(string(rep.RejectionReason)),
		ResolvedAt: instantOrNull(rep.ResolvedAt), Resolution: orNull(rep.Resolution), Version: rep.Version}
	if personal {
		out.PersonName, out.Email, out.Phone = &rep.PersonName, &rep.Email, &rep.Phone
	}
	return out
}

type failureReceived struct {
	FailureID       uuid.UUID                 `json:"failureId"`
	Status          failure.Status            `json:"status"`
	RejectionReason *contract.CallerRejection `json:"rejectionReason"`
}

func (s *Server) reportFailure(w http.ResponseWriter, r *http.Request) {
	f, err := readFields(r, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := failure.Input{CustomerNumber: f.str("customerNumber"), CompanyName: f.str("companyName"), What: f.str("what"),
		StartedAt: f.instant("startedAt"), PersonName: f.str("personName"), Email: f.str("email"), Phone: f.str("phone"),
		ReceivedAt: f.instant("receivedAt")}
	m := meta(r)
	id := failure.NewID(m.CommandID)
	details, errs := failure.NewReport(id, in, s.Clock())
	if err := f.done(errs); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.ReportFailure.Handle(r.Context(), commands.ReportFailure{Meta: m, Report: details})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := s.awaitRead(r, out.Outcome, http.StatusCreated)
	w.Header().Set("Location", "/api/v1/failures/"+id.String())
	writeCommandResult(w, out.Outcome, status, failureReceived{FailureID: id, Status: out.Status, RejectionReason: orNull(out.RejectionReason)})
}

func failureID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return uuid.Nil, failure.ErrNotFound
	}
	return id, nil
}

func (s *Server) writeFailure(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int) {
	rep, ok, err := s.App.Queries.Failures.Get(r.Context(), id)
	if err == nil && !ok {
		err = failure.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, status, failureOf(rep, true))
}

func (s *Server) getFailure(w http.ResponseWriter, r *http.Request) {
	id, err := failureID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeFailure(w, r, id, http.StatusOK)
}

func (s *Server) listFailures(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := failures.Filter{Status: failure.Status(q.Get("status")), CustomerNumber: q.Get("customerNumber")}
	if f.Status != "" && !oneOf(f.Status, failure.Statuses) {
		v.Add("status", validation.CodeInvalidChoice, "must be one of received, resolved, rejected")
	}
	if f.CustomerNumber != "" && !validation.IsCustomerNumber(f.CustomerNumber) {
		v.Add("customerNumber", validation.CodeInvalidFormat, "must be N followed by 9 digits")
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Failures.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]failureJSON, len(list))
	for i, rep := range list {
		items[i] = failureOf(rep, false)
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

func (s *Server) resolveFailure(w http.ResponseWriter, r *http.Request) {
	id, err := failureID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := readFields(r, true)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	at := s.at(f, "resolvedAt")
	var errs validation.Errors
	resolution, _ := errs.Text("resolution", f.str("resolution"), false, 4000, true)
	if err := f.done(errs); err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := s.App.Commands.ResolveFailure.Handle(r.Context(), commands.ResolveFailure{Meta: meta(r), FailureID: id, ResolvedAt: at, Resolution: resolution})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setPosition(w, out)
	s.writeFailure(w, r, id, s.awaitRead(r, out, http.StatusOK))
}
