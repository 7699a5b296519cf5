package render

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"yorozu/domain/report"
)

// The view is what the template prints: every string already in Japanese and formatted, every
// list already sorted, aggregated and cut to its first rows. The template decides nothing.

type view struct {
	CustomerNumber string
	Company        string
	MonthLabel     string // 2026年5月
	Period         string // 2026年5月1日〜2026年5月31日
	Sealed         bool
	StatusLabel    string
	StatusNote     string
	GeneratedAt    string
	FooterText     string

	Risk            riskView
	KPIs            []kpi
	Recommendations []recommendationView
	TerminalRisks   table

	OS       osView
	Software softwareView
	Web      webView
	Harmful  harmfulView
	OffHours offHoursView
	Media    mediaView
}

type riskView struct {
	Class   string // high, medium, low, unknown
	Label   string // 高, 中, 低
	Message string
	// Spread counts terminals per level, worst first.
	Spread []spread
}

type spread struct {
	Class, Label string
	Count        int
}

type kpi struct {
	Label string
	Value string
	Unit  string
	Alert bool
}

type recommendationView struct {
	Title, Detail string
	Terminals     string
}

// table is one table of the report with its first rows, and how many rows the full list has.
type table struct {
	Columns []column
	Rows    [][]cell
	Total   int
	// Section names the CSV that holds the full list; CSVHref links it when the caller gave a link.
	Section string
	CSVHref string
	// Empty is said instead of an empty table.
	Empty string
	// Narrow tables (few short columns) do not stretch across the page.
	Narrow bool
}

type column struct {
	Label string
	Class string // num, url, nowrap, wide
}

type cell struct {
	Text  string
	Badge string // CSS class of a badge, when the text is a status
}

func (t table) Rest() int      { return t.Total - len(t.Rows) }
func (t table) TotalS() string { return number(t.Total) }
func (t table) ShownS() string { return number(len(t.Rows)) }
func (t table) RestS() string  { return number(t.Total - len(t.Rows)) }

// chart is an SVG drawn by the chart library, with its legend in HTML (the legend carries the
// Japanese names, which the browser lays out better than the chart library can measure them).
type chart struct {
	SVG     template.HTML
	Label   string
	Caption string
	Legend  []legendItem
	Kind    string // bar, donut
}

type legendItem struct {
	Color, Label, Value, Share string
}

type osView struct {
	Lead  string
	Chart *chart
	Table table
}

type softwareView struct {
	Lead      string
	Statuses  []kpi
	Attention table
	Inventory table
}

type webView struct {
	Lead  string
	Chart *chart
	Table table
}

type harmfulView struct {
	Lead       string
	Chart      *chart
	ByItem     table
	ByTerminal table
	Detail     table
}

type offHoursView struct {
	Lead       string
	Chart      *chart
	ByTerminal table
	Detail     table
}

type mediaView struct {
	Lead    string
	ByClass table
	Detail  table
}

const (
	defaultMaxRows = 100
	noneText       = "該当なし"
)

// builder turns a report into its view.
type builder struct {
	r       report.Report
	opts    Options
	hosts   map[string]string // terminal ID -> hostname, for recommendations
	month   time.Time
	monthOK bool
}

