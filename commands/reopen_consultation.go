package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/consultation"
)

// ReopenConsultation opens an answered or closed consultation again at ReopenedAt (the clock's
// time when zero); an e-mail one is due 7 business hours after that.
type ReopenConsultation struct {
	Meta
	ConsultationID uuid.UUID
	ReopenedAt     time.Time
}

// ReopenConsultationHandler handles ReopenConsultation.
type ReopenConsultationHandler struct{ deps HelpDeskDeps }

// NewReopenConsultationHandler builds the handler.
func NewReopenConsultationHandler(d HelpDeskDeps) ReopenConsultationHandler {
	return ReopenConsultationHandler{deps: d}
}

// Handle implements the use case.
func (h ReopenConsultationHandler) Handle(ctx context.Context, cmd ReopenConsultation) (Outcome, error) {
	at := cmd.ReopenedAt
	if at.IsZero() {
		at = h.deps.Clock()
	}
	return consultationChange(ctx, h.deps.Deps, cmd.Meta, cmd.ConsultationID, func(c consultation.Consultation) ([]any, error) {
		return one(c.Reopen(at, h.deps.Calendar))
	})
}
