package healthcheck

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"yorozu/domain/calendar"
	"yorozu/domain/event"
	"yorozu/domain/report"
)

// Catalog streams: each publication replaces the catalog; the stream keeps every version.
const (
	PatchCatalogStream    = "catalog-patches"
	SoftwareCatalogStream = "catalog-software"
)

// PatchEntry is a Windows build in the patch catalog: a terminal on Build.R is missingUpdates
// while R < LatestRevision, unsupported after EndOfSupport.
type PatchEntry struct {
	Build          string         `json:"build"`
	Name           string         `json:"name"`
	LatestRevision int64          `json:"latestRevision"`
	EndOfSupport   *calendar.Date `json:"endOfSupport,omitempty"`
}

// SoftwareEntry is an application in the software catalog, matched by name without regard to case.
type SoftwareEntry struct {
	Name          string         `json:"name"`
	LatestVersion string         `json:"latestVersion"`
	EndOfSupport  *calendar.Date `json:"endOfSupport,omitempty"`
}

// PatchCatalogPublished: staff published the patch catalog; it replaces the previous one from
// PublishedAt on.
type PatchCatalogPublished struct {
	Entries     []PatchEntry `json:"entries"`
	PublishedAt time.Time    `json:"publishedAt"`
}

// SoftwareCatalogPublished: staff published the software catalog.
type SoftwareCatalogPublished struct {
	Entries     []SoftwareEntry `json:"entries"`
	PublishedAt time.Time       `json:"publishedAt"`
}

// FieldError is one rule a catalog entry breaks.
type FieldError struct{ Field, Code, Message string }

// ValidationError lists every broken rule of a catalog at once.
type ValidationError struct{ Errors []FieldError }

// ErrInvalidCatalog: a catalog breaks a rule (422); the *ValidationError says which.
var ErrInvalidCatalog = errors.New("healthcheck: invalid catalog")

func (e *ValidationError) Error() string {
	return fmt.Sprintf("healthcheck: invalid catalog: %d errors", len(e.Errors))
}
func (e *ValidationError) Unwrap() error { return ErrInvalidCatalog }

func (e *ValidationError) add(field, code, msg string) {
	e.Errors = append(e.Errors, FieldError{Field: field, Code: code, Message: msg})
}

func (e *ValidationError) err() error {
	if len(e.Errors) == 0 {
		return nil
	}
	return e
}

// maxCatalogEntries bounds a catalog (a request body is at most 1 MiB anyway).
const maxCatalogEntries = 10000

// ValidatePatchEntries checks a patch catalog: builds of digits, each once; a name; a revision
// of zero or more.
func ValidatePatchEntries(entries []PatchEntry) error {
	var v ValidationError
	if len(entries) > maxCatalogEntries {
		v.add("entries", "tooMany", fmt.Sprintf("at most %d entries", maxCatalogEntries))
	}
	seen := map[string]bool{}
	for i, e := range entries {
		f := fmt.Sprintf("entries[%d].", i)
		switch {
		case e.Build == "":
			v.add(f+"build", "required", "build is required, such as 22631")
		case !digits(e.Build) || len(e.Build) > 10:
			v.add(f+"build", "format", "build is the Windows build number, digits only (22631)")
		case seen[e.Build]:
			v.add(f+"build", "duplicate", "build "+e.Build+" is listed twice")
		}
		seen[e.Build] = true
		if strings.TrimSpace(e.Name) == "" {
			v.add(f+"name", "required", "name is required, such as Windows 11 23H2")
		} else if !plainText(e.Name) {
			v.add(f+"name", "format", "name has control characters or is too long")
		}
		if e.LatestRevision < 0 {
			v.add(f+"latestRevision", "range", "latestRevision is zero or more")
		}
	}
	return v.err()
}

// ValidateSoftwareEntries checks a software catalog: names once each (without regard to case),
// versions of dot-separated segments.
func ValidateSoftwareEntries(entries []SoftwareEntry) error {
	var v ValidationError
	if len(entries) > maxCatalogEntries {
		v.add("entries", "tooMany", fmt.Sprintf("at most %d entries", maxCatalogEntries))
	}
	seen := map[string]bool{}
	for i, e := range entries {
		f := fmt.Sprintf("entries[%d].", i)
		key := strings.ToLower(strings.TrimSpace(e.Name))
		switch {
		case key == "":
			v.add(f+"name", "required", "name is required")
		case !plainText(e.Name):
			v.add(f+"name", "format", "name has control characters or is too long")
		case seen[key]:
			v.add(f+"name", "duplicate", "application "+e.Name+" is listed twice")
		}
		seen[key] = true
		if strings.TrimSpace(e.LatestVersion) == "" {
			v.add(f+"latestVersion", "required", "latestVersion is required, such as 126.0.2")
		} else if !plainText(e.LatestVersion) || !validVersion(e.LatestVersion) {
			v.add(f+"latestVersion", "format", "latestVersion is dot-separated segments starting with digits, such as 126.0.2")
		}
	}
	return v.err()
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func plainText(s string) bool {
	if len(s) > 512 {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f) {
			return false
		}
	}
	return true
}

func validVersion(s string) bool {
	for _, seg := range strings.Split(strings.TrimSpace(s), ".") {
		if seg == "" || seg[0] < '0' || seg[0] > '9' {
			return false
		}
	}
	return true
}

// PatchCatalog is one version of the patch catalog.
type PatchCatalog struct {
	byBuild map[string]PatchEntry
}

