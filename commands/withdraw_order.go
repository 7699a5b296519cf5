package commands

import (
	"context"

	"github.com/google/uuid"
)

// WithdrawOrder withdraws an order while it may still be amended.
type WithdrawOrder struct {
	Meta
	OrderID uuid.UUID `json:"orderId"`
	IfMatch *uint64   `json:"ifMatch,omitempty"`
}

// WithdrawOrderHandler handles WithdrawOrder.
type WithdrawOrderHandler struct{ deps *OrderDeps }

// NewWithdrawOrderHandler builds the handler.
func NewWithdrawOrderHandler(d *OrderDeps) WithdrawOrderHandler { return WithdrawOrderHandler{deps: d} }

// Handle implements the use case.
func (h WithdrawOrderHandler) Handle(ctx context.Context, cmd WithdrawOrder) (Outcome, error) {
	stream, err := h.deps.streamOf(ctx, cmd.OrderID)
	if err != nil {
		return Outcome{}, err
	}
	now := h.deps.Clock()
	return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) {
			if err := checkVersion(cmd.IfMatch, s.order); err != nil {
				return nil, err
			}
			return one(s.order.Withdraw(now))
		})
}
