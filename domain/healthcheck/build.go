package healthcheck

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
)

// TopSites is how many sites the web section lists.
const TopSites = 30

// TerminalInput is one terminal a report covers.
type TerminalInput struct {
	TerminalID string
	Hostname   string
	// OS is the inventory's, or the one reported at enrollment when no inventory came yet.
	OS telemetry.OS
	// Inventory is the latest received by the end of the month (nil: none).
	Inventory *telemetry.Inventory
	Month     TerminalMonth
}

// BuildInput is everything a report is computed from.
type BuildInput struct {
	CustomerNumber string
	Month          billing.Month
	Status         report.Status
	GeneratedAt    time.Time
	SealedAt       *time.Time
	// AsOf is the day the catalogs judge by: the month's last day, or today for the running month.
	AsOf      calendar.Date
	Terminals []TerminalInput
	Patches   PatchCatalog
	Software  SoftwareCatalog
}

// AsOf is the day a month's report judges patches and software by: its last day, or today while
// the month runs.
func AsOf(m billing.Month, now time.Time) calendar.Date {
	today := calendar.DateOf(now)
	if last := m.LastDay(); today.Before(last) {
		return today
	}
	return m.LastDay()
}

// Build computes a report. The result depends only on the input: terminals in any order give
// the same report.
func Build(in BuildInput) report.Report {
	terms := slices.Clone(in.Terminals)
	slices.SortFunc(terms, func(a, b TerminalInput) int {
		return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.TerminalID, b.TerminalID))
	})
	r := report.Report{
		CustomerNumber: in.CustomerNumber, Month: in.Month.String(), Status: in.Status, Terminals: len(terms),
		GeneratedAt: in.GeneratedAt.UTC(), SealedAt: in.SealedAt,
	}
	s := &r.Sections
	s.OSPatches, s.Software = []report.OSPatch{}, []report.Software{}
	s.HarmfulAccess, s.OffHours, s.ExternalMedia = []report.HarmfulAccess{}, []report.OffHours{}, []report.ExternalMedia{}
	sites := map[string]SiteStat{}
	findings := make([]map[string]bool, len(terms))
	for i, t := range terms {
		findings[i] = map[string]bool{}
		f := findings[i]
		p := report.OSPatch{TerminalID: t.TerminalID, Hostname: t.Hostname, Edition: t.OS.Edition, Version: t.OS.Version,
			Build: t.OS.Build, Status: in.Patches.Status(t.OS.Build, in.AsOf)}
		if t.Inventory != nil {
			p.LatestUpdate = latestUpdate(t.Inventory.Updates)
			for _, sw := range t.Inventory.Software {
				st, latest := in.Software.Status(sw.Name, sw.Version, in.AsOf)
				s.Software = append(s.Software, report.Software{TerminalID: t.TerminalID, Hostname: t.Hostname, Name: sw.Name,
					Version: sw.Version, Publisher: sw.Publisher, Status: st, LatestVersion: latest})
				switch st {
				case report.SoftwareUnsupported:
					f[FindingUnsupportedSoftware] = true
				case report.SoftwareOutdated:
					f[FindingOutdatedSoftware] = true
				}
			}
		} else {
			f[FindingNoInventory] = true
		}
		switch p.Status {
		case report.PatchUnsupported:
			f[FindingOSUnsupported] = true
		case report.PatchMissingUpdates:
			f[FindingMissingUpdates] = true
		}
		s.OSPatches = append(s.OSPatches, p)
		for site, st := range t.Month.Sites {
			acc := sites[site]
			acc.Seconds += st.Seconds
			acc.Count += st.Count
			sites[site] = acc
		}
		for _, h := range t.Month.Harmful {
			cat, _ := CategoryOf(h.Item)
			s.HarmfulAccess = append(s.HarmfulAccess, report.HarmfulAccess{TerminalID: t.TerminalID, Hostname: t.Hostname,
				At: h.At, URL: h.URL, Category: cat, Item: h.Item})
			if cat == CategorySecurity || cat == CategoryIllegal {
				f[FindingDangerousAccess] = true
			} else {
				f[FindingHarmfulAccess] = true
			}
		}
		for _, o := range t.Month.OffHours {
			s.OffHours = append(s.OffHours, report.OffHours{TerminalID: t.TerminalID, Hostname: t.Hostname, User: o.User,
				At: o.At, Type: o.Type, Reason: o.Reason})
		}
		if len(t.Month.OffHours) >= OffHoursThreshold {
			f[FindingOffHours] = true
		}
		for _, m := range t.Month.Media {
			s.ExternalMedia = append(s.ExternalMedia, report.ExternalMedia{TerminalID: t.TerminalID, Hostname: t.Hostname,
				At: m.At, Class: m.Class, Name: m.Name, Vendor: m.Vendor, Serial: m.Serial})
		}
		if len(t.Month.Media) > 0 {
			f[FindingExternalMedia] = true
		}
	}
	slices.SortStableFunc(s.Software, func(a, b report.Software) int {
		return cmp.Or(cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.TerminalID, b.TerminalID),
			cmp.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name)), cmp.Compare(a.Name, b.Name), CompareVersions(a.Version, b.Version),
			cmp.Compare(a.Version, b.Version), cmp.Compare(a.Publisher, b.Publisher))
	})
	slices.SortFunc(s.HarmfulAccess, func(a, b report.HarmfulAccess) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.TerminalID, b.TerminalID),
			cmp.Compare(a.URL, b.URL), cmp.Compare(a.Item, b.Item))
	})
	slices.SortFunc(s.OffHours, func(a, b report.OffHours) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.TerminalID, b.TerminalID),
			cmp.Compare(a.Type, b.Type), cmp.Compare(a.User, b.User))
	})
	slices.SortFunc(s.ExternalMedia, func(a, b report.ExternalMedia) int {
		return cmp.Or(a.At.Compare(b.At), cmp.Compare(a.Hostname, b.Hostname), cmp.Compare(a.TerminalID, b.TerminalID),
			cmp.Compare(a.Class, b.Class), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Vendor, b.Vendor), cmp.Compare(a.Serial, b.Serial))
	})
	s.WebTop30 = topSites(sites, TopSites)
	s.Summary = summarize(s, terms, findings, sites)
	return r
}

func latestUpdate(us []telemetry.Update) *report.Update {
	var best *telemetry.Update
	for i := range us {
		u := &us[i]
		if best == nil || u.InstalledOn > best.InstalledOn || (u.InstalledOn == best.InstalledOn && u.KB > best.KB) {
			best = u
		}
	}
	if best == nil {
		return nil
	}
	return &report.Update{KB: best.KB, InstalledOn: best.InstalledOn}
}

// topSites ranks sites by total seconds, then by more accesses, then by name.
func topSites(sites map[string]SiteStat, n int) []report.Site {
	all := make([]report.Site, 0, len(sites))
	for name, st := range sites {
		all = append(all, report.Site{Site: name, Seconds: st.Seconds, Count: st.Count})
	}
	slices.SortFunc(all, func(a, b report.Site) int {
		return cmp.Or(cmp.Compare(b.Seconds, a.Seconds), cmp.Compare(b.Count, a.Count), cmp.Compare(a.Site, b.Site))
	})
	if len(all) > n {
		all = all[:n]
	}
	return all
}