func buildView(r report.Report, opts Options) (view, error) {
	if opts.MaxRows <= 0 {
		opts.MaxRows = defaultMaxRows
	}
	b := &builder{r: r, opts: opts, hosts: hostnames(r)}
	b.month, b.monthOK = reportMonth(r.Month)

	v := view{
		CustomerNumber: r.CustomerNumber,
		Company:        opts.CompanyName,
		Sealed:         r.Status == report.StatusSealed,
		StatusLabel:    statusLabel(r.Status),
		GeneratedAt:    dateTimeJa(r.GeneratedAt),
	}
	if b.monthOK {
		end := b.month.AddDate(0, 1, -1)
		v.MonthLabel = fmt.Sprintf("%d年%d月", b.month.Year(), int(b.month.Month()))
		v.Period = dateJa(b.month) + "〜" + dateJa(end)
	} else {
		v.MonthLabel, v.Period = r.Month, r.Month
	}
	switch {
	case v.Sealed && r.SealedAt != nil:
		v.StatusNote = "確定日: " + dateJa(jst(*r.SealedAt))
	case v.Sealed:
		v.StatusNote = "この月のレポートは確定しています。"
	default:
		v.StatusNote = "この月のレポートは確定前の速報です。データの到着に応じて内容が変わることがあります。"
	}
	v.FooterText = "セキュリティヘルスチェックレポート " + v.MonthLabel + " " + r.CustomerNumber + "（" + v.StatusLabel + "）"

	v.Risk = b.risk()
	v.KPIs = b.kpis()
	v.Recommendations = b.recommendations()
	v.TerminalRisks = b.terminalRisks()

	var err error
	if v.OS, err = b.osPatches(); err != nil {
		return view{}, err
	}
	v.Software = b.software()
	if v.Web, err = b.web(); err != nil {
		return view{}, err
	}
	if v.Harmful, err = b.harmful(); err != nil {
		return view{}, err
	}
	if v.OffHours, err = b.offHours(); err != nil {
		return view{}, err
	}
	v.Media = b.media()
	return v, nil
}

// hostnames maps terminal IDs to hostnames: recommendations name terminals by ID only.
func hostnames(r report.Report) map[string]string {
	hosts := map[string]string{}
	add := func(id, host string) {
		if id != "" && host != "" && hosts[id] == "" {
			hosts[id] = host
		}
	}
	for _, t := range r.Sections.Summary.Terminals {
		add(t.TerminalID, t.Hostname)
	}
	for _, o := range r.Sections.OSPatches {
		add(o.TerminalID, o.Hostname)
	}
	return hosts
}

func (b *builder) host(id string) string {
	if h := b.hosts[id]; h != "" {
		return h
	}
	return id
}

// cut keeps the first MaxRows rows of a table and remembers the full count.
func (b *builder) cut(t table, rows [][]cell, section string) table {
	t.Total = len(rows)
	if len(rows) > b.opts.MaxRows {
		rows = rows[:b.opts.MaxRows]
	}
	t.Rows = rows
	t.Section = section
	if b.opts.CSVHref != nil && section != "" {
		t.CSVHref = b.opts.CSVHref(section)
	}
	if t.Empty == "" {
		t.Empty = noneText
	}
	return t
}

func (b *builder) risk() riskView {
	sum := b.r.Sections.Summary
	rv := riskView{Class: "unknown", Label: riskLabel(sum.RiskLevel)}
	switch sum.RiskLevel {
	case report.RiskHigh:
		rv.Class = "high"
		rv.Message = "早急な対策が必要な項目があります。下の「推奨対策」をご確認のうえ、対象の端末から順に対応をお願いします。"
	case report.RiskMedium:
		rv.Class = "medium"
		rv.Message = "いくつかの項目で対策をおすすめします。下の「推奨対策」をご確認ください。"
	case report.RiskLow:
		rv.Class = "low"
		rv.Message = "大きなリスクは見つかりませんでした。引き続き現在の対策を継続してください。"
	default:
		rv.Label = "—"
		rv.Message = "リスク評価に必要なデータがまだありません。"
	}
	counts := map[report.RiskLevel]int{}
	for _, t := range sum.Terminals {
		counts[t.RiskLevel]++
	}
	for _, l := range []report.RiskLevel{report.RiskHigh, report.RiskMedium, report.RiskLow} {
		rv.Spread = append(rv.Spread, spread{Class: string(l), Label: riskLabel(l), Count: counts[l]})
	}
	return rv
}

