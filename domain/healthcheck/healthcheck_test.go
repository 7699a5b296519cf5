package healthcheck_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
	"yorozu/domain/healthcheck"
	"yorozu/domain/report"
)

func TestCompareVersions(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want int
	}{
		{"10.2", "10.10", -1}, {"1.2", "1.2.0", 0}, {"126.0.2592.87", "126.0.2592.87", 0}, {"23.01", "23.1", 0},
		{"1.0b", "1.0a", 1}, {"2", "10", -1}, {"99999999999999999999.1", "1.1", 1}, {"8.0.351", "8.0.411", -1},
	} {
		if got := healthcheck.CompareVersions(c.a, c.b); got != c.want {
			t.Errorf("CompareVersions(%q, %q) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestPatchStatus(t *testing.T) {
	eos := calendar.MustDate(2025, 11, 11)
	c := healthcheck.NewPatchCatalog([]healthcheck.PatchEntry{{Build: "22631", Name: "Windows 11 23H2", LatestRevision: 4460, EndOfSupport: &eos}})
	on := calendar.MustDate(2025, 7, 31)
	for build, want := range map[string]report.PatchStatus{
		"22631.4460": report.PatchUpToDate, "22631.4461": report.PatchUpToDate, "22631.4459": report.PatchMissingUpdates,
		"22631": report.PatchUnknown, "19045.100": report.PatchUnknown, "": report.PatchUnknown,
	} {
		if got := c.Status(build, on); got != want {
			t.Errorf("%q: %s, want %s", build, got, want)
		}
	}
	// Unsupported wins, from the day after the end of support.
	if got := c.Status("22631.4460", eos); got != report.PatchUpToDate {
		t.Errorf("on the end-of-support day: %s", got)
	}
	for _, b := range []string{"22631.4460", "22631.1", "22631"} {
		if got := c.Status(b, eos.AddDays(1)); got != report.PatchUnsupported {
			t.Errorf("%q after the end of support: %s", b, got)
		}
	}
}

func TestSoftwareStatus(t *testing.T) {
	eos := calendar.MustDate(2025, 1, 1)
	c := healthcheck.NewSoftwareCatalog([]healthcheck.SoftwareEntry{{Name: "Google Chrome", LatestVersion: "126.0.2"},
		{Name: "Java 8", LatestVersion: "8.0.411", EndOfSupport: &eos}})
	on := calendar.MustDate(2025, 7, 31)
	for _, tc := range []struct {
		name, version string
		want          report.SoftwareStatus
	}{
		{"google chrome", "126.0.2", report.SoftwareCurrent}, {"GOOGLE CHROME ", "126.0.10", report.SoftwareCurrent},
		{"Google Chrome", "126.0.1.99", report.SoftwareOutdated}, {"Java 8", "8.0.411", report.SoftwareUnsupported},
		{"Firefox", "1", report.SoftwareUnknown},
	} {
		if got, _ := c.Status(tc.name, tc.version, on); got != tc.want {
			t.Errorf("%s %s: %s, want %s", tc.name, tc.version, got, tc.want)
		}
	}
}

func TestCatalogValidationReportsEveryError(t *testing.T) {
	err := healthcheck.ValidateSoftwareEntries([]healthcheck.SoftwareEntry{{Name: "A", LatestVersion: "1"}, {Name: "a", LatestVersion: "x"}, {}})
	var v *healthcheck.ValidationError
	if !errors.As(err, &v) || len(v.Errors) != 4 {
		t.Fatalf("errors: %v", err)
	}
}

func TestDictionary(t *testing.T) {
	d, err := healthcheck.ParseDictionary(strings.NewReader("\ufeff# comment\n\nexample.com\tgambling\r\nbad.example.com\tmalware\n1.2.3.4\tphishingFraud\n"))
	if err != nil {
		t.Fatal(err)
	}
	for host, want := range map[string]string{
		"example.com": "gambling", "www.example.com": "gambling", "x.bad.example.com": "malware", "bad.example.com": "malware",
		"EXAMPLE.COM.": "gambling", "notexample.com": "", "1.2.3.4": "phishingFraud", "5.1.2.3.4": "",
	} {
		item, _, ok := d.Match(host)
		if item != want || ok != (want != "") {
			t.Errorf("%s: %q %v, want %q", host, item, ok, want)
		}
	}
	if _, cat, _ := d.Match("www.example.com"); cat != healthcheck.CategoryGambling {
		t.Errorf("category %q", cat)
	}
	_, err = healthcheck.ParseDictionary(strings.NewReader("a.com\tgambling\nb.com gambling\nc.com\tunknownItem\n\tdating\n"))
	if err == nil || !strings.Contains(err.Error(), "line 2") || !strings.Contains(err.Error(), "line 3") || !strings.Contains(err.Error(), "line 4") {
		t.Fatalf("bad lines: %v", err)
	}
	// The six categories, exactly.
	cats := map[string]int{}
	for _, item := range []string{"illegalActs", "copyrightInfringement", "childAbuse", "illegalDrugs", "drugMisuse", "suicideInducement",
		"cracking", "malware", "driveByDownload", "phishingFraud", "publicProxy", "filterCircumvention", "adultPornography", "fetishism",
		"dating", "gambling", "lottery", "violentGroupsCults", "grotesque"} {
		c, ok := healthcheck.CategoryOf(item)
		if !ok {
			t.Fatalf("item %s unknown", item)
		}
		cats[c]++
	}
	if len(cats) != 6 || cats["illegal"] != 6 || cats["security"] != 6 || cats["adult"] != 2 || cats["dating"] != 1 || cats["gambling"] != 2 || cats["extreme"] != 2 {
		t.Fatalf("categories: %v", cats)
	}
}

func TestSealingTime(t *testing.T) {
	m, _ := billing.ParseMonth("2025-12")
	want := time.Date(2026, 1, 16, 0, 0, 0, 0, calendar.JST())
	if !healthcheck.SealAt(m).Equal(want) || healthcheck.SealedBy(m, want.Add(-time.Nanosecond)) || !healthcheck.SealedBy(m, want) {
		t.Fatalf("seal of 2025-12 at %s", healthcheck.SealAt(m))
	}
	// No record of the month can still be accepted then: the last instant of the month is more
	// than 15 days before the sealing.
	last := time.Date(2026, 1, 1, 0, 0, 0, 0, calendar.JST()).Add(-time.Second)
	if !last.Before(want.Add(-15 * 24 * time.Hour)) {
		t.Fatal("a record of the month could still be accepted at sealing")
	}
}

func TestOffHours(t *testing.T) {
	c := healthcheck.Classifier{Calendar: calendar.New()}
	for at, want := range map[string]report.OffHoursReason{
		"2025-07-21 10:00": report.OffHoursHoliday,   // Marine Day (Monday)
		"2025-07-19 12:00": report.OffHoursHoliday,   // Saturday
		"2026-09-22 03:00": report.OffHoursHoliday,   // citizens' holiday, at night: holiday wins
		"2025-07-18 22:00": report.OffHoursLateNight, // Friday
		"2025-07-18 04:59": report.OffHoursLateNight,
		"2025-07-18 05:00": "",
		"2025-07-18 21:59": "",
		"2025-12-30 10:00": "", // the year-end break is no national holiday
	} {
		tm, _ := time.ParseInLocation("2006-01-02 15:04", at, calendar.JST())
		got, off := c.OffHours(tm)
		if got != want || off != (want != "") {
			t.Errorf("%s: %q %v, want %q", at, got, off, want)
		}
	}
}

func TestSiteOf(t *testing.T) {
	for host, want := range map[string]string{
		"www.foo.co.jp": "foo.co.jp", "shop.foo.co.jp": "foo.co.jp", "www.google.com": "google.com", "192.168.1.10": "192.168.1.10",
		"localhost": "localhost", "co.jp": "co.jp", "a.b.example.org": "example.org", "www3.nhk.or.jp": "nhk.or.jp",
	} {
		if got := healthcheck.SiteOf(host); got != want {
			t.Errorf("%s: %s, want %s", host, got, want)
		}
	}
}

func TestCatalogInForce(t *testing.T) {
	vs := []healthcheck.CatalogVersion{{Number: 1, PublishedAt: time.Date(2025, 6, 30, 14, 59, 0, 0, time.UTC)}, // 06-30 23:59 JST
		{Number: 2, PublishedAt: time.Date(2025, 6, 30, 15, 0, 0, 0, time.UTC)}} // 07-01 00:00 JST
	if v, _ := healthcheck.InForce(vs, calendar.MustDate(2025, 6, 30)); v.Number != 1 {
		t.Fatalf("June 30: version %d", v.Number)
	}
	if v, _ := healthcheck.InForce(vs, calendar.MustDate(2025, 7, 1)); v.Number != 2 {
		t.Fatalf("July 1: version %d", v.Number)
	}
	if _, ok := healthcheck.InForce(vs, calendar.MustDate(2025, 6, 29)); ok {
		t.Fatal("a catalog before its publication")
	}
}
