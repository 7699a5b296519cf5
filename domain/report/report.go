// Package report is the monthly security health-check report (ヘルスチェックレポート) of one
// contract and one usage month (JST): its seven sections, as the API serves them in JSON and
// as the HTML and CSV renderings show them. The types here are the report's published shape;
// computing a report from telemetry, and rendering it, live elsewhere.
package report

import "time"

// Status of a report: the running (or not yet sealed) month is provisional and changes as data
// arrives; from 00:00 JST on the 16th of the next month it is sealed and never changes again.
type Status string

const (
	StatusProvisional Status = "provisional"
	StatusSealed      Status = "sealed"
)

// Report is one contract's report for one month.
type Report struct {
	CustomerNumber string `json:"customerNumber"`
	// Month is YYYY-MM (JST calendar month).
	Month  string `json:"month"`
	Status Status `json:"status"`
	// Terminals counts the terminals the report covers: those enrolled at some time in the month.
	Terminals int `json:"terminals"`
	// GeneratedAt is when this version of the report was computed; SealedAt when it was sealed.
	GeneratedAt time.Time  `json:"generatedAt"`
	SealedAt    *time.Time `json:"sealedAt,omitempty" secret:"-"`
	Sections    Sections   `json:"sections"`
}

// Sections are the report's seven sections.
type Sections struct {
	OSPatches     []OSPatch       `json:"osPatches"`
	Software      []Software      `json:"software"`
	WebTop30      []Site          `json:"webTop30"`
	HarmfulAccess []HarmfulAccess `json:"harmfulAccess"`
	OffHours      []OffHours      `json:"offHours"`
	ExternalMedia []ExternalMedia `json:"externalMedia"`
	Summary       Summary         `json:"summary"`
}

// PatchStatus is a terminal's state against the patch catalog.
type PatchStatus string

const (
	// PatchUnsupported: past the end of support of its build (wins over the others).
	PatchUnsupported PatchStatus = "unsupported"
	// PatchMissingUpdates: the build's revision is below the catalog's latest.
	PatchMissingUpdates PatchStatus = "missingUpdates"
	PatchUpToDate       PatchStatus = "upToDate"
	// PatchUnknown: no catalog entry for the build, or no inventory yet.
	PatchUnknown PatchStatus = "unknown"
)

// OSPatch is section 1: a terminal's OS and patch state.
type OSPatch struct {
	TerminalID string `json:"terminalId"`
	Hostname   string `json:"hostname"`
	Edition    string `json:"edition"`
	Version    string `json:"version"`
	// Build is the full build with revision, such as 22631.4460.
	Build string `json:"build"`
	// LatestUpdate is the most recently installed update (KB number), if any.
	LatestUpdate *Update     `json:"latestUpdate"`
	Status       PatchStatus `json:"status"`
}

// Update is an installed Windows update.
type Update struct {
	KB          string `json:"kb"`
	InstalledOn string `json:"installedOn"` // YYYY-MM-DD
}

// SoftwareStatus is an application's state against the software catalog.
type SoftwareStatus string

const (
	SoftwareCurrent     SoftwareStatus = "current"
	SoftwareOutdated    SoftwareStatus = "outdated"
	SoftwareUnsupported SoftwareStatus = "unsupported"
	SoftwareUnknown     SoftwareStatus = "unknown"
)

// Software is section 2: one installed application of one terminal.
type Software struct {
	TerminalID string         `json:"terminalId"`
	Hostname   string         `json:"hostname"`
	Name       string         `json:"name"`
	Version    string         `json:"version"`
	Publisher  string         `json:"publisher,omitempty"`
	Status     SoftwareStatus `json:"status"`
	// LatestVersion is the catalog's version when the catalog knows the application.
	LatestVersion string `json:"latestVersion,omitempty"`
}

