package reports

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"sync"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/healthcheck"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
	"yorozu/projections/readmodel"
)

// ErrNoReport: the month has not begun, so it has no report yet.
var ErrNoReport = errors.New("reports: no report for that month")

// View answers the report queries from the read model.
type View struct {
	Models readmodel.Store

	mu       sync.Mutex
	catalogs map[string]any // kind_number → PatchCatalog or SoftwareCatalog (versions never change)
	// reports caches computed provisional reports by contract and month, with the key they
	// were computed under: the contract's version, the catalog versions in force and the day.
	reports map[string]cachedReport
	docs    map[string]decoded
}

type cachedReport struct {
	key    string
	report report.Report
	json   []byte
}

// decoded is a document decoded once and kept while its bytes stay the same: a report of a
// contract whose one terminal sent a batch decodes that terminal's documents only.
type decoded struct {
	sum   uint64
	value any
}

var docSeed = maphash.MakeSeed()

// maxCachedReports bounds the cache; it is emptied when full.
const maxCachedReports = 4096

// NewView returns the view over models.
func NewView(models readmodel.Store) *View {
	return &View{Models: models, catalogs: map[string]any{}, reports: map[string]cachedReport{}, docs: map[string]decoded{}}
}

func (v *View) get(ctx context.Context, collection, id string, into any) (bool, error) {
	raw, ok, err := v.Models.Get(ctx, Name, collection, id)
	if err != nil || !ok {
		return false, err
	}
	return true, json.Unmarshal(raw, into)
}

// maxCachedDocs bounds the decoded documents kept; the cache is emptied when full.
const maxCachedDocs = 200_000

// cachedDoc reads a document and decodes it with decode, unless the same bytes were decoded
// before. The value returned is shared: read it, never change it.
func cachedDoc[T any](ctx context.Context, v *View, collection, id string) (*T, error) {
	raw, ok, err := v.Models.Get(ctx, Name, collection, id)
	if err != nil || !ok {
		return nil, err
	}
	key := collection + "/" + id
	sum := maphash.Bytes(docSeed, raw)
	v.mu.Lock()
	d, found := v.docs[key]
	v.mu.Unlock()
	if found && d.sum == sum {
		if t, ok := d.value.(*T); ok {
			return t, nil
		}
	}
	t := new(T)
	if err := json.Unmarshal(raw, t); err != nil {
		return nil, err
	}
	v.mu.Lock()
	if len(v.docs) >= maxCachedDocs {
		clear(v.docs)
	}
	v.docs[key] = decoded{sum: sum, value: t}
	v.mu.Unlock()
	return t, nil
}

// Report is a contract's report for a month at now: the sealed one once sealed, else computed
// from the aggregates (provisional). A month after the current one has none (ErrNoReport).
func (v *View) Report(ctx context.Context, cn string, m billing.Month, now time.Time) (report.Report, error) {
	var sealed report.Report
	ok, err := v.get(ctx, sealedCollection, cn+"_"+m.String(), &sealed)
	if err != nil || ok {
		return sealed, err
	}
	if healthcheck.MonthOf(now).Before(m) {
		return report.Report{}, fmt.Errorf("%w: %s has not begun", ErrNoReport, m)
	}
	// A report is computed again only when its inputs changed: any change to the contract's
	// report data (its version, on whichever replica it was projected), another catalog version,
	// another day (the running month judges by today).
	var version uint64
	if _, err := v.get(ctx, versionsCollection, cn, &version); err != nil {
		return report.Report{}, err
	}
	asOf := healthcheck.AsOf(m, now)
	pv, _, err := v.inForce(ctx, kindPatches, asOf)
	if err != nil {
		return report.Report{}, err
	}
	sv, _, err := v.inForce(ctx, kindSoftware, asOf)
	if err != nil {
		return report.Report{}, err
	}
	key := fmt.Sprintf("%d|%d|%d|%s", version, pv.Number, sv.Number, asOf)
	id := cn + "_" + m.String()
	v.mu.Lock()
	c, ok := v.reports[id]
	v.mu.Unlock()
	if ok && c.key == key {
		return c.report, nil
	}
	r, err := v.Compute(ctx, cn, m, now, report.StatusProvisional)
	if err != nil {
		return r, err
	}
	v.mu.Lock()
	if len(v.reports) >= maxCachedReports {
		clear(v.reports)
	}
	v.reports[id] = cachedReport{key: key, report: r}
	v.mu.Unlock()
	return r, nil
}

