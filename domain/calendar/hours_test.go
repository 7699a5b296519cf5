package calendar_test

import (
	"testing"
	"time"

	"yorozu/domain/calendar"
)

func TestIsBusinessHours(t *testing.T) {
	cal := calendar.New()
	second := time.Second
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"just before opening", jst(2025, 7, 1, 9, 30).Add(-second), false},
		{"opening", jst(2025, 7, 1, 9, 30), true},
		{"last second of the morning", jst(2025, 7, 1, 12, 0).Add(-second), true},
		{"lunch starts at 12:00", jst(2025, 7, 1, 12, 0), false},
		{"lunch", jst(2025, 7, 1, 12, 59), false},
		{"afternoon opening", jst(2025, 7, 1, 13, 0), true},
		{"last second of the day", jst(2025, 7, 1, 17, 30).Add(-second), true},
		{"closing", jst(2025, 7, 1, 17, 30), false},
		{"Saturday morning", jst(2025, 7, 5, 10, 0), false},
		{"national holiday", jst(2025, 7, 21, 10, 0), false},
		{"year-end break", jst(2025, 12, 30, 10, 0), false},
		{"UTC instant judged in JST", time.Date(2025, 7, 1, 1, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.IsBusinessHours(tt.at); got != tt.want {
				t.Errorf("IsBusinessHours(%s) = %v, want %v", tt.at, got, tt.want)
			}
		})
	}
}

func TestAddBusinessHours(t *testing.T) {
	cal := calendar.New()
	h, m := time.Hour, time.Minute
	tests := []struct {
		name  string
		start time.Time
		d     time.Duration
		want  time.Time
	}{
		{"e-mail received Friday 16:00 (SPEC 6)", jst(2025, 7, 4, 16, 0), 7 * h, jst(2025, 7, 7, 16, 0)},
		{"e-mail received Saturday (SPEC 6)", jst(2025, 7, 5, 10, 0), 7 * h, jst(2025, 7, 7, 17, 30)},
		{"e-mail received at the opening is due at the closing", jst(2025, 7, 1, 9, 30), 7 * h, jst(2025, 7, 1, 17, 30)},
		{"across lunch", jst(2025, 7, 1, 11, 0), 2 * h, jst(2025, 7, 1, 14, 0)},
		{"due exactly at the end of the morning is 12:00, not 13:00", jst(2025, 7, 1, 9, 30), 2*h + 30*m, jst(2025, 7, 1, 12, 0)},
		{"due exactly at the end of the day is 17:30, not next morning", jst(2025, 7, 1, 16, 0), 90 * m, jst(2025, 7, 1, 17, 30)},
		{"received during lunch counts from 13:00", jst(2025, 7, 1, 12, 30), 1 * h, jst(2025, 7, 1, 14, 0)},
		{"received at 12:00 counts from 13:00", jst(2025, 7, 1, 12, 0), 30 * m, jst(2025, 7, 1, 13, 30)},
		{"received before opening", jst(2025, 7, 1, 8, 0), 1 * h, jst(2025, 7, 1, 10, 30)},
		{"received after closing", jst(2025, 7, 1, 18, 0), 1 * h, jst(2025, 7, 2, 10, 30)},
		{"received at the closing", jst(2025, 7, 1, 17, 30), 1 * m, jst(2025, 7, 2, 9, 31)},
		{"across a weekend", jst(2025, 7, 4, 17, 0), 1 * h, jst(2025, 7, 7, 10, 0)},
		{"across a national holiday", jst(2025, 7, 18, 17, 0), 1 * h, jst(2025, 7, 22, 10, 0)},
		{"across Golden Week", jst(2025, 5, 2, 17, 0), 1 * h, jst(2025, 5, 7, 10, 0)},
		{"across the year-end break", jst(2025, 12, 26, 16, 0), 7 * h, jst(2026, 1, 5, 16, 0)},
		{"received in the year-end break", jst(2025, 12, 31, 10, 0), 7 * h, jst(2026, 1, 5, 17, 30)},
		{"two business days", jst(2025, 7, 7, 9, 30), 14 * h, jst(2025, 7, 8, 17, 30)},
		{"SLA: received 10:00 is due 10:00 the next business day", jst(2025, 7, 1, 10, 0), 7 * h, jst(2025, 7, 2, 10, 0)},
		{"SLA: received in lunch, due exactly at the next day's 12:00", jst(2025, 7, 1, 12, 30), 7 * h, jst(2025, 7, 2, 12, 0)},
		{"SLA: received 14:30 Friday, due at the close on Monday", jst(2025, 7, 4, 14, 30), 7 * h, jst(2025, 7, 7, 14, 30)},
		{"SLA across Golden Week (05-03 to 05-06 off)", jst(2025, 5, 2, 14, 0), 7 * h, jst(2025, 5, 7, 14, 0)},
		{"SLA received on a Golden Week holiday", jst(2025, 5, 5, 11, 0), 7 * h, jst(2025, 5, 7, 17, 30)},
		{"SLA received the last business day before the break", jst(2025, 12, 26, 17, 0), 7 * h, jst(2026, 1, 5, 17, 0)},
		{"SLA over Silver Week 2026 (09-21 to 09-23 off), due at 12:00 exactly", jst(2026, 9, 18, 12, 0), 7 * h, jst(2026, 9, 24, 12, 0)},
		{"zero is the start itself", jst(2025, 7, 5, 10, 0), 0, jst(2025, 7, 5, 10, 0)},
		{"start given in UTC", time.Date(2025, 7, 4, 7, 0, 0, 0, time.UTC), 7 * h, jst(2025, 7, 7, 16, 0)},
		{"back across lunch", jst(2025, 7, 1, 14, 0), -2 * h, jst(2025, 7, 1, 11, 0)},
		{"back to exactly the afternoon opening is 13:00, not 12:00", jst(2025, 7, 1, 14, 0), -1 * h, jst(2025, 7, 1, 13, 0)},
		{"back across a weekend", jst(2025, 7, 7, 16, 0), -7 * h, jst(2025, 7, 4, 16, 0)},
		{"back from a Saturday", jst(2025, 7, 5, 10, 0), -30 * m, jst(2025, 7, 4, 17, 0)},
		{"back across the year-end break", jst(2026, 1, 5, 10, 0), -1 * h, jst(2025, 12, 26, 17, 0)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.AddBusinessHours(tt.start, tt.d)
			if !got.Equal(tt.want) {
				t.Errorf("AddBusinessHours(%s, %s) = %s, want %s", tt.start, tt.d, got, tt.want)
			}
			if got.Location() != calendar.JST() {
				t.Errorf("AddBusinessHours returned %s in %s, want JST", got, got.Location())
			}
		})
	}
}

