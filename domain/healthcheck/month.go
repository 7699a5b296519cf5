package healthcheck

import (
	"net/netip"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/report"
	"yorozu/domain/telemetry"
)

// MonthOf is the usage month (JST) of an instant.
func MonthOf(t time.Time) billing.Month { return billing.MonthOf(calendar.DateOf(t)) }

// SealAt is when a month's report is sealed: 00:00 JST on the 16th of the next month. By then no
// record of the month can still be accepted (records are accepted up to 15 days late).
func SealAt(m billing.Month) time.Time {
	n := m.Next()
	return calendar.MustDate(n.Year(), n.Month(), 16).Start()
}

// SealedBy reports whether the month's report is due to be sealed at now.
func SealedBy(m billing.Month, now time.Time) bool { return !now.Before(SealAt(m)) }

// SiteOf is the site a host counts under in the web section: its registrable domain (eTLD+1 by
// the public suffix list), an IP address as it is, and a host that has no registrable domain (a
// bare public suffix, an intranet name) as it is.
func SiteOf(host string) string {
	if _, err := netip.ParseAddr(strings.Trim(host, "[]")); err == nil {
		return host
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return site
}

// SiteStat is a site's time in focus and number of visits.
type SiteStat struct {
	Seconds int64 `json:"s"`
	Count   int64 `json:"c"`
}

// HarmfulHit is one visit to a site of a filtered category.
type HarmfulHit struct {
	At   time.Time `json:"at"`
	URL  string    `json:"url"`
	Item string    `json:"item"`
}

// OffHoursHit is one boot or logon outside working time.
type OffHoursHit struct {
	At     time.Time             `json:"at"`
	User   string                `json:"user,omitempty"`
	Type   string                `json:"type"`
	Reason report.OffHoursReason `json:"reason"`
}

// MediaHit is one external storage device connected.
type MediaHit struct {
	At     time.Time `json:"at"`
	Class  string    `json:"class"`
	Name   string    `json:"name"`
	Vendor string    `json:"vendor,omitempty"`
	Serial string    `json:"serial,omitempty"`
}

// TerminalMonth is what one terminal's records of one month amount to for the report. Folding
// is commutative (sums, and lists that Build sorts), so the order batches arrive in changes
// nothing.
type TerminalMonth struct {
	Sites    map[string]SiteStat `json:"sites,omitempty"`
	Harmful  []HarmfulHit        `json:"harmful,omitempty"`
	OffHours []OffHoursHit       `json:"offHours,omitempty"`
	Media    []MediaHit          `json:"media,omitempty"`
}

// Classifier folds records into months with the reference data of the moment: the URL dictionary
// in force when a record is folded decides its category.
type Classifier struct {
	Dictionary *Dictionary
	Calendar   *calendar.BusinessCalendar
}

// OffHours says whether a boot or logon at t is outside working time, and why: a Saturday,
// Sunday or national holiday (JST), else at or after 22:00 or before 05:00 JST.
func (c Classifier) OffHours(t time.Time) (report.OffHoursReason, bool) {
	j := t.In(calendar.JST())
	d := calendar.DateOf(j)
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return report.OffHoursHoliday, true
	}
	if _, holiday := c.Calendar.IsHoliday(d); holiday {
		return report.OffHoursHoliday, true
	}
	if h := j.Hour(); h >= 22 || h < 5 {
		return report.OffHoursLateNight, true
	}
	return "", false
}

// Fold adds one accepted record to its month. It reports whether the lists (harmful, off-hours,
// media) changed; the sites change with every web record.
func (c Classifier) Fold(m *TerminalMonth, r *telemetry.Record) (listsChanged bool) {
	switch r.Type {
	case telemetry.RecordWeb:
		host, ok := telemetry.WebHost(r.URL)
		if !ok {
			return false
		}
		if m.Sites == nil {
			m.Sites = map[string]SiteStat{}
		}
		site := SiteOf(host)
		s := m.Sites[site]
		if r.Seconds != nil {
			s.Seconds += *r.Seconds
		}
		s.Count++
		m.Sites[site] = s
		if item, _, harmful := c.Dictionary.Match(host); harmful {
			m.Harmful = append(m.Harmful, HarmfulHit{At: r.At.UTC(), URL: r.URL, Item: item})
			return true
		}
	case telemetry.RecordBoot, telemetry.RecordLogon:
		if reason, off := c.OffHours(r.At); off {
			m.OffHours = append(m.OffHours, OffHoursHit{At: r.At.UTC(), User: r.User, Type: r.Type, Reason: reason})
			return true
		}
	case telemetry.RecordDevice:
		if telemetry.IsExternalMedia(r.Class) {
			m.Media = append(m.Media, MediaHit{At: r.At.UTC(), Class: r.Class, Name: r.Name, Vendor: r.Vendor, Serial: r.Serial})
			return true
		}
	}
	return false
}
