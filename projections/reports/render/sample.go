package render

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"time"

	"yorozu/domain/calendar"
	"yorozu/domain/report"
)

// SampleCompany is the (fictitious) company of Sample, for Options.CompanyName.
const SampleCompany = "株式会社やまと精機"

// Sample returns a realistic sealed report of a fictitious 24-PC manufacturer for May 2026,
// with every section filled (some past the HTML's row limit): for previews, documentation and
// tests. It is the same on every call. Its summary is worked out from its own rows with simple
// rules of thumb; the real risk rules live with the report's projection.
func Sample() report.Report {
	g := sampleGen{rng: rand.New(rand.NewPCG(2026, 5)), cal: calendar.New()}
	return g.build()
}

type sampleTerminal struct {
	id, host, user, dept string
	os                   report.OSPatch
}

type sampleGen struct {
	rng       *rand.Rand
	cal       *calendar.BusinessCalendar
	terminals []sampleTerminal
}

var sampleMonth = time.Date(2026, time.May, 1, 0, 0, 0, 0, calendar.JST())

func (g *sampleGen) build() report.Report {
	g.makeTerminals()
	sealed := time.Date(2026, time.June, 16, 0, 0, 0, 0, calendar.JST()).UTC()
	r := report.Report{
		CustomerNumber: "N100004721",
		Month:          "2026-05",
		Status:         report.StatusSealed,
		Terminals:      len(g.terminals),
		GeneratedAt:    sealed,
		SealedAt:       &sealed,
	}
	s := &r.Sections
	for _, t := range g.terminals {
		s.OSPatches = append(s.OSPatches, t.os)
	}
	s.Software = g.software()
	var webSeconds int64
	s.WebTop30, webSeconds = g.web()
	s.HarmfulAccess = g.harmful()
	s.OffHours = g.offHours()
	s.ExternalMedia = g.media()
	s.Summary = g.summary(r, webSeconds)
	return r
}

var sampleDepartments = []struct {
	code  string
	count int
}{{"SOUMU", 3}, {"KEIRI", 3}, {"EIGYO", 8}, {"SEIZO", 6}, {"KAIHATSU", 4}}

var sampleUsers = []string{
	"sato.h", "suzuki.m", "takahashi.y", "tanaka.k", "ito.a", "watanabe.s", "yamamoto.t", "nakamura.r",
	"kobayashi.n", "kato.e", "yoshida.j", "yamada.h", "sasaki.m", "yamaguchi.d", "matsumoto.y", "inoue.k",
	"kimura.s", "hayashi.t", "shimizu.a", "yamazaki.r", "mori.k", "abe.y", "ikeda.m", "hashimoto.n",
}

func (g *sampleGen) makeTerminals() {
	n := 0
	for _, d := range sampleDepartments {
		for i := 1; i <= d.count; i++ {
			t := sampleTerminal{
				id:   fmt.Sprintf("01963b5e-2a40-7c%02x-9a1e-5f0c3d%06x", n, 0x10000+n*7919),
				host: fmt.Sprintf("YMT-%s-%02d", d.code, i),
				user: sampleUsers[n],
				dept: d.code,
			}
			t.os = report.OSPatch{TerminalID: t.id, Hostname: t.host}
			switch {
			case n == 4 || n == 11 || n == 17: // three old PCs still on Windows 10
				t.os.Edition, t.os.Version, t.os.Build = "Windows 10 Pro", "22H2", "19045.6093"
				t.os.LatestUpdate = &report.Update{KB: "KB5062554", InstalledOn: "2025-07-09"}
				t.os.Status = report.PatchUnsupported
			case n == 22: // a preview build the catalog does not know
				t.os.Edition, t.os.Version, t.os.Build = "Windows 11 Pro", "25H2", "26200.5074"
				t.os.LatestUpdate = &report.Update{KB: "KB5065789", InstalledOn: "2026-05-20"}
				t.os.Status = report.PatchUnknown
			case n%5 == 1 || n == 13: // behind on updates
				t.os.Edition, t.os.Version, t.os.Build = "Windows 11 Pro", "23H2", "22631.5472"
				t.os.LatestUpdate = &report.Update{KB: "KB5060999", InstalledOn: "2026-03-11"}
				t.os.Status = report.PatchMissingUpdates
			case n%3 == 0:
				t.os.Edition, t.os.Version, t.os.Build = "Windows 11 Pro", "24H2", "26100.6584"
				t.os.LatestUpdate = &report.Update{KB: "KB5066835", InstalledOn: "2026-05-14"}
				t.os.Status = report.PatchUpToDate
			default:
				t.os.Edition, t.os.Version, t.os.Build = "Windows 11 Pro", "23H2", "22631.6060"
				t.os.LatestUpdate = &report.Update{KB: "KB5066793", InstalledOn: "2026-05-15"}
				t.os.Status = report.PatchUpToDate
			}
			g.terminals = append(g.terminals, t)
			n++
		}
	}
}