// ReportJSON is Report encoded as JSON, the encoding cached with the report: a sealed report as
// stored, a provisional one encoded once per computation.
func (v *View) ReportJSON(ctx context.Context, cn string, m billing.Month, now time.Time) ([]byte, error) {
	raw, ok, err := v.Models.Get(ctx, Name, sealedCollection, cn+"_"+m.String())
	if err != nil || ok {
		return raw, err
	}
	r, err := v.Report(ctx, cn, m, now)
	if err != nil {
		return nil, err
	}
	id := cn + "_" + m.String()
	v.mu.Lock()
	c, cached := v.reports[id]
	v.mu.Unlock()
	if cached && c.json != nil && c.report.GeneratedAt.Equal(r.GeneratedAt) {
		return c.json, nil
	}
	out, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	v.mu.Lock()
	if c, ok := v.reports[id]; ok && c.report.GeneratedAt.Equal(r.GeneratedAt) {
		c.json = out
		v.reports[id] = c
	}
	v.mu.Unlock()
	return out, nil
}

// Sealed returns a month's sealed report, if it is sealed.
func (v *View) Sealed(ctx context.Context, cn string, m billing.Month) (report.Report, bool, error) {
	var sealed report.Report
	ok, err := v.get(ctx, sealedCollection, cn+"_"+m.String(), &sealed)
	return sealed, ok, err
}

// Compute builds a month's report from the aggregates, with the catalogs in force on its last day
// (today, for the running month), as of now.
func (v *View) Compute(ctx context.Context, cn string, m billing.Month, now time.Time, status report.Status) (report.Report, error) {
	var f fleetDoc
	if _, err := v.get(ctx, fleetCollection, cn, &f); err != nil {
		return report.Report{}, err
	}
	asOf := healthcheck.AsOf(m, now)
	in := healthcheck.BuildInput{CustomerNumber: cn, Month: m, Status: status, GeneratedAt: now, AsOf: asOf}
	if status == report.StatusSealed {
		at := now.UTC()
		in.SealedAt = &at
	}
	var err error
	if in.Patches, err = v.patchCatalog(ctx, asOf); err != nil {
		return report.Report{}, err
	}
	if in.Software, err = v.softwareCatalog(ctx, asOf); err != nil {
		return report.Report{}, err
	}
	from, to := monthBounds(m)
	for _, t := range f.Terminals {
		if !t.covers(from, to, f.TerminatedAt) {
			continue
		}
		ti := healthcheck.TerminalInput{TerminalID: t.ID, Hostname: t.Hostname, OS: t.OS}
		id := aggregateID(cn, m.String(), t.ID)
		sites, err := cachedDoc[map[string]healthcheck.SiteStat](ctx, v, webCollection, id)
		if err != nil {
			return report.Report{}, err
		}
		if sites != nil {
			ti.Month.Sites = *sites
		}
		lists, err := cachedDoc[healthcheck.TerminalMonth](ctx, v, listsCollection, id)
		if err != nil {
			return report.Report{}, err
		}
		if lists != nil {
			ti.Month.Harmful, ti.Month.OffHours, ti.Month.Media = lists.Harmful, lists.OffHours, lists.Media
		}
		inv, err := v.inventory(ctx, t.ID, m)
		if err != nil {
			return report.Report{}, err
		}
		if inv != nil {
			ti.Inventory = inv
			if inv.OS.Build != "" || inv.OS.Edition != "" {
				ti.OS = inv.OS
			}
		}
		in.Terminals = append(in.Terminals, ti)
	}
	return healthcheck.Build(in), nil
}

// inventory is the terminal's last inventory received by the end of month m.
func (v *View) inventory(ctx context.Context, tid string, m billing.Month) (*telemetry.Inventory, error) {
	t, err := cachedDoc[termDoc](ctx, v, termCollection, tid)
	if err != nil || t == nil {
		return nil, err
	}
	for i := len(t.InventoryMonths) - 1; i >= 0; i-- {
		if t.InventoryMonths[i] > m.String() {
			continue
		}
		d, err := cachedDoc[inventoryDoc](ctx, v, invCollection, tid+"_"+t.InventoryMonths[i])
		if err != nil {
			return nil, err
		}
		if d != nil {
			return &d.Inventory, nil
		}
	}
	return nil, nil
}

