package api

import (
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/calendar"
	"yorozu/domain/consultation"
	"yorozu/domain/contract"
	"yorozu/domain/failure"
	"yorozu/domain/validation"
	"yorozu/projections/consultations"
)

// consultationRoutes: the help desk. The fixed paths come before /{id} so that mux does
// not read "stats" as an ID.
func (s *Server) consultationRoutes() []route {
	return []route{
		{"POST", "/api/v1/consultations", access.PermCommand, true, s.receiveConsultation},
		{"GET", "/api/v1/consultations", access.PermReadOperations, false, s.listConsultations},
		{"GET", "/api/v1/consultations/stats", access.PermReadOperations, false, s.consultationStats},
		{"GET", "/api/v1/consultations/outbound-calls", access.PermReadOperations, false, s.outboundCalls},
		{"GET", "/api/v1/consultations/long-calls", access.PermReadOperations, false, s.longCalls},
		{"GET", "/api/v1/consultations/{id}", access.PermReadOperations, false, s.getConsultation},
		{"POST", "/api/v1/consultations/{id}/triage", access.PermCommand, true, s.triageConsultation},
		{"POST", "/api/v1/consultations/{id}/reply", access.PermCommand, true, s.replyConsultation},
		{"POST", "/api/v1/consultations/{id}/close", access.PermCommand, true, s.closeConsultation},
		{"POST", "/api/v1/consultations/{id}/reopen", access.PermCommand, true, s.reopenConsultation},
		{"POST", "/api/v1/consultations/{id}/ticket-quote", access.PermCommand, true, s.quoteTickets},
	}
}

// consultationJSON is a consultation as the API shows it. Fields not set yet are
// null. The caller's personal data (person, e-mail, phone, the body and the replies) appear only
// when one consultation is read, never in lists.
type consultationJSON struct {
	ConsultationID  uuid.UUID                  `json:"consultationId"`
	Status          consultation.Status        `json:"status"`
	Channel         consultation.Channel       `json:"channel"`
	ReceivedAt      time.Time                  `json:"receivedAt"`
	DueAt           *time.Time                 `json:"dueAt"`
	Overdue         bool                       `json:"overdue"`
	Category        *string                    `json:"category"`
	Decision        *string                    `json:"decision"`
	DeclineReason   *string                    `json:"declineReason"`
	Referral        *string                    `json:"referral"`
	RejectionReason *string                    `json:"rejectionReason"`
	AnsweredAt      *time.Time                 `json:"answeredAt"`
	ClosedAt        *time.Time                 `json:"closedAt"`
	ReopenedAt      *time.Time                 `json:"reopenedAt"`
	CustomerNumber  string                     `json:"customerNumber"`
	CompanyName     string                     `json:"companyName"`
	Subject         string                     `json:"subject"`
	DurationMinutes *int                       `json:"durationMinutes"`
	TicketQuote     *consultation.TicketQuote  `json:"ticketQuote"`
	TicketOrder     *consultations.TicketOrder `json:"ticketOrder"`
	Version         uint64                     `json:"version"`

	PersonName *string     `json:"personName,omitempty"`
	Email      *string     `json:"email,omitempty"`
	Phone      *string     `json:"phone,omitempty"`
	Body       *string     `json:"body,omitempty"`
	Replies    []replyJSON `json:"replies,omitempty"`
}

type replyJSON struct {
	AnsweredAt      time.Time            `json:"answeredAt"`
	Channel         consultation.Channel `json:"channel"`
	Body            string               `json:"body"`
	DurationMinutes *int                 `json:"durationMinutes"`
}

// orNull is nil for the zero value: a JSON null.
func orNull[T comparable](v T) *T {
	var zero T
	if v == zero {
		return nil
	}
	return &v
}

func instantOrNull(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	u := t.UTC()
	return &u
}

func consultationOf(v consultations.View, now time.Time, personal bool) consultationJSON {
	c := v.Consultation
	out := consultationJSON{
		ConsultationID: c.ConsultationID, Status: c.Status, Channel: c.Channel, ReceivedAt: c.ReceivedAt.UTC(),
		DueAt: instantOrNull(c.DueAt), Overdue: c.Overdue(now),
		Category: orNull(string(c.Category)), Decision: orNull(string(c.Decision)),
		DeclineReason: orNull(string(c.DeclineReason)), Referral: orNull(string(c.Referral)),
		RejectionReason: orNull(string(c.RejectionReason)),
		AnsweredAt:      instantOrNull(c.AnsweredAt), ClosedAt: instantOrNull(c.ClosedAt), ReopenedAt: instantOrNull(c.ReopenedAt),
		CustomerNumber: c.CustomerNumber, CompanyName: c.CompanyName, Subject: c.Subject, DurationMinutes: c.CallMinutes,
		TicketQuote: c.TicketQuote, TicketOrder: v.TicketOrder, Version: c.Version,
	}
	if personal {
		out.PersonName, out.Email, out.Phone, out.Body = &c.PersonName, &c.Email, &c.Phone, &c.Body
		for _, r := range c.Replies {
			out.Replies = append(out.Replies, replyJSON{AnsweredAt: r.AnsweredAt.UTC(), Channel: r.Channel, Body: r.Body, DurationMinutes: r.CallMinutes})
		}
	}
	return out
}

