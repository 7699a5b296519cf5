package api

import (
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/insurance"
	"yorozu/domain/validation"
	insurancerm "yorozu/projections/insurance"
)

// insuranceRoutes: cyber-risk insurance claims and limits.
func (s *Server) insuranceRoutes() []route {
	return []route{
		{"POST", "/api/v1/insurance/claims", access.PermCommand, true, s.fileClaim},
		{"GET", "/api/v1/insurance/claims", access.PermReadOperations, false, s.listClaims},
		{"GET", "/api/v1/insurance/claims/{id}", access.PermReadOperations, false, s.getClaim},
		{"POST", "/api/v1/insurance/claims/{id}/assess", access.PermCommand, true, s.assessClaim},
		{"POST", "/api/v1/insurance/claims/{id}/pay", access.PermCommand, true, s.payClaim},
		{"POST", "/api/v1/insurance/claims/{id}/reject", access.PermCommand, true, s.rejectClaim},
		{"GET", "/api/v1/insurance/usage", access.PermReadOperations, false, s.insuranceUsage},
	}
}

// claimJSON is a claim as the API shows it; amounts are whole yen, unset fields
// null. `assessing` is true while an assessment is in progress (the claim is still `filed`).
type claimJSON struct {
	ClaimID         uuid.UUID           `json:"claimId"`
	CustomerNumber  string              `json:"customerNumber"`
	Period          *insurance.Period   `json:"period"`
	IncidentDate    calendar.Date       `json:"incidentDate"`
	Kind            insurance.Kind      `json:"kind"`
	CostType        *insurance.CostType `json:"costType"`
	ClaimedAmount   insurance.Yen       `json:"claimedAmount"`
	Status          insurance.Status    `json:"status"`
	Assessing       bool                `json:"assessing"`
	AssessedAmount  *insurance.Yen      `json:"assessedAmount"`
	ApprovedAmount  *insurance.Yen      `json:"approvedAmount"`
	RejectionReason *string             `json:"rejectionReason"`
	FiledAt         time.Time           `json:"filedAt"`
	AssessedAt      *time.Time          `json:"assessedAt"`
	PaidAt          *time.Time          `json:"paidAt"`
	RejectedAt      *time.Time          `json:"rejectedAt"`
	Version         uint64              `json:"version"`
}

func claimOf(c insurance.Claim) claimJSON {
	return claimJSON{
		ClaimID: c.ClaimID, CustomerNumber: c.CustomerNumber, Period: orNull(c.Period), IncidentDate: c.IncidentDate,
		Kind: c.Kind, CostType: orNull(c.CostType), ClaimedAmount: c.ClaimedAmount, Status: c.Status, Assessing: c.Assessing,
		AssessedAmount: c.AssessedAmount, ApprovedAmount: c.ApprovedAmount, RejectionReason: orNull(c.RejectionReason),
		FiledAt: c.FiledAt.UTC(), AssessedAt: instantOrNull(c.AssessedAt), PaidAt: instantOrNull(c.PaidAt),
		RejectedAt: instantOrNull(c.RejectedAt), Version: c.Version,
	}
}

func (s *Server) fileClaim(w http.ResponseWriter, r *http.Request) {
	f, err := readFields(r, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	form, errs := insurance.NewClaimForm(insurance.ClaimInput{CustomerNumber: f.str("customerNumber"), IncidentDate: f.date("incidentDate"),
		Kind: f.str("kind"), CostType: f.str("costType"), ClaimedAmount: f.integer("claimedAmount")})
	if err := f.done(errs); err != nil {
		s.fail(w, r, err)
		return
	}
	m := meta(r)
	id := insurance.NewClaimID(m.CommandID)
	out, err := s.App.Commands.FileClaim.Handle(r.Context(), commands.FileClaim{Meta: m, ClaimID: id, Claim: form})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := s.awaitRead(r, out.Outcome, http.StatusCreated)
	w.Header().Set("Location", "/api/v1/insurance/claims/"+id.String())
	writeCommandResult(w, out.Outcome, status, claimOf(out.Claim))
}

func claimID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return uuid.Nil, insurance.ErrNotFound
	}
	return id, nil
}

