// Package diagnosis is the leak-risk diagnosis (情報漏えいリスク診断): a questionnaire published
// by staff as reference data, the customers' answers scored against it, and the report that goes
// to the customer's security contact within ten business days.
//
// It is pure: no I/O, no clock; the caller passes the time and the business calendar.
// docs/diagnosis.md states the rules in prose.
package diagnosis

import (
	"fmt"
	"regexp"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
)

// Status of a diagnosis.
type Status string

// The statuses: received when scored, reported once its report was sent.
const (
	StatusReceived Status = "received"
	StatusReported Status = "reported"
)

// ReportLeadDays is the business days the service has to send a report.
const ReportLeadDays = 10

// MinInterval is the months that must pass between two diagnoses of one customer.
const MinInterval = 6

// clockSkew is how far in the future a time given by a client may be.
const clockSkew = 5 * time.Minute

// dayEnd is the end of a business day (17:30 JST): a report due on a day is overdue after it.
const dayEnd = 17*time.Hour + 30*time.Minute

// Diagnosis is one customer's scored answers.
type Diagnosis struct {
	ID             uuid.UUID        `json:"diagnosisId"`
	CustomerNumber string           `json:"customerNumber"`
	AnsweredAt     time.Time        `json:"answeredAt"`
	DueOn          calendar.Date    `json:"dueOn"`
	Status         Status           `json:"status"`
	ReportedAt     *time.Time       `json:"reportedAt"`
	Answers        map[string]Value `json:"answers"`
	// QuestionnaireVersion is the version of the questionnaire it was scored against.
	QuestionnaireVersion uint64 `json:"questionnaireVersion"`
	Result
	ReportTo string `json:"reportTo"`
}

// DueAt is when the report stops being on time: the end of business (17:30 JST) on DueOn.
func (d Diagnosis) DueAt() time.Time { return d.DueOn.Start().Add(dayEnd) }

// Overdue reports whether the report is late at now: not sent, and past the end of DueOn.
func (d Diagnosis) Overdue(now time.Time) bool {
	return d.Status != StatusReported && now.After(d.DueAt())
}

// History is every diagnosis of one customer, folded from the customer's stream.
type History struct {
	Diagnoses []Diagnosis
	Version   uint64
}

// Evolve applies one event of the customer's stream.
func (h History) Evolve(e any) History {
	h.Version++
	switch e := e.(type) {
	case *DiagnosisReceived:
		h.Diagnoses = append(h.Diagnoses[:len(h.Diagnoses):len(h.Diagnoses)], Diagnosis{
			ID: e.DiagnosisID, CustomerNumber: e.CustomerNumber, AnsweredAt: e.AnsweredAt, DueOn: e.DueOn,
			Status: StatusReceived, Answers: e.Answers, QuestionnaireVersion: e.QuestionnaireVersion, Result: e.Result,
			ReportTo: e.ReportTo,
		})
	case *DiagnosisReported:
		out := make([]Diagnosis, len(h.Diagnoses))
		copy(out, h.Diagnoses)
		for i := range out {
			if out[i].ID == e.DiagnosisID {
				at := e.SentAt
				out[i].Status, out[i].ReportedAt = StatusReported, &at
			}
		}
		h.Diagnoses = out
	}
	return h
}

// Find returns the diagnosis with the given ID.
func (h History) Find(id uuid.UUID) (Diagnosis, bool) {
	for _, d := range h.Diagnoses {
		if d.ID == id {
			return d, true
		}
	}
	return Diagnosis{}, false
}

// Published is the questionnaire current at a submission, with its version.
type Published struct {
	Questionnaire Questionnaire
	Version       uint64
}

// Contract is what a submission needs to know of the customer's contract.
type Contract struct {
	Exists       bool
	OpenedOn     calendar.Date
	TerminatedOn calendar.Date
	// SecurityEmail is the security contact's address, where the report goes.
	SecurityEmail string
}

// ActiveAt reports whether the contract was active at instant t: from its opening date (00:00
// JST) until its termination date.
func (c Contract) ActiveAt(t time.Time) bool {
	if !c.Exists || t.Before(c.OpenedOn.Start()) {
		return false
	}
	return c.TerminatedOn.IsZero() || t.Before(c.TerminatedOn.Start())
}

// Submission is a customer's answers.
type Submission struct {
	ID             uuid.UUID
	CustomerNumber string
	AnsweredAt     time.Time
	Answers        map[string]Value
	// Problems are the errors found while reading the request (a time that does not parse, an
	// answer that is not a scalar): Submit reports them with its own, and checks nothing more of
	// the fields they name.
	Problems []FieldError
}

var customerNumberPattern = regexp.MustCompile(`^N[0-9]{9}$`)

