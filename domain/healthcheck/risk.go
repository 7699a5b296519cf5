package healthcheck

import (
	"cmp"
	"slices"

	"yorozu/domain/report"
)

// Findings: what raises a terminal's risk level. Each has a fixed severity.
const (
	// High.
	FindingOSUnsupported       = "osUnsupported"       // the OS build is past its end of support
	FindingUnsupportedSoftware = "unsupportedSoftware" // an application is past its end of support
	FindingDangerousAccess     = "dangerousAccess"     // a visit to an illegal or security (malware, phishing...) site
	// Medium.
	FindingMissingUpdates   = "missingUpdates"   // the OS revision is below the catalog's latest
	FindingOutdatedSoftware = "outdatedSoftware" // an application has a newer version
	FindingHarmfulAccess    = "harmfulAccess"    // a visit to an adult, dating, gambling or extreme site
	FindingExternalMedia    = "externalMedia"    // an external storage device was connected
	FindingOffHours         = "offHours"         // OffHoursThreshold or more boots/logons outside working time
	// Low (information).
	FindingNoInventory = "noInventory" // no inventory received yet: patches and software cannot be judged
)

// OffHoursThreshold is how many off-hours boots or logons in a month make a finding.
const OffHoursThreshold = 10

var findingLevel = map[string]report.RiskLevel{
	FindingOSUnsupported: report.RiskHigh, FindingUnsupportedSoftware: report.RiskHigh, FindingDangerousAccess: report.RiskHigh,
	FindingMissingUpdates: report.RiskMedium, FindingOutdatedSoftware: report.RiskMedium, FindingHarmfulAccess: report.RiskMedium,
	FindingExternalMedia: report.RiskMedium, FindingOffHours: report.RiskMedium,
	FindingNoInventory: report.RiskLow,
}

func rank(l report.RiskLevel) int {
	switch l {
	case report.RiskHigh:
		return 2
	case report.RiskMedium:
		return 1
	}
	return 0
}

// recommendation is the action a finding calls for, in Japanese for the customer.
type recommendation struct {
	code, title, detail string
}

var recommendations = map[string]recommendation{
	FindingOSUnsupported: {"upgradeOs", "サポート終了OSの更新",
		"サポートが終了したWindowsを使用している端末があります。セキュリティ更新が提供されないため、サポート中のバージョンへ速やかに更新してください。"},
	FindingUnsupportedSoftware: {"replaceUnsupportedSoftware", "サポート終了ソフトウェアの更新・削除",
		"サポートが終了したソフトウェアがインストールされています。後継製品への移行か、不要であればアンインストールを行ってください。"},
	FindingDangerousAccess: {"investigateDangerousAccess", "危険なサイトへのアクセスの確認",
		"マルウェア配布・フィッシング等の危険なサイト、または違法なサイトへのアクセスがありました。端末のウイルススキャンを実施し、利用者へ確認してください。Webフィルタリングの利用をお勧めします。"},
	FindingMissingUpdates: {"applyWindowsUpdates", "Windows Update の適用",
		"最新の更新プログラムが適用されていない端末があります。Windows Update を実行し、再起動してください。"},
	FindingOutdatedSoftware: {"updateSoftware", "ソフトウェアの更新",
		"新しいバージョンが公開されているソフトウェアがあります。最新版へ更新してください。"},
	FindingHarmfulAccess: {"reviewWebUsage", "業務外サイトの利用の確認",
		"アダルト・出会い・ギャンブル・過激な表現のサイトへのアクセスがありました。社内のインターネット利用ルールを確認し、Webフィルタリングの利用をご検討ください。"},
	FindingExternalMedia: {"controlExternalMedia", "外部記憶媒体の利用ルールの確認",
		"USBメモリ等の外部記憶媒体が接続されました。情報持ち出しのルールを確認し、必要に応じて利用を制限してください。"},
	FindingOffHours: {"reviewOffHoursUse", "業務時間外の利用の確認",
		"休日・深夜の起動やログオンが多い端末があります。利用者と業務上の必要性を確認してください。"},
	FindingNoInventory: {"checkAgent", "エージェントの稼働確認",
		"インベントリ情報が届いていない端末があります。エージェントが正しく動作しているか確認してください。"},
}

// summarize grades each terminal by its worst finding (low without any), the company by its
// worst terminal, and recommends one action per kind of finding, naming its terminals, most
// severe first.
func summarize(s *report.Sections, terms []TerminalInput, findings []map[string]bool, sites map[string]SiteStat) report.Summary {
	sum := report.Summary{
		Counts: report.Counts{OSPatches: map[report.PatchStatus]int{}, Software: map[report.SoftwareStatus]int{},
			Sites: len(sites), HarmfulAccess: len(s.HarmfulAccess), OffHours: len(s.OffHours), ExternalMedia: len(s.ExternalMedia)},
		RiskLevel: report.RiskLow, Terminals: []report.TerminalRisk{}, Recommendations: []report.Recommendation{},
	}
	for _, p := range s.OSPatches {
		sum.Counts.OSPatches[p.Status]++
	}
	for _, sw := range s.Software {
		sum.Counts.Software[sw.Status]++
	}
	for _, st := range sites {
		sum.Counts.WebSeconds += st.Seconds
	}
	concerned := map[string][]string{}
	for i, t := range terms {
		tr := report.TerminalRisk{TerminalID: t.TerminalID, Hostname: t.Hostname, RiskLevel: report.RiskLow, Findings: []string{}}
		for f := range findings[i] {
			tr.Findings = append(tr.Findings, f)
			if rank(findingLevel[f]) > rank(tr.RiskLevel) {
				tr.RiskLevel = findingLevel[f]
			}
			concerned[f] = append(concerned[f], t.TerminalID)
		}
		slices.SortFunc(tr.Findings, byFinding)
		if rank(tr.RiskLevel) > rank(sum.RiskLevel) {
			sum.RiskLevel = tr.RiskLevel
		}
		sum.Terminals = append(sum.Terminals, tr)
	}
	codes := make([]string, 0, len(concerned))
	for f := range concerned {
		codes = append(codes, f)
	}
	slices.SortFunc(codes, byFinding)
	for _, f := range codes {
		rec := recommendations[f]
		sum.Recommendations = append(sum.Recommendations, report.Recommendation{Code: rec.code, Title: rec.title,
			Detail: rec.detail, Terminals: concerned[f]})
	}
	return sum
}

// byFinding orders findings most severe first, then by name.
func byFinding(a, b string) int {
	return cmp.Or(cmp.Compare(rank(findingLevel[b]), rank(findingLevel[a])), cmp.Compare(a, b))
}
