package calendar

import "time"

// FirstYear and LastYear bound the dates the service takes from outside: form dates, dates and
// months in queries and paths, instants such as an acceptance time. Every date the service
// derives from one (an acceptance day plus a lead time, the month after a closed month, a
// scheduled date) then stays far inside the years 1 to 9999 that dates and instants can be
// written and read back in. The range is wide enough for any real order: the service started
// taking orders in the 2020s, and a form dated in the next century is a typing mistake.
const (
	FirstYear = 2000
	LastYear  = 2100
)

// InServiceRange reports whether d falls in the years FirstYear to LastYear. The zero Date does not.
func (d Date) InServiceRange() bool {
	return d.year >= FirstYear && d.year <= LastYear
}

// InstantInServiceRange reports whether instant t falls on a JST date in the years FirstYear to
// LastYear.
func InstantInServiceRange(t time.Time) bool {
	return DateOf(t).InServiceRange()
}