type sampleApp struct {
	name, publisher, current, old, latest string
	unsupported                           bool   // the catalog says past end of support
	unknown                               bool   // the catalog does not know it
	depts                                 string // departments that have it; "" for all
	oldEvery                              int    // every n-th terminal runs the old version
}

var sampleApps = []sampleApp{
	{name: "Microsoft 365 Apps for business - ja-jp", publisher: "Microsoft Corporation", current: "16.0.18730.20186", latest: "16.0.18730.20186"},
	{name: "Microsoft Edge", publisher: "Microsoft Corporation", current: "136.0.3240.76", latest: "136.0.3240.76"},
	{name: "Google Chrome", publisher: "Google LLC", current: "136.0.7103.114", old: "133.0.6943.142", latest: "136.0.7103.114", oldEvery: 4},
	{name: "Adobe Acrobat Reader (64-bit)", publisher: "Adobe", current: "25.001.20474", old: "24.002.20991", latest: "25.001.20474", oldEvery: 3},
	{name: "7-Zip (x64)", publisher: "Igor Pavlov", current: "24.09", old: "19.00", latest: "24.09", oldEvery: 5},
	{name: "Zoom Workplace", publisher: "Zoom Video Communications, Inc.", current: "6.4.6", old: "5.17.11", latest: "6.4.6", oldEvery: 6, depts: "SOUMU EIGYO KAIHATSU"},
	{name: "Microsoft Teams", publisher: "Microsoft Corporation", current: "25122.1415.3698.6812", latest: "25122.1415.3698.6812"},
	{name: "サクラエディタ", publisher: "サクラエディタ開発チーム", current: "2.4.2.6048", unknown: true, depts: "KAIHATSU SEIZO"},
	{name: "Lhaplus", publisher: "Schezo", current: "1.74", unknown: true, depts: "SOUMU KEIRI EIGYO"},
	{name: "弥生会計 25", publisher: "弥生株式会社", current: "31.0.2", latest: "31.0.2", depts: "KEIRI"},
	{name: "Autodesk AutoCAD LT 2022", publisher: "Autodesk, Inc.", current: "R.47.0.0", latest: "R.49.0.0", depts: "KAIHATSU"},
	{name: "Python 3.8.10 (64-bit)", publisher: "Python Software Foundation", current: "3.8.10", latest: "3.13.3", unsupported: true, depts: "KAIHATSU"},
	{name: "Adobe Flash Player 32 NPAPI", publisher: "Adobe", current: "32.0.0.465", unsupported: true, depts: "SEIZO"},
	{name: "CubePDF", publisher: "CubeSoft, Inc.", current: "4.1.1", old: "1.0.0", latest: "4.1.1", oldEvery: 2, depts: "SOUMU EIGYO"},
}

func (g *sampleGen) software() []report.Software {
	var out []report.Software
	for i, t := range g.terminals {
		for _, a := range sampleApps {
			if a.depts != "" && !containsWord(a.depts, t.dept) {
				continue
			}
			if a.name == "Adobe Flash Player 32 NPAPI" && i%2 == 1 {
				continue
			}
			s := report.Software{TerminalID: t.id, Hostname: t.host, Name: a.name, Version: a.current, Publisher: a.publisher, LatestVersion: a.latest}
			switch {
			case a.unknown:
				s.Status, s.LatestVersion = report.SoftwareUnknown, ""
			case a.unsupported:
				s.Status = report.SoftwareUnsupported
			case a.current != a.latest:
				s.Status = report.SoftwareOutdated
			case a.oldEvery > 0 && i%a.oldEvery == 1:
				s.Version, s.Status = a.old, report.SoftwareOutdated
			default:
				s.Status = report.SoftwareCurrent
			}
			out = append(out, s)
		}
	}
	return out
}

