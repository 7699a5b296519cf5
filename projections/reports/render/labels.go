package render

import (
	"strings"

	"yorozu/domain/report"
)

// The Japanese names the customer reads. Codes that a later version of the report adds, and
// that these tables do not know yet, are shown as they are rather than hidden.

// Category is one of the six filtered web categories, in the order the report lists them.
type category struct {
	Code  string
	Label string
	Color string
}

var categories = []category{
	{"illegal", "不法", "#b71c1c"},
	{"security", "セキュリティ", "#e65100"},
	{"adult", "アダルト・フェティシズム", "#ad1457"},
	{"dating", "出会い", "#6a1b9a"},
	{"gambling", "ギャンブル", "#1565c0"},
	{"extreme", "過激な表現", "#37474f"},
}

var itemLabels = map[string]string{
	"illegalActs":           "違法と思われる行為",
	"copyrightInfringement": "著作権や商標権の侵害行為",
	"childAbuse":            "児童ポルノ",
	"illegalDrugs":          "違法と思われる薬物",
	"drugMisuse":            "不適切な薬物利用",
	"suicideInducement":     "自殺誘引",
	"cracking":              "クラッキング",
	"malware":               "マルウェア",
	"driveByDownload":       "DBD攻撃",
	"phishingFraud":         "フィッシング詐欺・ワンクリック詐欺",
	"publicProxy":           "公開プロキシ",
	"filterCircumvention":   "フィルタリング回避",
	"adultPornography":      "アダルト・ポルノ",
	"fetishism":             "フェティシズム",
	"dating":                "出会い",
	"gambling":              "ギャンブル",
	"lottery":               "宝くじ・スポーツくじ",
	"violentGroupsCults":    "暴力組織・カルト",
	"grotesque":             "グロテスク・ショッキング",
}

func categoryLabel(code string) string {
	for _, c := range categories {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

func categoryIndex(code string) int {
	for i, c := range categories {
		if c.Code == code {
			return i
		}
	}
	return len(categories)
}

func itemLabel(code string) string {
	if l, ok := itemLabels[code]; ok {
		return l
	}
	return code
}

// patchStatuses are listed worst first: the order of the table and the chart.
var patchStatuses = []struct {
	Status report.PatchStatus
	Label  string
	Color  string
}{
	{report.PatchUnsupported, "サポート終了", "#c62828"},
	{report.PatchMissingUpdates, "更新プログラム未適用", "#f9a825"},
	{report.PatchUnknown, "不明", "#9e9e9e"},
	{report.PatchUpToDate, "最新", "#2e7d32"},
}

func patchLabel(s report.PatchStatus) string {
	for _, p := range patchStatuses {
		if p.Status == s {
			return p.Label
		}
	}
	return string(s)
}

func patchRank(s report.PatchStatus) int {
	for i, p := range patchStatuses {
		if p.Status == s {
			return i
		}
	}
	return len(patchStatuses)
}

var softwareStatuses = []struct {
	Status report.SoftwareStatus
	Label  string
}{
	{report.SoftwareUnsupported, "サポート終了"},
	{report.SoftwareOutdated, "更新あり"},
	{report.SoftwareUnknown, "不明"},
	{report.SoftwareCurrent, "最新"},
}

func softwareLabel(s report.SoftwareStatus) string {
	for _, p := range softwareStatuses {
		if p.Status == s {
			return p.Label
		}
	}
	return string(s)
}

func softwareRank(s report.SoftwareStatus) int {
	for i, p := range softwareStatuses {
		if p.Status == s {
			return i
		}
	}
	return len(softwareStatuses)
}

func riskLabel(l report.RiskLevel) string {
	switch l {
	case report.RiskHigh:
		return "高"
	case report.RiskMedium:
		return "中"
	case report.RiskLow:
		return "低"
	}
	return string(l)
}

func riskRank(l report.RiskLevel) int {
	switch l {
	case report.RiskHigh:
		return 0
	case report.RiskMedium:
		return 1
	case report.RiskLow:
		return 2
	}
	return 3
}

var findingLabels = map[string]string{
	"osUnsupported":    "サポート終了OS",
	"missingUpdates":   "更新プログラム未適用",
	"harmfulAccess":    "有害カテゴリへのアクセス",
	"externalMedia":    "外部メディアの接続",
	"offHours":         "時間外利用",
	"outdatedSoftware": "古いソフトウェア",
}

func findingLabel(code string) string {
	if l, ok := findingLabels[code]; ok {
		return l
	}
	return code
}

func findingsLabel(codes []string) string {
	out := make([]string, len(codes))
	for i, c := range codes {
		out[i] = findingLabel(c)
	}
	return strings.Join(out, "、")
}

var offHoursReasonLabels = map[report.OffHoursReason]string{
	report.OffHoursHoliday:   "休日",
	report.OffHoursLateNight: "深夜",
}

func offHoursReasonLabel(r report.OffHoursReason) string {
	if l, ok := offHoursReasonLabels[r]; ok {
		return l
	}
	return string(r)
}

func accessTypeLabel(t string) string {
	switch t {
	case "boot":
		return "起動"
	case "logon":
		return "ログオン"
	}
	return t
}

var mediaClasses = []struct {
	Code  string
	Label string
}{
	{"usbStorage", "USBストレージ"},
	{"externalHdd", "外付けHDD"},
	{"optical", "光学メディア"},
	{"appleMobile", "iPhone・iPad等"},
}

func mediaClassLabel(code string) string {
	for _, c := range mediaClasses {
		if c.Code == code {
			return c.Label
		}
	}
	return code
}

var weekdays = [...]string{"日", "月", "火", "水", "木", "金", "土"}

func statusLabel(s report.Status) string {
	switch s {
	case report.StatusSealed:
		return "確定"
	case report.StatusProvisional:
		return "速報（確定前）"
	}
	return string(s)
}
