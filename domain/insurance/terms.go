// Package insurance is the cyber-risk insurance attached to every contract (サイバーリスク保険):
// claims and their lifecycle (filed, assessed, paid, rejected), policy periods, and the limits a
// payout must stay within: per company and period for each kind of cover, and for all companies
// together per period (the pool). It is pure.
//
// The limits are aggregates of their own, so that they hold under any concurrency: Cover (one
// company's use of its limits, stream CoverStream) and Pool (one period's use of the common
// limit, stream PoolStream). An assessment reserves in the pool, then uses the company's cover,
// then gives back to the pool what the cover did not take, then records the approval on the
// claim; docs/insurance.md explains why in that order, and why a crash between the steps is safe.
package insurance

import (
	"errors"
	"fmt"
	"strconv"
	"time"

	"yorozu/domain/billing"
	"yorozu/domain/calendar"
)

// Yen is an amount of money in whole yen (the service's one money type).
type Yen = billing.Yen

// Kind is what a claim is for.
type Kind string

const (
	// KindLiability: damages the company owes to others (損害賠償責任).
	KindLiability Kind = "liability"
	// KindIncidentResponse: the company's own costs of handling an incident (事故対応費用).
	KindIncidentResponse Kind = "incidentResponse"
)

// Kinds lists every kind.
var Kinds = []Kind{KindLiability, KindIncidentResponse}

// CostType is what incident-response costs were spent on.
type CostType string

const (
	CostAttackResponse       CostType = "attackResponse"
	CostInvestigation        CostType = "investigation"
	CostConsulting           CostType = "consulting" // lawyers, consultants, reputation
	CostSystemRestoration    CostType = "systemRestoration"
	CostRecurrencePrevention CostType = "recurrencePrevention"
	// CostEmergencyResponse is never covered.
	CostEmergencyResponse CostType = "emergencyResponse"
)

// CostTypes lists every cost type.
var CostTypes = []CostType{CostAttackResponse, CostInvestigation, CostConsulting, CostSystemRestoration,
	CostRecurrencePrevention, CostEmergencyResponse}

// Period is a policy period, named by the year it starts in: with the default policy year, 2025
// runs from 2025-04-14 to 2026-03-13. In JSON it is that year as a string ("2025").
type Period int

func (p Period) String() string { return strconv.Itoa(int(p)) }

// MarshalText writes the period's name.
func (p Period) MarshalText() ([]byte, error) { return []byte(p.String()), nil }

// UnmarshalText reads ParsePeriod's form.
func (p *Period) UnmarshalText(b []byte) error {
	v, err := ParsePeriod(string(b))
	if err != nil {
		return err
	}
	*p = v
	return nil
}

// ErrInvalidPeriod: a period name is not a four-digit year.
var ErrInvalidPeriod = errors.New("insurance: a period is named by its four-digit start year, like 2025")

// ParsePeriod reads a period name: a four-digit year from 2000.
func ParsePeriod(s string) (Period, error) {
	if len(s) != 4 {
		return 0, ErrInvalidPeriod
	}
	y, err := strconv.Atoi(s)
	if err != nil || y < 2000 {
		return 0, ErrInvalidPeriod
	}
	return Period(y), nil
}

// MonthDay is a day of the year, as the policy year's first and last day are written ("04-14").
type MonthDay struct {
	Month time.Month
	Day   int
}

func (m MonthDay) String() string { return fmt.Sprintf("%02d-%02d", int(m.Month), m.Day) }

// ParseMonthDay reads MM-DD. February 29 is refused: a period must start and end on a day every
// year has.
func ParseMonthDay(s string) (MonthDay, error) {
	if len(s) != 5 || s[2] != '-' {
		return MonthDay{}, fmt.Errorf("insurance: %q is not a day of the year written MM-DD", s)
	}
	m, errM := strconv.Atoi(s[:2])
	d, errD := strconv.Atoi(s[3:])
	if errM != nil || errD != nil {
		return MonthDay{}, fmt.Errorf("insurance: %q is not a day of the year written MM-DD", s)
	}
	md := MonthDay{Month: time.Month(m), Day: d}
	return md, md.validate()
}