func containsWord(list, w string) bool {
	for i := 0; i+len(w) <= len(list); i++ {
		if list[i:i+len(w)] == w && (i == 0 || list[i-1] == ' ') && (i+len(w) == len(list) || list[i+len(w)] == ' ') {
			return true
		}
	}
	return false
}

var sampleSites = []string{
	"google.com", "cybozu.com", "microsoft.com", "yahoo.co.jp", "salesforce.com", "office.com", "youtube.com",
	"chatwork.com", "zoom.us", "monotaro.com", "misumi-ec.com", "nikkei.com", "amazon.co.jp", "moneyforward.com",
	"192.168.10.5", "freee.co.jp", "smbc.co.jp", "nta.go.jp", "rakuten.co.jp", "e-gov.go.jp", "jma.go.jp",
	"nhk.or.jp", "x.com", "asahi.com", "tabelog.com", "jalan.net", "instagram.com", "mufg.jp", "netflix.com",
	"livedoor.com",
}

func (g *sampleGen) web() ([]report.Site, int64) {
	var sites []report.Site
	seconds := int64(412_000)
	var total int64
	for _, name := range sampleSites {
		count := seconds/95 + int64(g.rng.IntN(300))
		sites = append(sites, report.Site{Site: name, Seconds: seconds, Count: count})
		total += seconds
		seconds = seconds * int64(78+g.rng.IntN(18)) / 100
	}
	// Sites past the TOP 30 still count in the month's total.
	return sites, total + 63_517
}

type harmfulSite struct {
	category, item, host, path string
	weight                     int
}

// The domains are under the reserved .example top-level domain: none of them is a real site.
var sampleHarmfulSites = []harmfulSite{
	{"gambling", "gambling", "online-casino-jp.example", "/slots/play?game=%d", 48},
	{"gambling", "gambling", "keiba-yosou.example", "/race/2026/%d", 22},
	{"gambling", "lottery", "loto-yosou.example", "/loto6/%d", 18},
	{"dating", "dating", "deai-match.example", "/profile/%d", 24},
	{"adult", "adultPornography", "adult-video.example", "/watch/%d", 38},
	{"adult", "fetishism", "fetish-gallery.example", "/g/%d", 5},
	{"security", "phishingFraud", "amaz0n-account-verify.example", "/signin?session=%d", 9},
	{"security", "phishingFraud", "smbc-card-security.example", "/login/%d", 5},
	{"security", "publicProxy", "free-web-proxy.example", "/browse.php?u=%d", 8},
	{"security", "malware", "update-flash-player.example", "/download/setup%d.exe", 4},
	{"security", "driveByDownload", "ad-cdn-tracker.example", "/js/%d.js", 2},
	{"illegal", "copyrightInfringement", "manga-free-dl.example", "/title/%d", 18},
	{"illegal", "illegalDrugs", "herb-shop.example", "/item/%d", 2},
	{"extreme", "grotesque", "shock-video.example", "/v/%d", 7},
}

func (g *sampleGen) harmful() []report.HarmfulAccess {
	// Most of it comes from a few terminals, as it does in real companies.
	heavy := []int{6, 8, 9, 15, 20}
	occasional := []int{2, 12, 19, 23}
	var out []report.HarmfulAccess
	for _, s := range sampleHarmfulSites {
		for range s.weight {
			var t sampleTerminal
			if g.rng.IntN(10) < 9 {
				t = g.terminals[heavy[g.rng.IntN(len(heavy))]]
			} else {
				t = g.terminals[occasional[g.rng.IntN(len(occasional))]]
			}
			at := g.workingTime()
			out = append(out, report.HarmfulAccess{
				TerminalID: t.id, Hostname: t.host, At: at,
				URL:      "https://" + s.host + fmt.Sprintf(s.path, 1000+g.rng.IntN(9000)),
				Category: s.category, Item: s.item,
			})
		}
	}
	slices.SortFunc(out, func(a, b report.HarmfulAccess) int { return a.At.Compare(b.At) })
	return out
}

