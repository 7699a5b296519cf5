package calendar

import "time"

// businessBlocks are the business hours of a business day as offsets from 00:00 JST (docs/product.md): two
// blocks, 7 hours in all. Each block is half-open: 12:00 and 17:30 are already outside. Offsets are
// safe because Japan has no daylight saving.
var businessBlocks = [...]struct{ open, close time.Duration }{
	{open: 9*time.Hour + 30*time.Minute, close: 12 * time.Hour},
	{open: 13 * time.Hour, close: 17*time.Hour + 30*time.Minute},
}

// IsBusinessHours reports whether instant t falls in business hours: on a business day, from 09:30 to
// before 12:00 or from 13:00 to before 17:30 JST.
func (b *BusinessCalendar) IsBusinessHours(t time.Time) bool {
	d := DateOf(t)
	if !b.IsBusinessDay(d) {
		return false
	}
	since := t.Sub(d.Start())
	for _, blk := range businessBlocks {
		if since >= blk.open && since < blk.close {
			return true
		}
	}
	return false
}

// AddBusinessHours returns the instant at which d of business-hours time has passed since start: the
// due time of an SLA (docs/consultations.md). Only time inside business hours counts, so a start outside them counts
// from the next opening (received Saturday, 7 hours: Monday 17:30; received Friday 16:00: Monday
// 16:00). A due time that lands exactly on the end of a block is that end (12:00, not 13:00; 17:30,
// not the next morning). d = 0 returns start.
//
// A negative d counts back: the latest instant from which -d of business time leads up to start; one
// that lands exactly on the start of a block is that start (13:00, not 12:00).
//
// The result is in JST.
func (b *BusinessCalendar) AddBusinessHours(start time.Time, d time.Duration) time.Time {
	switch {
	case d < 0:
		return b.subtractBusinessHours(start.In(jst), -d)
	case d == 0:
		return start.In(jst)
	}
	t, left := start.In(jst), d
	day := DateOf(t)
	for {
		if b.IsBusinessDay(day) {
			dayStart := day.Start()
			for _, blk := range businessBlocks {
				opens, closes := dayStart.Add(blk.open), dayStart.Add(blk.close)
				if !t.Before(closes) {
					continue
				}
				if t.Before(opens) {
					t = opens
				}
				// <=, not <: time that runs out exactly at the close is due at the close.
				avail := closes.Sub(t)
				if left <= avail {
					return t.Add(left)
				}
				left -= avail
				t = closes
			}
		}
		day = b.NextBusinessDay(day)
		t = day.Start()
	}
}

func (b *BusinessCalendar) subtractBusinessHours(t time.Time, left time.Duration) time.Time {
	day := DateOf(t)
	for {
		if b.IsBusinessDay(day) {
			dayStart := day.Start()
			for i := len(businessBlocks) - 1; i >= 0; i-- {
				opens, closes := dayStart.Add(businessBlocks[i].open), dayStart.Add(businessBlocks[i].close)
				if !t.After(opens) {
					continue
				}
				if t.After(closes) {
					t = closes
				}
				avail := t.Sub(opens)
				if left <= avail {
					return t.Add(-left)
				}
				left -= avail
				t = opens
			}
		}
		day = b.AddBusinessDays(day, -1)
		t = day.AddDays(1).Start() // the end of that day; the loop clamps it to the last close
	}
}
