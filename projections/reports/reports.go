// Package reports is the monthly health-check report's read side. The projection folds every
// telemetry batch, opened with the contract's data key, into per-terminal, per-month aggregates
// (healthcheck.TerminalMonth), so that a report is computed from about three documents per
// terminal, never from raw telemetry; it keeps the published catalogs and, once a month is sealed,
// the sealed report exactly as its ReportSealed event holds it. The View answers the report
// queries.
//
// Documents (collections of the projection Name):
//
//	fleet/{customerNumber}                 fleetDoc: the contract's terminals, termination, sealed months
//	web/{customerNumber}_{month}_{term}    healthcheck.TerminalMonth sites of a terminal's month
//	lists/{customerNumber}_{month}_{term}  healthcheck.TerminalMonth harmful, off-hours, media lists
//	inv/{term}_{month}                     inventoryDoc: the last inventory received in a month
//	term/{term}                            termDoc: the months a terminal has an inventory for
//	sealed/{customerNumber}_{month}        the sealed report, as recorded
//	sealedMonths/{customerNumber}          the months sealed so far (also in fleet)
//	versions/{customerNumber}              a counter of the changes to the contract's report data
//	catalogs/{patches|software}            catalogIndex: the published versions
//	catalog/{patches|software}_{number}    the entries of one version
//
// The aggregates of a month are deleted when it is sealed: from then on its report is the sealed
// one, and the read model holds only the months still open.
package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/contract"
	"yorozu/domain/event"
	"yorozu/domain/healthcheck"
	"yorozu/domain/telemetry"
	"yorozu/projections"
	"yorozu/projections/readmodel"
)

// Name is the projection's checkpoint key: part of the storage schema.
const Name = "reports"

const (
	fleetCollection  = "fleet"
	webCollection    = "web"
	listsCollection  = "lists"
	invCollection    = "inv"
	termCollection   = "term"
	sealedCollection = "sealed"
	// sealedMonthsCollection: customer number → the months sealed (what every batch checks).
	sealedMonthsCollection = "sealedMonths"
	// versionsCollection: customer number → a counter moved by every change to the contract's
	// report data (the View's cache key).
	versionsCollection = "versions"
	catalogsCollection = "catalogs"
	catalogCollection  = "catalog"

	kindPatches  = "patches"
	kindSoftware = "software"
)

// fleetDoc is what the reports need of a contract's terminals.
type fleetDoc struct {
	CustomerNumber string          `json:"customerNumber"`
	Terminals      []fleetTerminal `json:"terminals"`
	TerminatedAt   *time.Time      `json:"terminatedAt,omitempty"`
	// FirstMonth is the month of the first enrollment; Sealed the months sealed so far.
	FirstMonth string   `json:"firstMonth"`
	Sealed     []string `json:"sealed,omitempty"`
}

type fleetTerminal struct {
	ID         string       `json:"id"`
	Hostname   string       `json:"hostname"`
	OS         telemetry.OS `json:"os"`
	EnrolledAt time.Time    `json:"enrolledAt"`
	RetiredAt  *time.Time   `json:"retiredAt,omitempty"`
}

// covers reports whether the terminal was enrolled at some time in [from, to).
func (t fleetTerminal) covers(from, to time.Time, terminatedAt *time.Time) bool {
	if !t.EnrolledAt.Before(to) {
		return false
	}
	if t.RetiredAt != nil && t.RetiredAt.Before(from) {
		return false
	}
	return terminatedAt == nil || !terminatedAt.Before(from)
}

func (f *fleetDoc) sealed(month string) bool { return slices.Contains(f.Sealed, month) }

type inventoryDoc struct {
	At        time.Time           `json:"at"`
	Inventory telemetry.Inventory `json:"inventory"`
}

type termDoc struct {
	CustomerNumber  string   `json:"customerNumber"`
	InventoryMonths []string `json:"inventoryMonths"`
}

type catalogIndex struct {
	Versions []healthcheck.CatalogVersion `json:"versions"`
}

