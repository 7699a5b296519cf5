package commands

import (
	"context"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/contract"

	"yorozu/domain/order"
)

// AcceptOrder accepts (受理) an order at AcceptedAt, fixing its acceptance day, earliest and
// scheduled dates; a new order gets its customer number.
type AcceptOrder struct {
	Meta
	OrderID uuid.UUID
	// AcceptedAt is when the order was accepted; nil means now. A given instant is checked as
	// given (the zero time included: it is before any application day).
	AcceptedAt *time.Time
	IfMatch    *uint64
}

// AcceptOrderHandler handles AcceptOrder.
type AcceptOrderHandler struct{ deps *OrderDeps }

// NewAcceptOrderHandler builds the handler.
func NewAcceptOrderHandler(d *OrderDeps) AcceptOrderHandler { return AcceptOrderHandler{deps: d} }

// Handle implements the use case.
func (h AcceptOrderHandler) Handle(ctx context.Context, cmd AcceptOrder) (Outcome, error) {
	stream := contract.OrderStream(cmd.OrderID)
	var err error
	now := h.deps.Clock()
	at := now
	if cmd.AcceptedAt != nil {
		at = *cmd.AcceptedAt
	}
	// Check before issuing a number, so that refused acceptances do not use numbers up.
	cur := orderScope{id: cmd.OrderID}
	if _, err := load(ctx, h.deps.Deps, stream, &cur, foldOrderScope); err != nil {
		return Outcome{}, err
	}
	if err := checkVersion(cmd.IfMatch, cur.order); err != nil {
		return Outcome{}, err
	}
	if _, err := cur.order.Accept(at, now, "", h.deps.Calendar); err != nil {
		return Outcome{}, err
	}
	cn := cur.order.CustomerNumber
	if cur.order.Type == order.TypeNew {
		if cn, err = h.deps.numbers.issue(ctx, h.deps.Deps, cmd.Meta, cmd.OrderID); err != nil {
			return Outcome{}, err
		}
	}
	return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) {
			if err := checkVersion(cmd.IfMatch, s.order); err != nil {
				return nil, err
			}
			return one(s.order.Accept(at, now, cn, h.deps.Calendar))
		})
}
