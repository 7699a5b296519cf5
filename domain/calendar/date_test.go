package calendar_test

import (
	"encoding/json"
	"errors"
	"testing"
	"time"

	"yorozu/domain/calendar"
)

func TestParseFormDate(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string // "" when the input must be refused
	}{
		{"no leading zeros", "2025/7/1", "2025-07-01"},
		{"leading zeros", "2025/07/01", "2025-07-01"},
		{"two-digit month and day", "2025/12/31", "2025-12-31"},
		{"leap day", "2024/2/29", "2024-02-29"},
		{"February 30 does not exist", "2025/2/30", ""},
		{"February 29 of a common year", "2023/2/29", ""},
		{"April 31", "2025/4/31", ""},
		{"month 13", "2025/13/1", ""},
		{"month 0", "2025/0/1", ""},
		{"day 0", "2025/1/0", ""},
		{"two-digit year", "25/7/1", ""},
		{"year with a leading zero", "0025/7/1", ""},
		{"three-digit month", "2025/007/1", ""},
		{"API form", "2025-07-01", ""},
		{"trailing slash", "2025/7/1/", ""},
		{"surrounding space", " 2025/7/1", ""},
		{"sign", "2025/+7/1", ""},
		{"full-width digits", "２０２５/7/1", ""},
		{"empty", "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := calendar.ParseFormDate(tt.input)
			switch {
			case tt.want == "" && !errors.Is(err, calendar.ErrInvalidDate):
				t.Errorf("ParseFormDate(%q) = %s, %v; want ErrInvalidDate", tt.input, got, err)
			case tt.want != "" && (err != nil || got.String() != tt.want):
				t.Errorf("ParseFormDate(%q) = %s, %v; want %s", tt.input, got, err, tt.want)
			}
		})
	}
}

func TestParseDate(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  string
	}{
		{"API form", "2025-07-01", "2025-07-01"},
		{"single-digit month", "2025-7-01", ""},
		{"form date", "2025/07/01", ""},
		{"day that does not exist", "2025-02-30", ""},
		{"timestamp", "2025-07-01T00:00:00Z", ""},
		{"sign in the month", "2025-+7-01", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := calendar.ParseDate(tt.input)
			switch {
			case tt.want == "" && !errors.Is(err, calendar.ErrInvalidDate):
				t.Errorf("ParseDate(%q) = %s, %v; want ErrInvalidDate", tt.input, got, err)
			case tt.want != "" && (err != nil || got.String() != tt.want):
				t.Errorf("ParseDate(%q) = %s, %v; want %s", tt.input, got, err, tt.want)
			}
		})
	}
}

func TestNewDateRefusesDaysThatDoNotExist(t *testing.T) {
	for _, c := range []struct {
		y, m, d int
	}{{2025, 2, 29}, {2025, 0, 1}, {2025, 13, 1}, {0, 1, 1}, {10000, 1, 1}, {2025, 6, 31}} {
		if _, err := calendar.NewDate(c.y, time.Month(c.m), c.d); !errors.Is(err, calendar.ErrInvalidDate) {
			t.Errorf("NewDate(%d, %d, %d): err = %v, want ErrInvalidDate", c.y, c.m, c.d, err)
		}
	}
}

func TestDateArithmetic(t *testing.T) {
	d := calendar.MustDate(2024, time.February, 28)
	if got := d.AddDays(1).String(); got != "2024-02-29" {
		t.Errorf("leap year: %s + 1 = %s", d, got)
	}
	if got := d.AddDays(2).String(); got != "2024-03-01" {
		t.Errorf("%s + 2 = %s", d, got)
	}
	if got := calendar.MustDate(2026, time.January, 1).AddDays(-1).String(); got != "2025-12-31" {
		t.Errorf("2026-01-01 - 1 = %s", got)
	}
	if wd := calendar.MustDate(2026, time.September, 22).Weekday(); wd != time.Tuesday {
		t.Errorf("2026-09-22 is a %s, want Tuesday", wd)
	}
	a, b := calendar.MustDate(2025, time.July, 2), calendar.MustDate(2025, time.July, 14)
	if !a.Before(b) || a.After(b) || a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Errorf("comparison of %s and %s is wrong", a, b)
	}
	if a != calendar.MustDate(2025, time.July, 2) {
		t.Error("equal dates are not ==")
	}
	if a.Year() != 2025 || a.Month() != time.July || a.Day() != 2 {
		t.Errorf("fields of %s: %d %s %d", a, a.Year(), a.Month(), a.Day())
	}
}

