package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/consultation"
)

// TriageConsultation classifies a consultation, or declines or refers it.
type TriageConsultation struct {
	Meta
	ConsultationID uuid.UUID
	Triage         consultation.Triage
}

// TriageConsultationHandler handles TriageConsultation.
type TriageConsultationHandler struct{ deps Deps }

// NewTriageConsultationHandler builds the handler.
func NewTriageConsultationHandler(d Deps) TriageConsultationHandler {
	return TriageConsultationHandler{deps: d}
}

// Handle implements the use case.
func (h TriageConsultationHandler) Handle(ctx context.Context, cmd TriageConsultation) (Outcome, error) {
	now := h.deps.Clock()
	return consultationChange(ctx, h.deps, cmd.Meta, cmd.ConsultationID, func(c consultation.Consultation) ([]any, error) {
		return one(c.Triage(cmd.Triage, now))
	})
}