// Config wires the projection.
type Config struct {
	Codec *event.Registry
	// Keys opens the batches' payloads.
	Keys     telemetry.KeyRing
	Calendar *calendar.BusinessCalendar
	// Dictionary is the URL dictionary in force (reloadable).
	Dictionary *atomic.Pointer[healthcheck.Dictionary]
	Logger     *slog.Logger
}

// Projection keeps the report read model.
type Projection struct {
	cfg      Config
	handlers *projections.Handlers
	// unreadable counts batches whose payload could not be opened (a destroyed key).
	unreadable atomic.Uint64
}

// NewProjection returns the projection.
func NewProjection(cfg Config) *Projection {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	p := &Projection{cfg: cfg}
	h := projections.NewHandlers(cfg.Codec)
	projections.On(h, p.enrolled)
	projections.On(h, p.reenrolled)
	projections.On(h, p.retired)
	projections.On(h, p.terminated)
	projections.On(h, p.batch)
	projections.On(h, p.sealedReport)
	projections.On(h, p.patchCatalog)
	projections.On(h, p.softwareCatalog)
	p.handlers = h
	return p
}

// Name implements projections.Projection.
func (*Projection) Name() string { return Name }

// Apply implements projections.Projection.
func (p *Projection) Apply(ctx context.Context, unit readmodel.Tx, rec event.Record) error {
	return p.handlers.Apply(ctx, unit, rec)
}

// Unreadable is the number of batches this process could not open (their key was destroyed).
func (p *Projection) Unreadable() uint64 { return p.unreadable.Load() }

func getDoc[T any](ctx context.Context, tx readmodel.Tx, collection, id string, v *T) (bool, error) {
	raw, ok, err := tx.Get(ctx, collection, id)
	if err != nil || !ok {
		return false, err
	}
	return true, json.Unmarshal(raw, v)
}

func (p *Projection) updateFleet(ctx context.Context, tx readmodel.Tx, cn string, fn func(*fleetDoc)) error {
	var f fleetDoc
	if _, err := getDoc(ctx, tx, fleetCollection, cn, &f); err != nil {
		return err
	}
	f.CustomerNumber = cn
	fn(&f)
	if err := tx.Put(ctx, fleetCollection, cn, f); err != nil {
		return err
	}
	return bump(ctx, tx, cn)
}

// bump moves the contract's version: the View's cached reports of it are stale.
func bump(ctx context.Context, tx readmodel.Tx, cn string) error {
	var v uint64
	if _, err := getDoc(ctx, tx, versionsCollection, cn, &v); err != nil {
		return err
	}
	return tx.Put(ctx, versionsCollection, cn, v+1)
}

func (p *Projection) enrolled(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.TerminalEnrolled) error {
	return p.updateFleet(ctx, tx, e.CustomerNumber, func(f *fleetDoc) {
		f.Terminals = append(f.Terminals, fleetTerminal{ID: e.TerminalID.String(), Hostname: e.Hostname, OS: e.OS, EnrolledAt: e.EnrolledAt.UTC()})
		if m := healthcheck.MonthOf(e.EnrolledAt).String(); f.FirstMonth == "" || m < f.FirstMonth {
			f.FirstMonth = m
		}
	})
}

func (p *Projection) reenrolled(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.TerminalReenrolled) error {
	return p.updateFleet(ctx, tx, e.CustomerNumber, func(f *fleetDoc) {
		for i := range f.Terminals {
			if f.Terminals[i].ID == e.TerminalID.String() {
				f.Terminals[i].Hostname, f.Terminals[i].OS = e.Hostname, e.OS
			}
		}
	})
}

func (p *Projection) retired(ctx context.Context, tx readmodel.Tx, _ event.Record, e *telemetry.TerminalRetired) error {
	return p.updateFleet(ctx, tx, e.CustomerNumber, func(f *fleetDoc) {
		for i := range f.Terminals {
			if f.Terminals[i].ID == e.TerminalID.String() {
				at := e.RetiredAt.UTC()
				f.Terminals[i].RetiredAt = &at
			}
		}
	})
}

