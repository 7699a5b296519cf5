package render_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/html"

	"yorozu/domain/report"
	"yorozu/projections/reports/render"
)

var sectionIDs = []string{"summary", "os-patches", "software", "web-top30", "harmful-access", "off-hours", "external-media"}

func TestHTMLHasEverySectionInOrder(t *testing.T) {
	p := renderPage(t, smallReport(), render.Options{CompanyName: "株式会社テスト商事"})

	var ids []string
	for _, s := range p.all(p.doc, "section") {
		ids = append(ids, attr(s, "id"))
	}
	if strings.Join(ids, ",") != strings.Join(sectionIDs, ",") {
		t.Errorf("sections %v, want %v (summary first)", ids, sectionIDs)
	}
	wantHeadings := []string{"まとめ", "1 OS・パッチ状況", "2 ソフトウェア", "3 Webサイト閲覧 TOP30", "4 有害カテゴリへのアクセス", "5 時間外利用", "6 外部メディア"}
	var headings []string
	for _, h := range p.all(p.doc, "h2") {
		headings = append(headings, text(h))
	}
	if strings.Join(headings, "|") != strings.Join(wantHeadings, "|") {
		t.Errorf("headings %q, want %q", headings, wantHeadings)
	}

	cover := text(p.section("summary"))
	for _, want := range []string{
		"セキュリティヘルスチェックレポート", "株式会社テスト商事 御中", "お客様番号 N123456789",
		"対象期間 2026年5月1日〜2026年5月31日", "確定", "確定日: 2026年6月16日",
		"総合リスク評価 高", "端末数 3 台", "OS更新が必要な端末 2 台", "サポート終了OS 1 台",
		"閲覧サイト数 17 サイト", "総閲覧時間 14時間26分", "有害カテゴリへのアクセス 2 件",
		"時間外利用 2 件", "外部メディアの接続 1 件", "推奨対策",
		"サポートが終了した OS を更新してください", "Windows 10 のサポートは終了しています。", "対象端末: KEIRI-PC03",
		"Webフィルタリングをご検討ください", "端末別リスク評価",
	} {
		if !strings.Contains(cover, want) {
			t.Errorf("summary page lacks %q", want)
		}
	}
	if strings.Contains(p.raw, "速報") {
		t.Error("a sealed report is marked provisional")
	}
	if !p.hasRow("summary", "KEIRI-PC03", "高", "サポート終了OS、有害カテゴリへのアクセス") ||
		!p.hasRow("summary", "EIGYO-PC02", "中", "更新プログラム未適用、有害カテゴリへのアクセス、時間外利用") ||
		!p.hasRow("summary", "SOUMU-PC01", "低", "外部メディアの接続") {
		t.Errorf("terminal risks: %q", p.rows("summary"))
	}
	if first := p.rows("summary")[0][0]; first != "KEIRI-PC03" {
		t.Errorf("terminal risks start with %s, want the high-risk terminal first", first)
	}
}