// consultationReceived is the intake's answer.
type consultationReceived struct {
	ConsultationID  uuid.UUID                 `json:"consultationId"`
	Status          consultation.Status       `json:"status"`
	DueAt           *time.Time                `json:"dueAt"`
	RejectionReason *contract.CallerRejection `json:"rejectionReason"`
}

func (s *Server) receiveConsultation(w http.ResponseWriter, r *http.Request) {
	f, err := readFields(r, false)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	in := consultation.IntakeInput{
		Channel: f.str("channel"), ReceivedAt: f.instant("receivedAt"), CustomerNumber: f.str("customerNumber"),
		CompanyName: f.str("companyName"), PersonName: f.str("personName"), Email: f.str("email"), Phone: f.str("phone"),
		Subject: f.str("subject"), Body: f.str("body"), DurationMinutes: f.small("durationMinutes"),
	}
	intake, errs := consultation.NewIntake(in)
	if err := f.done(errs); err != nil {
		s.fail(w, r, err)
		return
	}
	m := meta(r)
	id := consultation.NewID(m.CommandID)
	out, err := s.App.Commands.ReceiveConsultation.Handle(r.Context(), commands.ReceiveConsultation{Meta: m, ConsultationID: id, Intake: intake})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	status := s.awaitRead(r, out.Outcome, http.StatusCreated)
	w.Header().Set("Location", "/api/v1/consultations/"+id.String())
	writeCommandResult(w, out.Outcome, status, consultationReceived{ConsultationID: id, Status: out.Status,
		DueAt: instantOrNull(out.DueAt), RejectionReason: orNull(out.RejectionReason)})
}

func consultationID(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)["id"])
	if err != nil {
		return uuid.Nil, consultation.ErrNotFound
	}
	return id, nil
}

func (s *Server) writeConsultation(w http.ResponseWriter, r *http.Request, id uuid.UUID, status int) {
	v, ok, err := s.App.Queries.Consultations.Get(r.Context(), id)
	if err == nil && !ok {
		err = consultation.ErrNotFound
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, status, consultationOf(v, s.Clock(), true))
}

func (s *Server) getConsultation(w http.ResponseWriter, r *http.Request) {
	id, err := consultationID(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.writeConsultation(w, r, id, http.StatusOK)
}

func (s *Server) listConsultations(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := consultations.Filter{Status: consultation.Status(q.Get("status")), CustomerNumber: q.Get("customerNumber"), Now: s.Clock()}
	if f.Status != "" && !oneOf(f.Status, consultation.Statuses) {
		v.Add("status", validation.CodeInvalidChoice, "must be one of open, answered, closed, rejected")
	}
	switch q.Get("overdue") {
	case "":
	case "true":
		f.Overdue = new(true)
	case "false":
		f.Overdue = new(false)
	default:
		v.Add("overdue", validation.CodeInvalidChoice, "must be true or false")
	}
	if f.CustomerNumber != "" && !validation.IsCustomerNumber(f.CustomerNumber) {
		v.Add("customerNumber", validation.CodeInvalidFormat, "must be N followed by 9 digits")
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Consultations.List(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	now := s.Clock()
	items := make([]consultationJSON, len(list))
	for i, c := range list {
		items[i] = consultationOf(c, now, false)
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

func oneOf[T comparable](v T, values []T) bool {
	for _, x := range values {
		if v == x {
			return true
		}
	}
	return false
}

// consultationCommand reads a lifecycle command's body, runs it and answers with the
// consultation as the read model then shows it.
func (s *Server) consultationCommand(w http.ResponseWriter, r *http.Request, optionalBody bool,
	run func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error)) {
	id, err := consultationID(r)
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
	s.writeConsultation(w, r, id, s.awaitRead(r, out, http.StatusOK))
}

func (s *Server) triageConsultation(w http.ResponseWriter, r *http.Request) {
	s.consultationCommand(w, r, false, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		t, errs := consultation.NewTriage(consultation.TriageInput{Category: f.str("category"), Decision: f.str("decision"),
			Reason: f.str("reason"), Referral: f.str("referral")})
		if err := f.done(errs); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.TriageConsultation.Handle(r.Context(), commands.TriageConsultation{Meta: m, ConsultationID: id, Triage: t})
	})
}

// at is an optional instant field, the clock's time when absent.
func (s *Server) at(f *fields, name string) time.Time {
	if t := f.instant(name); t != nil {
		return *t
	}
	return s.Clock()
}

func (s *Server) replyConsultation(w http.ResponseWriter, r *http.Request) {
	s.consultationCommand(w, r, false, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		reply, errs := consultation.NewReply(s.at(f, "answeredAt"), f.str("channel"), f.str("body"), f.small("durationMinutes"))
		if err := f.done(errs); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.AnswerConsultation.Handle(r.Context(), commands.AnswerConsultation{Meta: m, ConsultationID: id, Reply: reply})
	})
}

func (s *Server) closeConsultation(w http.ResponseWriter, r *http.Request) {
	s.consultationCommand(w, r, true, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		at := s.at(f, "closedAt")
		if err := f.done(nil); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.CloseConsultation.Handle(r.Context(), commands.CloseConsultation{Meta: m, ConsultationID: id, ClosedAt: at})
	})
}

func (s *Server) reopenConsultation(w http.ResponseWriter, r *http.Request) {
	s.consultationCommand(w, r, true, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		at := s.at(f, "reopenedAt")
		if err := f.done(nil); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.ReopenConsultation.Handle(r.Context(), commands.ReopenConsultation{Meta: m, ConsultationID: id, ReopenedAt: at})
	})
}