// NewPatchCatalog indexes entries by build.
func NewPatchCatalog(entries []PatchEntry) PatchCatalog {
	c := PatchCatalog{byBuild: make(map[string]PatchEntry, len(entries))}
	for _, e := range entries {
		c.byBuild[e.Build] = e
	}
	return c
}

// SplitBuild splits "22631.4460" into its build and revision; ok is false without a revision.
func SplitBuild(full string) (build string, revision int64, ok bool) {
	b, r, found := strings.Cut(strings.TrimSpace(full), ".")
	if !found {
		return b, 0, false
	}
	rev, err := strconv.ParseInt(r, 10, 64)
	if err != nil || rev < 0 {
		return b, 0, false
	}
	return b, rev, true
}

// Status judges a full build (22631.4460) on a day: unsupported after the end of support of
// its build (over everything else), unknown when the catalog does not have the build or the
// revision cannot be read, missingUpdates when the revision is below the latest, else upToDate.
func (c PatchCatalog) Status(fullBuild string, on calendar.Date) report.PatchStatus {
	build, rev, hasRev := SplitBuild(fullBuild)
	e, ok := c.byBuild[build]
	switch {
	case !ok:
		return report.PatchUnknown
	case e.EndOfSupport != nil && on.After(*e.EndOfSupport):
		return report.PatchUnsupported
	case !hasRev:
		return report.PatchUnknown
	case rev < e.LatestRevision:
		return report.PatchMissingUpdates
	}
	return report.PatchUpToDate
}

// SoftwareCatalog is one version of the software catalog.
type SoftwareCatalog struct {
	byName map[string]SoftwareEntry
}

// NewSoftwareCatalog indexes entries by lower-case name.
func NewSoftwareCatalog(entries []SoftwareEntry) SoftwareCatalog {
	c := SoftwareCatalog{byName: make(map[string]SoftwareEntry, len(entries))}
	for _, e := range entries {
		c.byName[strings.ToLower(strings.TrimSpace(e.Name))] = e
	}
	return c
}

// Status judges an installed application on a day: unknown when the catalog does not know its
// name, unsupported after its end of support, outdated below the latest version, else current.
// The latest version is returned when the catalog knows the application.
func (c SoftwareCatalog) Status(name, version string, on calendar.Date) (report.SoftwareStatus, string) {
	e, ok := c.byName[strings.ToLower(strings.TrimSpace(name))]
	switch {
	case !ok:
		return report.SoftwareUnknown, ""
	case e.EndOfSupport != nil && on.After(*e.EndOfSupport):
		return report.SoftwareUnsupported, e.LatestVersion
	case CompareVersions(version, e.LatestVersion) < 0:
		return report.SoftwareOutdated, e.LatestVersion
	}
	return report.SoftwareCurrent, e.LatestVersion
}

// CompareVersions compares two versions segment by segment ("10.2" < "10.10"): each segment by
// its leading number, then by what follows the number as text ("1.0b" > "1.0a"); a missing
// segment counts as 0 ("1.2" == "1.2.0").
func CompareVersions(a, b string) int {
	as, bs := strings.Split(strings.TrimSpace(a), "."), strings.Split(strings.TrimSpace(b), ".")
	for i := 0; i < max(len(as), len(bs)); i++ {
		var x, y string
		if i < len(as) {
			x = as[i]
		}
		if i < len(bs) {
			y = bs[i]
		}
		if c := compareSegment(x, y); c != 0 {
			return c
		}
	}
	return 0
}

func compareSegment(x, y string) int {
	xn, xr := leadingNumber(x)
	yn, yr := leadingNumber(y)
	if c := compareDigits(xn, yn); c != 0 {
		return c
	}
	return strings.Compare(xr, yr)
}

// leadingNumber splits a segment into its leading digits (without leading zeros) and the rest.
func leadingNumber(s string) (string, string) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return strings.TrimLeft(s[:i], "0"), s[i:]
}

// compareDigits compares two numbers written without leading zeros, of any length.
func compareDigits(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// CatalogVersion is one published version of a catalog: its number (stream version) and time.
type CatalogVersion struct {
	Number      uint64    `json:"number"`
	PublishedAt time.Time `json:"publishedAt"`
}

// InForce picks the version in force on a day: the last one published on or before that day
// (JST); ok is false when none was. versions are in publication order.
func InForce(versions []CatalogVersion, on calendar.Date) (CatalogVersion, bool) {
	end := on.AddDays(1).Start()
	for i := len(versions) - 1; i >= 0; i-- {
		if versions[i].PublishedAt.Before(end) {
			return versions[i], true
		}
	}
	return CatalogVersion{}, false
}

// ReportSealed: a month's report of a contract, recorded whole at its sealing; served as it is
// from then on, whatever happens to the telemetry it came from.
type ReportSealed struct {
	CustomerNumber string        `json:"customerNumber"`
	Month          string        `json:"month"`
	SealedAt       time.Time     `json:"sealedAt" secret:"-"`
	Report         report.Report `json:"report"`
}

// CustomerNumberOf implements event.ForCustomer.
func (e *ReportSealed) CustomerNumberOf() string { return e.CustomerNumber }

// ReportCategory is the stream category of sealed reports: ReportStream(customerNumber).
const ReportCategory = "report"

// ReportStream holds a contract's sealed reports.
func ReportStream(customerNumber string) string { return ReportCategory + "-" + customerNumber }

// RegisterEvents adds the health-check events to the log's codec.
func RegisterEvents(r *event.Registry) {
	r.Register((*PatchCatalogPublished)(nil), (*SoftwareCatalogPublished)(nil), (*ReportSealed)(nil))
	r.RegisterCustomerStreams(ReportCategory)
}
