package consultations

import (
	"context"
	"encoding/json"
	"time"

	"github.com/google/uuid"

	"yorozu/domain/calendar"
	"yorozu/domain/consultation"
	"yorozu/domain/contract"
	"yorozu/projections/readmodel"
)

// Desk reads the help desk's read model.
type Desk struct {
	Models readmodel.Store
}

// Get returns one consultation.
func (d Desk) Get(ctx context.Context, id uuid.UUID) (View, bool, error) {
	raw, ok, err := d.Models.Get(ctx, Name, consultationsCollection, id.String())
	if err != nil || !ok {
		return View{}, ok, err
	}
	var v View
	return v, true, json.Unmarshal(raw, &v)
}

// Filter selects consultations; zero fields do not filter.
type Filter struct {
	Status         consultation.Status
	CustomerNumber string
	// Overdue, when set, keeps the consultations that are (true) or are not (false) overdue at Now.
	Overdue *bool
	Now     time.Time
	After   string
	Limit   int
}

// List pages through the consultations in the order they were recorded.
func (d Desk) List(ctx context.Context, f Filter) ([]View, string, error) {
	q := readmodel.Query{Collection: consultationsCollection, After: f.After, Limit: f.Limit}
	if f.Status != "" {
		q.Where = append(q.Where, readmodel.Cond{Field: "status", Op: readmodel.Eq, Value: string(f.Status)})
	}
	if f.CustomerNumber != "" {
		q.Where = append(q.Where, readmodel.Cond{Field: "customerNumber", Op: readmodel.Eq, Value: f.CustomerNumber})
	}
	if f.Overdue != nil {
		op := readmodel.Gte
		if *f.Overdue {
			op = readmodel.Lt
		}
		q.Where = append(q.Where, readmodel.Cond{Field: "overdueFrom", Op: op, Value: f.Now.UTC().Format(InstantLayout)})
	}
	return find[View](ctx, d.Models, q)
}

func find[T any](ctx context.Context, models readmodel.Store, q readmodel.Query) ([]T, string, error) {
	page, err := models.Find(ctx, Name, q)
	if err != nil {
		return nil, "", err
	}
	out := make([]T, len(page.Docs))
	for i, doc := range page.Docs {
		if err := json.Unmarshal(doc, &out[i]); err != nil {
			return nil, "", err
		}
	}
	return out, page.Next, nil
}

// all runs a query to its last page.
func all[T any](ctx context.Context, models readmodel.Store, q readmodel.Query) ([]T, error) {
	q.Limit = 1000
	var out []T
	for {
		page, next, err := find[T](ctx, models, q)
		if err != nil {
			return nil, err
		}
		out = append(out, page...)
		if next == "" {
			return out, nil
		}
		q.After = next
	}
}

// Stats counts the consultations received in a month (JST): how many were received, how many of
// them were rejected at intake, and the accepted ones by category, by decision, by decline reason
// and by referral. Every key is present, with 0 where nothing was counted; "untriaged" counts
// accepted consultations without a category (or decision) yet.
type Stats struct {
	Month           string         `json:"month"`
	Received        int            `json:"received"`
	Accepted        int            `json:"accepted"`
	Rejected        int            `json:"rejected"`
	ByCategory      map[string]int `json:"byCategory"`
	ByDecision      map[string]int `json:"byDecision"`
	ByDeclineReason map[string]int `json:"byDeclineReason"`
	ByReferral      map[string]int `json:"byReferral"`
}

// Untriaged is the key of Stats' counts for consultations without a category or decision.
const Untriaged = "untriaged"

// Stats computes the statistics of a month of receipt, YYYY-MM.
func (d Desk) Stats(ctx context.Context, month string) (Stats, error) {
	views, err := all[View](ctx, d.Models, readmodel.Query{Collection: consultationsCollection,
		Where: []readmodel.Cond{{Field: "receivedMonth", Op: readmodel.Eq, Value: month}}})
	if err != nil {
		return Stats{}, err
	}
	s := Stats{Month: month, ByCategory: zeros(consultation.Categories), ByDecision: zeros(consultation.Decisions),
		ByDeclineReason: zeros(consultation.DeclineReasons), ByReferral: zeros(consultation.Referrals)}
	s.ByCategory[Untriaged], s.ByDecision[Untriaged] = 0, 0
	for _, v := range views {
		s.Received++
		if v.Status == consultation.StatusRejected {
			s.Rejected++
			continue
		}
		s.Accepted++
		s.ByCategory[orUntriaged(string(v.Category))]++
		s.ByDecision[orUntriaged(string(v.Decision))]++
		if v.DeclineReason != "" {
			s.ByDeclineReason[string(v.DeclineReason)]++
		}
		if v.Referral != "" {
			s.ByReferral[string(v.Referral)]++
		}
	}
	return s, nil
}

func zeros[T ~string](keys []T) map[string]int {
	m := make(map[string]int, len(keys)+1)
	for _, k := range keys {
		m[string(k)] = 0
	}
	return m
}

func orUntriaged(s string) string {
	if s == "" {
		return Untriaged
	}
	return s
}

// LongCalls pages through the phone calls of a month (JST) longer than consultation.LongCall, in
// the order they were recorded.
func (d Desk) LongCalls(ctx context.Context, month, after string, limit int) ([]Call, string, error) {
	return find[Call](ctx, d.Models, readmodel.Query{Collection: callsCollection, After: after, Limit: limit,
		Where: []readmodel.Cond{{Field: "month", Op: readmodel.Eq, Value: month}, {Field: "long", Op: readmodel.Eq, Value: "true"}}})
}

// QuietFor is how long a contract may go without consulting before staff call it.
const QuietFor = 3 // months

// OutboundCalls pages through the active contracts that have not consulted the help desk for
// three months on asOf: their last accepted consultation (or, if they never consulted, their
// opening) was on or before the same day three months earlier (on the month's last day when that
// month is shorter). In customer-number order.
func (d Desk) OutboundCalls(ctx context.Context, asOf calendar.Date, after string, limit int) ([]Quiet, string, error) {
	cutoff := QuietCutoff(asOf)
	return find[Quiet](ctx, d.Models, readmodel.Query{Collection: quietCollection, OrderBy: "customerNumber", After: after, Limit: limit,
		Where: []readmodel.Cond{
			{Field: "status", Op: readmodel.Eq, Value: string(contract.StatusActive)},
			{Field: "quietSince", Op: readmodel.Lt, Value: cutoff.AddDays(1).String()},
		}})
}

// QuietCutoff is the latest day a contract's last consultation may be on for it to be quiet for
// three months on asOf: the same day three months earlier, or that month's last day.
func QuietCutoff(asOf calendar.Date) calendar.Date {
	y, m := asOf.Year(), asOf.Month()-QuietFor
	if m < time.January {
		y, m = y-1, m+12
	}
	day := asOf.Day()
	for {
		if d, err := calendar.NewDate(y, m, day); err == nil {
			return d
		}
		day--
	}
}
