// Package terminals is the staff's list of terminals (GET /api/v1/terminals): every enrolled
// terminal with its contract, status and the last time its agent sent a batch, so that silent
// terminals can be followed up.
//
// Documents (collection "terminals", id the terminal ID) are View values; lastContactAt, the
// later of enrolment and the last batch, is stored for the silent-terminal filter.
package terminals

import (
	"context"
	"encoding/json"
	"time"

	"yorozu/domain/event"
	"yorozu/domain/telemetry"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's checkpoint key: part of the storage schema.
const Name = "terminals"

const collection = "terminals"

// instantLayout is fixed-width UTC, so that instants compare as strings.
const instantLayout = "2006-01-02T15:04:05.000000Z"

// View is one terminal as staff see it.
type View struct {
	TerminalID     string       `json:"terminalId"`
	CustomerNumber string       `json:"customerNumber"`
	Hostname       string       `json:"hostname"`
	Status         string       `json:"status"`
	OS             telemetry.OS `json:"os"`
	EnrolledAt     time.Time    `json:"enrolledAt"`
	LastSeenAt     *time.Time   `json:"lastSeenAt"`
	RetiredAt      *time.Time   `json:"retiredAt,omitempty"`
	// LastContactAt is the later of EnrolledAt and LastSeenAt, fixed-width (filters compare it).
	LastContactAt string `json:"lastContactAt"`
}

// Projection keeps the list.
type Projection struct{ handlers *projections.Handlers }

// NewProjection returns the projection, decoding with codec.
func NewProjection(codec *event.Registry) Projection {
	h := projections.NewHandlers(codec)
	projections.On(h, enrolled)
	projections.On(h, reenrolled)
	projections.On(h, retired)
	projections.On(h, batchReceived)
	return Projection{handlers: h}
}

// Name implements projections.Projection.
func (Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return p.handlers.Apply(ctx, unit, rec)
}

func enrolled(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.TerminalEnrolled) error {
	v := View{TerminalID: e.TerminalID.String(), CustomerNumber: e.CustomerNumber, Hostname: e.Hostname, Status: telemetry.StatusActive,
		OS: e.OS, EnrolledAt: e.EnrolledAt.UTC(), LastContactAt: e.EnrolledAt.UTC().Format(instantLayout)}
	return tx.Put(ctx, collection, v.TerminalID, v)
}

func update(ctx context.Context, tx readmodel.Tx, id string, fn func(*View)) error {
	raw, ok, err := tx.Get(ctx, collection, id)
	if err != nil || !ok {
		return err // a batch or change of a terminal this read model never saw enrolled: nothing to show
	}
	var v View
	if err := json.Unmarshal(raw, &v); err != nil {
		return err
	}
	fn(&v)
	return tx.Put(ctx, collection, id, v)
}

func reenrolled(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.TerminalReenrolled) error {
	return update(ctx, tx, e.TerminalID.String(), func(v *View) {
		v.Hostname, v.OS = e.Hostname, e.OS
		if at := e.ReenrolledAt.UTC().Format(instantLayout); at > v.LastContactAt {
			v.LastContactAt = at
		}
	})
}

func retired(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.TerminalRetired) error {
	return update(ctx, tx, e.TerminalID.String(), func(v *View) {
		at := e.RetiredAt.UTC()
		v.Status, v.RetiredAt = telemetry.StatusRetired, &at
	})
}

func batchReceived(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.BatchReceived) error {
	return update(ctx, tx, e.TerminalID.String(), func(v *View) {
		at := e.ReceivedAt.UTC()
		if v.LastSeenAt == nil || at.After(*v.LastSeenAt) {
			v.LastSeenAt = &at
		}
		if s := at.Format(instantLayout); s > v.LastContactAt {
			v.LastContactAt = s
		}
	})
}

// Filter selects terminals.
type Filter struct {
	CustomerNumber string
	Status         string
	// SilentSince, if set, keeps the active terminals that sent nothing since then (and were
	// enrolled before it).
	SilentSince time.Time
	Limit       int
	After       string
}

// List reads the read model.
type List struct{ Models readmodel.Store }

// Find returns a page of terminals in enrolment order.
func (l List) Find(ctx context.Context, f Filter) ([]View, string, error) {
	q := readmodel.Query{Collection: collection, Limit: f.Limit, After: f.After}
	if f.CustomerNumber != "" {
		q.Where = append(q.Where, readmodel.Cond{Field: "customerNumber", Op: readmodel.Eq, Value: f.CustomerNumber})
	}
	status := f.Status
	if !f.SilentSince.IsZero() {
		status = telemetry.StatusActive
		// lastContactAt <= SilentSince, at the stored microsecond precision.
		q.Where = append(q.Where, readmodel.Cond{Field: "lastContactAt", Op: readmodel.Lt,
			Value: f.SilentSince.UTC().Truncate(time.Microsecond).Add(time.Microsecond).Format(instantLayout)})
	}
	if status != "" {
		q.Where = append(q.Where, readmodel.Cond{Field: "status", Op: readmodel.Eq, Value: status})
	}
	page, err := l.Models.Find(ctx, Name, q)
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

// Get returns one terminal.
func (l List) Get(ctx context.Context, terminalID string) (View, bool, error) {
	raw, ok, err := l.Models.Get(ctx, Name, collection, terminalID)
	if err != nil || !ok {
		return View{}, false, err
	}
	var v View
	return v, true, json.Unmarshal(raw, &v)
}