// Site is section 3: one site (registrable domain, or an IP host as it is) of the TOP 30 by
// total seconds in focus.
type Site struct {
	Site    string `json:"site"`
	Seconds int64  `json:"seconds"`
	Count   int64  `json:"count"`
}

// HarmfulAccess is section 4: one access to a site of a filtered category, whether or not web
// filtering was on (it is what the agent saw).
type HarmfulAccess struct {
	TerminalID string    `json:"terminalId"`
	Hostname   string    `json:"hostname"`
	At         time.Time `json:"at"`
	URL        string    `json:"url"`
	// Category is one of the six filtered categories (illegal, security, adult, dating,
	// gambling, extreme); Item the dictionary's item within it.
	Category string `json:"category"`
	Item     string `json:"item"`
}

// OffHoursReason says why a boot or logon counts as off-hours.
type OffHoursReason string

const (
	// OffHoursHoliday: a Saturday, Sunday or national holiday (JST).
	OffHoursHoliday OffHoursReason = "holiday"
	// OffHoursLateNight: at or after 22:00 or before 05:00 JST on another day.
	OffHoursLateNight OffHoursReason = "lateNight"
)

// OffHours is section 5: a boot or logon outside working time.
type OffHours struct {
	TerminalID string         `json:"terminalId"`
	Hostname   string         `json:"hostname"`
	User       string         `json:"user,omitempty"`
	At         time.Time      `json:"at"`
	Type       string         `json:"type"` // boot or logon
	Reason     OffHoursReason `json:"reason"`
}

// ExternalMedia is section 6: an external storage device connected.
type ExternalMedia struct {
	TerminalID string    `json:"terminalId"`
	Hostname   string    `json:"hostname"`
	At         time.Time `json:"at"`
	// Class is usbStorage, externalHdd, optical or appleMobile.
	Class  string `json:"class"`
	Name   string `json:"name"`
	Vendor string `json:"vendor,omitempty"`
	Serial string `json:"serial,omitempty"`
}

// RiskLevel grades a terminal or the company.
type RiskLevel string

const (
	RiskLow    RiskLevel = "low"
	RiskMedium RiskLevel = "medium"
	RiskHigh   RiskLevel = "high"
)

// Summary is section 7: counts per section, a risk level per terminal and for the company, and
// the actions recommended from the findings.
type Summary struct {
	Counts          Counts           `json:"counts"`
	RiskLevel       RiskLevel        `json:"riskLevel"`
	Terminals       []TerminalRisk   `json:"terminals"`
	Recommendations []Recommendation `json:"recommendations"`
}

// Counts are the sections' totals.
type Counts struct {
	// OSPatches counts terminals by patch status.
	OSPatches map[PatchStatus]int `json:"osPatches"`
	// Software counts installed applications by status.
	Software map[SoftwareStatus]int `json:"software"`
	// Sites is the number of distinct sites visited (not only the TOP 30); WebSeconds their
	// total time in focus.
	Sites         int   `json:"sites"`
	WebSeconds    int64 `json:"webSeconds"`
	HarmfulAccess int   `json:"harmfulAccess"`
	OffHours      int   `json:"offHours"`
	ExternalMedia int   `json:"externalMedia"`
}

// TerminalRisk is one terminal's risk level and why.
type TerminalRisk struct {
	TerminalID string    `json:"terminalId"`
	Hostname   string    `json:"hostname"`
	RiskLevel  RiskLevel `json:"riskLevel"`
	// Findings name what raised the level (codes such as osUnsupported, missingUpdates,
	// harmfulAccess, externalMedia, offHours, outdatedSoftware).
	Findings []string `json:"findings"`
}

// Recommendation is one recommended action.
type Recommendation struct {
	// Code is stable (for clients); Title and Detail are in Japanese, for the customer.
	Code   string `json:"code"`
	Title  string `json:"title"`
	Detail string `json:"detail"`
	// Terminals the action concerns (empty when it concerns the company).
	Terminals []string `json:"terminals,omitempty"`
}