func (p *Projection) terminated(ctx context.Context, tx readmodel.Tx, rec event.Record, e *contract.ContractTerminated) error {
	var f fleetDoc
	ok, err := getDoc(ctx, tx, fleetCollection, e.CustomerNumber, &f)
	if err != nil || !ok {
		return err // no terminal ever: no report
	}
	// Reports cover the contract until the moment it was terminated (recorded), whatever date
	// the termination takes effect.
	at := rec.RecordedAt.UTC()
	f.TerminatedAt = &at
	if err := tx.Put(ctx, fleetCollection, e.CustomerNumber, f); err != nil {
		return err
	}
	return bump(ctx, tx, e.CustomerNumber)
}

func aggregateID(cn, month, terminal string) string { return cn + "_" + month + "_" + terminal }

func (p *Projection) batch(ctx context.Context, tx readmodel.Tx, rec event.Record, e *telemetry.BatchReceived) error {
	if e.Accepted == 0 && !e.HasInventory {
		return nil
	}
	key, err := p.cfg.Keys.Key(ctx, e.CustomerNumber)
	var payload *telemetry.Payload
	if err == nil {
		payload, err = telemetry.OpenPayload(key, telemetry.PayloadAD(e.CustomerNumber, e.TerminalID, e.BatchID), e.PayloadSealed)
	}
	if err != nil {
		if errors.Is(err, telemetry.ErrKeyDestroyed) || errors.Is(err, telemetry.ErrNoKey) || errors.Is(err, telemetry.ErrUnreadablePayload) {
			// Crypto-shredded (its months were sealed before the key went), or damaged: a report
			// cannot use it, and the projection must not stop on it.
			p.unreadable.Add(1)
			p.cfg.Logger.Debug("telemetry batch unreadable", "stream", rec.Stream, "version", rec.StreamVersion, "err", err)
			return nil
		}
		return err
	}
	// The sealed months only, from their own small document: the fleet is read by queries.
	var f fleetDoc
	if _, err := getDoc(ctx, tx, sealedMonthsCollection, e.CustomerNumber, &f.Sealed); err != nil {
		return err
	}
	tid := e.TerminalID.String()
	if payload.Inventory != nil {
		if err := p.inventory(ctx, tx, e, tid, payload.Inventory, &f); err != nil {
			return err
		}
	}
	// Records by month (a batch may straddle two), in the order sent.
	byMonth := map[string][]*telemetry.Record{}
	var months []string
	for i := range payload.Records {
		r := &payload.Records[i]
		m := healthcheck.MonthOf(r.At).String()
		if f.sealed(m) {
			continue // its report is final
		}
		if _, ok := byMonth[m]; !ok {
			months = append(months, m)
		}
		byMonth[m] = append(byMonth[m], r)
	}
	c := healthcheck.Classifier{Dictionary: p.cfg.Dictionary.Load(), Calendar: p.cfg.Calendar}
	for _, m := range months {
		id := aggregateID(e.CustomerNumber, m, tid)
		var month healthcheck.TerminalMonth
		var web, lists bool
		for _, r := range byMonth[m] {
			web = web || r.Type == telemetry.RecordWeb
			lists = lists || listsCandidate(r)
		}
		if web {
			if _, err := getDoc(ctx, tx, webCollection, id, &month.Sites); err != nil {
				return err
			}
		}
		if lists {
			if _, err := getDoc(ctx, tx, listsCollection, id, &month); err != nil {
				return err
			}
		}
		listsChanged := false
		for _, r := range byMonth[m] {
			if c.Fold(&month, r) {
				listsChanged = true
			}
		}
		if web {
			if err := tx.Put(ctx, webCollection, id, month.Sites); err != nil {
				return err
			}
		}
		if listsChanged {
			month.Sites = nil
			if err := tx.Put(ctx, listsCollection, id, month); err != nil {
				return err
			}
		}
	}
	return bump(ctx, tx, e.CustomerNumber)
}

// listsCandidate: a record that may add to the lists (boot, logon, device, web).
func listsCandidate(r *telemetry.Record) bool {
	switch r.Type {
	case telemetry.RecordWeb, telemetry.RecordBoot, telemetry.RecordLogon, telemetry.RecordDevice:
		return true
	}
	return false
}