func (b *builder) kpis() []kpi {
	c := b.r.Sections.Summary.Counts
	patch := func(s report.PatchStatus) int { return c.OSPatches[s] }
	sw := func(s report.SoftwareStatus) int { return c.Software[s] }
	needUpdate := patch(report.PatchMissingUpdates) + patch(report.PatchUnsupported)
	outdated := sw(report.SoftwareOutdated) + sw(report.SoftwareUnsupported)
	return []kpi{
		{Label: "端末数", Value: number(b.r.Terminals), Unit: "台"},
		{Label: "OS更新が必要な端末", Value: number(needUpdate), Unit: "台", Alert: needUpdate > 0},
		{Label: "サポート終了OS", Value: number(patch(report.PatchUnsupported)), Unit: "台", Alert: patch(report.PatchUnsupported) > 0},
		{Label: "更新が必要なソフトウェア", Value: number(outdated), Unit: "件", Alert: outdated > 0},
		{Label: "閲覧サイト数", Value: number(c.Sites), Unit: "サイト"},
		{Label: "総閲覧時間", Value: duration(c.WebSeconds)},
		{Label: "有害カテゴリへのアクセス", Value: number(c.HarmfulAccess), Unit: "件", Alert: c.HarmfulAccess > 0},
		{Label: "時間外利用", Value: number(c.OffHours), Unit: "件", Alert: c.OffHours > 0},
		{Label: "外部メディアの接続", Value: number(c.ExternalMedia), Unit: "件", Alert: c.ExternalMedia > 0},
	}
}

// maxNamedTerminals bounds the hostnames listed under one recommendation.
const maxNamedTerminals = 12

func (b *builder) recommendations() []recommendationView {
	var out []recommendationView
	for _, r := range b.r.Sections.Summary.Recommendations {
		rv := recommendationView{Title: r.Title, Detail: r.Detail}
		if len(r.Terminals) > 0 {
			hosts := make([]string, 0, len(r.Terminals))
			for _, id := range r.Terminals {
				hosts = append(hosts, b.host(id))
			}
			slices.Sort(hosts)
			if len(hosts) > maxNamedTerminals {
				rest := len(hosts) - maxNamedTerminals
				hosts = append(hosts[:maxNamedTerminals], fmt.Sprintf("ほか%d台", rest))
			}
			rv.Terminals = strings.Join(hosts, "、")
		}
		out = append(out, rv)
	}
	return out
}

func (b *builder) terminalRisks() table {
	ts := slices.Clone(b.r.Sections.Summary.Terminals)
	slices.SortStableFunc(ts, func(x, y report.TerminalRisk) int {
		return cmp.Or(cmp.Compare(riskRank(x.RiskLevel), riskRank(y.RiskLevel)), strings.Compare(x.Hostname, y.Hostname))
	})
	rows := make([][]cell, 0, len(ts))
	for _, t := range ts {
		findings := findingsLabel(t.Findings)
		if findings == "" {
			findings = "指摘事項なし"
		}
		rows = append(rows, []cell{
			{Text: t.Hostname},
			{Text: riskLabel(t.RiskLevel), Badge: badge("risk", string(t.RiskLevel))},
			{Text: findings},
		})
	}
	return b.cut(table{Columns: []column{{"ホスト名", "nowrap"}, {"リスク", "nowrap"}, {"指摘事項", "wide"}}}, rows, "summary")
}

