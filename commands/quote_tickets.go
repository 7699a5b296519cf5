package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/consultation"
)

// QuoteTickets records that a consultation needs individual paid support of Tickets security
// tickets; a change order naming the consultation buys them.
type QuoteTickets struct {
	Meta
	ConsultationID uuid.UUID
	Tickets        int
}

// QuoteTicketsHandler handles QuoteTickets.
type QuoteTicketsHandler struct{ deps Deps }

// NewQuoteTicketsHandler builds the handler.
func NewQuoteTicketsHandler(d Deps) QuoteTicketsHandler { return QuoteTicketsHandler{deps: d} }

// Handle implements the use case.
func (h QuoteTicketsHandler) Handle(ctx context.Context, cmd QuoteTickets) (Outcome, error) {
	now := h.deps.Clock()
	return consultationChange(ctx, h.deps, cmd.Meta, cmd.ConsultationID, func(c consultation.Consultation) ([]any, error) {
		return one(c.QuoteTickets(cmd.Tickets, now))
	})
}
