package commands

import (
	"context"
	"fmt"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/diagnosis"
)

// RecordDiagnosisReport records that a diagnosis's report was sent to the security contact.
type RecordDiagnosisReport struct {
	Meta
	DiagnosisID uuid.UUID
	SentAt      time.Time
}

// RecordDiagnosisReportHandler handles RecordDiagnosisReport.
type RecordDiagnosisReportHandler struct{ deps *DiagnosisDeps }

// NewRecordDiagnosisReportHandler builds the handler.
func NewRecordDiagnosisReportHandler(d *DiagnosisDeps) RecordDiagnosisReportHandler {
	return RecordDiagnosisReportHandler{deps: d}
}

// Handle implements the use case. The diagnosis's stream is found from its ID.
func (h RecordDiagnosisReportHandler) Handle(ctx context.Context, cmd RecordDiagnosisReport) (DiagnosisRecorded, error) {
	cn, ok := diagnosis.CustomerNumberIn(cmd.DiagnosisID)
	if !ok {
		return DiagnosisRecorded{}, fmt.Errorf("%w: %s", diagnosis.ErrNotFound, cmd.DiagnosisID)
	}
	var recorded diagnosis.History
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, diagnosis.Stream(cn), diagnosis.History{}, foldHistory,
		func(hist diagnosis.History, _ uint64) ([]any, error) {
			e, err := hist.ReportSent(cmd.DiagnosisID, cmd.SentAt, h.deps.Clock())
			recorded = hist
			if e != nil {
				recorded = hist.Evolve(e)
			}
			return one(e, err)
		})
	if err != nil {
		return DiagnosisRecorded{Outcome: out}, err
	}
	d, _ := recorded.Find(cmd.DiagnosisID)
	return DiagnosisRecorded{Outcome: out, Diagnosis: d}, nil
}