func (s *Server) writeClaim(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int) {
	c, ok, err := s.App.Queries.Insurance.Claim(r.Context(), id)
	if err == nil && !ok {
		err = insurance.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, status, claimOf(c))
}

func (s *Server) getClaim(w http.ResponseWriter, r *http.Request) {
	id, err := claimID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeClaim(w, r, id, http.StatusOK)
}

// periodParam reads a period name (its start year); absent, zero.
func periodParam(r *http.Request, v *httpx.ValidationError) insurance.Period {
	q := r.URL.Query().Get("period")
	if q == "" {
		return 0
	}
	p, err := insurance.ParsePeriod(q)
	if err != nil {
		v.Add("period", validation.CodeInvalidFormat, "must be a policy period named by its start year, like 2025")
	}
	return p
}

func (s *Server) listClaims(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := insurancerm.ClaimFilter{CustomerNumber: q.Get("customerNumber"), Status: insurance.Status(q.Get("status")), Period: periodParam(r, &v)}
	if f.Status != "" && !oneOf(f.Status, insurance.Statuses) {
		v.Add("status", validation.CodeInvalidChoice, "must be one of filed, assessed, paid, rejected")
	}
	if f.CustomerNumber != "" && !validation.IsCustomerNumber(f.CustomerNumber) {
		v.Add("customerNumber", validation.CodeInvalidFormat, "must be N followed by 9 digits")
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Insurance.Claims(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]claimJSON, len(list))
	for i, c := range list {
		items[i] = claimOf(c)
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

// claimCommand reads a claim command's body, runs it and answers with the claim as the read
// model then shows it.
func (s *Server) claimCommand(w http.ResponseWriter, r *http.Request, optionalBody bool,
	run func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error)) {
	id, err := claimID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	f, err := readFields(r, optionalBody)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	out, err := run(f, id, meta(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	setPosition(w, out)
	s.writeClaim(w, r, id, s.awaitRead(r, out, http.StatusOK))
}

func (s *Server) assessClaim(w http.ResponseWriter, r *http.Request) {
	s.claimCommand(w, r, false, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		amount, errs := insurance.NewAssessedAmount(f.integer("assessedAmount"))
		if err := f.done(errs); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.AssessClaim.Handle(r.Context(), commands.AssessClaim{Meta: m, ClaimID: id, AssessedAmount: amount})
	})
}

func (s *Server) payClaim(w http.ResponseWriter, r *http.Request) {
	s.claimCommand(w, r, true, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		if err := f.done(nil); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.PayClaim.Handle(r.Context(), commands.PayClaim{Meta: m, ClaimID: id})
	})
}

func (s *Server) rejectClaim(w http.ResponseWriter, r *http.Request) {
	s.claimCommand(w, r, false, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		reason, errs := insurance.NewRejectionReason(f.str("reason"))
		if err := f.done(errs); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.RejectClaim.Handle(r.Context(), commands.RejectClaim{Meta: m, ClaimID: id, Reason: reason})
	})
}

func (s *Server) insuranceUsage(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	cn := r.URL.Query().Get("customerNumber")
	switch {
	case cn == "":
		v.Add("customerNumber", validation.CodeRequired, "is required")
	case !validation.IsCustomerNumber(cn):
		v.Add("customerNumber", validation.CodeInvalidFormat, "must be N followed by 9 digits")
	}
	p := periodParam(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	if p == 0 {
		p = s.App.Queries.Insurance.Terms.Year.LatestPeriod(calendar.DateOf(s.Clock()))
	}
	u, err := s.App.Queries.Insurance.Usage(r.Context(), cn, p)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, u)
}

// registerInsuranceErrors maps the insurance errors to problems (called from newErrorMapper).
func registerInsuranceErrors(m *httpx.ErrorMapper) {
	m.Register(insurance.ErrNotFound, http.StatusNotFound, "claim-not-found", "Claim not found")
	m.Register(insurance.ErrInvalidTransition, http.StatusConflict, "claim-status-conflict", "Not allowed in the claim's status")
	m.Register(insurance.ErrAssessmentDiffers, http.StatusConflict, "assessment-in-progress", "Another assessment of the claim was in progress and has been completed")
}
