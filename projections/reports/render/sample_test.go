package render_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"

	"yorozu/domain/report"
	"yorozu/projections/reports/render"
)

// smallReport is a report with a few rows in every section, each row recognisable.
func smallReport() report.Report {
	at := func(s string) time.Time {
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			panic(err)
		}
		return t
	}
	sealed := at("2026-06-15T15:00:00Z") // 2026-06-16 00:00 JST
	return report.Report{
		CustomerNumber: "N123456789",
		Month:          "2026-05",
		Status:         report.StatusSealed,
		Terminals:      3,
		GeneratedAt:    sealed,
		SealedAt:       &sealed,
		Sections: report.Sections{
			OSPatches: []report.OSPatch{
				{TerminalID: "t-1", Hostname: "SOUMU-PC01", Edition: "Windows 11 Pro", Version: "23H2", Build: "22631.4460",
					LatestUpdate: &report.Update{KB: "KB5046633", InstalledOn: "2026-05-14"}, Status: report.PatchUpToDate},
				{TerminalID: "t-2", Hostname: "EIGYO-PC02", Edition: "Windows 11 Home", Version: "22H2", Build: "22621.3000",
					LatestUpdate: &report.Update{KB: "KB5034123", InstalledOn: "2026-01-10"}, Status: report.PatchMissingUpdates},
				{TerminalID: "t-3", Hostname: "KEIRI-PC03", Edition: "Windows 10 Pro", Version: "22H2", Build: "19045.5000",
					Status: report.PatchUnsupported},
			},
			Software: []report.Software{
				{TerminalID: "t-1", Hostname: "SOUMU-PC01", Name: "Google Chrome", Version: "136.0.7103.114", Publisher: "Google LLC", Status: report.SoftwareCurrent, LatestVersion: "136.0.7103.114"},
				{TerminalID: "t-2", Hostname: "EIGYO-PC02", Name: "Adobe Acrobat Reader", Version: "24.002.20991", Publisher: "Adobe", Status: report.SoftwareOutdated, LatestVersion: "25.001.20474"},
				{TerminalID: "t-3", Hostname: "KEIRI-PC03", Name: "Python 3.8.10", Version: "3.8.10", Status: report.SoftwareUnsupported, LatestVersion: "3.13.3"},
				{TerminalID: "t-3", Hostname: "KEIRI-PC03", Name: "サクラエディタ", Version: "2.4.2", Status: report.SoftwareUnknown},
			},
			WebTop30: []report.Site{
				{Site: "cybozu.com", Seconds: 45_296, Count: 812},
				{Site: "yahoo.co.jp", Seconds: 3_725, Count: 95},
				{Site: "192.168.1.20", Seconds: 59, Count: 3},
			},
			HarmfulAccess: []report.HarmfulAccess{
				{TerminalID: "t-2", Hostname: "EIGYO-PC02", At: at("2026-05-03T14:14:05Z"), URL: "https://loto-yosou.example/loto6/1", Category: "gambling", Item: "lottery"},
				{TerminalID: "t-3", Hostname: "KEIRI-PC03", At: at("2026-05-12T01:02:03Z"), URL: "https://amaz0n-verify.example/signin", Category: "security", Item: "phishingFraud"},
			},
			OffHours: []report.OffHours{
				{TerminalID: "t-2", Hostname: "EIGYO-PC02", At: at("2026-05-02T01:30:00Z"), Type: "boot", Reason: report.OffHoursHoliday},
				{TerminalID: "t-2", Hostname: "EIGYO-PC02", User: "tanaka.k", At: at("2026-05-12T14:05:00Z"), Type: "logon", Reason: report.OffHoursLateNight},
			},
			ExternalMedia: []report.ExternalMedia{
				{TerminalID: "t-1", Hostname: "SOUMU-PC01", At: at("2026-05-20T02:00:00Z"), Class: "usbStorage", Name: "BUFFALO RUF3-K32GA USB Device", Vendor: "BUFFALO", Serial: "0123456789AB"},
			},
			Summary: report.Summary{
				Counts: report.Counts{
					OSPatches:     map[report.PatchStatus]int{report.PatchUpToDate: 1, report.PatchMissingUpdates: 1, report.PatchUnsupported: 1},
					Software:      map[report.SoftwareStatus]int{report.SoftwareCurrent: 1, report.SoftwareOutdated: 1, report.SoftwareUnsupported: 1, report.SoftwareUnknown: 1},
					Sites:         17,
					WebSeconds:    52_000,
					HarmfulAccess: 2,
					OffHours:      2,
					ExternalMedia: 1,
				},
				RiskLevel: report.RiskHigh,
				Terminals: []report.TerminalRisk{
					{TerminalID: "t-1", Hostname: "SOUMU-PC01", RiskLevel: report.RiskLow, Findings: []string{"externalMedia"}},
					{TerminalID: "t-2", Hostname: "EIGYO-PC02", RiskLevel: report.RiskMedium, Findings: []string{"missingUpdates", "harmfulAccess", "offHours"}},
					{TerminalID: "t-3", Hostname: "KEIRI-PC03", RiskLevel: report.RiskHigh, Findings: []string{"osUnsupported", "harmfulAccess"}},
				},
				Recommendations: []report.Recommendation{
					{Code: "osUnsupported", Title: "サポートが終了した OS を更新してください", Detail: "Windows 10 のサポートは終了しています。", Terminals: []string{"t-3"}},
					{Code: "webFiltering", Title: "Webフィルタリングをご検討ください", Detail: "有害サイトへのアクセスがありました。"},
				},
			},
		},
	}
}