// workingTime is a random instant of a business day of the month, in working hours.
func (g *sampleGen) workingTime() time.Time {
	for {
		day := sampleMonth.AddDate(0, 0, g.rng.IntN(31))
		if !g.cal.IsBusinessDay(calendar.DateOf(day)) {
			continue
		}
		return day.Add(time.Duration(9*3600+g.rng.IntN(9*3600)) * time.Second).UTC()
	}
}

func (g *sampleGen) offHours() []report.OffHours {
	var out []report.OffHours
	add := func(t sampleTerminal, at time.Time) {
		// The reason is the instant's own: past midnight into a Saturday is a holiday.
		reason := report.OffHoursLateNight
		if g.holiday(at) {
			reason = report.OffHoursHoliday
		}
		out = append(out,
			report.OffHours{TerminalID: t.id, Hostname: t.host, At: at.UTC(), Type: "boot", Reason: reason},
			report.OffHours{TerminalID: t.id, Hostname: t.host, User: t.user, At: at.Add(41 * time.Second).UTC(), Type: "logon", Reason: reason})
	}
	for d := range 31 {
		day := sampleMonth.AddDate(0, 0, d)
		holiday := g.holiday(day)
		for i, t := range g.terminals {
			switch {
			case holiday && (t.dept == "EIGYO" || t.dept == "KAIHATSU") && g.rng.IntN(4) == 0:
				add(t, day.Add(time.Duration(9*3600+g.rng.IntN(8*3600))*time.Second))
			case holiday && i == 0 && d%3 == 0: // a file server kept running, rebooted by updates
				add(t, day.Add(time.Duration(3*3600+g.rng.IntN(3600))*time.Second))
			case !holiday && (t.dept == "EIGYO" || t.dept == "KAIHATSU") && g.rng.IntN(9) == 0:
				add(t, day.Add(time.Duration(22*3600+g.rng.IntN(3*3600))*time.Second))
			case !holiday && t.dept == "SEIZO" && g.rng.IntN(12) == 0: // the early shift
				add(t, day.Add(time.Duration(4*3600+g.rng.IntN(55*60))*time.Second))
			}
		}
	}
	slices.SortFunc(out, func(a, b report.OffHours) int { return a.At.Compare(b.At) })
	return out
}

func (g *sampleGen) holiday(at time.Time) bool {
	d := calendar.DateOf(at)
	_, ok := g.cal.IsHoliday(d)
	return ok || d.Weekday() == time.Saturday || d.Weekday() == time.Sunday
}

var sampleDevices = []struct {
	class, name, vendor string
}{
	{"usbStorage", "BUFFALO RUF3-K32GA USB Device", "BUFFALO"},
	{"usbStorage", "I-O DATA U3-STD16G USB Device", "I-O DATA"},
	{"usbStorage", "SanDisk Ultra Flair USB Device", "SanDisk"},
	{"externalHdd", "BUFFALO HD-PCG1.0U3-BBA USB Device", "BUFFALO"},
	{"externalHdd", "ELECOM ELD-FTV020UBK USB Device", "ELECOM"},
	{"optical", "HL-DT-ST DVDRAM GP57EB40", "Hitachi-LG Data Storage"},
	{"appleMobile", "Apple iPhone", "Apple Inc."},
	{"appleMobile", "Apple iPad", "Apple Inc."},
}

func (g *sampleGen) media() []report.ExternalMedia {
	var out []report.ExternalMedia
	users := []int{0, 3, 5, 7, 10, 13, 16, 18, 21}
	for i := range 46 {
		t := g.terminals[users[(i*5+g.rng.IntN(3))%len(users)]]
		d := sampleDevices[g.rng.IntN(len(sampleDevices))]
		serial := fmt.Sprintf("%08X%04X", g.rng.Uint32(), i)
		if d.class == "optical" {
			serial = ""
		}
		out = append(out, report.ExternalMedia{
			TerminalID: t.id, Hostname: t.host, At: g.workingTime(),
			Class: d.class, Name: d.name, Vendor: d.vendor, Serial: serial,
		})
	}
	slices.SortFunc(out, func(a, b report.ExternalMedia) int { return a.At.Compare(b.At) })
	return out
}

