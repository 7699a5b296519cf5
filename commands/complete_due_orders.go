package commands

import (
	"context"
	"errors"
	"fmt"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/order"
)

// DueOrders finds the orders whose opening notice or completion is due by a date; the order
// queue read model implements it.
type DueOrders interface {
	Due(ctx context.Context, today calendar.Date) ([]order.Order, error)
}

// CompleteDueOrders is the order process manager's tick: it sends the opening notice one
// business day before an order's scheduled date and completes orders on that date, through the
// same use cases staff use, as the actor "system". Its command IDs derive from the order, so
// running it twice, or on two replicas, changes nothing more than once.
type CompleteDueOrders struct{}

// DueOrdersDone says what a tick did.
type DueOrdersDone struct {
	// Sent counts the notices and completions recorded.
	Sent int
	// Position is the global position of the last event appended (0 if none).
	Position event.Position
}

// CompleteDueOrdersHandler handles CompleteDueOrders.
type CompleteDueOrdersHandler struct {
	due      DueOrders
	notice   SendOpeningNoticeHandler
	complete CompleteOrderHandler
	clock    Clock
}

// NewCompleteDueOrdersHandler builds the handler from the use cases it drives.
func NewCompleteDueOrdersHandler(d *OrderDeps, due DueOrders) CompleteDueOrdersHandler {
	return CompleteDueOrdersHandler{due: due, notice: NewSendOpeningNoticeHandler(d), complete: NewCompleteOrderHandler(d), clock: d.Clock}
}

// Handle does what is due now. It goes on with the other orders after one fails and returns the
// failures joined.
func (h CompleteDueOrdersHandler) Handle(ctx context.Context, _ CompleteDueOrders) (DueOrdersDone, error) {
	today := calendar.DateOf(h.clock())
	due, err := h.due.Due(ctx, today)
	if err != nil {
		return DueOrdersDone{}, err
	}
	var done DueOrdersDone
	var errs []error
	seen := map[string]bool{}
	for _, o := range due {
		key := o.ID.String()
		if seen[key] {
			continue
		}
		seen[key] = true
		var out Outcome
		switch {
		case !o.ScheduledDate.After(today):
			out, err = h.complete.Handle(ctx, CompleteOrder{Meta: processManagerMeta("complete", o), OrderID: o.ID})
		case o.Status == order.StatusAccepted && o.Type.HasOpeningNotice():
			out, err = h.notice.Handle(ctx, SendOpeningNotice{Meta: processManagerMeta("notice", o), OrderID: o.ID})
		default:
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", o.ID, err))
			continue
		}
		done.Sent++
		done.Position = max(done.Position, out.Position)
	}
	return done, errors.Join(errs...)
}

func processManagerMeta(what string, o order.Order) Meta {
	return Meta{Actor: event.SystemActor, CommandID: "process-manager/" + what + "/" + o.ID.String()}
}
