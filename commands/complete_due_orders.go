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

// OrderProcessManager sends the opening notice one business day before an order's scheduled
// date and completes orders on that date (SPEC 2), by sending the same commands staff can send,
// as the actor "system". Its command IDs derive from the order, so running it twice, or on two
// replicas, changes nothing more than once.
type OrderProcessManager struct {
	Bus      *Bus
	Due      DueOrders
	Calendar *calendar.BusinessCalendar
	Clock    Clock
}

// Tick does what is due now. It returns how many commands it sent and the first error (it goes
// on with the other orders after one fails).
func (pm OrderProcessManager) Tick(ctx context.Context) (int, error) {
	today := calendar.DateOf(pm.Clock())
	due, err := pm.Due.Due(ctx, today)
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	done := map[string]bool{}
	for _, o := range due {
		key := o.ID.String()
		if done[key] {
			continue
		}
		done[key] = true
		var cmd Command
		switch {
		case !o.ScheduledDate.After(today):
			cmd = CompleteOrder{Meta: pm.meta("complete", o), OrderID: o.ID}
		case o.Status == order.StatusAccepted && o.Type.HasOpeningNotice():
			cmd = SendOpeningNotice{Meta: pm.meta("notice", o), OrderID: o.ID}
		default:
			continue
		}
		if _, err := pm.Bus.Send(ctx, cmd); err != nil {
			errs = append(errs, fmt.Errorf("order %s: %w", o.ID, err))
			continue
		}
		sent++
	}
	return sent, errors.Join(errs...)
}

func (pm OrderProcessManager) meta(what string, o order.Order) Meta {
	return Meta{Actor: event.SystemActor, CommandID: "process-manager/" + what + "/" + o.ID.String()}
}