// page is a parsed HTML report.
type page struct {
	t   *testing.T
	doc *html.Node
	raw string
}

func renderPage(t *testing.T, r report.Report, opts render.Options) page {
	t.Helper()
	var buf bytes.Buffer
	if err := render.HTML(&buf, r, opts); err != nil {
		t.Fatalf("HTML: %v", err)
	}
	doc, err := html.Parse(strings.NewReader(buf.String()))
	if err != nil {
		t.Fatalf("the report does not parse as HTML: %v", err)
	}
	return page{t: t, doc: doc, raw: buf.String()}
}

func walk(n *html.Node, fn func(*html.Node)) {
	fn(n)
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		walk(c, fn)
	}
}

func attr(n *html.Node, name string) string {
	for _, a := range n.Attr {
		if a.Key == name {
			return a.Val
		}
	}
	return ""
}

// text is the text of a node, its pieces joined by single spaces.
func text(n *html.Node) string {
	var parts []string
	walk(n, func(c *html.Node) {
		if c.Type == html.TextNode {
			parts = append(parts, c.Data)
		}
	})
	return strings.Join(strings.Fields(strings.Join(parts, " ")), " ")
}

func (p page) all(root *html.Node, tag string) []*html.Node {
	var out []*html.Node
	walk(root, func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == tag {
			out = append(out, n)
		}
	})
	return out
}

// section is the <section> of the given id.
func (p page) section(id string) *html.Node {
	p.t.Helper()
	for _, s := range p.all(p.doc, "section") {
		if attr(s, "id") == id {
			return s
		}
	}
	p.t.Fatalf("no section %q in the report", id)
	return nil
}

// rows are the body rows of the data tables of a section, as cell texts.
func (p page) rows(id string) [][]string {
	var out [][]string
	for _, tb := range p.all(p.section(id), "table") {
		if !strings.Contains(attr(tb, "class"), "data") {
			continue
		}
		for _, body := range p.all(tb, "tbody") {
			for _, tr := range p.all(body, "tr") {
				var cells []string
				for _, td := range p.all(tr, "td") {
					cells = append(cells, text(td))
				}
				out = append(out, cells)
			}
		}
	}
	return out
}

func (p page) hasRow(id string, want ...string) bool {
	for _, row := range p.rows(id) {
		if cmp.Equal(row, want) {
			return true
		}
	}
	return false
}

func TestSampleIsStableAndConsistent(t *testing.T) {
	a, b := render.Sample(), render.Sample()
	if diff := cmp.Diff(a, b); diff != "" {
		t.Fatalf("Sample differs between calls (-first +second):\n%s", diff)
	}
	s := a.Sections
	if a.Terminals != len(s.OSPatches) || len(s.Summary.Terminals) != a.Terminals {
		t.Errorf("terminals: report %d, OS rows %d, summary %d", a.Terminals, len(s.OSPatches), len(s.Summary.Terminals))
	}
	c := s.Summary.Counts
	if c.HarmfulAccess != len(s.HarmfulAccess) || c.OffHours != len(s.OffHours) || c.ExternalMedia != len(s.ExternalMedia) {
		t.Errorf("summary counts %+v do not match the sections' rows", c)
	}
	if len(s.WebTop30) != 30 || len(s.Software) == 0 || len(s.Summary.Recommendations) == 0 {
		t.Errorf("sample is not filled: %d sites, %d applications, %d recommendations", len(s.WebTop30), len(s.Software), len(s.Summary.Recommendations))
	}
	for _, o := range s.OffHours {
		jst := o.At.In(time.FixedZone("JST", 9*3600))
		weekend := jst.Weekday() == time.Saturday || jst.Weekday() == time.Sunday
		if weekend && o.Reason != report.OffHoursHoliday {
			t.Errorf("sample off-hours at %s (a weekend) has reason %s", jst, o.Reason)
		}
	}
}
