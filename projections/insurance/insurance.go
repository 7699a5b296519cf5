// Package insurance is the read model of the cyber-risk insurance: every claim as the
// domain's own Claim.Evolve folds it, and what the limits' aggregates say has been used, per
// company and period and per period for the pool.
//
// Documents (collections of the projection Name):
//
//	claims/{claimId}           View
//	cover/{customerNumber}/{period}  CoverUsage
//	pool/{period}              PoolUsage
//	streams/{stream}           the last version applied of a cover or pool stream
package insurance

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/event"
	"yorozu/domain/insurance"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's name: part of the storage schema.
const Name = "insurance"

const (
	claimsCollection  = "claims"
	coverCollection   = "cover"
	poolCollection    = "pool"
	streamsCollection = "streams"
)

// instantLayout is the fixed-width UTC form of the instants queries compare as strings.
const instantLayout = "2006-01-02T15:04:05.000000Z"

// View is one claim as the read model keeps it.
type View struct {
	insurance.Claim
	// PendingSince is AssessingSince in instantLayout while an assessment is in progress.
	PendingSince string `json:"pendingSince,omitempty"`
}

// CoverUsage is what a company's approvals took of its limits in a period.
type CoverUsage struct {
	CustomerNumber   string           `json:"customerNumber"`
	Period           insurance.Period `json:"period"`
	Liability        insurance.Yen    `json:"liability"`
	IncidentResponse insurance.Yen    `json:"incidentResponse"`
}

// PoolUsage is what the pool of a period holds (reservations less what they gave back).
type PoolUsage struct {
	Period insurance.Period `json:"period"`
	Used   insurance.Yen    `json:"used"`
}

// Projection builds the read model.
type Projection struct {
	handlers *projections.Handlers
}

// NewProjection returns the projection, decoding with codec.
func NewProjection(codec *event.Registry) Projection {
	h := projections.NewHandlers(codec)
	onClaim[insurance.ClaimFiled](h)
	onClaim[insurance.ClaimRejected](h)
	onClaim[insurance.AssessmentStarted](h)
	onClaim[insurance.ClaimAssessed](h)
	onClaim[insurance.ClaimPaid](h)
	projections.On(h, coverUsed)
	projections.On(h, poolReserved)
	projections.On(h, poolReleased)
	return Projection{handlers: h}
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return p.handlers.Apply(ctx, unit, rec)
}

func get[T any](ctx context.Context, tx readmodel.Tx, collection, id string) (T, bool, error) {
	var v T
	raw, found, err := tx.Get(ctx, collection, id)
	if err != nil || !found {
		return v, found, err
	}
	return v, true, json.Unmarshal(raw, &v)
}

func onClaim[E any](h *projections.Handlers) {
	projections.On(h, func(ctx context.Context, tx readmodel.Tx, rec event.Record, e *E) error {
		id := any(e).(insurance.ClaimEvent).ClaimIDOf().String()
		v, _, err := get[View](ctx, tx, claimsCollection, id)
		if err != nil {
			return err
		}
		if err := projections.NextInStream(rec, v.Version); err != nil {
			return err
		}
		v.Claim = v.Claim.Evolve(e)
		v.PendingSince = ""
		if v.Assessing {
			v.PendingSince = v.AssessingSince.UTC().Format(instantLayout)
		}
		return tx.Put(ctx, claimsCollection, id, v)
	})
}

// next checks that rec is the next event of its stream, which the cover and pool documents do
// not count themselves (a stream holds several of them).
func next(ctx context.Context, tx readmodel.Tx, rec event.Record) error {
	seen, _, err := get[uint64](ctx, tx, streamsCollection, rec.Stream)
	if err != nil {
		return err
	}
	if err := projections.NextInStream(rec, seen); err != nil {
		return err
	}
	return tx.Put(ctx, streamsCollection, rec.Stream, rec.StreamVersion)
}

func coverUsed(ctx context.Context, tx readmodel.Tx, rec event.Record, e *insurance.CoverUsed) error {
	if err := next(ctx, tx, rec); err != nil {
		return err
	}
	id := e.CustomerNumber + "/" + e.Period.String()
	u, _, err := get[CoverUsage](ctx, tx, coverCollection, id)
	if err != nil {
		return err
	}
	u.CustomerNumber, u.Period = e.CustomerNumber, e.Period
	if e.Kind == insurance.KindLiability {
		u.Liability += e.Amount
	} else {
		u.IncidentResponse += e.Amount
	}
	return tx.Put(ctx, coverCollection, id, u)
}

func poolChanged(ctx context.Context, tx readmodel.Tx, rec event.Record, period insurance.Period, delta insurance.Yen) error {
	if err := next(ctx, tx, rec); err != nil {
		return err
	}
	u, _, err := get[PoolUsage](ctx, tx, poolCollection, period.String())
	if err != nil {
		return err
	}
	u.Period, u.Used = period, u.Used+delta
	return tx.Put(ctx, poolCollection, period.String(), u)
}