func (m MonthDay) validate() error {
	if m.Month < time.January || m.Month > time.December || m.Day < 1 || (m.Month == time.February && m.Day == 29) {
		return fmt.Errorf("insurance: %s is not a day every year has", m)
	}
	if _, err := calendar.NewDate(2001, m.Month, m.Day); err != nil { // 2001: not a leap year
		return fmt.Errorf("insurance: %s is not a day every year has", m)
	}
	return nil
}

func (m MonthDay) before(o MonthDay) bool {
	return m.Month < o.Month || (m.Month == o.Month && m.Day < o.Day)
}

// PolicyYear is when the policy periods run: from First of the period's year to Last, of the
// same year if Last comes after First in the calendar, else of the next. Days between one
// period's Last and the next one's First are outside every period: incidents on them are not
// covered.
type PolicyYear struct {
	First, Last MonthDay
}

// DefaultPolicyYear is the service description's: April 14 to March 13 of the next year (so March
// 14 to April 13 is uncovered every year).
var DefaultPolicyYear = PolicyYear{First: MonthDay{time.April, 14}, Last: MonthDay{time.March, 13}}

// Validate reports whether both days exist every year.
func (y PolicyYear) Validate() error {
	return errors.Join(y.First.validate(), y.Last.validate())
}

// Bounds returns the first and last day of period p.
func (y PolicyYear) Bounds(p Period) (first, last calendar.Date) {
	first = calendar.MustDate(int(p), y.First.Month, y.First.Day)
	lastYear := int(p)
	if y.Last.before(y.First) {
		lastYear++
	}
	return first, calendar.MustDate(lastYear, y.Last.Month, y.Last.Day)
}

// PeriodOf returns the period a date falls in; ok is false for a date outside every period.
func (y PolicyYear) PeriodOf(d calendar.Date) (Period, bool) {
	for _, p := range []Period{Period(d.Year()), Period(d.Year() - 1)} {
		first, last := y.Bounds(p)
		if !d.Before(first) && !d.After(last) {
			return p, true
		}
	}
	return 0, false
}

// LatestPeriod is the period d falls in, or, for a day between two periods, the one that ended
// last: the period a question about "now" is about.
func (y PolicyYear) LatestPeriod(d calendar.Date) Period {
	if p, ok := y.PeriodOf(d); ok {
		return p
	}
	if first, _ := y.Bounds(Period(d.Year())); d.Before(first) {
		return Period(d.Year() - 1)
	}
	return Period(d.Year())
}

// Limits are what a policy period pays at most.
type Limits struct {
	// Liability and IncidentResponse are per company and period, for each kind.
	Liability, IncidentResponse Yen
	// Pool is for all companies together, per period.
	Pool Yen
}

// DefaultLimits are the service description's: 500,000 yen per company for each kind (1,000,000
// together), 100,000,000 yen for all companies.
var DefaultLimits = Limits{Liability: 500_000, IncidentResponse: 500_000, Pool: 100_000_000}

// Of returns the per-company limit of a kind.
func (l Limits) Of(k Kind) Yen {
	if k == KindLiability {
		return l.Liability
	}
	return l.IncidentResponse
}

// Validate refuses negative limits.
func (l Limits) Validate() error {
	if l.Liability < 0 || l.IncidentResponse < 0 || l.Pool < 0 {
		return errors.New("insurance: limits must not be negative")
	}
	return nil
}

// Terms are the insurance's configuration: when periods run and what they pay at most.
type Terms struct {
	Year   PolicyYear
	Limits Limits
}

// DefaultTerms are the service description's terms.
var DefaultTerms = Terms{Year: DefaultPolicyYear, Limits: DefaultLimits}

// Validate reports every problem at once.
func (t Terms) Validate() error { return errors.Join(t.Year.Validate(), t.Limits.Validate()) }

// WithDefaults fills what is left zero from DefaultTerms: the policy year, the limits, each as a
// whole (a configuration that names only the policy year keeps the default limits).
func (t Terms) WithDefaults() Terms {
	if t.Year == (PolicyYear{}) {
		t.Year = DefaultPolicyYear
	}
	if t.Limits == (Limits{}) {
		t.Limits = DefaultLimits
	}
	return t
}
