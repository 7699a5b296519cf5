package calendar

import (
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidDate: a text is not a date of the expected form, or names a day that does not exist
// (2025-02-30). Parse errors wrap it together with the offending text.
var ErrInvalidDate = errors.New("calendar: invalid date")

// Date is a civil date: a year, a month and a day, with no time of day and no zone. Order dates,
// scheduled dates and holidays are Dates; the instant a Date begins is Start (00:00 JST).
//
// Dates are comparable with == and usable as map keys. The zero Date means "no date": it is not a
// real day, and only IsZero, String and the JSON methods are meaningful on it.
type Date struct {
	year  int
	month time.Month
	day   int
}

// NewDate returns the date year-month-day, or an error wrapping ErrInvalidDate if that day does not
// exist. Years run from 1 to 9999 so that every Date has a four-digit year.
func NewDate(year int, month time.Month, day int) (Date, error) {
	if year < 1 || year > 9999 || month < time.January || month > time.December ||
		day < 1 || day > daysIn(year, month) {
		return Date{}, fmt.Errorf("%w: %04d-%02d-%02d does not exist", ErrInvalidDate, year, int(month), day)
	}
	return Date{year: year, month: month, day: day}, nil
}

// MustDate is NewDate for dates written in code (tests, fixed dates); it panics if the day does not
// exist.
func MustDate(year int, month time.Month, day int) Date {
	d, err := NewDate(year, month, day)
	if err != nil {
		panic(err)
	}
	return d
}

// DateOf returns the date of instant t in Japan (JST), whatever t's own location.
func DateOf(t time.Time) Date {
	t = t.In(jst)
	return Date{year: t.Year(), month: t.Month(), day: t.Day()}
}

// ParseDate parses the API form "YYYY-MM-DD" (always two-digit month and day, as String writes it).
func ParseDate(s string) (Date, error) {
	if len(s) != len("2006-01-02") || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("%w: %q is not of the form YYYY-MM-DD", ErrInvalidDate, s)
	}
	y, okY := digits(s[0:4], 4, 4)
	m, okM := digits(s[5:7], 2, 2)
	d, okD := digits(s[8:10], 2, 2)
	if !okY || !okM || !okD {
		return Date{}, fmt.Errorf("%w: %q is not of the form YYYY-MM-DD", ErrInvalidDate, s)
	}
	return realDate(s, y, m, d)
}

// ParseFormDate parses the order form's "YYYY/M/D" (SPEC 2): a four-digit year from 1000, then a month
// and a day of one or two digits each. A leading zero on the month or day is accepted ("2025/07/01" as
// well as "2025/7/1"), because both are common on Japanese forms and mean the same day. The day must
// exist: "2025/2/30" and "2025/13/1" are errors, and so is anything else (spaces, signs, full-width
// digits, "0025/7/1").
func ParseFormDate(s string) (Date, error) {
	parts := strings.Split(s, "/")
	if len(parts) != 3 {
		return Date{}, fmt.Errorf("%w: %q is not of the form YYYY/M/D", ErrInvalidDate, s)
	}
	y, okY := digits(parts[0], 4, 4)
	okY = okY && y >= 1000
	m, okM := digits(parts[1], 1, 2)
	d, okD := digits(parts[2], 1, 2)
	if !okY || !okM || !okD {
		return Date{}, fmt.Errorf("%w: %q is not of the form YYYY/M/D", ErrInvalidDate, s)
	}
	return realDate(s, y, m, d)
}

// realDate is NewDate for parsers: its error quotes the text as the user wrote it.
func realDate(text string, y, m, d int) (Date, error) {
	date, err := NewDate(y, time.Month(m), d)
	if err != nil {
		return Date{}, fmt.Errorf("%w: %q does not exist", ErrInvalidDate, text)
	}
	return date, nil
}

// digits parses s as an unsigned decimal of minLen to maxLen ASCII digits. strconv.Atoi alone would let
// signs through.
func digits(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

// Year returns the year of d.
func (d Date) Year() int { return d.year }

// Month returns the month of d.
func (d Date) Month() time.Month { return d.month }

// Day returns the day of the month of d.
func (d Date) Day() int { return d.day }

// IsZero reports whether d is the zero Date ("no date").
func (d Date) IsZero() bool { return d == Date{} }

// String returns d as "YYYY-MM-DD".
func (d Date) String() string {
	return fmt.Sprintf("%04d-%02d-%02d", d.year, int(d.month), d.day)
}

// Compare returns -1 if d is before e, 0 if they are the same day, +1 if d is after e.
func (d Date) Compare(e Date) int {
	if c := cmp.Compare(d.year, e.year); c != 0 {
		return c
	}
	if c := cmp.Compare(d.month, e.month); c != 0 {
		return c
	}
	return cmp.Compare(d.day, e.day)
}

// Before reports whether d is an earlier day than e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is a later day than e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// AddDays returns the date n calendar days after d (before d if n is negative).
func (d Date) AddDays(n int) Date {
	t := time.Date(d.year, d.month, d.day+n, 0, 0, 0, 0, time.UTC)
	return Date{year: t.Year(), month: t.Month(), day: t.Day()}
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, time.UTC).Weekday()
}

// Start returns the instant d begins in Japan: 00:00 JST. An order "takes effect on" a date at this
// instant (SPEC 2).
func (d Date) Start() time.Time {
	return time.Date(d.year, d.month, d.day, 0, 0, 0, 0, jst)
}

// MarshalText writes "YYYY-MM-DD" (so Dates also work as JSON object keys). The zero Date has no
// text form, and neither has a date that arithmetic carried outside years 1 to 9999 (DateOf or
// AddDays near either end): ParseDate could not read it back, so writing it would store a value
// no reader can decode.
func (d Date) MarshalText() ([]byte, error) {
	if err := d.checkWritable(); err != nil {
		return nil, err
	}
	return []byte(d.String()), nil
}

// checkWritable refuses the dates that have no "YYYY-MM-DD" form ParseDate reads.
func (d Date) checkWritable() error {
	if d.IsZero() {
		return fmt.Errorf("%w: the zero Date has no text form", ErrInvalidDate)
	}
	if d.year < 1 || d.year > 9999 {
		return fmt.Errorf("%w: year %d has no four-digit form", ErrInvalidDate, d.year)
	}
	return nil
}

// UnmarshalText reads "YYYY-MM-DD".
func (d *Date) UnmarshalText(text []byte) error {
	parsed, err := ParseDate(string(text))
	if err != nil {
		return err
	}
	*d = parsed
	return nil
}

// MarshalJSON writes "YYYY-MM-DD" (SPEC 12), or null for the zero Date, so that an unset date such as
// completedOn reads as null rather than as a made-up day. Like MarshalText it refuses a date
// outside years 1 to 9999, which UnmarshalJSON could not read back.
func (d Date) MarshalJSON() ([]byte, error) {
	if d.IsZero() {
		return []byte("null"), nil
	}
	if err := d.checkWritable(); err != nil {
		return nil, err
	}
	return []byte(`"` + d.String() + `"`), nil
}

// UnmarshalJSON reads "YYYY-MM-DD". Like encoding/json itself, it leaves d unchanged on null.
func (d *Date) UnmarshalJSON(data []byte) error {
	if string(data) == "null" {
		return nil
	}
	var s string
	if err := json.Unmarshal(data, &s); err != nil {
		return fmt.Errorf("%w: %s is not a JSON string", ErrInvalidDate, data)
	}
	return d.UnmarshalText([]byte(s))
}
