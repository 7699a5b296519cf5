package render_test

import (
	"bytes"
	"encoding/csv"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"yorozu/domain/report"
	"yorozu/projections/reports/render"
)

// The CSV header rows are a contract with customers' spreadsheets: written out here in full.
var csvHeaders = map[string][]string{
	"osPatches":     {"端末ID", "ホスト名", "エディション", "バージョン", "ビルド", "最新の更新プログラム", "更新プログラム適用日", "状態", "状態コード"},
	"software":      {"端末ID", "ホスト名", "ソフトウェア", "バージョン", "発行元", "最新バージョン", "状態", "状態コード"},
	"webTop30":      {"順位", "サイト", "閲覧時間（秒）", "閲覧時間", "アクセス数"},
	"harmfulAccess": {"日時", "端末ID", "ホスト名", "カテゴリ", "カテゴリコード", "項目", "項目コード", "URL"},
	"offHours":      {"日時", "曜日", "端末ID", "ホスト名", "ユーザー", "種別", "種別コード", "理由", "理由コード"},
	"externalMedia": {"日時", "端末ID", "ホスト名", "種別", "種別コード", "名称", "ベンダー", "シリアル"},
	"summary":       {"区分", "項目", "値", "備考"},
}

// readCSV checks the byte order mark and the line ends, and parses the rest.
func readCSV(t *testing.T, data []byte) [][]string {
	t.Helper()
	if !bytes.HasPrefix(data, []byte("\xEF\xBB\xBF")) {
		t.Fatalf("CSV does not start with the UTF-8 byte order mark: % x", data[:min(len(data), 8)])
	}
	body := data[3:]
	if bytes.Count(body, []byte("\n")) != bytes.Count(body, []byte("\r\n")) {
		t.Error("CSV lines do not all end with CRLF")
	}
	records, err := csv.NewReader(bytes.NewReader(body)).ReadAll()
	if err != nil {
		t.Fatalf("CSV does not parse: %v", err)
	}
	return records
}

func writeCSV(t *testing.T, r report.Report, section string) [][]string {
	t.Helper()
	var buf bytes.Buffer
	if err := render.CSV(&buf, r, section); err != nil {
		t.Fatalf("CSV(%s): %v", section, err)
	}
	return readCSV(t, buf.Bytes())
}

func TestCSVEverySectionHasItsHeaderAndRows(t *testing.T) {
	r := smallReport()
	if !cmp.Equal(render.Sections(), []string{"osPatches", "software", "webTop30", "harmfulAccess", "offHours", "externalMedia", "summary"}) {
		t.Fatalf("Sections() = %v", render.Sections())
	}
	wantRows := map[string]int{
		"osPatches": 3, "software": 4, "webTop30": 3, "harmfulAccess": 2, "offHours": 2, "externalMedia": 1,
	}
	for _, section := range render.Sections() {
		t.Run(section, func(t *testing.T) {
			records := writeCSV(t, r, section)
			if diff := cmp.Diff(csvHeaders[section], records[0]); diff != "" {
				t.Errorf("header (-want +got):\n%s", diff)
			}
			if h, err := render.CSVHeader(section); err != nil || !cmp.Equal(h, csvHeaders[section]) {
				t.Errorf("CSVHeader = %v, %v", h, err)
			}
			if n, ok := wantRows[section]; ok && len(records)-1 != n {
				t.Errorf("%d rows, want %d", len(records)-1, n)
			}
		})
	}

	if got := writeCSV(t, r, "osPatches"); !cmp.Equal(got[1:], [][]string{
		{"t-1", "SOUMU-PC01", "Windows 11 Pro", "23H2", "22631.4460", "KB5046633", "2026-05-14", "最新", "upToDate"},
		{"t-2", "EIGYO-PC02", "Windows 11 Home", "22H2", "22621.3000", "KB5034123", "2026-01-10", "更新プログラム未適用", "missingUpdates"},
		{"t-3", "KEIRI-PC03", "Windows 10 Pro", "22H2", "19045.5000", "", "", "サポート終了", "unsupported"},
	}) {
		t.Errorf("osPatches rows %q", got[1:])
	}
	if got := writeCSV(t, r, "software"); !cmp.Equal(got[4], []string{"t-3", "KEIRI-PC03", "サクラエディタ", "2.4.2", "", "", "不明", "unknown"}) {
		t.Errorf("software row %q", got[4])
	}
	if got := writeCSV(t, r, "webTop30"); !cmp.Equal(got[1], []string{"1", "cybozu.com", "45296", "12時間34分", "812"}) {
		t.Errorf("webTop30 row %q", got[1])
	}
	// Instants in JST.
	if got := writeCSV(t, r, "harmfulAccess"); !cmp.Equal(got[1:], [][]string{
		{"2026-05-03 23:14:05", "t-2", "EIGYO-PC02", "ギャンブル", "gambling", "宝くじ・スポーツくじ", "lottery", "https://loto-yosou.example/loto6/1"},
		{"2026-05-12 10:02:03", "t-3", "KEIRI-PC03", "セキュリティ", "security", "フィッシング詐欺・ワンクリック詐欺", "phishingFraud", "https://amaz0n-verify.example/signin"},
	}) {
		t.Errorf("harmfulAccess rows %q", got[1:])
	}
	if got := writeCSV(t, r, "offHours"); !cmp.Equal(got[1:], [][]string{
		{"2026-05-02 10:30:00", "土", "t-2", "EIGYO-PC02", "", "起動", "boot", "休日", "holiday"},
		{"2026-05-12 23:05:00", "火", "t-2", "EIGYO-PC02", "tanaka.k", "ログオン", "logon", "深夜", "lateNight"},
	}) {
		t.Errorf("offHours rows %q", got[1:])
	}
	if got := writeCSV(t, r, "externalMedia"); !cmp.Equal(got[1], []string{"2026-05-20 11:00:00", "t-1", "SOUMU-PC01", "USBストレージ", "usbStorage", "BUFFALO RUF3-K32GA USB Device", "BUFFALO", "0123456789AB"}) {
		t.Errorf("externalMedia row %q", got[1])
	}

	summary := writeCSV(t, r, "summary")
	for _, want := range [][]string{
		{"概要", "お客様番号", "N123456789", ""},
		{"概要", "対象月", "2026-05", ""},
		{"概要", "状態", "確定", "sealed"},
		{"概要", "確定日時", "2026-06-16 00:00:00", ""},
		{"概要", "総合リスク評価", "高", "high"},
		{"件数", "端末数", "3", ""},
		{"件数", "OS・パッチ: サポート終了", "1", "unsupported"},
		{"件数", "ソフトウェア: 更新あり", "1", "outdated"},
		{"件数", "閲覧サイト数", "17", ""},
		{"件数", "総閲覧時間（秒）", "52000", "14時間26分"},
		{"件数", "有害カテゴリへのアクセス", "2", ""},
		{"端末別リスク", "KEIRI-PC03", "高", "サポート終了OS、有害カテゴリへのアクセス"},
		{"推奨対策", "サポートが終了した OS を更新してください", "Windows 10 のサポートは終了しています。", "対象端末: KEIRI-PC03"},
		{"推奨対策", "Webフィルタリングをご検討ください", "有害サイトへのアクセスがありました。", ""},
	} {
		found := false
		for _, row := range summary[1:] {
			found = found || cmp.Equal(row, want)
		}
		if !found {
			t.Errorf("summary lacks row %q", want)
		}
	}
}

