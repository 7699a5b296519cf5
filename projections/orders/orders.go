// Package orders is the order-queue projection (docs/product.md, docs/api.md): every order with its status and
// dates, folded with the domain's own Order.Evolve, queryable by status, type and scheduled date.
package orders

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/order"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's name: part of the storage schema.
const Name = "orders"

const collection = "orders"

// View is one order as the API shows it.
type View struct {
	order.Order
	// Stream holds the order's events.
	Stream string `json:"stream"`
	// NoticeDue is when the opening notice goes out (new and change orders, once accepted).
	NoticeDue calendar.Date `json:"noticeDue,omitzero"`
}

// Projection builds the queue.
type Projection struct {
	Codec    *event.Registry
	Calendar *calendar.BusinessCalendar
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// streamsCollection keeps, per contract stream, the last version the queue has seen: orders on a
// contract share its stream with the contract's own events, so only the stream's count tells a
// gap or a repeat.
const streamsCollection = "streams"

// Apply implements projections.Projection: the events of orders, checked to be the next of
// their stream.
func (p Projection) Apply(ctx context.Context, tx readmodel.Tx, r event.Record) error {
	_, inContract := contract.CustomerNumberOfStream(r.Stream)
	if !inContract && event.Category(r.Stream) != orderCategory {
		return nil
	}
	if inContract {
		var seen uint64
		raw, found, err := tx.Get(ctx, streamsCollection, r.Stream)
		if err != nil {
			return err
		}
		if found {
			if err := json.Unmarshal(raw, &seen); err != nil {
				return err
			}
		}
		if err := projections.NextInStream(r, seen); err != nil {
			return err
		}
		if err := tx.Put(ctx, streamsCollection, r.Stream, r.StreamVersion); err != nil {
			return err
		}
	}
	if !event.Implements[order.Event](p.Codec, r.Type) {
		if inContract {
			return nil // the contract's own event
		}
		return fmt.Errorf("orders: %s in order stream %s", r.Type, r.Stream)
	}
	e, err := p.Codec.Decode(r)
	if err != nil {
		return err
	}
	id := e.(order.Event).OrderIDOf()
	var v View
	raw, found, err := tx.Get(ctx, collection, id.String())
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
	}
	if !inContract {
		// A new order's stream holds its events only: the order's version is the stream's.
		if err := projections.NextInStream(r, v.Version); err != nil {
			return err
		}
	}
	v.Order = v.Order.Evolve(e)
	v.Stream = r.Stream
	if v.Type.HasOpeningNotice() && !v.ScheduledDate.IsZero() {
		v.NoticeDue = v.Order.NoticeDue(p.Calendar)
	}
	return tx.Put(ctx, collection, id.String(), v)
}

// orderCategory is the category of new orders' own streams (order.Stream).
const orderCategory = "order"

// Queue reads the projection.
type Queue struct {
	Models readmodel.Store
}

// Get returns one order.
func (q Queue) Get(ctx context.Context, id uuid.UUID) (View, bool, error) {
	raw, ok, err := q.Models.Get(ctx, Name, collection, id.String())
	if err != nil || !ok {
		return View{}, ok, err
	}
	var v View
	return v, true, json.Unmarshal(raw, &v)
}

// Filter selects orders; zero fields do not filter.
type Filter struct {
	Status         order.Status
	Type           order.Type
	CustomerNumber string
	ScheduledFrom  calendar.Date // scheduledDate >= ScheduledFrom
	ScheduledTo    calendar.Date // scheduledDate <= ScheduledTo
	// ByScheduledDate orders by scheduled date instead of receipt.
	ByScheduledDate bool
	After           string
	Limit           int
}

// List pages through the queue.
func (q Queue) List(ctx context.Context, f Filter) ([]View, string, error) {
	rq := readmodel.Query{Collection: collection, After: f.After, Limit: f.Limit}
	eq := func(field, v string) {
		if v != "" {
			rq.Where = append(rq.Where, readmodel.Cond{Field: field, Op: readmodel.Eq, Value: v})
		}
	}
	eq("status", string(f.Status))
	eq("type", string(f.Type))
	eq("customerNumber", f.CustomerNumber)
	if !f.ScheduledFrom.IsZero() {
		rq.Where = append(rq.Where, readmodel.Cond{Field: "scheduledDate", Op: readmodel.Gte, Value: f.ScheduledFrom.String()})
	}
	if !f.ScheduledTo.IsZero() {
		rq.Where = append(rq.Where, readmodel.Cond{Field: "scheduledDate", Op: readmodel.Lt, Value: f.ScheduledTo.AddDays(1).String()})
	}
	if f.ByScheduledDate {
		rq.OrderBy = "scheduledDate"
	}
	return q.find(ctx, rq)
}

func (q Queue) find(ctx context.Context, rq readmodel.Query) ([]View, string, error) {
	page, err := q.Models.Find(ctx, Name, rq)
	if err != nil {
		return nil, "", err
	}
	out := make([]View, len(page.Docs))
	for i, d := range page.Docs {
		if err := json.Unmarshal(d, &out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, page.Next, nil
}

// Due lists the orders the process manager must act on by today: opening notices due (new and
// change orders accepted whose notice day has come) and completions due (scheduled date come).
func (q Queue) Due(ctx context.Context, today calendar.Date) ([]order.Order, error) {
	tomorrow := today.AddDays(1).String()
	var out []order.Order
	for _, rq := range []readmodel.Query{
		{Collection: collection, Where: []readmodel.Cond{
			{Field: "status", Op: readmodel.Eq, Value: string(order.StatusAccepted)},
			{Field: "noticeDue", Op: readmodel.Lt, Value: tomorrow},
			{Field: "noticeDue", Op: readmodel.Gte, Value: "0000"},
		}, Limit: 1000},
		{Collection: collection, Where: []readmodel.Cond{
			{Field: "scheduledDate", Op: readmodel.Lt, Value: tomorrow},
			{Field: "scheduledDate", Op: readmodel.Gte, Value: "0000"},
		}, AnyOf: []readmodel.Cond{
			{Field: "status", Op: readmodel.Eq, Value: string(order.StatusAccepted)},
			{Field: "status", Op: readmodel.Eq, Value: string(order.StatusNoticeSent)},
		}, Limit: 1000},
	} {
		for {
			page, next, err := q.find(ctx, rq)
			if err != nil {
				return nil, err
			}
			for _, v := range page {
				out = append(out, v.Order)
			}
			if next == "" {
				break
			}
			rq.After = next
		}
	}
	return out, nil
}
