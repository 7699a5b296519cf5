// Package diagnoses is the leak-risk diagnosis queue: every diagnosis with its score, due date and
// report status, queryable by status and by whether its report is overdue.
package diagnoses

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/diagnosis"
	"yorozu/domain/event"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's name: part of the storage schema.
const Name = "diagnoses"

const (
	collection        = "diagnoses"
	streamsCollection = "streams"
)

// View is one diagnosis as stored. DueKey is the end of its due date (17:30 JST) as a fixed-width
// UTC text, which compares as a string: the overdue filter runs in the store.
type View struct {
	diagnosis.Diagnosis
	DueKey string `json:"dueKey"`
}

// dueKey formats an instant so that string order is time order.
func dueKey(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000000Z") }

// Projection builds the queue.
type Projection struct {
	handlers *projections.Handlers
}

// NewProjection returns the projection, decoding with codec.
func NewProjection(codec *event.Registry) Projection {
	h := projections.NewHandlers(codec)
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *diagnosis.DiagnosisReceived) error {
		return update(ctx, tx, rec, e.DiagnosisID, func(v *View) { *v = viewOf(diagnosis.History{}.Evolve(e).Diagnoses[0]) })
	})
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *diagnosis.DiagnosisReported) error {
		return update(ctx, tx, rec, e.DiagnosisID, func(v *View) {
			h := diagnosis.History{Diagnoses: []diagnosis.Diagnosis{v.Diagnosis}}.Evolve(e)
			*v = viewOf(h.Diagnoses[0])
		})
	})
	return Projection{handlers: h}
}

func viewOf(d diagnosis.Diagnosis) View { return View{Diagnosis: d, DueKey: dueKey(d.DueAt())} }

// update checks that rec is the next event of its stream, then changes one diagnosis.
func update(ctx context.Context, tx readmodel.Tx, rec event.Record, id uuid.UUID, fn func(*View)) error {
	var seen uint64
	raw, found, err := tx.Get(ctx, streamsCollection, rec.Stream)
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal(raw, &seen); err != nil {
			return err
		}
	}
	if err := projections.NextInStream(rec, seen); err != nil {
		return err
	}
	if err := tx.Put(ctx, streamsCollection, rec.Stream, rec.StreamVersion); err != nil {
		return err
	}
	var v View
	raw, found, err = tx.Get(ctx, collection, id.String())
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
	}
	fn(&v)
	return tx.Put(ctx, collection, id.String(), v)
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	if event.Category(rec.Stream) != diagnosis.StreamCategory {
		return nil
	}
	return p.handlers.Apply(ctx, unit, rec)
}

// Queue reads the projection.
type Queue struct {
	Models readmodel.Store
}

// Get returns one diagnosis.
func (q Queue) Get(ctx context.Context, id uuid.UUID) (diagnosis.Diagnosis, bool, error) {
	raw, ok, err := q.Models.Get(ctx, Name, collection, id.String())
	if err != nil || !ok {
		return diagnosis.Diagnosis{}, ok, err
	}
	var v View
	return v.Diagnosis, true, json.Unmarshal(raw, &v)
}

// Filter selects diagnoses; zero fields do not filter.
type Filter struct {
	Status diagnosis.Status
	// Overdue, when set, keeps the diagnoses whose report is (true) or is not (false) overdue at Now.
	Overdue *bool
	Now     time.Time
	After   string
	Limit   int
}

// List pages through the diagnoses in the order they were received.
func (q Queue) List(ctx context.Context, f Filter) ([]diagnosis.Diagnosis, string, error) {
	rq := readmodel.Query{Collection: collection, After: f.After, Limit: f.Limit}
	if f.Status != "" {
		rq.Where = append(rq.Where, readmodel.Cond{Field: "status", Op: readmodel.Eq, Value: string(f.Status)})
	}
	if f.Overdue != nil {
		// Overdue: not reported and its due time passed (dueKey < now); not overdue: the others.
		now := dueKey(f.Now)
		if *f.Overdue {
			rq.Where = append(rq.Where, readmodel.Cond{Field: "status", Op: readmodel.Eq, Value: string(diagnosis.StatusReceived)},
				readmodel.Cond{Field: "dueKey", Op: readmodel.Lt, Value: now})
		} else {
			rq.AnyOf = []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: string(diagnosis.StatusReported)},
				{Field: "dueKey", Op: readmodel.Gte, Value: now}}
		}
	}
	page, err := q.Models.Find(ctx, Name, rq)
	if err != nil {
		return nil, "", err
	}
	out := make([]diagnosis.Diagnosis, len(page.Docs))
	for i, d := range page.Docs {
		var v View
		if err := json.Unmarshal(d, &v); err != nil {
			return nil, "", err
		}
		out[i] = v.Diagnosis
	}
	return out, page.Next, nil
}
