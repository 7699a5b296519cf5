package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/contract"
)

// SendOpeningNotice records that the opening notice (開通案内) of a new or change order went
// out. Idempotent: recording it again changes nothing.
type SendOpeningNotice struct {
	Meta
	OrderID uuid.UUID
}

// SendOpeningNoticeHandler handles SendOpeningNotice.
type SendOpeningNoticeHandler struct{ deps *OrderDeps }

// NewSendOpeningNoticeHandler builds the handler.
func NewSendOpeningNoticeHandler(d *OrderDeps) SendOpeningNoticeHandler {
	return SendOpeningNoticeHandler{deps: d}
}

// Handle implements the use case.
func (h SendOpeningNoticeHandler) Handle(ctx context.Context, cmd SendOpeningNotice) (Outcome, error) {
	stream := contract.OrderStream(cmd.OrderID)
	now := h.deps.Clock()
	return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) { return one(s.order.SendNotice(now)) })
}
