// Package failures is the read model of failure reports (故障): every report as the
// domain's own Report.Evolve folds it, searchable by status and customer number.
package failures

import (
	"context"
	"encoding/json"

	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/failure"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's name: part of the storage schema.
const Name = "failures"

const collection = "failures"

// Projection builds the read model.
type Projection struct {
	handlers *projections.Handlers
}

// NewProjection returns the projection, decoding with codec.
func NewProjection(codec *event.Registry) Projection {
	h := projections.NewHandlers(codec)
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *failure.FailureReported) error {
		return apply(ctx, tx, rec, e.FailureID, e)
	})
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *failure.FailureRejected) error {
		return apply(ctx, tx, rec, e.FailureID, e)
	})
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *failure.FailureResolved) error {
		return apply(ctx, tx, rec, e.FailureID, e)
	})
	return Projection{handlers: h}
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return p.handlers.Apply(ctx, unit, rec)
}

func apply(ctx context.Context, tx readmodel.Tx, rec event.Record, id uuid.UUID, e any) error {
	var r failure.Report
	raw, found, err := tx.Get(ctx, collection, id.String())
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal(raw, &r); err != nil {
			return err
		}
	}
	if err := projections.NextInStream(rec, r.Version); err != nil {
		return err
	}
	return tx.Put(ctx, collection, id.String(), r.Evolve(e))
}

// Log reads the failure reports.
type Log struct {
	Models readmodel.Store
}

// Get returns one report.
func (l Log) Get(ctx context.Context, id uuid.UUID) (failure.Report, bool, error) {
	raw, ok, err := l.Models.Get(ctx, Name, collection, id.String())
	if err != nil || !ok {
		return failure.Report{}, ok, err
	}
	var r failure.Report
	return r, true, json.Unmarshal(raw, &r)
}

// Filter selects reports; zero fields do not filter.
type Filter struct {
	Status         failure.Status
	CustomerNumber string
	After          string
	Limit          int
}

// List pages through the reports in the order they were recorded.
func (l Log) List(ctx context.Context, f Filter) ([]failure.Report, string, error) {
	q := readmodel.Query{Collection: collection, After: f.After, Limit: f.Limit}
	if f.Status != "" {
		q.Where = append(q.Where, readmodel.Cond{Field: "status", Op: readmodel.Eq, Value: string(f.Status)})
	}
	if f.CustomerNumber != "" {
		q.Where = append(q.Where, readmodel.Cond{Field: "customerNumber", Op: readmodel.Eq, Value: f.CustomerNumber})
	}
	page, err := l.Models.Find(ctx, Name, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]failure.Report, len(page.Docs))
	for i, doc := range page.Docs {
		if err := json.Unmarshal(doc, &out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, page.Next, nil
}
