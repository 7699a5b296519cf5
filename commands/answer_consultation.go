package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/consultation"
)

// AnswerConsultation records a reply to an open consultation, by e-mail or by calling back.
type AnswerConsultation struct {
	Meta
	ConsultationID uuid.UUID
	Reply          consultation.ReplyInput
}

// AnswerConsultationHandler handles AnswerConsultation.
type AnswerConsultationHandler struct{ deps Deps }

// NewAnswerConsultationHandler builds the handler.
func NewAnswerConsultationHandler(d Deps) AnswerConsultationHandler {
	return AnswerConsultationHandler{deps: d}
}

// Handle implements the use case.
func (h AnswerConsultationHandler) Handle(ctx context.Context, cmd AnswerConsultation) (Outcome, error) {
	return consultationChange(ctx, h.deps, cmd.Meta, cmd.ConsultationID, func(c consultation.Consultation) ([]any, error) {
		return one(c.Answer(cmd.Reply))
	})
}