// AddBusinessHours against the definition, counted minute by minute with IsBusinessHours: the due
// time is the end of the minute in which d of business time is used up. Starts every 37 minutes over
// a working week, a weekend, a holiday and the year-end break. Going back the same d from a start
// inside business hours must return to that start.
func TestAddBusinessHoursAgreesWithCountingMinutes(t *testing.T) {
	cal := calendar.New()
	durations := []time.Duration{time.Minute, 150 * time.Minute, 7 * time.Hour, 7*time.Hour + time.Minute}
	from, to := jst(2025, 12, 18, 0, 0), jst(2026, 1, 7, 0, 0)
	if testing.Short() {
		to = jst(2025, 12, 23, 0, 0)
	}
	for start := from; start.Before(to); start = start.Add(37 * time.Minute) {
		for _, d := range durations {
			want := countBusinessMinutes(cal, start, d)
			got := cal.AddBusinessHours(start, d)
			if !got.Equal(want) {
				t.Fatalf("AddBusinessHours(%s, %s) = %s, counting minutes gives %s", start, d, got, want)
			}
			if cal.IsBusinessHours(start) {
				if back := cal.AddBusinessHours(got, -d); !back.Equal(start) {
					t.Fatalf("AddBusinessHours(%s, -%s) = %s, want the start %s", got, d, back, start)
				}
			}
		}
	}
}

func countBusinessMinutes(cal *calendar.BusinessCalendar, start time.Time, d time.Duration) time.Time {
	// Starts here are whole minutes, so minute steps line up with the block edges.
	t := start
	for left := d; left > 0; t = t.Add(time.Minute) {
		if cal.IsBusinessHours(t) {
			left -= time.Minute
		}
	}
	return t
}
