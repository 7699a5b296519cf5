package billing

import (
	"cmp"
	"fmt"
	"time"

	"yorozu/domain/calendar"
)

// Month is a usage month: a calendar month in JST (SPEC 1). The zero Month is "no month".
// Months compare with == and can be map keys.
type Month struct {
	year  int
	month time.Month
}

// NewMonth returns the month, or ErrInvalidMonth outside years 1 to 9999 and months 1 to 12.
func NewMonth(year int, month time.Month) (Month, error) {
	if year < 1 || year > 9999 || month < time.January || month > time.December {
		return Month{}, fmt.Errorf("%w: %d-%d", ErrInvalidMonth, year, month)
	}
	return Month{year: year, month: month}, nil
}

// ParseMonth parses exactly `YYYY-MM` (SPEC 12), e.g. "2025-07".
func ParseMonth(s string) (Month, error) {
	if len(s) != 7 || s[4] != '-' || !allDigits(s[:4]) || !allDigits(s[5:]) {
		return Month{}, fmt.Errorf("%w: %q is not YYYY-MM", ErrInvalidMonth, s)
	}
	m, err := NewMonth(atoi(s[:4]), time.Month(atoi(s[5:])))
	if err != nil {
		return Month{}, fmt.Errorf("%w: %q is not YYYY-MM", ErrInvalidMonth, s)
	}
	return m, nil
}

// MonthOf returns the month that contains d.
func MonthOf(d calendar.Date) Month { return Month{year: d.Year(), month: d.Month()} }

// Year returns the year of m.
func (m Month) Year() int { return m.year }

// Month returns the month of the year of m.
func (m Month) Month() time.Month { return m.month }

// InServiceRange reports whether m falls in the years calendar.FirstYear to calendar.LastYear, the
// months the service takes from outside (the zero Month does not).
func (m Month) InServiceRange() bool {
	return m.year >= calendar.FirstYear && m.year <= calendar.LastYear
}

// IsZero reports whether m is the zero Month ("no month").
func (m Month) IsZero() bool { return m == Month{} }

// Next returns the following month (2025-12 → 2026-01).
func (m Month) Next() Month { return m.add(1) }

// Prev returns the preceding month (2026-01 → 2025-12).
func (m Month) Prev() Month { return m.add(-1) }

// Before reports whether m is an earlier month than o.
func (m Month) Before(o Month) bool { return m.Compare(o) < 0 }

// After reports whether m is a later month than o.
func (m Month) After(o Month) bool { return m.Compare(o) > 0 }

func (m Month) add(n int) Month {
	i := m.index() + n
	return Month{year: i / 12, month: time.Month(i%12 + 1)}
}

func (m Month) index() int { return m.year*12 + int(m.month) - 1 }

// Compare returns -1, 0 or +1 as m is before, equal to or after o.
func (m Month) Compare(o Month) int {
	return cmp.Compare(m.index(), o.index())
}

// FirstDay is the first day of the month's usage period (the zero Date for the zero Month).
func (m Month) FirstDay() calendar.Date {
	d, err := calendar.NewDate(m.year, m.month, 1)
	if err != nil {
		return calendar.Date{}
	}
	return d
}

// LastDay is the last day of the month's usage period (the zero Date for the zero Month).
func (m Month) LastDay() calendar.Date {
	if m.IsZero() {
		return calendar.Date{}
	}
	days := time.Date(m.year, m.month+1, 0, 0, 0, 0, 0, time.UTC).Day()
	return m.FirstDay().AddDays(days - 1)
}

// String formats `YYYY-MM`.
func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.year, int(m.month)) }

// MarshalText makes a Month a `YYYY-MM` JSON string. The zero Month has no text form, so a month
// forgotten somewhere fails loudly instead of publishing "0000-00"; nor has a month that
// arithmetic carried outside years 1 to 9999 (the month after 9999-12), which ParseMonth could
// not read back.
func (m Month) MarshalText() ([]byte, error) {
	if m.IsZero() {
		return nil, fmt.Errorf("%w: zero month", ErrInvalidMonth)
	}
	if m.year < 1 || m.year > 9999 {
		return nil, fmt.Errorf("%w: year %d has no four-digit form", ErrInvalidMonth, m.year)
	}
	return []byte(m.String()), nil
}

// UnmarshalText reads `YYYY-MM`.
func (m *Month) UnmarshalText(b []byte) error {
	p, err := ParseMonth(string(b))
	if err != nil {
		return err
	}
	*m = p
	return nil
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi converts a string of ASCII digits already checked by allDigits.
func atoi(s string) int {
	n := 0
	for i := 0; i < len(s); i++ {
		n = n*10 + int(s[i]-'0')
	}
	return n
}
