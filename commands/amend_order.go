package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/contract"

	"yorozu/domain/order"
)

// AmendOrder replaces an order's form before its opening notice (cancel and simple change:
// before completion).
type AmendOrder struct {
	Meta
	OrderID uuid.UUID
	Form    order.Form
	IfMatch *uint64
}

// AmendOrderHandler handles AmendOrder.
type AmendOrderHandler struct{ deps *OrderDeps }

// NewAmendOrderHandler builds the handler.
func NewAmendOrderHandler(d *OrderDeps) AmendOrderHandler { return AmendOrderHandler{deps: d} }

// Handle implements the use case.
func (h AmendOrderHandler) Handle(ctx context.Context, cmd AmendOrder) (Outcome, error) {
	stream := contract.OrderStream(cmd.OrderID)
	if err := checkTicketOrder(ctx, h.deps.Deps, cmd.Form); err != nil {
		return Outcome{}, err
	}
	secrets, err := h.deps.secretsOf(cmd.OrderID, cmd.Form)
	if err != nil {
		return Outcome{}, err
	}
	now := h.deps.Clock()
	return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) {
			if err := checkVersion(cmd.IfMatch, s.order); err != nil {
				return nil, err
			}
			if s.order.Type != order.TypeNew && s.order.Exists() {
				if errs := order.CheckAgainstContract(cmd.Form, s.contract.Facts()); len(errs) > 0 {
					return nil, errs
				}
			}
			return one(s.order.Amend(cmd.Form, secrets, now))
		})
}