func TestDateStartsAtMidnightInJapan(t *testing.T) {
	d := calendar.MustDate(2025, time.July, 1)
	want := time.Date(2025, time.June, 30, 15, 0, 0, 0, time.UTC)
	if !d.Start().Equal(want) {
		t.Errorf("%s starts at %s, want %s", d, d.Start().UTC(), want)
	}
	if got := calendar.DateOf(want); got != d {
		t.Errorf("DateOf(%s) = %s, want %s", want, got, d)
	}
	if got := calendar.DateOf(want.Add(-time.Nanosecond)); got.String() != "2025-06-30" {
		t.Errorf("DateOf(just before JST midnight) = %s, want 2025-06-30", got)
	}
}

func TestDateJSON(t *testing.T) {
	type order struct {
		ScheduledDate calendar.Date `json:"scheduledDate"`
		CompletedOn   calendar.Date `json:"completedOn"`
	}
	data, err := json.Marshal(order{ScheduledDate: calendar.MustDate(2025, time.July, 14)})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(data), `{"scheduledDate":"2025-07-14","completedOn":null}`; got != want {
		t.Errorf("marshal = %s, want %s", got, want)
	}
	var back order
	if err := json.Unmarshal(data, &back); err != nil || back.ScheduledDate.String() != "2025-07-14" || !back.CompletedOn.IsZero() {
		t.Errorf("unmarshal %s = %+v, %v", data, back, err)
	}
	if err := json.Unmarshal([]byte(`{"scheduledDate":"2025-02-30"}`), &back); !errors.Is(err, calendar.ErrInvalidDate) {
		t.Errorf("unmarshal of 2025-02-30: err = %v, want ErrInvalidDate", err)
	}
	if err := json.Unmarshal([]byte(`{"scheduledDate":20250714}`), &back); !errors.Is(err, calendar.ErrInvalidDate) {
		t.Errorf("unmarshal of a number: err = %v, want ErrInvalidDate", err)
	}

	perDay, err := json.Marshal(map[calendar.Date]int{calendar.MustDate(2025, time.July, 1): 3})
	if err != nil || string(perDay) != `{"2025-07-01":3}` {
		t.Errorf("map keyed by Date = %s, %v", perDay, err)
	}
}

// Arithmetic can carry a date past the years that have a four-digit form; such a date must not be
// written, or a store would keep a value ParseDate cannot read back.
func TestDatesOutsideFourDigitYearsHaveNoTextForm(t *testing.T) {
	for name, d := range map[string]calendar.Date{
		"the day after 9999-12-31":     calendar.MustDate(9999, time.December, 31).AddDays(1),
		"the day before 0001-01-01":    calendar.MustDate(1, time.January, 1).AddDays(-1),
		"a JST date in the year 10000": calendar.DateOf(time.Date(9999, 12, 31, 16, 0, 0, 0, time.UTC)),
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := d.MarshalText(); !errors.Is(err, calendar.ErrInvalidDate) {
				t.Errorf("MarshalText(%s): err = %v, want ErrInvalidDate", d, err)
			}
			if _, err := json.Marshal(struct{ D calendar.Date }{d}); !errors.Is(err, calendar.ErrInvalidDate) {
				t.Errorf("json.Marshal(%s): err = %v, want ErrInvalidDate", d, err)
			}
		})
	}
	last := calendar.MustDate(9999, time.December, 31)
	data, err := json.Marshal(last)
	if err != nil {
		t.Fatal(err)
	}
	var back calendar.Date
	if err := json.Unmarshal(data, &back); err != nil || back != last {
		t.Fatalf("9999-12-31 does not round-trip: %s, %v", data, err)
	}
}

func TestServiceRange(t *testing.T) {
	for d, want := range map[calendar.Date]bool{
		calendar.MustDate(1999, time.December, 31): false,
		calendar.MustDate(2000, time.January, 1):   true,
		calendar.MustDate(2100, time.December, 31): true,
		calendar.MustDate(2101, time.January, 1):   false,
		{}:                                         false,
	} {
		if got := d.InServiceRange(); got != want {
			t.Errorf("%s.InServiceRange() = %v, want %v", d, got, want)
		}
	}
	// An instant counts by its JST date: 2100-12-31T15:00Z is already 2101-01-01 in Japan.
	if !calendar.InstantInServiceRange(time.Date(2100, 12, 31, 14, 59, 0, 0, time.UTC)) ||
		calendar.InstantInServiceRange(time.Date(2100, 12, 31, 15, 0, 0, 0, time.UTC)) ||
		calendar.InstantInServiceRange(time.Date(1999, 12, 31, 14, 59, 0, 0, time.UTC)) ||
		!calendar.InstantInServiceRange(time.Date(1999, 12, 31, 15, 0, 0, 0, time.UTC)) {
		t.Error("instants are not counted by their JST date")
	}
}