func TestHTMLShowsEveryRowOfASmallReport(t *testing.T) {
	p := renderPage(t, smallReport(), render.Options{})

	for _, want := range [][]string{
		{"KEIRI-PC03", "Windows 10 Pro", "22H2", "19045.5000", "—", "サポート終了"},
		{"EIGYO-PC02", "Windows 11 Home", "22H2", "22621.3000", "KB5034123（2026-01-10）", "更新プログラム未適用"},
		{"SOUMU-PC01", "Windows 11 Pro", "23H2", "22631.4460", "KB5046633（2026-05-14）", "最新"},
	} {
		if !p.hasRow("os-patches", want...) {
			t.Errorf("OS section lacks row %q; rows %q", want, p.rows("os-patches"))
		}
	}
	// The worst state first.
	if got := p.rows("os-patches")[0][0]; got != "KEIRI-PC03" {
		t.Errorf("OS table starts with %s, want the unsupported terminal", got)
	}

	for _, want := range [][]string{
		{"KEIRI-PC03", "Python 3.8.10", "3.8.10", "3.13.3", "サポート終了"},
		{"EIGYO-PC02", "Adobe Acrobat Reader", "24.002.20991", "25.001.20474", "更新あり"},
		{"Google Chrome", "136.0.7103.114", "Google LLC", "1", "最新"},
		{"サクラエディタ", "2.4.2", "—", "1", "不明"},
	} {
		if !p.hasRow("software", want...) {
			t.Errorf("software section lacks row %q; rows %q", want, p.rows("software"))
		}
	}

	for _, want := range [][]string{
		{"1", "cybozu.com", "12時間34分", "87.1%", "812"},
		{"2", "yahoo.co.jp", "1時間02分", "7.2%", "95"},
		{"3", "192.168.1.20", "59秒", "0.1%", "3"},
	} {
		if !p.hasRow("web-top30", want...) {
			t.Errorf("web section lacks row %q; rows %q", want, p.rows("web-top30"))
		}
	}

	// Times are shown in JST: 14:14:05Z on May 3rd is 23:14:05 on Sunday May 3rd.
	for _, want := range [][]string{
		{"5/3(日) 23:14:05", "EIGYO-PC02", "ギャンブル", "宝くじ・スポーツくじ", "https://loto-yosou.example/loto6/1"},
		{"5/12(火) 10:02:03", "KEIRI-PC03", "セキュリティ", "フィッシング詐欺・ワンクリック詐欺", "https://amaz0n-verify.example/signin"},
		{"ギャンブル", "宝くじ・スポーツくじ", "1", "1"},
		{"セキュリティ", "フィッシング詐欺・ワンクリック詐欺", "1", "1"},
	} {
		if !p.hasRow("harmful-access", want...) {
			t.Errorf("harmful section lacks row %q; rows %q", want, p.rows("harmful-access"))
		}
	}
	legend := text(p.section("harmful-access"))
	for _, c := range []string{"不法", "セキュリティ", "アダルト・フェティシズム", "出会い", "ギャンブル", "過激な表現"} {
		if !strings.Contains(legend, c) {
			t.Errorf("harmful section does not name category %s", c)
		}
	}

	for _, want := range [][]string{
		{"5/2(土) 10:30:00", "EIGYO-PC02", "—", "起動", "休日"},
		{"5/12(火) 23:05:00", "EIGYO-PC02", "tanaka.k", "ログオン", "深夜"},
		{"EIGYO-PC02", "1", "1", "2"},
	} {
		if !p.hasRow("off-hours", want...) {
			t.Errorf("off-hours section lacks row %q; rows %q", want, p.rows("off-hours"))
		}
	}

	for _, want := range [][]string{
		{"5/20(水) 11:00:00", "SOUMU-PC01", "USBストレージ", "BUFFALO RUF3-K32GA USB Device", "BUFFALO", "0123456789AB"},
		{"USBストレージ", "1", "1"},
	} {
		if !p.hasRow("external-media", want...) {
			t.Errorf("media section lacks row %q; rows %q", want, p.rows("external-media"))
		}
	}

	// One chart per charted section, drawn as inline SVG.
	for id, want := range map[string]int{"summary": 0, "os-patches": 1, "software": 0, "web-top30": 1, "harmful-access": 1, "off-hours": 1, "external-media": 0} {
		if got := len(p.all(p.section(id), "svg")); got != want {
			t.Errorf("section %s has %d charts, want %d", id, got, want)
		}
	}
}

func TestHTMLMarksProvisionalReports(t *testing.T) {
	r := smallReport()
	r.Status, r.SealedAt = report.StatusProvisional, nil
	p := renderPage(t, r, render.Options{})
	cover := text(p.section("summary"))
	if !strings.Contains(cover, "速報（確定前）") || !strings.Contains(cover, "確定前の速報です") {
		t.Errorf("provisional report is not marked 速報（確定前）: %s", cover[:200])
	}
	if strings.Contains(cover, "確定日") {
		t.Error("a provisional report shows a sealing date")
	}
	// The mark is on every printed page too (the page footer).
	if !strings.Contains(p.raw, "（速報（確定前））") {
		t.Error("the page footer does not carry the provisional mark")
	}
}