// inventory keeps the last inventory of the batch's month (by the end of its collection window).
func (p *Projection) inventory(ctx context.Context, tx readmodel.Tx, e *telemetry.BatchReceived, tid string, inv *telemetry.Inventory, f *fleetDoc) error {
	m := healthcheck.MonthOf(e.CollectedTo).String()
	if f.sealed(m) {
		return nil
	}
	id := tid + "_" + m
	var cur inventoryDoc
	found, err := getDoc(ctx, tx, invCollection, id, &cur)
	if err != nil {
		return err
	}
	if found && cur.At.After(e.CollectedTo) {
		return nil // a late batch with an older inventory
	}
	if err := tx.Put(ctx, invCollection, id, inventoryDoc{At: e.CollectedTo.UTC(), Inventory: *inv}); err != nil {
		return err
	}
	var t termDoc
	if _, err := getDoc(ctx, tx, termCollection, tid, &t); err != nil {
		return err
	}
	if slices.Contains(t.InventoryMonths, m) {
		return nil
	}
	t.CustomerNumber = e.CustomerNumber
	t.InventoryMonths = append(t.InventoryMonths, m)
	slices.Sort(t.InventoryMonths)
	return tx.Put(ctx, termCollection, tid, t)
}

func (p *Projection) sealedReport(ctx context.Context, tx readmodel.Tx, rec event.Record, e *healthcheck.ReportSealed) error {
	// The report as recorded, byte for byte: served unchanged from now on.
	var raw struct {
		Report json.RawMessage `json:"report"`
	}
	if err := json.Unmarshal(rec.Data, &raw); err != nil {
		return err
	}
	id := e.CustomerNumber + "_" + e.Month
	if err := tx.Put(ctx, sealedCollection, id, readmodel.RawJSON(raw.Report)); err != nil {
		return err
	}
	var f fleetDoc
	if _, err := getDoc(ctx, tx, fleetCollection, e.CustomerNumber, &f); err != nil {
		return err
	}
	f.CustomerNumber = e.CustomerNumber
	if !f.sealed(e.Month) {
		f.Sealed = append(f.Sealed, e.Month)
		slices.Sort(f.Sealed)
	}
	if err := tx.Put(ctx, fleetCollection, e.CustomerNumber, f); err != nil {
		return err
	}
	if err := tx.Put(ctx, sealedMonthsCollection, e.CustomerNumber, f.Sealed); err != nil {
		return err
	}
	for _, t := range f.Terminals {
		id := aggregateID(e.CustomerNumber, e.Month, t.ID)
		if err := tx.Delete(ctx, webCollection, id); err != nil {
			return err
		}
		if err := tx.Delete(ctx, listsCollection, id); err != nil {
			return err
		}
	}
	return bump(ctx, tx, e.CustomerNumber)
}

func (p *Projection) publishCatalog(ctx context.Context, tx readmodel.Tx, kind string, rec event.Record, publishedAt time.Time, entries any) error {
	var idx catalogIndex
	if _, err := getDoc(ctx, tx, catalogsCollection, kind, &idx); err != nil {
		return err
	}
	idx.Versions = append(idx.Versions, healthcheck.CatalogVersion{Number: rec.StreamVersion, PublishedAt: publishedAt.UTC()})
	if err := tx.Put(ctx, catalogCollection, fmt.Sprintf("%s_%d", kind, rec.StreamVersion), entries); err != nil {
		return err
	}
	return tx.Put(ctx, catalogsCollection, kind, idx)
}

func (p *Projection) patchCatalog(ctx context.Context, tx readmodel.Tx, rec event.Record, e *healthcheck.PatchCatalogPublished) error {
	return p.publishCatalog(ctx, tx, kindPatches, rec, e.PublishedAt, e.Entries)
}

func (p *Projection) softwareCatalog(ctx context.Context, tx readmodel.Tx, rec event.Record, e *healthcheck.SoftwareCatalogPublished) error {
	return p.publishCatalog(ctx, tx, kindSoftware, rec, e.PublishedAt, e.Entries)
}

// monthBounds is the month's [start, end) in instants.
func monthBounds(m billing.Month) (time.Time, time.Time) {
	return m.FirstDay().Start(), m.Next().FirstDay().Start()
}