// inForce is the version of a catalog in force on a day.
func (v *View) inForce(ctx context.Context, kind string, on calendar.Date) (healthcheck.CatalogVersion, bool, error) {
	var idx catalogIndex
	if _, err := v.get(ctx, catalogsCollection, kind, &idx); err != nil {
		return healthcheck.CatalogVersion{}, false, err
	}
	ver, ok := healthcheck.InForce(idx.Versions, on)
	return ver, ok, nil
}

func (v *View) patchCatalog(ctx context.Context, asOf calendar.Date) (healthcheck.PatchCatalog, error) {
	ver, ok, err := v.inForce(ctx, kindPatches, asOf)
	if err != nil || !ok {
		return healthcheck.NewPatchCatalog(nil), err
	}
	key := fmt.Sprintf("%s_%d", kindPatches, ver.Number)
	v.mu.Lock()
	c, cached := v.catalogs[key]
	v.mu.Unlock()
	if cached {
		return c.(healthcheck.PatchCatalog), nil
	}
	var entries []healthcheck.PatchEntry
	if _, err := v.get(ctx, catalogCollection, key, &entries); err != nil {
		return healthcheck.PatchCatalog{}, err
	}
	cat := healthcheck.NewPatchCatalog(entries)
	v.mu.Lock()
	v.catalogs[key] = cat
	v.mu.Unlock()
	return cat, nil
}

func (v *View) softwareCatalog(ctx context.Context, asOf calendar.Date) (healthcheck.SoftwareCatalog, error) {
	ver, ok, err := v.inForce(ctx, kindSoftware, asOf)
	if err != nil || !ok {
		return healthcheck.NewSoftwareCatalog(nil), err
	}
	key := fmt.Sprintf("%s_%d", kindSoftware, ver.Number)
	v.mu.Lock()
	c, cached := v.catalogs[key]
	v.mu.Unlock()
	if cached {
		return c.(healthcheck.SoftwareCatalog), nil
	}
	var entries []healthcheck.SoftwareEntry
	if _, err := v.get(ctx, catalogCollection, key, &entries); err != nil {
		return healthcheck.SoftwareCatalog{}, err
	}
	cat := healthcheck.NewSoftwareCatalog(entries)
	v.mu.Lock()
	v.catalogs[key] = cat
	v.mu.Unlock()
	return cat, nil
}

// Due is a contract's month whose report is to be sealed.
type Due struct {
	CustomerNumber string
	Month          billing.Month
}

// DueForSealing lists the reports to seal at now: for every contract with terminals, each month
// from its first enrollment whose sealing time has come, that some terminal covered and that is
// not sealed yet. With untilNow, every month up to the current one instead (a terminated
// contract, sealed at once before its key is destroyed); only is then its customer number.
func (v *View) DueForSealing(ctx context.Context, now time.Time, only string) ([]Due, error) {
	var out []Due
	visit := func(f fleetDoc) {
		if f.FirstMonth == "" {
			return
		}
		first, err := billing.ParseMonth(f.FirstMonth)
		if err != nil {
			return
		}
		current := healthcheck.MonthOf(now)
		for m := first; !m.After(current); m = m.Next() {
			if only == "" && !healthcheck.SealedBy(m, now) {
				break
			}
			if f.sealed(m.String()) {
				continue
			}
			from, to := monthBounds(m)
			for _, t := range f.Terminals {
				if t.covers(from, to, f.TerminatedAt) {
					out = append(out, Due{CustomerNumber: f.CustomerNumber, Month: m})
					break
				}
			}
		}
	}
	if only != "" {
		var f fleetDoc
		ok, err := v.get(ctx, fleetCollection, only, &f)
		if err != nil || !ok {
			return nil, err
		}
		visit(f)
		return out, nil
	}
	after := ""
	for {
		page, err := v.Models.Find(ctx, Name, readmodel.Query{Collection: fleetCollection, After: after, Limit: 1000})
		if err != nil {
			return nil, err
		}
		for _, raw := range page.Docs {
			var f fleetDoc
			if err := json.Unmarshal(raw, &f); err != nil {
				return nil, err
			}
			visit(f)
		}
		if page.Next == "" {
			return out, nil
		}
		after = page.Next
	}
}
