// Package contracts is the contracts projection (docs/product.md, docs/api.md): each contract's current state,
// folded with the domain's own Contract.Evolve, searchable by customer number, name and kana.
// History and bitemporal as-of replay read the event log itself (history.go).
package contracts

import (
	"context"
	"encoding/json"

	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's name: part of the storage schema.
const Name = "contracts"

const collection = "contracts"

// View is a contract as the API shows it.
type View struct {
	contract.Contract
	TotalIDs int `json:"totalIds"`
	// Name and NameKana repeat the contractor's, as top-level fields to search on.
	Name     string `json:"name"`
	NameKana string `json:"nameKana"`
}

// ViewOf renders a contract state.
func ViewOf(c contract.Contract) View {
	return View{Contract: c, TotalIDs: c.TotalIDs(), Name: c.Contractor.Name, NameKana: c.Contractor.NameKana}
}

// Projection builds the contracts read model.
type Projection struct {
	Codec *event.Registry
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection: every event of a contract stream (its own and those
// of its orders) moves the contract's version, which must be the next one: a gap or a repeat
// would leave the view wrong without a trace, so it stops the projection instead.
func (p Projection) Apply(ctx context.Context, tx readmodel.Tx, r event.Record) error {
	id, ok := contract.CustomerNumberOfStream(r.Stream)
	if !ok {
		return nil
	}
	e, err := p.Codec.Decode(r)
	if err != nil {
		return err
	}
	var v View
	raw, found, err := tx.Get(ctx, collection, id)
	if err != nil {
		return err
	}
	if found {
		if err := json.Unmarshal(raw, &v); err != nil {
			return err
		}
	}
	if err := projections.NextInStream(r, v.Version); err != nil {
		return err
	}
	c := v.Contract.Evolve(e)
	c.Version = r.StreamVersion
	return tx.Put(ctx, collection, id, ViewOf(c))
}

// Directory reads the projection.
type Directory struct {
	Models readmodel.Store
}

// Get returns one contract.
func (d Directory) Get(ctx context.Context, customerNumber string) (View, bool, error) {
	raw, ok, err := d.Models.Get(ctx, Name, collection, customerNumber)
	if err != nil || !ok {
		return View{}, ok, err
	}
	var v View
	if err := json.Unmarshal(raw, &v); err != nil {
		return View{}, false, err
	}
	return v, v.Exists(), nil
}

// Filter selects contracts.
type Filter struct {
	Status contract.Status
	// Q matches the customer number, the contractor's name or its kana (contains, any case).
	Q     string
	After string
	Limit int
}

// List pages through the contracts in customer-number order.
func (d Directory) List(ctx context.Context, f Filter) ([]View, string, error) {
	q := readmodel.Query{Collection: collection, OrderBy: "customerNumber", After: f.After, Limit: f.Limit,
		Where: []readmodel.Cond{{Field: "status", Op: readmodel.Gte, Value: "a"}}}
	if f.Status != "" {
		q.Where = []readmodel.Cond{{Field: "status", Op: readmodel.Eq, Value: string(f.Status)}}
	}
	if f.Q != "" {
		for _, field := range []string{"customerNumber", "name", "nameKana"} {
			q.AnyOf = append(q.AnyOf, readmodel.Cond{Field: field, Op: readmodel.Contains, Value: f.Q})
		}
	}
	page, err := d.Models.Find(ctx, Name, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]View, len(page.Docs))
	for i, doc := range page.Docs {
		if err := json.Unmarshal(doc, &out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, page.Next, nil
}
