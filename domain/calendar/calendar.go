// Package calendar is the BusinessCalendar of the service: civil dates, Japanese national holidays,
// business days and business hours, every rule evaluated in Asia/Tokyo (docs/product.md and 6).
//
// It is pure: the Cabinet Office holiday list is embedded (syukujitsu.csv), years the list does not
// cover are computed by the rules of the holiday law, and nothing reads a clock. The package imports
// time/tzdata, so Asia/Tokyo never depends on the host's zone database. docs/calendar.md says where
// the data comes from and how to keep it current.
package calendar

import (
	"time"
	_ "time/tzdata" // docs/product.md: the binary must not depend on the host's zone database.
)

var jst = loadJST()

func loadJST() *time.Location {
	loc, err := time.LoadLocation("Asia/Tokyo")
	if err != nil {
		// Unreachable with time/tzdata linked in. Japan has kept UTC+9 without daylight saving since
		// 1951, so a fixed zone gives the same answers for every date this service handles.
		return time.FixedZone("JST", 9*60*60)
	}
	return loc
}

// JST returns Asia/Tokyo, the location every business rule is evaluated in.
func JST() *time.Location { return jst }

// acceptanceCutoff: an order accepted at or after 15:00 JST counts from the next business day (docs/product.md).
const acceptanceCutoff = 15 * time.Hour

// BusinessCalendar answers which days are holidays and business days, and does business-day and
// business-hour arithmetic (docs/product.md): business days are Monday to Friday except national holidays and
// the year-end break (Dec 29 to Jan 3); business hours are 09:30–12:00 and 13:00–17:30 JST on them.
//
// A BusinessCalendar is immutable and safe for concurrent use. The zero value is ready to use and is
// the same calendar as New.
type BusinessCalendar struct {
	holidays *holidayTable
}

// New returns the service calendar: the embedded Cabinet Office list for the years it covers, the
// rules of the holiday law for the others. It panics only if the embedded list is malformed, which
// the package's tests rule out.
func New() *BusinessCalendar {
	return &BusinessCalendar{holidays: officialHolidays()}
}

func (b *BusinessCalendar) table() *holidayTable {
	if b == nil || b.holidays == nil {
		return officialHolidays()
	}
	return b.holidays
}

// IsHoliday reports whether d is a national holiday (国民の祝日) or another day off under the holiday
// law, and returns its name as the Cabinet Office list writes it: "元日", "春分の日", ..., and "休日"
// for both substitute holidays (振替休日) and citizens' holidays (国民の休日). Weekends and the
// year-end break are not holidays in this sense; see IsBusinessDay.
func (b *BusinessCalendar) IsHoliday(d Date) (name string, ok bool) {
	return b.table().lookup(d)
}

// IsBusinessDay reports whether d is Monday to Friday, not a holiday, and not in the year-end break
// (Dec 29 to Jan 3).
func (b *BusinessCalendar) IsBusinessDay(d Date) bool {
	if wd := d.Weekday(); wd == time.Saturday || wd == time.Sunday {
		return false
	}
	if isYearEndBreak(d) {
		return false
	}
	_, holiday := b.IsHoliday(d)
	return !holiday
}

func isYearEndBreak(d Date) bool {
	return (d.month == time.December && d.day >= 29) || (d.month == time.January && d.day <= 3)
}

// NextBusinessDay returns the first business day after d (d itself need not be one).
func (b *BusinessCalendar) NextBusinessDay(d Date) Date {
	return b.AddBusinessDays(d, 1)
}

// AddBusinessDays returns the n-th business day after d: n = 8 from an acceptance day gives the
// earliest date of a new order. A negative n counts back (n = -1 is "one business day before", as for
// the opening notice), and n = 0 returns d itself, business day or not.
func (b *BusinessCalendar) AddBusinessDays(d Date, n int) Date {
	step := 1
	if n < 0 {
		step, n = -1, -n
	}
	for n > 0 {
		d = d.AddDays(step)
		if b.IsBusinessDay(d) {
			n--
		}
	}
	return d
}

// AcceptanceDay returns the day an order accepted at instant at counts from (docs/product.md): its date in JST
// if that is a business day and the time is before 15:00 JST, else the next business day.
func (b *BusinessCalendar) AcceptanceDay(at time.Time) Date {
	d := DateOf(at)
	if b.IsBusinessDay(d) && at.Before(d.Start().Add(acceptanceCutoff)) {
		return d
	}
	return b.NextBusinessDay(d)
}
