package api

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/google/uuid"
	"github.com/gorilla/mux"

	"yorozu/api/httpx"
	"yorozu/commands"
	"yorozu/domain/access"
	"yorozu/domain/diagnosis"
	"yorozu/domain/privacy"
	"yorozu/projections/diagnoses"
)

// What the reads of diagnoses are recorded as: a diagnosis holds the customer's answers and the
// security contact's address.
const (
	readDiagnosis     = "diagnosis"
	readDiagnosisList = "diagnosisList"
)

// diagnosisRoutes are the leak-risk diagnosis endpoints.
func (s *Server) diagnosisRoutes() []route {
	return []route{
		{"POST", "/api/v1/catalogs/diagnosis", access.PermCommand, true, s.publishQuestionnaire},
		{"POST", "/api/v1/diagnoses", access.PermCommand, true, s.submitDiagnosis},
		{"GET", "/api/v1/diagnoses", access.PermReadOperations, false, s.listDiagnoses},
		{"GET", "/api/v1/diagnoses/{diagnosisId}", access.PermReadOperations, false, s.getDiagnosis},
		{"POST", "/api/v1/diagnoses/{diagnosisId}/report-sent", access.PermCommand, true, s.diagnosisReportSent},
	}
}

// rawFields reads the fields of a request body taken raw, collecting the errors of their JSON
// types as problems for the domain to report with its own.
type rawFields[E any] struct {
	problems []E
	make     func(field, code, msg string) E
}

func (f *rawFields[E]) add(field, code, msg string) {
	f.problems = append(f.problems, f.make(field, code, msg))
}

// text reads a string field; absent is "".
func (f *rawFields[E]) text(field string, raw json.RawMessage) string {
	if absentJSON(raw) {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		f.add(field, "invalidType", field+" is a string")
	}
	return s
}

// instant reads an RFC 3339 instant; absent is the zero time.
func (f *rawFields[E]) instant(field string, raw json.RawMessage) time.Time {
	s := f.text(field, raw)
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		f.add(field, "invalidFormat", field+" is an RFC 3339 instant such as 2025-07-11T16:00:00+09:00")
	}
	return t
}

func diagnosisProblems() rawFields[diagnosis.FieldError] {
	return rawFields[diagnosis.FieldError]{make: func(field, code, msg string) diagnosis.FieldError {
		return diagnosis.FieldError{Field: field, Code: code, Message: msg}
	}}
}

// questionnaireBody is the body of POST /catalogs/diagnosis. Values and scores are taken raw, so
// that a value of the wrong kind is a field error with the others.
type questionnaireBody struct {
	Questions []struct {
		ID       string `json:"id"`
		Category string `json:"category"`
		Text     string `json:"text"`
		Choices  []struct {
			Value json.RawMessage `json:"value"`
			Label string          `json:"label"`
			Score json.RawMessage `json:"score"`
		} `json:"choices"`
	} `json:"questions"`
}

func (b questionnaireBody) questionnaire() (diagnosis.Questionnaire, []diagnosis.FieldError) {
	f := diagnosisProblems()
	q := diagnosis.Questionnaire{Questions: make([]diagnosis.Question, len(b.Questions))}
	for i, qb := range b.Questions {
		qu := diagnosis.Question{ID: qb.ID, Category: qb.Category, Text: qb.Text, Choices: make([]diagnosis.Choice, len(qb.Choices))}
		for k, cb := range qb.Choices {
			at := fmt.Sprintf("questions[%d].choices[%d]", i, k)
			c := diagnosis.Choice{Label: cb.Label}
			if !absentJSON(cb.Value) {
				v, ok := diagnosis.ParseValue(cb.Value)
				if !ok {
					f.add(at+".value", "invalidType", "value is a string, an integer or a boolean")
				}
				c.Value = v
			}
			if absentJSON(cb.Score) {
				f.add(at+".score", "required", "score is required (an integer)")
			} else if err := json.Unmarshal(cb.Score, &c.Score); err != nil {
				f.add(at+".score", "invalidType", "score is an integer")
			}
			qu.Choices[k] = c
		}
		q.Questions[i] = qu
	}
	return q, f.problems
}

// questionnaireJSON is a published questionnaire.
type questionnaireJSON struct {
	Version     uint64               `json:"version"`
	PublishedAt time.Time            `json:"publishedAt"`
	Questions   []diagnosis.Question `json:"questions"`
}

func (s *Server) publishQuestionnaire(w http.ResponseWriter, r *http.Request) {
	var body questionnaireBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	q, problems := body.questionnaire()
	out, err := s.App.Commands.PublishQuestionnaire.Handle(r.Context(), commands.PublishQuestionnaire{Meta: meta(r), Questionnaire: q, Problems: problems})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), questionnaireJSON{
		Version: out.Published.Version, PublishedAt: out.PublishedAt, Questions: out.Questionnaire.Questions})
}

// diagnosisJSON is a diagnosis as the API shows it, with whether its report is overdue now.
type diagnosisJSON struct {
	diagnosis.Diagnosis
	Overdue bool `json:"overdue"`
}

