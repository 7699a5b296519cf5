package projections

import (
	"context"
	"fmt"

	"yorozu/domain/event"
	"yorozu/projections/readmodel"
)

// Handlers dispatches stored events to typed handlers, one per event type a projection follows:
// the record's type picks the handler before anything is decoded, so events the projection does
// not follow cost a map lookup.
type Handlers struct {
	codec  *event.Registry
	byType map[string]func(ctx context.Context, unit readmodel.Tx, rec event.Record, e any) error
}

// NewHandlers returns an empty dispatch table decoding with codec.
func NewHandlers(codec *event.Registry) *Handlers {
	return &Handlers{codec: codec, byType: map[string]func(context.Context, readmodel.Tx, event.Record, any) error{}}
}

// On adds the handler of events of type *E. E must be registered with the codec: a projection
// that follows an event the log cannot decode is a programming error, and panics at start.
func On[E any](h *Handlers, fn func(ctx context.Context, unit readmodel.Tx, rec event.Record, e *E) error) {
	name, err := h.codec.Name((*E)(nil))
	if err != nil {
		panic(fmt.Sprintf("projections: %v", err))
	}
	h.byType[name] = func(ctx context.Context, unit readmodel.Tx, rec event.Record, e any) error {
		return fn(ctx, unit, rec, e.(*E))
	}
}

// Follows reports whether a stored type has a handler.
func (h *Handlers) Follows(storedType string) bool {
	_, ok := h.byType[storedType]
	return ok
}

// Apply decodes rec and calls its handler; records of other types pass by.
func (h *Handlers) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	fn, ok := h.byType[rec.Type]
	if !ok {
		return nil
	}
	e, err := h.codec.Decode(rec)
	if err != nil {
		return err
	}
	return fn(ctx, unit, rec, e)
}
