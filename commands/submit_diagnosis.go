package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/diagnosis"
	"yorozu/domain/event"
)

// SubmitDiagnosis receives a customer's answers to the leak-risk questionnaire and scores them
// against the questionnaire current now.
type SubmitDiagnosis struct {
	Meta
	CustomerNumber string
	AnsweredAt     time.Time
	Answers        map[string]diagnosis.Value
	// Problems are the errors found while reading the request, reported with the others.
	Problems []diagnosis.FieldError
}

// DiagnosisRecorded is a diagnosis as recorded.
type DiagnosisRecorded struct {
	Outcome
	Diagnosis diagnosis.Diagnosis
}

// DiagnosisDeps are what the diagnosis use cases need besides Deps.
type DiagnosisDeps struct {
	Deps
	Calendar      *calendar.BusinessCalendar
	questionnaire *currentQuestionnaire
}

// NewDiagnosisDeps builds the diagnosis use cases' dependencies.
func NewDiagnosisDeps(d Deps, cal *calendar.BusinessCalendar) *DiagnosisDeps {
	return &DiagnosisDeps{Deps: d, Calendar: cal, questionnaire: &currentQuestionnaire{}}
}

// SubmitDiagnosisHandler handles SubmitDiagnosis.
type SubmitDiagnosisHandler struct{ deps *DiagnosisDeps }

// NewSubmitDiagnosisHandler builds the handler.
func NewSubmitDiagnosisHandler(d *DiagnosisDeps) SubmitDiagnosisHandler {
	return SubmitDiagnosisHandler{deps: d}
}

func foldHistory(h *diagnosis.History, _ event.Record, e any) error {
	*h = h.Evolve(e)
	return nil
}

// Handle implements the use case. The diagnosis ID derives from the command ID, so a retried
// command answers the diagnosis it recorded the first time.
func (h SubmitDiagnosisHandler) Handle(ctx context.Context, cmd SubmitDiagnosis) (DiagnosisRecorded, error) {
	q, err := h.deps.questionnaire.get(ctx, h.deps.Deps)
	if err != nil {
		return DiagnosisRecorded{}, err
	}
	var c diagnosis.Contract
	if _, ok := contract.NumberVersion(cmd.CustomerNumber); ok {
		k, _, err := contractState(ctx, h.deps.Deps, cmd.CustomerNumber)
		if err != nil {
			return DiagnosisRecorded{}, err
		}
		c = diagnosis.Contract{Exists: k.Exists(), OpenedOn: k.OpenedOn, TerminatedOn: k.TerminatedOn, SecurityEmail: k.SecurityContact.Email}
	}
	seed := cmd.CommandID
	if seed == "" {
		seed = uuid.NewString()
	}
	s := diagnosis.Submission{ID: diagnosis.NewID(seed, cmd.CustomerNumber), CustomerNumber: cmd.CustomerNumber,
		AnsweredAt: cmd.AnsweredAt, Answers: cmd.Answers, Problems: cmd.Problems}
	var recorded diagnosis.History
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, diagnosis.Stream(cmd.CustomerNumber), diagnosis.History{}, foldHistory,
		func(hist diagnosis.History, _ uint64) ([]any, error) {
			e, err := hist.Submit(s, q, c, h.deps.Calendar, h.deps.Clock())
			recorded = hist
			if e != nil {
				recorded = hist.Evolve(e)
			}
			return one(e, err)
		})
	if err != nil {
		return DiagnosisRecorded{Outcome: out}, err
	}
	d, _ := recorded.Find(s.ID)
	return DiagnosisRecorded{Outcome: out, Diagnosis: d}, nil
}
