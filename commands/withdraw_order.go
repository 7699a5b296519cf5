package commands

import (
	"context"

	"github.com/google/uuid"

	"yorozu/domain/contract"
)

// WithdrawOrder withdraws an order while it may still be amended.
type WithdrawOrder struct {
	Meta
	OrderID uuid.UUID
	IfMatch *uint64
}

// WithdrawOrderHandler handles WithdrawOrder.
type WithdrawOrderHandler struct{ deps *OrderDeps }

// NewWithdrawOrderHandler builds the handler.
func NewWithdrawOrderHandler(d *OrderDeps) WithdrawOrderHandler { return WithdrawOrderHandler{deps: d} }

// Handle implements the use case.
func (h WithdrawOrderHandler) Handle(ctx context.Context, cmd WithdrawOrder) (Outcome, error) {
	stream := contract.OrderStream(cmd.OrderID)
	now := h.deps.Clock()
	return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) {
			if err := checkVersion(cmd.IfMatch, s.order); err != nil {
				return nil, err
			}
			return one(s.order.Withdraw(now))
		})
}
