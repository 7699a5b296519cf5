package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/contract"
	"yorozu/domain/order"
)

// SubmitOrder receives an application form that passed its own rules. A `new` order starts its
// own stream; any other order is checked against its contract and received in the contract's
// stream, where "one open order per contract" is decided. OrderID comes from order.NewID, so
// that the order's stream can be found from its ID.
type SubmitOrder struct {
	Meta
	OrderID uuid.UUID
	Form    order.Form
}

// SubmitOrderHandler handles SubmitOrder.
type SubmitOrderHandler struct{ deps *OrderDeps }

// NewSubmitOrderHandler builds the handler.
func NewSubmitOrderHandler(d *OrderDeps) SubmitOrderHandler { return SubmitOrderHandler{deps: d} }

// Handle implements the use case.
func (h SubmitOrderHandler) Handle(ctx context.Context, cmd SubmitOrder) (Outcome, error) {
	if err := checkTicketOrder(ctx, h.deps.Deps, cmd.Form); err != nil {
		return Outcome{}, err
	}
	secrets, err := h.deps.secretsOf(cmd.OrderID, cmd.Form)
	if err != nil {
		return Outcome{}, err
	}
	now := h.deps.Clock()
	stream := contract.OrderStream(cmd.OrderID)
	if cmd.Form.Type != order.TypeNew && stream != contract.Stream(*cmd.Form.CustomerNumber) {
		return Outcome{}, fmt.Errorf("commands: order %s was not named for contract %s (order.NewID)", cmd.OrderID, *cmd.Form.CustomerNumber)
	}
	return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) {
			if s.order.Exists() {
				return nil, nil // the same order again: a retried command
			}
			if cmd.Form.Type == order.TypeNew {
				return []any{order.Receive(cmd.OrderID, cmd.Form, secrets, now)}, nil
			}
			if errs := order.CheckAgainstContract(cmd.Form, s.contract.Facts()); len(errs) > 0 {
				return nil, errs
			}
			return one(s.contract.ReceiveOrder(cmd.OrderID, cmd.Form, secrets, now))
		})
}
