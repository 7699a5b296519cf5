// Package orders is the order-queue projection (SPEC 2, 12): every order with its status and
// dates, folded with the domain's own Order.Evolve, queryable by status, type and scheduled date.
// It also tells the command side which stream holds an order.
package orders

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/order"
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
	Registry *event.Registry
	Calendar *calendar.BusinessCalendar
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

var orderTypes = func() map[string]bool {
	m := map[string]bool{}
	for _, e := range order.Events() {
		m[event.TypeName(e)] = true
	}
	return m
}()

// HandleRecord implements projections.RecordProjection.
func (p Projection) HandleRecord(ctx context.Context, tx readmodel.Tx, r event.Record) error {
	if !orderTypes[r.Type] {
		return nil
	}
	e, _, err := p.Registry.Decode(r)
	if err != nil {
		return err
	}
	id, err := orderIDOf(r)
	if err != nil {
		return err
	}
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
	v.Order = v.Order.Evolve(e)
	v.Stream = r.Stream
	if v.Type.HasOpeningNotice() && !v.ScheduledDate.IsZero() {
		v.NoticeDue = v.Order.NoticeDue(p.Calendar)
	}
	return tx.Put(ctx, collection, id.String(), v)
}

func orderIDOf(r event.Record) (uuid.UUID, error) {
	var probe struct {
		OrderID uuid.UUID `json:"orderId"`
	}
	if err := json.Unmarshal(r.Data, &probe); err != nil || probe.OrderID == uuid.Nil {
		return uuid.Nil, fmt.Errorf("orders: %s without an order id", r.Type)
	}
	return probe.OrderID, nil
}

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

// OrderStream implements commands.OrderLocator.
func (q Queue) OrderStream(ctx context.Context, id uuid.UUID) (string, bool, error) {
	v, ok, err := q.Get(ctx, id)
	return v.Stream, ok, err
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
