package commands

import (
	"context"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
)

// CompleteOrder completes an order on its scheduled date (docs/product.md): refused before that date,
// idempotent after. The process manager sends it for due orders; staff may send it too.
type CompleteOrder struct {
	Meta
	OrderID uuid.UUID
}

// CompleteOrderHandler handles CompleteOrder.
type CompleteOrderHandler struct{ deps *OrderDeps }

// NewCompleteOrderHandler builds the handler.
func NewCompleteOrderHandler(d *OrderDeps) CompleteOrderHandler { return CompleteOrderHandler{deps: d} }

// Handle implements the use case.
func (h CompleteOrderHandler) Handle(ctx context.Context, cmd CompleteOrder) (Outcome, error) {
	stream := contract.OrderStream(cmd.OrderID)
	now := h.deps.Clock()
	today := calendar.DateOf(now)
	if stream != order.Stream(cmd.OrderID) {
		// An order of an existing contract: its completion and its effect on the contract are
		// one append to the contract's stream.
		return execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
			func(s orderScope, _ uint64) ([]any, error) {
				evs, err := s.order.Complete(today, now)
				if err != nil || len(evs) == 0 {
					return nil, err
				}
				completed := evs[len(evs)-1].(*order.OrderCompleted)
				return append(evs, contract.Effect(s.order, completed)), nil
			})
	}
	return h.completeNew(ctx, cmd, stream, today)
}

// completeNew opens the contract of a new order, then completes the order. The contract event's
// ID derives from the order, so if the service stops between the two appends, completing again
// finds the contract already opened and finishes the order.
func (h CompleteOrderHandler) completeNew(ctx context.Context, cmd CompleteOrder, stream string, today calendar.Date) (Outcome, error) {
	now := h.deps.Clock()
	cur := orderScope{id: cmd.OrderID}
	if _, err := load(ctx, h.deps.Deps, stream, &cur, foldOrderScope); err != nil {
		return Outcome{}, err
	}
	evs, err := cur.order.Complete(today, now)
	if err != nil {
		return Outcome{}, err
	}
	completed := &order.OrderCompleted{OrderID: cur.order.ID, CustomerNumber: cur.order.CustomerNumber, CompletedOn: cur.order.CompletedOn}
	if len(evs) > 0 {
		completed = evs[len(evs)-1].(*order.OrderCompleted)
	}
	opened := contract.Open(cur.order, completed)
	cs := contract.Stream(opened.CustomerNumber)
	drafts, err := toDrafts(h.deps.Deps, cmd.Meta, cs, []any{opened})
	if err != nil {
		return Outcome{}, err
	}
	drafts[0].ID = uuid.NewSHA1(eventIDNamespace, []byte("contract-opened|"+cmd.OrderID.String()))
	res, err := h.deps.Events.Append(ctx, cs, event.NoStream(), drafts)
	if err != nil {
		return Outcome{}, fmt.Errorf("open contract %s: %w", opened.CustomerNumber, err)
	}
	out, err := execute(ctx, h.deps.Deps, cmd.Meta, stream, orderScope{id: cmd.OrderID}, foldOrderScope,
		func(s orderScope, _ uint64) ([]any, error) { return s.order.Complete(today, now) })
	if err != nil {
		return out, err
	}
	if out.Position < res.LastPosition {
		out.Position = res.LastPosition
	}
	return out, nil
}
