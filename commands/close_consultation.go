package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/consultation"
)

// CloseConsultation closes an open or answered consultation at ClosedAt (the clock's time when
// zero).
type CloseConsultation struct {
	Meta
	ConsultationID uuid.UUID
	ClosedAt       time.Time
}

// CloseConsultationHandler handles CloseConsultation.
type CloseConsultationHandler struct{ deps Deps }

// NewCloseConsultationHandler builds the handler.
func NewCloseConsultationHandler(d Deps) CloseConsultationHandler {
	return CloseConsultationHandler{deps: d}
}

// Handle implements the use case.
func (h CloseConsultationHandler) Handle(ctx context.Context, cmd CloseConsultation) (Outcome, error) {
	at := cmd.ClosedAt
	if at.IsZero() {
		at = h.deps.Clock()
	}
	return consultationChange(ctx, h.deps, cmd.Meta, cmd.ConsultationID, func(c consultation.Consultation) ([]any, error) {
		return one(c.Close(at))
	})
}