func (b *builder) osPatches() (osView, error) {
	ps := slices.Clone(b.r.Sections.OSPatches)
	slices.SortStableFunc(ps, func(x, y report.OSPatch) int {
		return cmp.Or(cmp.Compare(patchRank(x.Status), patchRank(y.Status)), strings.Compare(x.Hostname, y.Hostname))
	})
	counts := map[report.PatchStatus]int{}
	rows := make([][]cell, 0, len(ps))
	for _, p := range ps {
		counts[p.Status]++
		update := "—"
		if p.LatestUpdate != nil {
			update = p.LatestUpdate.KB
			if p.LatestUpdate.InstalledOn != "" {
				update += "（" + p.LatestUpdate.InstalledOn + "）"
			}
		}
		rows = append(rows, []cell{
			{Text: p.Hostname},
			{Text: p.Edition},
			{Text: p.Version},
			{Text: p.Build},
			{Text: update},
			{Text: patchLabel(p.Status), Badge: badge("patch", string(p.Status))},
		})
	}
	v := osView{Table: b.cut(table{Columns: []column{
		{"ホスト名", "nowrap"}, {"エディション", ""}, {"バージョン", "nowrap"}, {"ビルド", "nowrap"},
		{"最新の更新プログラム（適用日）", ""}, {"状態", "nowrap"},
	}}, rows, "osPatches")}
	if len(ps) == 0 {
		return v, nil
	}
	v.Lead = fmt.Sprintf("対象端末 %s 台のうち、最新の状態は %s 台、更新プログラム未適用は %s 台、サポート終了は %s 台です。",
		number(len(ps)), number(counts[report.PatchUpToDate]), number(counts[report.PatchMissingUpdates]), number(counts[report.PatchUnsupported]))
	var slices_ []slice
	for _, s := range patchStatuses {
		slices_ = append(slices_, slice{Label: s.Label, Color: s.Color, Value: float64(counts[s.Status]), Text: number(counts[s.Status]) + " 台"})
	}
	c, err := donutChart("状態別の端末数", slices_, "台")
	if err != nil {
		return osView{}, err
	}
	v.Chart = c
	return v, nil
}