func poolReserved(ctx context.Context, tx readmodel.Tx, rec event.Record, e *insurance.PoolReserved) error {
	return poolChanged(ctx, tx, rec, e.Period, e.Amount)
}

func poolReleased(ctx context.Context, tx readmodel.Tx, rec event.Record, e *insurance.PoolReleased) error {
	return poolChanged(ctx, tx, rec, e.Period, -e.Amount)
}

// Ledger reads the insurance read model; Terms are the configured ones, for what remains.
type Ledger struct {
	Models readmodel.Store
	Terms  insurance.Terms
}

// Claim returns one claim.
func (l Ledger) Claim(ctx context.Context, id uuid.UUID) (insurance.Claim, bool, error) {
	raw, ok, err := l.Models.Get(ctx, Name, claimsCollection, id.String())
	if err != nil || !ok {
		return insurance.Claim{}, ok, err
	}
	var v View
	return v.Claim, true, json.Unmarshal(raw, &v)
}

// ClaimFilter selects claims; zero fields do not filter.
type ClaimFilter struct {
	CustomerNumber string
	Status         insurance.Status
	Period         insurance.Period
	After          string
	Limit          int
}

// Claims pages through the claims in the order they were filed.
func (l Ledger) Claims(ctx context.Context, f ClaimFilter) ([]insurance.Claim, string, error) {
	q := readmodel.Query{Collection: claimsCollection, After: f.After, Limit: f.Limit}
	eq := func(field, value string) {
		if value != "" {
			q.Where = append(q.Where, readmodel.Cond{Field: field, Op: readmodel.Eq, Value: value})
		}
	}
	eq("customerNumber", f.CustomerNumber)
	eq("status", string(f.Status))
	if f.Period != 0 {
		eq("period", f.Period.String())
	}
	page, err := l.Models.Find(ctx, Name, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]insurance.Claim, len(page.Docs))
	for i, doc := range page.Docs {
		var v View
		if err := json.Unmarshal(doc, &v); err != nil {
			return nil, "", err
		}
		out[i] = v.Claim
	}
	return out, page.Next, nil
}

// Amounts are a limit's use.
type Amounts struct {
	Used      insurance.Yen `json:"used"`
	Remaining insurance.Yen `json:"remaining"`
}

func amounts(used, limit insurance.Yen) Amounts {
	return Amounts{Used: used, Remaining: max(limit-used, 0)}
}

// Usage is what a company used of its limits in a period, and what the pool of that period holds.
type Usage struct {
	CustomerNumber   string           `json:"customerNumber"`
	Period           insurance.Period `json:"period"`
	Liability        Amounts          `json:"liability"`
	IncidentResponse Amounts          `json:"incidentResponse"`
	// Total is both kinds together.
	Total Amounts `json:"total"`
	Pool  Amounts `json:"pool"`
}

// Usage returns a company's usage in a period.
func (l Ledger) Usage(ctx context.Context, customerNumber string, p insurance.Period) (Usage, error) {
	var cover CoverUsage
	if raw, ok, err := l.Models.Get(ctx, Name, coverCollection, customerNumber+"/"+p.String()); err != nil {
		return Usage{}, err
	} else if ok {
		if err := json.Unmarshal(raw, &cover); err != nil {
			return Usage{}, err
		}
	}
	var pool PoolUsage
	if raw, ok, err := l.Models.Get(ctx, Name, poolCollection, p.String()); err != nil {
		return Usage{}, err
	} else if ok {
		if err := json.Unmarshal(raw, &pool); err != nil {
			return Usage{}, err
		}
	}
	liability := amounts(cover.Liability, l.Terms.Limits.Liability)
	response := amounts(cover.IncidentResponse, l.Terms.Limits.IncidentResponse)
	return Usage{
		CustomerNumber: customerNumber, Period: p, Liability: liability, IncidentResponse: response,
		Total: Amounts{Used: liability.Used + response.Used, Remaining: liability.Remaining + response.Remaining},
		Pool:  amounts(pool.Used, l.Terms.Limits.Pool),
	}, nil
}

// PendingAssessments implements commands.PendingAssessments: the claims whose assessment started
// before a time and is not complete.
func (l Ledger) PendingAssessments(ctx context.Context, startedBefore time.Time) ([]uuid.UUID, error) {
	q := readmodel.Query{Collection: claimsCollection, Limit: 1000, Where: []readmodel.Cond{
		{Field: "pendingSince", Op: readmodel.Lt, Value: startedBefore.UTC().Format(instantLayout)},
	}}
	var out []uuid.UUID
	for {
		page, err := l.Models.Find(ctx, Name, q)
		if err != nil {
			return nil, err
		}
		for _, doc := range page.Docs {
			var v View
			if err := json.Unmarshal(doc, &v); err != nil {
				return nil, err
			}
			out = append(out, v.ClaimID)
		}
		if page.Next == "" {
			return out, nil
		}
		q.After = page.Next
	}
}