func (g *sampleGen) summary(r report.Report, webSeconds int64) report.Summary {
	s := r.Sections
	c := report.Counts{
		OSPatches:     map[report.PatchStatus]int{},
		Software:      map[report.SoftwareStatus]int{},
		Sites:         len(s.WebTop30) + 117,
		WebSeconds:    webSeconds,
		HarmfulAccess: len(s.HarmfulAccess),
		OffHours:      len(s.OffHours),
		ExternalMedia: len(s.ExternalMedia),
	}
	findings := map[string][]string{}
	harmful := map[string]int{}
	unsupportedSoftware := map[string]bool{}
	note := func(id, code string) {
		if !slices.Contains(findings[id], code) {
			findings[id] = append(findings[id], code)
		}
	}
	for _, p := range s.OSPatches {
		c.OSPatches[p.Status]++
		switch p.Status {
		case report.PatchUnsupported:
			note(p.TerminalID, "osUnsupported")
		case report.PatchMissingUpdates:
			note(p.TerminalID, "missingUpdates")
		}
	}
	for _, a := range s.Software {
		c.Software[a.Status]++
		if a.Status == report.SoftwareOutdated || a.Status == report.SoftwareUnsupported {
			note(a.TerminalID, "outdatedSoftware")
		}
		if a.Status == report.SoftwareUnsupported {
			unsupportedSoftware[a.TerminalID] = true
		}
	}
	for _, a := range s.HarmfulAccess {
		note(a.TerminalID, "harmfulAccess")
		harmful[a.TerminalID]++
	}
	for _, m := range s.ExternalMedia {
		note(m.TerminalID, "externalMedia")
	}
	for _, o := range s.OffHours {
		note(o.TerminalID, "offHours")
	}

	sum := report.Summary{Counts: c, RiskLevel: report.RiskLow}
	byFinding := map[string][]string{}
	for _, t := range g.terminals {
		f := findings[t.id]
		level := report.RiskLow
		switch {
		case slices.Contains(f, "osUnsupported") || harmful[t.id] >= 20:
			level = report.RiskHigh
		case slices.Contains(f, "missingUpdates") || harmful[t.id] > 0 || unsupportedSoftware[t.id]:
			level = report.RiskMedium
		}
		if riskRank(level) < riskRank(sum.RiskLevel) {
			sum.RiskLevel = level
		}
		if f == nil {
			f = []string{}
		}
		sum.Terminals = append(sum.Terminals, report.TerminalRisk{TerminalID: t.id, Hostname: t.host, RiskLevel: level, Findings: f})
		for _, code := range f {
			byFinding[code] = append(byFinding[code], t.id)
		}
	}
	recs := []report.Recommendation{
		{Code: "osUnsupported", Title: "サポートが終了した Windows 10 の端末を更新してください",
			Detail: "Windows 10 はサポートが終了しており、セキュリティ更新プログラムが提供されません。Windows 11 へのアップグレード、または端末の入れ替えをご検討ください。"},
		{Code: "missingUpdates", Title: "Windows Update を適用してください",
			Detail: "最新の累積更新プログラムが適用されていない端末があります。再起動を含めて Windows Update を完了させてください。"},
		{Code: "harmfulAccess", Title: "有害サイトへのアクセスを防ぐ対策をご検討ください",
			Detail: "フィッシング詐欺やマルウェア配布の疑いがあるサイトへのアクセスが見られます。Webフィルタリング（有償オプション）の有効化と、社員の皆さまへの注意喚起をおすすめします。"},
		{Code: "outdatedSoftware", Title: "古いバージョンのソフトウェアを更新してください",
			Detail: "サポートが終了したソフトウェアや、新しいバージョンが公開されているソフトウェアがあります。不要なものはアンインストールし、必要なものは最新版に更新してください。"},
		{Code: "externalMedia", Title: "USBメモリなど外部記憶媒体の利用ルールをご確認ください",
			Detail: "外部記憶媒体の接続が記録されています。情報の持ち出しにつながるおそれがあるため、社内の利用ルールに沿った利用かどうかをご確認ください。"},
		{Code: "offHours", Title: "休日・深夜の端末利用をご確認ください",
			Detail: "休日や深夜の起動・ログオンがあります。業務上必要な利用かどうか、勤怠の記録と照らし合わせてご確認ください。"},
	}
	for _, rec := range recs {
		if ids := byFinding[rec.Code]; len(ids) > 0 {
			rec.Terminals = ids
			sum.Recommendations = append(sum.Recommendations, rec)
		}
	}
	return sum
}