// Submit decides receiving a submission at now: the answers are scored against q; the contract
// must have been active at AnsweredAt; AnsweredAt may not be in the future, nor earlier than six
// calendar months after the customer's latest answer date (JST). The report is due ten business
// days after the answer date. A submission whose ID is already recorded is recorded already: nil.
func (h History) Submit(s Submission, q Published, c Contract, cal *calendar.BusinessCalendar, now time.Time) (*DiagnosisReceived, error) {
	if _, done := h.Find(s.ID); done {
		return nil, nil
	}
	f := fieldErrors{kind: ErrInvalidDiagnosis, list: append([]FieldError(nil), s.Problems...)}
	if !customerNumberPattern.MatchString(s.CustomerNumber) {
		f.add("customerNumber", CodeInvalidFormat, "customerNumber is N and nine digits")
	}
	switch {
	case s.AnsweredAt.IsZero():
		f.add("answeredAt", CodeRequired, "answeredAt is required (RFC 3339)")
	case s.AnsweredAt.After(now.Add(clockSkew)):
		f.add("answeredAt", CodeInFuture, "answeredAt is in the future")
	}
	if q.Version == 0 {
		if err := f.err(); err != nil {
			return nil, err
		}
		return nil, ErrNoQuestionnaire
	}
	result, answerErrs := q.Questionnaire.Score(s.Answers)
	for _, e := range answerErrs {
		f.add(e.Field, e.Code, "%s", e.Message)
	}
	contractOK := s.AnsweredAt.IsZero() || f.has("customerNumber") || c.ActiveAt(s.AnsweredAt)
	if !contractOK {
		msg := "the contract was not active at answeredAt"
		if !c.Exists {
			msg = "no contract has this customer number"
		}
		f.add("customerNumber", CodeContractNotActive, "%s", msg)
		if len(f.list) == 1 {
			f.kind = ErrContractNotActive
		}
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	answered := calendar.DateOf(s.AnsweredAt)
	if latest, ok := h.latestAnswerDay(); ok {
		if next := AddMonths(latest, MinInterval); answered.Before(next) {
			return nil, &TooSoonError{Previous: latest, NextAllowedOn: next}
		}
	}
	answers := make(map[string]Value, len(s.Answers))
	for k, v := range s.Answers {
		answers[k] = v
	}
	return &DiagnosisReceived{
		DiagnosisID: s.ID, CustomerNumber: s.CustomerNumber, AnsweredAt: s.AnsweredAt.UTC(),
		DueOn: cal.AddBusinessDays(answered, ReportLeadDays), Answers: answers, QuestionnaireVersion: q.Version,
		Result: result, ReportTo: c.SecurityEmail,
	}, nil
}

// latestAnswerDay is the answer date (JST) of the customer's latest diagnosis.
func (h History) latestAnswerDay() (calendar.Date, bool) {
	var latest calendar.Date
	for _, d := range h.Diagnoses {
		if day := calendar.DateOf(d.AnsweredAt); latest.IsZero() || day.After(latest) {
			latest = day
		}
	}
	return latest, !latest.IsZero()
}

// ReportSent decides recording that the report of diagnosis id was sent at sentAt: not before the
// answers, not in the future. Recording it again changes nothing (the first time stays).
func (h History) ReportSent(id uuid.UUID, sentAt, now time.Time) (*DiagnosisReported, error) {
	d, ok := h.Find(id)
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, id)
	}
	f := fieldErrors{kind: ErrInvalidReport}
	switch {
	case sentAt.IsZero():
		f.add("sentAt", CodeRequired, "sentAt is required (RFC 3339)")
	case sentAt.After(now.Add(clockSkew)):
		f.add("sentAt", CodeInFuture, "sentAt is in the future")
	case sentAt.Before(d.AnsweredAt):
		f.add("sentAt", CodeBeforeAnswer, "sentAt is before the questionnaire was answered")
	}
	if err := f.err(); err != nil {
		return nil, err
	}
	if d.Status == StatusReported {
		return nil, nil
	}
	return &DiagnosisReported{DiagnosisID: id, CustomerNumber: d.CustomerNumber, SentAt: sentAt.UTC()}, nil
}

// AddMonths returns the date n calendar months after d; a day the target month lacks becomes its
// last day (Aug 31 + 6 months = Feb 28, or 29).
func AddMonths(d calendar.Date, n int) calendar.Date {
	y, m := d.Year(), int(d.Month())-1+n
	y += m / 12
	m %= 12
	if m < 0 {
		m += 12
		y--
	}
	month := time.Month(m + 1)
	day := d.Day()
	last := time.Date(y, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return calendar.MustDate(y, month, min(day, last))
}