// Whatever the texts hold (commas, quotes, line breaks, Japanese), a CSV reader gets them back;
// a text a spreadsheet would run as a formula comes back with the apostrophe that disarms it.
func TestCSVRoundTrip(t *testing.T) {
	r := smallReport()
	texts := []string{
		`plain`, `カンマ,を含む`, `"引用符" と ""二重""`, "改行\r\nを含む\n名前", `  spaces  `, `<script>alert(1)</script>`,
	}
	for i, s := range texts {
		r.Sections.ExternalMedia = append(r.Sections.ExternalMedia, report.ExternalMedia{
			TerminalID: "t-1", Hostname: "SOUMU-PC01", At: r.Sections.ExternalMedia[0].At, Class: "optical",
			Name: s, Vendor: texts[(i+1)%len(texts)], Serial: texts[(i+2)%len(texts)],
		})
	}
	formulas := map[string]string{
		`=HYPERLINK("http://evil.example","x")`: `'=HYPERLINK("http://evil.example","x")`,
		`+1+2`:                                  `'+1+2`,
		`-2+3`:                                  `'-2+3`,
		`@SUM(A1)`:                              `'@SUM(A1)`,
	}
	for f := range formulas {
		r.Sections.ExternalMedia = append(r.Sections.ExternalMedia, report.ExternalMedia{
			TerminalID: "t-1", Hostname: "SOUMU-PC01", At: r.Sections.ExternalMedia[0].At, Class: "usbStorage", Name: f,
		})
	}

	records := writeCSV(t, r, "externalMedia")
	if len(records)-1 != len(r.Sections.ExternalMedia) {
		t.Fatalf("%d rows for %d connections", len(records)-1, len(r.Sections.ExternalMedia))
	}
	for i, m := range r.Sections.ExternalMedia {
		row := records[i+1]
		want := []string{m.Name, m.Vendor, m.Serial}
		for j, w := range want {
			if f, ok := formulas[w]; ok {
				want[j] = f
			}
		}
		// encoding/csv reads a quoted CRLF inside a field as LF.
		for j := range want {
			want[j] = strings.ReplaceAll(want[j], "\r\n", "\n")
		}
		if got := row[5:8]; !cmp.Equal(got, want) {
			t.Errorf("row %d: got %q, want %q", i, got, want)
		}
	}
}

func TestCSVUnknownSection(t *testing.T) {
	for _, section := range []string{"", "OSPatches", "os-patches", "summary.csv", "../summary"} {
		var buf bytes.Buffer
		err := render.CSV(&buf, smallReport(), section)
		if !errors.Is(err, render.ErrUnknownSection) {
			t.Errorf("CSV(%q) = %v, want ErrUnknownSection", section, err)
		}
		if buf.Len() != 0 {
			t.Errorf("CSV(%q) wrote %d bytes", section, buf.Len())
		}
		if _, err := render.CSVHeader(section); !errors.Is(err, render.ErrUnknownSection) {
			t.Errorf("CSVHeader(%q) = %v, want ErrUnknownSection", section, err)
		}
	}
}

func TestCSVOfAnEmptyReportIsItsHeader(t *testing.T) {
	for _, section := range render.Sections() {
		if section == "summary" {
			continue
		}
		records := writeCSV(t, report.Report{}, section)
		if len(records) != 1 {
			t.Errorf("%s of an empty report has %d records, want the header only", section, len(records))
		}
	}
}
