package commands

import (
	"context"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
)

// CloseDueMonth closes the month the auto-close scheduler is due to close now (serve
// --auto-close-months): the previous month, once the first business day of the current one is
// over. Closing is idempotent, so the scheduler may send it every minute.
type CloseDueMonth struct{}

// DueMonthClosed says what the tick did: Due is false when no month is due yet.
type DueMonthClosed struct {
	Due bool
	Closure
}

// CloseDueMonthHandler handles CloseDueMonth.
type CloseDueMonthHandler struct {
	close    CloseMonthHandler
	calendar *calendar.BusinessCalendar
	clock    Clock
}

// NewCloseDueMonthHandler builds the handler on the month close.
func NewCloseDueMonthHandler(close CloseMonthHandler, cal *calendar.BusinessCalendar, clock Clock) CloseDueMonthHandler {
	return CloseDueMonthHandler{close: close, calendar: cal, clock: clock}
}

// Handle closes the due month, if any. Its command ID names the month, so two replicas closing
// it at once append one close.
func (h CloseDueMonthHandler) Handle(ctx context.Context, _ CloseDueMonth) (DueMonthClosed, error) {
	m, due := MonthDueForAutoClose(h.clock(), h.calendar)
	if !due {
		return DueMonthClosed{}, nil
	}
	c, err := h.close.Handle(ctx, CloseMonth{Meta: Meta{Actor: event.SystemActor, CommandID: "auto-close/" + m.String()}, Month: m})
	return DueMonthClosed{Due: true, Closure: c}, err
}
