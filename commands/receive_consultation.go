package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/consultation"
	"yorozu/domain/contract"
)

// ReceiveConsultation records an inquiry by phone or e-mail: accepted when the customer
// number and company name identify a contract active at the time of receipt (and a call came in
// business hours), rejected with the reason otherwise; either way it is kept. ConsultationID comes
// from consultation.NewID, so a retried intake names the same consultation.
type ReceiveConsultation struct {
	Meta
	ConsultationID uuid.UUID
	Intake         consultation.Intake
}

// ConsultationReceipt is what the intake decided.
type ConsultationReceipt struct {
	Outcome
	Status consultation.Status
	// DueAt is the reply deadline of an accepted e-mail consultation (zero otherwise).
	DueAt           time.Time
	RejectionReason contract.CallerRejection
}

// ReceiveConsultationHandler handles ReceiveConsultation.
type ReceiveConsultationHandler struct{ deps HelpDeskDeps }

// NewReceiveConsultationHandler builds the handler.
func NewReceiveConsultationHandler(d HelpDeskDeps) ReceiveConsultationHandler {
	return ReceiveConsultationHandler{deps: d}
}

// Handle implements the use case.
func (h ReceiveConsultationHandler) Handle(ctx context.Context, cmd ReceiveConsultation) (ConsultationReceipt, error) {
	customer, err := contractAt(ctx, h.deps.Deps, cmd.Intake.CustomerNumber, cmd.Intake.ReceivedAt)
	if err != nil {
		return ConsultationReceipt{}, err
	}
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, consultation.Stream(cmd.ConsultationID), consultation.Consultation{}, evolve,
		func(c consultation.Consultation, _ uint64) ([]any, error) {
			if c.Exists() {
				return nil, nil // the same intake again: a retried command
			}
			return []any{consultation.Receive(cmd.ConsultationID, cmd.Intake, customer, h.deps.Calendar)}, nil
		})
	if err != nil {
		return ConsultationReceipt{}, err
	}
	c, _, err := loadConsultation(ctx, h.deps.Deps, cmd.ConsultationID)
	if err != nil {
		return ConsultationReceipt{}, err
	}
	return ConsultationReceipt{Outcome: out, Status: c.Status, DueAt: c.DueAt, RejectionReason: c.RejectionReason}, nil
}
