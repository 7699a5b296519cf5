package calendar

import (
	"sort"
	"strings"
	"testing"
	"time"
)

// The embedded Cabinet Office list and the rules must give the same holidays, with the same names,
// for every year both cover. When a new syukujitsu.csv disagrees with the rules, either the file is
// wrong or the law changed: fix whichever it is before shipping (docs/calendar.md).
func TestRulesAgreeWithTheEmbeddedList(t *testing.T) {
	list, err := parseHolidayList(syukujitsuCSV)
	if err != nil {
		t.Fatal(err)
	}
	compared := 0
	for year := max(list.firstYear, rulesFirstYear); year <= list.lastYear; year++ {
		compared++
		byLaw := holidaysByLaw(year)
		var problems []string
		for d, name := range list.names {
			if d.year == year && byLaw[d] != name {
				problems = append(problems, d.String()+": list says "+name+", rules say "+orNone(byLaw[d]))
			}
		}
		for d, name := range byLaw {
			if _, listed := list.names[d]; !listed {
				problems = append(problems, d.String()+": rules say "+name+", list has nothing")
			}
		}
		sort.Strings(problems)
		if len(problems) > 0 {
			t.Errorf("%d:\n%s", year, strings.Join(problems, "\n"))
		}
	}
	if compared == 0 {
		t.Fatalf("the list (%d–%d) and the rules share no year", list.firstYear, list.lastYear)
	}
}

func orNone(s string) string {
	if s == "" {
		return "nothing"
	}
	return s
}

// The list must reach at least to the current law's era, or the calendar would lean on the rules
// for the years orders are taken in.
func TestEmbeddedListCoversTheServiceYears(t *testing.T) {
	list, err := parseHolidayList(syukujitsuCSV)
	if err != nil {
		t.Fatal(err)
	}
	if list.firstYear > 2020 || list.lastYear < 2027 {
		t.Errorf("embedded list covers %d–%d, want at least 2020–2027", list.firstYear, list.lastYear)
	}
}

// Where the list speaks it is the authority, even against the rules: a one-off holiday by special
// law reaches the calendar by replacing the file, without a code change.
func TestTheListWinsOverTheRules(t *testing.T) {
	list, err := parseHolidayList([]byte("国民の祝日・休日月日,国民の祝日・休日名称\r\n2025/1/1,元日\r\n2025/6/2,臨時の休日\r\n"))
	if err != nil {
		t.Fatal(err)
	}
	cal := &BusinessCalendar{holidays: newHolidayTable(list)}
	tests := []struct {
		name string
		date Date
		want string
	}{
		{"a day only the list knows", MustDate(2025, time.June, 2), "臨時の休日"},
		{"a day the rules know but the list leaves out", MustDate(2025, time.May, 6), ""},
		{"a year after the list comes from the rules", MustDate(2026, time.September, 22), "休日"},
		{"a year before the list comes from the rules", MustDate(2024, time.February, 12), "休日"},
		{"a year outside every precomputed year", MustDate(2150, time.January, 1), "元日"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cal.IsHoliday(tt.date)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("IsHoliday(%s) = %q, %v; want %q", tt.date, got, ok, tt.want)
			}
		})
	}
}

func TestParseHolidayListRefusesBrokenFiles(t *testing.T) {
	tests := []struct {
		name string
		data string
		want string // part of the error
	}{
		{"Shift_JIS as downloaded", "2025/1/1,\x8c\xb3\x93\xfa\r\n", "iconv"},
		{"no name", "2025/1/1,\n", "want"},
		{"no comma", "2025/1/1 元日\n", "want"},
		{"extra column", "2025/1/1,元日,x\n", "want"},
		{"day that does not exist", "2025/2/30,元日\n", "2025/2/30"},
		{"header in the middle", "2025/1/1,元日\n国民の祝日・休日月日,国民の祝日・休日名称\n", "line 2"},
		{"duplicate day", "2025/1/1,元日\n2025/1/1,元日\n", "twice"},
		{"a year missing", "2024/1/1,元日\n2026/1/1,元日\n", "2025"},
		{"empty", "国民の祝日・休日月日,国民の祝日・休日名称\n", "no holidays"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseHolidayList([]byte(tt.data))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("parseHolidayList: err = %v, want one mentioning %q", err, tt.want)
			}
		})
	}
}

func TestParseHolidayListAcceptsTheOfficialLayout(t *testing.T) {
	data := "\uFEFF国民の祝日・休日月日,国民の祝日・休日名称\r\n2025/1/1,元日\r\n2025/1/13,成人の日\r\n"
	list, err := parseHolidayList([]byte(data))
	if err != nil {
		t.Fatal(err)
	}
	if len(list.names) != 2 || list.names[MustDate(2025, time.January, 13)] != "成人の日" ||
		list.firstYear != 2025 || list.lastYear != 2025 {
		t.Errorf("parsed %+v", list)
	}
}

// Equinox days announced by the Cabinet Office, 2020 to 2027, against the formula.
func TestEquinoxFormula(t *testing.T) {
	tests := []struct{ year, march, september int }{
		{2020, 20, 22}, {2021, 20, 23}, {2022, 21, 23}, {2023, 21, 23},
		{2024, 20, 22}, {2025, 20, 23}, {2026, 20, 23}, {2027, 21, 23},
	}
	for _, tt := range tests {
		if m, s := vernalEquinoxDay(tt.year), autumnalEquinoxDay(tt.year); m != tt.march || s != tt.september {
			t.Errorf("%d: equinoxes on 3/%d and 9/%d, want 3/%d and 9/%d", tt.year, m, s, tt.march, tt.september)
		}
	}
}