func TestHTMLSaysWhenSectionsAreEmpty(t *testing.T) {
	r := report.Report{CustomerNumber: "N000000001", Month: "2026-02", Status: report.StatusProvisional, GeneratedAt: time.Date(2026, 2, 10, 3, 0, 0, 0, time.UTC)}
	p := renderPage(t, r, render.Options{})
	for _, id := range sectionIDs[1:] {
		s := p.section(id)
		if !strings.Contains(text(s), "該当なし") {
			t.Errorf("empty section %s does not say 該当なし: %s", id, text(s))
		}
		if n := len(p.all(s, "table")) + len(p.all(s, "svg")); n != 0 {
			t.Errorf("empty section %s has %d tables or charts", id, n)
		}
	}
	cover := text(p.section("summary"))
	for _, want := range []string{"対象期間 2026年2月1日〜2026年2月28日", "推奨対策 該当なし", "端末別リスク評価 該当なし"} {
		if !strings.Contains(cover, want) {
			t.Errorf("empty summary lacks %q", want)
		}
	}
}

func TestHTMLCutsLargeSectionsAndPointsToTheCSV(t *testing.T) {
	r := smallReport()
	base := time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC)
	r.Sections.HarmfulAccess = nil
	for i := range 5000 {
		r.Sections.HarmfulAccess = append(r.Sections.HarmfulAccess, report.HarmfulAccess{
			TerminalID: "t-2", Hostname: "EIGYO-PC02", At: base.Add(time.Duration(i) * time.Minute),
			URL: fmt.Sprintf("https://online-casino.example/%d", i), Category: "gambling", Item: "gambling",
		})
	}
	r.Sections.OffHours = nil
	for i := range 3000 {
		r.Sections.OffHours = append(r.Sections.OffHours, report.OffHours{
			TerminalID: "t-2", Hostname: "EIGYO-PC02", At: base.Add(time.Duration(i) * 10 * time.Minute), Type: "logon", Reason: report.OffHoursLateNight,
		})
	}

	p := renderPage(t, r, render.Options{})
	detail := len(p.rows("harmful-access")) - 2 // less the item and terminal tables
	if detail != 100 {
		t.Errorf("harmful detail shows %d rows, want the first 100", detail)
	}
	for id, want := range map[string]string{
		"harmful-access": "全 5,000 件のうち先頭 100 件を表示しています（残り 4,900 件）。全件は CSV（harmfulAccess）でご確認ください。",
		"off-hours":      "全 3,000 件のうち先頭 100 件を表示しています（残り 2,900 件）。全件は CSV（offHours）でご確認ください。",
	} {
		if !strings.Contains(text(p.section(id)), want) {
			t.Errorf("section %s does not say %q", id, want)
		}
	}
	// The summary counts all of them; the first rows are the earliest.
	if !p.hasRow("harmful-access", "ギャンブル", "ギャンブル", "5,000", "1") {
		t.Error("the item table does not count all 5,000 accesses")
	}
	if !p.hasRow("harmful-access", "5/1(金) 09:00:00", "EIGYO-PC02", "ギャンブル", "ギャンブル", "https://online-casino.example/0") {
		t.Error("the detail does not start with the earliest access")
	}

	p = renderPage(t, r, render.Options{MaxRows: 20, CSVHref: func(section string) string { return "2026-05/" + section + ".csv" }})
	if detail := len(p.rows("harmful-access")) - 2; detail != 20 {
		t.Errorf("with MaxRows 20 the detail shows %d rows", detail)
	}
	var links []string
	for _, a := range p.all(p.section("harmful-access"), "a") {
		links = append(links, attr(a, "href"))
	}
	if len(links) != 1 || links[0] != "2026-05/harmfulAccess.csv" {
		t.Errorf("links to the CSV %q, want [2026-05/harmfulAccess.csv]", links)
	}
}

