package render

import (
	"bufio"
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"yorozu/domain/report"
)

// ErrUnknownSection is returned by CSV for a section name it does not know.
var ErrUnknownSection = errors.New("render: unknown report section")

// Section names, as the JSON report names its sections.
const (
	SectionOSPatches     = "osPatches"
	SectionSoftware      = "software"
	SectionWebTop30      = "webTop30"
	SectionHarmfulAccess = "harmfulAccess"
	SectionOffHours      = "offHours"
	SectionExternalMedia = "externalMedia"
	SectionSummary       = "summary"
)

// Sections lists the sections CSV writes, in the report's order.
func Sections() []string {
	return []string{
		SectionOSPatches, SectionSoftware, SectionWebTop30, SectionHarmfulAccess,
		SectionOffHours, SectionExternalMedia, SectionSummary,
	}
}

// bom makes spreadsheet programs (Excel in particular) read the file as UTF-8.
const bom = "\uFEFF"

// CSV writes one section of the report as CSV: UTF-8 with a byte order mark, CRLF line ends,
// RFC 4180 quoting, a header row of Japanese column names, instants in JST as
// 2006-01-02 15:04:05. Rows keep the report's order. An unknown section is ErrUnknownSection,
// and then nothing is written.
func CSV(w io.Writer, r report.Report, section string) error {
	header, rows, ok := csvSection(r, section)
	if !ok {
		return fmt.Errorf("%w: %q", ErrUnknownSection, section)
	}
	bw := bufio.NewWriter(w)
	if _, err := bw.WriteString(bom); err != nil {
		return err
	}
	cw := csv.NewWriter(bw)
	cw.UseCRLF = true
	if err := cw.Write(header); err != nil {
		return err
	}
	for _, row := range rows {
		if err := cw.Write(row); err != nil {
			return err
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return err
	}
	return bw.Flush()
}

// CSVHeader is the header row of a section's CSV (for documentation and clients).
func CSVHeader(section string) ([]string, error) {
	header, _, ok := csvSection(report.Report{}, section)
	if !ok {
		return nil, fmt.Errorf("%w: %q", ErrUnknownSection, section)
	}
	return header, nil
}

func csvSection(r report.Report, section string) (header []string, rows [][]string, ok bool) {
	s := r.Sections
	switch section {
	case SectionOSPatches:
		header = []string{"端末ID", "ホスト名", "エディション", "バージョン", "ビルド", "最新の更新プログラム", "更新プログラム適用日", "状態", "状態コード"}
		for _, p := range s.OSPatches {
			kb, on := "", ""
			if p.LatestUpdate != nil {
				kb, on = p.LatestUpdate.KB, p.LatestUpdate.InstalledOn
			}
			rows = append(rows, texts(p.TerminalID, p.Hostname, p.Edition, p.Version, p.Build, kb, on, patchLabel(p.Status), string(p.Status)))
		}
	case SectionSoftware:
		header = []string{"端末ID", "ホスト名", "ソフトウェア", "バージョン", "発行元", "最新バージョン", "状態", "状態コード"}
		for _, a := range s.Software {
			rows = append(rows, texts(a.TerminalID, a.Hostname, a.Name, a.Version, a.Publisher, a.LatestVersion, softwareLabel(a.Status), string(a.Status)))
		}
	case SectionWebTop30:
		header = []string{"順位", "サイト", "閲覧時間（秒）", "閲覧時間", "アクセス数"}
		for i, site := range s.WebTop30 {
			rows = append(rows, []string{strconv.Itoa(i + 1), cellText(site.Site), strconv.FormatInt(site.Seconds, 10), duration(site.Seconds), strconv.FormatInt(site.Count, 10)})
		}
	case SectionHarmfulAccess:
		header = []string{"日時", "端末ID", "ホスト名", "カテゴリ", "カテゴリコード", "項目", "項目コード", "URL"}
		for _, a := range s.HarmfulAccess {
			rows = append(rows, append([]string{csvTime(a)}, texts(a.TerminalID, a.Hostname, categoryLabel(a.Category), a.Category, itemLabel(a.Item), a.Item, a.URL)...))
		}
	case SectionOffHours:
		header = []string{"日時", "曜日", "端末ID", "ホスト名", "ユーザー", "種別", "種別コード", "理由", "理由コード"}
		for _, o := range s.OffHours {
			rows = append(rows, append([]string{jst(o.At).Format(csvTimeLayout), weekdays[jst(o.At).Weekday()]},
				texts(o.TerminalID, o.Hostname, o.User, accessTypeLabel(o.Type), o.Type, offHoursReasonLabel(o.Reason), string(o.Reason))...))
		}
	case SectionExternalMedia:
		header = []string{"日時", "端末ID", "ホスト名", "種別", "種別コード", "名称", "ベンダー", "シリアル"}
		for _, m := range s.ExternalMedia {
			rows = append(rows, append([]string{jst(m.At).Format(csvTimeLayout)}, texts(m.TerminalID, m.Hostname, mediaClassLabel(m.Class), m.Class, m.Name, m.Vendor, m.Serial)...))
		}
	case SectionSummary:
		header = []string{"区分", "項目", "値", "備考"}
		rows = summaryRows(r)
	default:
		return nil, nil, false
	}
	return header, rows, true
}

func csvTime(a report.HarmfulAccess) string { return jst(a.At).Format(csvTimeLayout) }

// summaryRows lays the summary out as one long table: the report's identity, the counts, one
// row per terminal and one per recommended action, each row tagged with its kind (区分).
func summaryRows(r report.Report) [][]string {
	sum := r.Sections.Summary
	c := sum.Counts
	var rows [][]string
	add := func(kind, item, value, note string) {
		rows = append(rows, texts(kind, item, value, note))
	}
	add("概要", "お客様番号", r.CustomerNumber, "")
	add("概要", "対象月", r.Month, "")
	add("概要", "状態", statusLabel(r.Status), string(r.Status))
	if !r.GeneratedAt.IsZero() {
		add("概要", "作成日時", jst(r.GeneratedAt).Format(csvTimeLayout), "")
	}
	if r.SealedAt != nil {
		add("概要", "確定日時", jst(*r.SealedAt).Format(csvTimeLayout), "")
	}
	add("概要", "総合リスク評価", riskLabel(sum.RiskLevel), string(sum.RiskLevel))

	itoa := strconv.Itoa
	add("件数", "端末数", itoa(r.Terminals), "")
	for _, p := range patchStatuses {
		add("件数", "OS・パッチ: "+p.Label, itoa(c.OSPatches[p.Status]), string(p.Status))
	}
	for _, sw := range softwareStatuses {
		add("件数", "ソフトウェア: "+sw.Label, itoa(c.Software[sw.Status]), string(sw.Status))
	}
	add("件数", "閲覧サイト数", itoa(c.Sites), "")
	add("件数", "総閲覧時間（秒）", strconv.FormatInt(c.WebSeconds, 10), duration(c.WebSeconds))
	add("件数", "有害カテゴリへのアクセス", itoa(c.HarmfulAccess), "")
	add("件数", "時間外利用", itoa(c.OffHours), "")
	add("件数", "外部メディアの接続", itoa(c.ExternalMedia), "")

	for _, t := range sum.Terminals {
		add("端末別リスク", t.Hostname, riskLabel(t.RiskLevel), findingsLabel(t.Findings))
	}
	hosts := hostnames(r)
	for _, rec := range sum.Recommendations {
		note := ""
		if len(rec.Terminals) > 0 {
			names := make([]string, len(rec.Terminals))
			for i, id := range rec.Terminals {
				names[i] = cmp.Or(hosts[id], id)
			}
			note = "対象端末: " + strings.Join(names, "、")
		}
		add("推奨対策", rec.Title, rec.Detail, note)
	}
	return rows
}

// texts makes a row of free texts safe to open in a spreadsheet (see cellText).
func texts(values ...string) []string {
	out := make([]string, len(values))
	for i, v := range values {
		out[i] = cellText(v)
	}
	return out
}

// cellText keeps a spreadsheet from running a text as a formula: texts come from the agents
// on customers' PCs (host names, device names, URLs), and a device named "=HYPERLINK(…)" must
// stay a name. Such a text gets a leading apostrophe, the usual guard (OWASP, "CSV injection").
func cellText(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r':
		return "'" + s
	}
	return s
}
