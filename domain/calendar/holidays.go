package calendar

import (
	_ "embed"
	"errors"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// syukujitsuCSV is the Cabinet Office list of national holidays (内閣府「国民の祝日」について,
// syukujitsu.csv), converted to UTF-8. The official file is the authority for every year it lists;
// replace it when the Cabinet Office publishes the next year (docs/calendar.md).
//
//go:embed syukujitsu.csv
var syukujitsuCSV []byte

// officialHolidays parses the embedded list once, on first use.
var officialHolidays = sync.OnceValue(func() *holidayTable {
	list, err := parseHolidayList(syukujitsuCSV)
	if err != nil {
		panic(err) // the package tests parse the same bytes, so a release never gets here
	}
	return newHolidayTable(list)
})

// holidayList is a parsed syukujitsu.csv: every holiday of the years firstYear to lastYear.
type holidayList struct {
	names               map[Date]string
	firstYear, lastYear int
}

// parseHolidayList reads the Cabinet Office format: an optional header line, then one "YYYY/M/D,name"
// line per holiday. The official download is Shift_JIS (CP932); it must be converted to UTF-8 first,
// and a file that is not UTF-8 is refused rather than read as garbage names.
func parseHolidayList(data []byte) (holidayList, error) {
	if !utf8.Valid(data) {
		return holidayList{}, errors.New("syukujitsu.csv: not UTF-8; the Cabinet Office file is Shift_JIS, convert it with iconv -f CP932 -t UTF-8")
	}
	text := strings.TrimPrefix(string(data), "\uFEFF")
	list := holidayList{names: make(map[Date]string)}
	years := make(map[int]bool)
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimRight(line, "\r")
		if line == "" || (i == 0 && !startsWithDigit(line)) {
			continue
		}
		dateText, name, ok := strings.Cut(line, ",")
		name = strings.TrimSpace(name)
		if !ok || name == "" || strings.Contains(name, ",") {
			return holidayList{}, fmt.Errorf("syukujitsu.csv line %d: want \"YYYY/M/D,name\", got %q", i+1, line)
		}
		d, err := ParseFormDate(strings.TrimSpace(dateText))
		if err != nil {
			return holidayList{}, fmt.Errorf("syukujitsu.csv line %d: %w", i+1, err)
		}
		if prev, dup := list.names[d]; dup {
			return holidayList{}, fmt.Errorf("syukujitsu.csv line %d: %s listed twice (%s, %s)", i+1, d, prev, name)
		}
		list.names[d] = name
		years[d.year] = true
		if list.firstYear == 0 || d.year < list.firstYear {
			list.firstYear = d.year
		}
		list.lastYear = max(list.lastYear, d.year)
	}
	if len(list.names) == 0 {
		return holidayList{}, errors.New("syukujitsu.csv: no holidays")
	}
	// A year without a single holiday is a hole in the file, not a year without holidays: answering
	// "no holiday" for it would silently make every day a business day.
	for y := list.firstYear; y <= list.lastYear; y++ {
		if !years[y] {
			return holidayList{}, fmt.Errorf("syukujitsu.csv: no holidays listed for %d", y)
		}
	}
	return list, nil
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

// holidayTable answers IsHoliday: from the official list for the years it covers, by the law's rules
// for the others. Rules for the years around the list are computed once, up front.
type holidayTable struct {
	names     map[Date]string // complete for every year from firstYear to lastYear
	firstYear int
	lastYear  int
}

func newHolidayTable(list holidayList) *holidayTable {
	t := &holidayTable{
		names:     make(map[Date]string, len(list.names)+20*(rulesLastYear-rulesFirstYear+1)),
		firstYear: min(list.firstYear, rulesFirstYear),
		lastYear:  max(list.lastYear, rulesLastYear),
	}
	for d, name := range list.names {
		t.names[d] = name
	}
	for y := t.firstYear; y <= t.lastYear; y++ {
		if y >= list.firstYear && y <= list.lastYear {
			continue // the official list wins where it speaks
		}
		for d, name := range holidaysByLaw(y) {
			t.names[d] = name
		}
	}
	return t
}

func (t *holidayTable) lookup(d Date) (string, bool) {
	if d.year < t.firstYear || d.year > t.lastYear {
		name, ok := holidaysByLaw(d.year)[d]
		return name, ok
	}
	name, ok := t.names[d]
	return name, ok
}