// Everything that comes from the data is text, never markup, in the HTML and in the charts.
func TestHTMLEscapesHostileData(t *testing.T) {
	const hostile = `<script>alert("x")</script><img src=x onerror=alert(1)>`
	r := smallReport()
	s := &r.Sections
	s.OSPatches[0].Hostname = hostile
	s.OSPatches[1].Edition = hostile
	s.Software[0].Name = hostile
	s.WebTop30[0].Site = hostile // also a label of the chart
	s.HarmfulAccess[0].URL = "javascript:alert(1)//" + hostile
	s.HarmfulAccess[1].Category = `x" onmouseover="alert(1)` // an unknown category: shown as it is
	s.HarmfulAccess[1].Item = hostile
	s.OffHours[0].User = hostile
	s.ExternalMedia[0].Name = hostile
	s.Summary.Terminals[0].Findings = []string{hostile}
	s.Summary.Recommendations[0].Title = hostile
	s.Summary.Recommendations[0].Detail = hostile
	r.CustomerNumber = `N1"; } body { display: none } /*`

	p := renderPage(t, r, render.Options{CompanyName: hostile, CSVHref: func(string) string { return "javascript:alert(1)" }})
	if strings.Contains(p.raw, "<script") || strings.Contains(p.raw, "<img") {
		t.Error("hostile markup reached the document unescaped")
	}
	walk(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		switch n.Data {
		case "script", "img", "iframe", "object":
			t.Errorf("the document has a <%s> element", n.Data)
		}
		for _, a := range n.Attr {
			if strings.HasPrefix(a.Key, "on") {
				t.Errorf("<%s> has an event handler %s=%q", n.Data, a.Key, a.Val)
			}
			if a.Key == "href" && strings.HasPrefix(strings.ToLower(a.Val), "javascript:") {
				t.Errorf("<%s> links to %q", n.Data, a.Val)
			}
		}
	})
	// The hostile texts are shown, as text.
	all := text(p.doc)
	if n := strings.Count(all, hostile); n < 10 {
		t.Errorf("the hostile text is shown %d times, want it everywhere it was put", n)
	}
	if !strings.Contains(all, `x" onmouseover="alert(1)`) {
		t.Error("an unknown category is not shown as it is")
	}
	// The customer number is escaped wherever it goes, in the CSS page footer too.
	if strings.Contains(p.raw, `N1"`) {
		t.Error("the customer number's quote reached the document unescaped")
	}
}

func TestHTMLIsSelfContainedAndPrintable(t *testing.T) {
	p := renderPage(t, render.Sample(), render.Options{CompanyName: render.SampleCompany})
	walk(p.doc, func(n *html.Node) {
		if n.Type != html.ElementNode {
			return
		}
		if n.Data == "script" {
			t.Error("the report has a script: it must work without JavaScript")
		}
		for _, key := range []string{"src", "href"} {
			if v := attr(n, key); v != "" && !strings.HasPrefix(v, "data:") {
				t.Errorf("<%s %s=%q> loads something from outside", n.Data, key, v)
			}
		}
	})
	if strings.Contains(p.raw, "@import") || strings.Contains(p.raw, "url(") {
		t.Error("the style loads something from outside")
	}
	var style strings.Builder
	for _, s := range p.all(p.doc, "style") {
		style.WriteString(text(s))
	}
	css := style.String()
	for _, want := range []string{
		"@page", "size: A4", `"Noto Sans CJK JP", "IPAexGothic"`, "sans-serif",
		"break-before: page", "break-inside: avoid", "display: table-header-group",
	} {
		if !strings.Contains(css, want) {
			t.Errorf("the style lacks %q", want)
		}
	}
	if got := len(p.all(p.doc, "svg")); got != 4 {
		t.Errorf("the sample report has %d charts, want 4", got)
	}
	if lang := attr(p.all(p.doc, "html")[0], "lang"); lang != "ja" {
		t.Errorf("html lang=%q, want ja", lang)
	}
}