func (s *Server) diagnosisOf(d diagnosis.Diagnosis) diagnosisJSON {
	if d.Categories == nil {
		d.Categories = []diagnosis.CategoryScore{}
	}
	return diagnosisJSON{Diagnosis: d, Overdue: d.Overdue(s.Clock())}
}

// diagnosisBody is the body of POST /diagnoses, taken raw.
type diagnosisBody struct {
	CustomerNumber json.RawMessage `json:"customerNumber"`
	AnsweredAt     json.RawMessage `json:"answeredAt"`
	Answers        json.RawMessage `json:"answers"`
}

func (s *Server) submitDiagnosis(w http.ResponseWriter, r *http.Request) {
	var body diagnosisBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	f := diagnosisProblems()
	cmd := commands.SubmitDiagnosis{Meta: meta(r)}
	if absentJSON(body.CustomerNumber) {
		f.add("customerNumber", "required", "customerNumber is required")
	}
	cmd.CustomerNumber = f.text("customerNumber", body.CustomerNumber)
	cmd.AnsweredAt = f.instant("answeredAt", body.AnsweredAt)
	cmd.Answers = map[string]diagnosis.Value{}
	if !absentJSON(body.Answers) {
		var raw map[string]json.RawMessage
		if err := json.Unmarshal(body.Answers, &raw); err != nil {
			f.add("answers", "invalidType", "answers is an object of question IDs and values")
		}
		for id, v := range raw {
			val, ok := diagnosis.ParseValue(v)
			if !ok {
				f.add("answers."+id, "invalidType", "an answer is a string, an integer or a boolean")
			}
			cmd.Answers[id] = val
		}
	}
	cmd.Problems = f.problems
	out, err := s.App.Commands.SubmitDiagnosis.Handle(r.Context(), cmd)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Location", "/api/v1/diagnoses/"+out.Diagnosis.ID.String())
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusCreated), s.diagnosisOf(out.Diagnosis))
}

func diagnosisIDParam(r *http.Request) (uuid.UUID, error) {
	id, err := uuid.Parse(mux.Vars(r)["diagnosisId"])
	if err != nil {
		return uuid.Nil, diagnosis.ErrNotFound
	}
	return id, nil
}

func (s *Server) getDiagnosis(w http.ResponseWriter, r *http.Request) {
	id, err := diagnosisIDParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	d, ok, err := s.App.Queries.Diagnoses.Get(r.Context(), id)
	if err == nil && !ok {
		err = diagnosis.ErrNotFound
	}
	if err == nil {
		err = s.recordRead(r, privacy.PersonalDataRead{What: readDiagnosis, CustomerNumber: d.CustomerNumber, Query: "diagnosisId=" + id.String()})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s.diagnosisOf(d))
}

func (s *Server) listDiagnoses(w http.ResponseWriter, r *http.Request) {
	var v httpx.ValidationError
	q := r.URL.Query()
	f := diagnoses.Filter{Status: diagnosis.Status(q.Get("status")), Now: s.Clock()}
	switch f.Status {
	case "", diagnosis.StatusReceived, diagnosis.StatusReported:
	default:
		v.Add("status", "invalidChoice", "status is received or reported")
	}
	switch q.Get("overdue") {
	case "":
	case "true":
		t := true
		f.Overdue = &t
	case "false":
		no := false
		f.Overdue = &no
	default:
		v.Add("overdue", "invalidChoice", "overdue is true or false")
	}
	f.Limit, f.After = page(r, &v)
	if err := v.Err(); err != nil {
		s.fail(w, r, err)
		return
	}
	list, next, err := s.App.Queries.Diagnoses.List(r.Context(), f)
	if err == nil {
		shown := customersOf(list, func(d diagnosis.Diagnosis) []string { return []string{d.CustomerNumber} })
		err = s.recordRead(r, privacy.PersonalDataRead{What: readDiagnosisList, Query: r.URL.RawQuery, Shown: shown})
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	items := make([]diagnosisJSON, len(list))
	for i, d := range list {
		items[i] = s.diagnosisOf(d)
	}
	httpx.WriteJSON(w, http.StatusOK, newList(items, next))
}

// reportSentBody is the body of POST /diagnoses/{id}/report-sent.
type reportSentBody struct {
	SentAt json.RawMessage `json:"sentAt"`
}

func (s *Server) diagnosisReportSent(w http.ResponseWriter, r *http.Request) {
	id, err := diagnosisIDParam(r)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	var body reportSentBody
	if err := httpx.DecodeJSON(r, &body); err != nil {
		s.fail(w, r, err)
		return
	}
	f := diagnosisProblems()
	sentAt := f.instant("sentAt", body.SentAt)
	if len(f.problems) > 0 {
		s.fail(w, r, &diagnosis.ValidationError{Kind: diagnosis.ErrInvalidReport, Errors: f.problems})
		return
	}
	out, err := s.App.Commands.RecordDiagnosisReport.Handle(r.Context(), commands.RecordDiagnosisReport{Meta: meta(r), DiagnosisID: id, SentAt: sentAt})
	if err != nil {
		s.fail(w, r, err)
		return
	}
	writeCommandResult(w, out.Outcome, s.awaitRead(r, out.Outcome, http.StatusOK), s.diagnosisOf(out.Diagnosis))
}