func (b *builder) software() softwareView {
	sw := b.r.Sections.Software
	counts := map[report.SoftwareStatus]int{}
	for _, s := range sw {
		counts[s.Status]++
	}
	v := softwareView{}
	for _, s := range softwareStatuses {
		v.Statuses = append(v.Statuses, kpi{Label: s.Label, Value: number(counts[s.Status]), Unit: "件",
			Alert: counts[s.Status] > 0 && (s.Status == report.SoftwareUnsupported || s.Status == report.SoftwareOutdated)})
	}
	if len(sw) > 0 {
		v.Lead = fmt.Sprintf("端末にインストールされているソフトウェア %s 件のうち、サポート終了は %s 件、新しいバージョンがあるものは %s 件です。",
			number(len(sw)), number(counts[report.SoftwareUnsupported]), number(counts[report.SoftwareOutdated]))
	}

	attention := slices.DeleteFunc(slices.Clone(sw), func(s report.Software) bool {
		return s.Status != report.SoftwareUnsupported && s.Status != report.SoftwareOutdated
	})
	slices.SortStableFunc(attention, func(x, y report.Software) int {
		return cmp.Or(cmp.Compare(softwareRank(x.Status), softwareRank(y.Status)),
			strings.Compare(x.Name, y.Name), strings.Compare(x.Hostname, y.Hostname))
	})
	rows := make([][]cell, 0, len(attention))
	for _, s := range attention {
		rows = append(rows, []cell{
			{Text: s.Hostname}, {Text: s.Name}, {Text: s.Version}, {Text: orDash(s.LatestVersion)},
			{Text: softwareLabel(s.Status), Badge: badge("sw", string(s.Status))},
		})
	}
	v.Attention = b.cut(table{
		Columns: []column{{"ホスト名", "nowrap"}, {"ソフトウェア", "wide"}, {"バージョン", "nowrap"}, {"最新バージョン", "nowrap"}, {"状態", "nowrap"}},
		Empty:   "該当なし（更新が必要なソフトウェアはありません）",
	}, rows, "software")

	// The inventory: one row per application and version, with the number of terminals.
	type key struct {
		name, version string
	}
	type agg struct {
		publisher, latest string
		status            report.SoftwareStatus
		terminals         map[string]bool
	}
	groups := map[key]*agg{}
	var keys []key
	for _, s := range sw {
		k := key{s.Name, s.Version}
		g := groups[k]
		if g == nil {
			g = &agg{publisher: s.Publisher, latest: s.LatestVersion, status: s.Status, terminals: map[string]bool{}}
			groups[k] = g
			keys = append(keys, k)
		}
		g.terminals[s.TerminalID] = true
	}
	slices.SortStableFunc(keys, func(x, y key) int {
		gx, gy := groups[x], groups[y]
		return cmp.Or(cmp.Compare(softwareRank(gx.status), softwareRank(gy.status)),
			strings.Compare(x.name, y.name), strings.Compare(x.version, y.version))
	})
	rows = make([][]cell, 0, len(keys))
	for _, k := range keys {
		g := groups[k]
		rows = append(rows, []cell{
			{Text: k.name}, {Text: k.version}, {Text: orDash(g.publisher)}, {Text: number(len(g.terminals))},
			{Text: softwareLabel(g.status), Badge: badge("sw", string(g.status))},
		})
	}
	v.Inventory = b.cut(table{Columns: []column{
		{"ソフトウェア", "wide"}, {"バージョン", "nowrap"}, {"発行元", ""}, {"端末数", "num"}, {"状態", "nowrap"},
	}}, rows, "software")
	return v
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// webChartSites is how many sites the web chart draws (the table lists all of the TOP 30).
const webChartSites = 10

func (b *builder) web() (webView, error) {
	sites := b.r.Sections.WebTop30
	counts := b.r.Sections.Summary.Counts
	total := counts.WebSeconds
	v := webView{}
	rows := make([][]cell, 0, len(sites))
	for i, s := range sites {
		rows = append(rows, []cell{
			{Text: number(i + 1)}, {Text: s.Site}, {Text: duration(s.Seconds)}, {Text: percent(s.Seconds, total)}, {Text: number(s.Count)},
		})
	}
	v.Table = b.cut(table{Columns: []column{
		{"順位", "num"}, {"サイト", "url"}, {"閲覧時間", "num"}, {"割合", "num"}, {"アクセス数", "num"},
	}}, rows, "webTop30")
	if len(sites) == 0 {
		return v, nil
	}
	v.Lead = fmt.Sprintf("今月は %s サイトの閲覧があり、閲覧時間（ブラウザーが前面にあった時間）の合計は%sでした。",
		number(counts.Sites), duration(total))
	top := sites[:min(len(sites), webChartSites)]
	c, err := webChart(top)
	if err != nil {
		return webView{}, err
	}
	v.Chart = c
	return v, nil
}

func (b *builder) harmful() (harmfulView, error) {
	acc := slices.Clone(b.r.Sections.HarmfulAccess)
	v := harmfulView{}

	perCategory := map[string]int{}
	type itemKey struct{ category, item string }
	perItem := map[itemKey]int{}
	itemTerminals := map[itemKey]map[string]bool{}
	perTerminal := map[string]int{}
	terminalHost := map[string]string{}
	for _, a := range acc {
		perCategory[a.Category]++
		k := itemKey{a.Category, a.Item}
		perItem[k]++
		if itemTerminals[k] == nil {
			itemTerminals[k] = map[string]bool{}
		}
		itemTerminals[k][a.TerminalID] = true
		perTerminal[a.TerminalID]++
		terminalHost[a.TerminalID] = a.Hostname
	}

	items := make([]itemKey, 0, len(perItem))
	for k := range perItem {
		items = append(items, k)
	}
	slices.SortFunc(items, func(x, y itemKey) int {
		return cmp.Or(cmp.Compare(categoryIndex(x.category), categoryIndex(y.category)),
			strings.Compare(x.category, y.category), cmp.Compare(perItem[y], perItem[x]), strings.Compare(x.item, y.item))
	})
	rows := make([][]cell, 0, len(items))
	for _, k := range items {
		rows = append(rows, []cell{
			{Text: categoryLabel(k.category), Badge: badge("cat", k.category)}, {Text: itemLabel(k.item)},
			{Text: number(perItem[k])}, {Text: number(len(itemTerminals[k]))},
		})
	}
	v.ByItem = b.cut(table{Columns: []column{{"カテゴリ", "nowrap"}, {"項目", "wide"}, {"件数", "num"}, {"端末数", "num"}}}, rows, "harmfulAccess")

	terminals := make([]string, 0, len(perTerminal))
	for id := range perTerminal {
		terminals = append(terminals, id)
	}
	slices.SortFunc(terminals, func(x, y string) int {
		return cmp.Or(cmp.Compare(perTerminal[y], perTerminal[x]), strings.Compare(terminalHost[x], terminalHost[y]))
	})
	rows = make([][]cell, 0, len(terminals))
	for _, id := range terminals {
		rows = append(rows, []cell{{Text: terminalHost[id]}, {Text: number(perTerminal[id])}})
	}
	v.ByTerminal = b.cut(table{Columns: []column{{"ホスト名", "nowrap"}, {"件数", "num"}}, Narrow: true}, rows, "harmfulAccess")

	slices.SortStableFunc(acc, func(x, y report.HarmfulAccess) int { return x.At.Compare(y.At) })
	rows = make([][]cell, 0, len(acc))
	for _, a := range acc {
		rows = append(rows, []cell{
			{Text: tableTime(a.At)}, {Text: a.Hostname},
			{Text: categoryLabel(a.Category), Badge: badge("cat", a.Category)}, {Text: itemLabel(a.Item)}, {Text: a.URL},
		})
	}
	v.Detail = b.cut(table{
		Columns: []column{{"日時", "nowrap"}, {"ホスト名", "nowrap"}, {"カテゴリ", "nowrap"}, {"項目", ""}, {"URL", "url"}},
		Empty:   "該当なし（有害カテゴリへのアクセスはありませんでした）",
	}, rows, "harmfulAccess")

	if len(acc) == 0 {
		return v, nil
	}
	v.Lead = fmt.Sprintf("有害カテゴリに該当するサイトへのアクセスが %s 件（%s 台）ありました。Webフィルタリングの有無にかかわらず、端末で確認されたアクセスをすべて示します。",
		number(len(acc)), number(len(perTerminal)))
	var parts []slice
	for _, c := range categories {
		parts = append(parts, slice{Label: c.Label, Color: c.Color, Value: float64(perCategory[c.Code]), Text: number(perCategory[c.Code]) + " 件"})
	}
	// A category this renderer does not know is still counted, in grey.
	var unknown []string
	for code := range perCategory {
		if categoryIndex(code) == len(categories) {
			unknown = append(unknown, code)
		}
	}
	slices.Sort(unknown)
	for _, code := range unknown {
		parts = append(parts, slice{Label: code, Color: "#9e9e9e", Value: float64(perCategory[code]), Text: number(perCategory[code]) + " 件"})
	}
	c, err := donutChart("カテゴリ別のアクセス件数", parts, "件")
	if err != nil {
		return harmfulView{}, err
	}
	v.Chart = c
	return v, nil
}

func (b *builder) offHours() (offHoursView, error) {
	oh := slices.Clone(b.r.Sections.OffHours)
	v := offHoursView{}
	type tally struct {
		host               string
		holiday, lateNight int
	}
	perTerminal := map[string]*tally{}
	var ids []string
	holidays, lateNights := 0, 0
	for _, o := range oh {
		t := perTerminal[o.TerminalID]
		if t == nil {
			t = &tally{host: o.Hostname}
			perTerminal[o.TerminalID] = t
			ids = append(ids, o.TerminalID)
		}
		switch o.Reason {
		case report.OffHoursHoliday:
			t.holiday++
			holidays++
		case report.OffHoursLateNight:
			t.lateNight++
			lateNights++
		}
	}
	slices.SortFunc(ids, func(x, y string) int {
		tx, ty := perTerminal[x], perTerminal[y]
		return cmp.Or(cmp.Compare(ty.holiday+ty.lateNight, tx.holiday+tx.lateNight), strings.Compare(tx.host, ty.host))
	})
	rows := make([][]cell, 0, len(ids))
	for _, id := range ids {
		t := perTerminal[id]
		rows = append(rows, []cell{{Text: t.host}, {Text: number(t.holiday)}, {Text: number(t.lateNight)}, {Text: number(t.holiday + t.lateNight)}})
	}
	v.ByTerminal = b.cut(table{Columns: []column{{"ホスト名", "nowrap"}, {"休日", "num"}, {"深夜", "num"}, {"合計", "num"}}, Narrow: true}, rows, "offHours")

	slices.SortStableFunc(oh, func(x, y report.OffHours) int { return x.At.Compare(y.At) })
	rows = make([][]cell, 0, len(oh))
	for _, o := range oh {
		rows = append(rows, []cell{
			{Text: tableTime(o.At)}, {Text: o.Hostname}, {Text: orDash(o.User)}, {Text: accessTypeLabel(o.Type)},
			{Text: offHoursReasonLabel(o.Reason), Badge: badge("reason", string(o.Reason))},
		})
	}
	v.Detail = b.cut(table{
		Columns: []column{{"日時", "nowrap"}, {"ホスト名", "nowrap"}, {"ユーザー", ""}, {"種別", "nowrap"}, {"理由", "nowrap"}},
		Empty:   "該当なし（時間外の起動・ログオンはありませんでした）",
	}, rows, "offHours")

	if len(oh) == 0 {
		return v, nil
	}
	v.Lead = fmt.Sprintf("休日（土日祝）の起動・ログオンが %s 件、深夜（22時〜翌5時）の起動・ログオンが %s 件ありました（%s 台）。",
		number(holidays), number(lateNights), number(len(ids)))
	c, err := offHoursChart(b.month, b.monthOK, oh)
	if err != nil {
		return offHoursView{}, err
	}
	v.Chart = c
	return v, nil
}

func (b *builder) media() mediaView {
	em := slices.Clone(b.r.Sections.ExternalMedia)
	v := mediaView{}
	perClass := map[string]int{}
	classTerminals := map[string]map[string]bool{}
	terminals := map[string]bool{}
	for _, m := range em {
		perClass[m.Class]++
		if classTerminals[m.Class] == nil {
			classTerminals[m.Class] = map[string]bool{}
		}
		classTerminals[m.Class][m.TerminalID] = true
		terminals[m.TerminalID] = true
	}
	var rows [][]cell
	if len(em) > 0 {
		classes := make([]string, 0, len(mediaClasses))
		for _, c := range mediaClasses {
			classes = append(classes, c.Code)
		}
		var unknown []string
		for c := range perClass {
			if !slices.Contains(classes, c) {
				unknown = append(unknown, c)
			}
		}
		slices.Sort(unknown)
		for _, c := range append(classes, unknown...) {
			rows = append(rows, []cell{{Text: mediaClassLabel(c)}, {Text: number(perClass[c])}, {Text: number(len(classTerminals[c]))}})
		}
	}
	v.ByClass = b.cut(table{Columns: []column{{"種別", ""}, {"件数", "num"}, {"端末数", "num"}}, Narrow: true}, rows, "externalMedia")

	slices.SortStableFunc(em, func(x, y report.ExternalMedia) int { return x.At.Compare(y.At) })
	rows = make([][]cell, 0, len(em))
	for _, m := range em {
		rows = append(rows, []cell{
			{Text: tableTime(m.At)}, {Text: m.Hostname}, {Text: mediaClassLabel(m.Class)},
			{Text: m.Name}, {Text: orDash(m.Vendor)}, {Text: orDash(m.Serial)},
		})
	}
	v.Detail = b.cut(table{
		Columns: []column{{"日時", "nowrap"}, {"ホスト名", "nowrap"}, {"種別", "nowrap"}, {"名称", "wide"}, {"ベンダー", ""}, {"シリアル", "url"}},
		Empty:   "該当なし（外部メディアの接続はありませんでした）",
	}, rows, "externalMedia")
	if len(em) > 0 {
		v.Lead = fmt.Sprintf("USBメモリ・外付けHDDなどの外部記憶媒体の接続が %s 件（%s 台）ありました。社内の利用ルールに沿った接続かをご確認ください。",
			number(len(em)), number(len(terminals)))
	}
	return v
}

// badge makes the CSS class of a status badge from a code that comes with the data: only
// letters and digits pass, so a code can never add classes or break the attribute.
func badge(prefix, code string) string {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteByte('-')
	for _, r := range code {
		if r < 128 && (r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