func (s *Server) quoteTickets(w http.ResponseWriter, r *http.Request) {
	s.consultationCommand(w, r, false, func(f *fields, id uuid.UUID, m commands.Meta) (commands.Outcome, error) {
		tickets := f.small("tickets")
		var errs validation.Errors
		if tickets == nil {
			errs.Add("tickets", validation.CodeRequired, "is required: the number of security tickets, 1 to %d", consultation.MaxTickets)
		}
		if err := f.done(errs); err != nil {
			return commands.Outcome{}, err
		}
		return s.App.Commands.QuoteTickets.Handle(r.Context(), commands.QuoteTickets{Meta: m, ConsultationID: id, Tickets: *tickets})
	})
}

// monthParam reads a YYYY-MM month; absent, the current month in JST.
func (s *Server) monthParam(r *http.Request, v *httpx.ValidationError) string {
	m := r.URL.Query().Get("month")
	if m == "" {
		return s.Clock().In(calendar.JST()).Format("2006-01")
	}
	if _, err := time.Parse("2006-01", m); err != nil || len(m) != 7 {
		v.Add("month", validation.CodeInvalidFormat, "must be a month written YYYY-MM")
	}
	return m
}

func (s *Server) consultationStats(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	month := s.monthParam(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	stats, err := s.App.Queries.Consultations.Stats(r.Context(), month)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, stats)
}

// outboundCall is a contract to call: it has not consulted the help desk for three months.
type outboundCall struct {
	CustomerNumber     string        `json:"customerNumber"`
	CompanyName        string        `json:"companyName"`
	OpenedOn           calendar.Date `json:"openedOn"`
	LastConsultationAt *time.Time    `json:"lastConsultationAt"`
	QuietSince         calendar.Date `json:"quietSince"`
}

func (s *Server) outboundCalls(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	asOf := dateParam(r, "asOf", &v)
	if asOf.IsZero() {
		asOf = calendar.DateOf(s.Clock())
	}
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Consultations.OutboundCalls(r.Context(), asOf, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]outboundCall, len(list))
	for i, q := range list {
		items[i] = outboundCall{CustomerNumber: q.CustomerNumber, CompanyName: q.CompanyName, OpenedOn: q.OpenedOn,
			LastConsultationAt: instantOrNull(q.LastConsultationAt), QuietSince: q.QuietSince}
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

func (s *Server) longCalls(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	month := s.monthParam(r, &v)
	limit, after := page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Consultations.LongCalls(r.Context(), month, after, limit)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, newList(list, next))
}

// registerHelpDeskErrors maps the errors of consultations, failure reports and the shared input
// rules to problems (called from newErrorMapper).
func registerHelpDeskErrors(m *httpx.ErrorMapper) {
	m.RegisterFunc(func(err error) (*httpx.Problem, bool) {
		var errs validation.Errors
		if !errors.As(err, &errs) {
			return nil, false
		}
		p := httpx.NewProblem(http.StatusUnprocessableEntity, "validation-failed", "The request is not valid",
			fmt.Sprintf("%d field errors; nothing was stored", len(errs)))
		for _, e := range errs {
			p.Errors = append(p.Errors, httpx.FieldError{Field: e.Field, Code: e.Code, Message: e.Message})
		}
		return p, true
	})
	m.Register(consultation.ErrNotFound, http.StatusNotFound, "consultation-not-found", "Consultation not found")
	m.Register(consultation.ErrInvalidTransition, http.StatusConflict, "consultation-status-conflict", "Not allowed in the consultation's status")
	m.Register(failure.ErrNotFound, http.StatusNotFound, "failure-not-found", "Failure report not found")
	m.Register(failure.ErrInvalidTransition, http.StatusConflict, "failure-status-conflict", "Not allowed in the failure report's status")
}
