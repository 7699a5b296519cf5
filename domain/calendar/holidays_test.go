package calendar_test

import (
	"sort"
	"strings"
	"testing"
	"time"

	"yorozu/domain/calendar"
)

// holidaysOf asks the calendar about every day of year, so that a test sees extra holidays as well as
// missing ones.
func holidaysOf(cal *calendar.BusinessCalendar, year int) map[string]string {
	got := make(map[string]string)
	for d := calendar.MustDate(year, time.January, 1); d.Year() == year; d = d.AddDays(1) {
		if name, ok := cal.IsHoliday(d); ok {
			got[d.String()] = name
		}
	}
	return got
}

func diffHolidays(t *testing.T, year int, got, want map[string]string) {
	t.Helper()
	var problems []string
	for d, name := range want {
		if got[d] != name {
			problems = append(problems, d+": got "+quoteOrNone(got[d])+", want "+name)
		}
	}
	for d, name := range got {
		if _, ok := want[d]; !ok {
			problems = append(problems, d+": extra holiday "+name)
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		t.Errorf("holidays of %d differ:\n%s", year, strings.Join(problems, "\n"))
	}
}

func quoteOrNone(s string) string {
	if s == "" {
		return "no holiday"
	}
	return s
}

// The Cabinet Office list (syukujitsu.csv) for the years orders are being taken for, written out
// here independently of the embedded file.
func TestHolidaysAreTheOfficialList(t *testing.T) {
	cal := calendar.New()
	official := map[int]map[string]string{
		2025: {
			"2025-01-01": "元日", "2025-01-13": "成人の日", "2025-02-11": "建国記念の日",
			"2025-02-23": "天皇誕生日", "2025-02-24": "休日", "2025-03-20": "春分の日",
			"2025-04-29": "昭和の日", "2025-05-03": "憲法記念日", "2025-05-04": "みどりの日",
			"2025-05-05": "こどもの日", "2025-05-06": "休日", "2025-07-21": "海の日",
			"2025-08-11": "山の日", "2025-09-15": "敬老の日", "2025-09-23": "秋分の日",
			"2025-10-13": "スポーツの日", "2025-11-03": "文化の日", "2025-11-23": "勤労感謝の日",
			"2025-11-24": "休日",
		},
		2026: {
			"2026-01-01": "元日", "2026-01-12": "成人の日", "2026-02-11": "建国記念の日",
			"2026-02-23": "天皇誕生日", "2026-03-20": "春分の日", "2026-04-29": "昭和の日",
			"2026-05-03": "憲法記念日", "2026-05-04": "みどりの日", "2026-05-05": "こどもの日",
			"2026-05-06": "休日", "2026-07-20": "海の日", "2026-08-11": "山の日",
			"2026-09-21": "敬老の日", "2026-09-22": "休日", "2026-09-23": "秋分の日",
			"2026-10-12": "スポーツの日", "2026-11-03": "文化の日", "2026-11-23": "勤労感謝の日",
		},
		2027: {
			"2027-01-01": "元日", "2027-01-11": "成人の日", "2027-02-11": "建国記念の日",
			"2027-02-23": "天皇誕生日", "2027-03-21": "春分の日", "2027-03-22": "休日",
			"2027-04-29": "昭和の日", "2027-05-03": "憲法記念日", "2027-05-04": "みどりの日",
			"2027-05-05": "こどもの日", "2027-07-19": "海の日", "2027-08-11": "山の日",
			"2027-09-20": "敬老の日", "2027-09-23": "秋分の日", "2027-10-11": "スポーツの日",
			"2027-11-03": "文化の日", "2027-11-23": "勤労感謝の日",
		},
	}
	for year, want := range official {
		diffHolidays(t, year, holidaysOf(cal, year), want)
	}
}

// Years after the embedded list come from the rules of the holiday law; docs/product.md asks for 2030.
func TestHolidaysAfterTheListFollowTheLaw(t *testing.T) {
	cal := calendar.New()
	computed := map[int]map[string]string{
		2028: {
			"2028-01-01": "元日", "2028-01-10": "成人の日", "2028-02-11": "建国記念の日",
			"2028-02-23": "天皇誕生日", "2028-03-20": "春分の日", "2028-04-29": "昭和の日",
			"2028-05-03": "憲法記念日", "2028-05-04": "みどりの日", "2028-05-05": "こどもの日",
			"2028-07-17": "海の日", "2028-08-11": "山の日", "2028-09-18": "敬老の日",
			"2028-09-22": "秋分の日", "2028-10-09": "スポーツの日", "2028-11-03": "文化の日",
			"2028-11-23": "勤労感謝の日",
		},
		2029: {
			"2029-01-01": "元日", "2029-01-08": "成人の日", "2029-02-11": "建国記念の日",
			"2029-02-12": "休日", "2029-02-23": "天皇誕生日", "2029-03-20": "春分の日",
			"2029-04-29": "昭和の日", "2029-04-30": "休日", "2029-05-03": "憲法記念日",
			"2029-05-04": "みどりの日", "2029-05-05": "こどもの日", "2029-07-16": "海の日",
			"2029-08-11": "山の日", "2029-09-17": "敬老の日", "2029-09-23": "秋分の日",
			"2029-09-24": "休日", "2029-10-08": "スポーツの日", "2029-11-03": "文化の日",
			"2029-11-23": "勤労感謝の日",
		},
		2030: {
			"2030-01-01": "元日", "2030-01-14": "成人の日", "2030-02-11": "建国記念の日",
			"2030-02-23": "天皇誕生日", "2030-03-20": "春分の日", "2030-04-29": "昭和の日",
			"2030-05-03": "憲法記念日", "2030-05-04": "みどりの日", "2030-05-05": "こどもの日",
			"2030-05-06": "休日", "2030-07-15": "海の日", "2030-08-11": "山の日",
			"2030-08-12": "休日", "2030-09-16": "敬老の日", "2030-09-23": "秋分の日",
			"2030-10-14": "スポーツの日", "2030-11-03": "文化の日", "2030-11-04": "休日",
			"2030-11-23": "勤労感謝の日",
		},
	}
	for year, want := range computed {
		diffHolidays(t, year, holidaysOf(cal, year), want)
	}
}

func TestKnownHolidayCases(t *testing.T) {
	cal := calendar.New()
	tests := []struct {
		name string
		date string
		want string // "" for "not a holiday"
	}{
		{"substitute for Greenery Day on a Sunday, past Children's Day", "2025-05-06", "休日"},
		{"citizens' holiday between Respect for the Aged Day and the equinox", "2026-09-22", "休日"},
		{"vernal equinox on a Sunday", "2027-03-21", "春分の日"},
		{"substitute for the vernal equinox", "2027-03-22", "休日"},
		{"Olympics 2020: Marine Day moved to the day before the opening", "2020-07-23", "海の日"},
		{"Olympics 2020: Sports Day moved to the opening day", "2020-07-24", "スポーツの日"},
		{"Olympics 2020: Mountain Day moved to the day after the closing", "2020-08-10", "山の日"},
		{"Olympics 2020: usual Marine Day is a working Monday", "2020-07-20", ""},
		{"Olympics 2020: usual Sports Day is a working Monday", "2020-10-12", ""},
		{"Olympics 2021: Marine Day moved", "2021-07-22", "海の日"},
		{"Olympics 2021: Sports Day moved", "2021-07-23", "スポーツの日"},
		{"Olympics 2021: Mountain Day moved to a Sunday", "2021-08-08", "山の日"},
		{"Olympics 2021: substitute for Mountain Day", "2021-08-09", "休日"},
		{"Olympics 2021: usual Marine Day is a working Monday", "2021-07-19", ""},
		{"Olympics 2021: usual Mountain Day is a working day", "2021-08-11", ""},
		{"Olympics 2021: usual Sports Day is a working Monday", "2021-10-11", ""},
		{"substitute for New Year's Day on a Sunday", "2023-01-02", "休日"},
		{"autumnal equinox on a Sunday (rules)", "2029-09-24", "休日"},
		{"citizens' holiday in a later Silver Week (rules)", "2032-09-21", "休日"},
		{"year-end break is no national holiday", "2025-12-30", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cal.IsHoliday(mustParse(t, tt.date))
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("IsHoliday(%s) = %q, %v; want %q", tt.date, got, ok, tt.want)
			}
		})
	}
}

// Years before the embedded list are computed too; these are days from the Cabinet Office list.
func TestHolidaysBeforeTheList(t *testing.T) {
	cal := calendar.New()
	tests := []struct {
		name string
		date string
		want string
	}{
		{"enthronement day 2019", "2019-05-01", "休日（祝日扱い）"},
		{"citizens' holiday before the enthronement", "2019-04-30", "休日"},
		{"citizens' holiday after the enthronement", "2019-05-02", "休日"},
		{"substitute for Children's Day 2019", "2019-05-06", "休日"},
		{"enthronement ceremony", "2019-10-22", "休日（祝日扱い）"},
		{"Health and Sports Day under its old name", "2019-10-14", "体育の日"},
		{"no Emperor's Birthday in 2019", "2019-12-23", ""},
		{"substitute for Emperor's Birthday under Heisei", "2018-12-24", "休日"},
		{"first Mountain Day", "2016-08-11", "山の日"},
		{"Silver Week 2015", "2015-09-22", "休日"},
		{"Silver Week 2009", "2009-09-22", "休日"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := cal.IsHoliday(mustParse(t, tt.date))
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("IsHoliday(%s) = %q, %v; want %q", tt.date, got, ok, tt.want)
			}
		})
	}
}

func TestBusinessDay(t *testing.T) {
	cal := calendar.New()
	tests := []struct {
		name string
		date string
		want bool
	}{
		{"ordinary Tuesday", "2025-07-01", true},
		{"Saturday", "2025-07-05", false},
		{"Sunday", "2025-07-06", false},
		{"national holiday on a Monday", "2025-07-21", false},
		{"citizens' holiday", "2026-09-22", false},
		{"last business day before the year-end break", "2025-12-26", true},
		{"year-end break starts Dec 29", "2025-12-29", false},
		{"year-end break Dec 31", "2025-12-31", false},
		{"New Year's Day", "2026-01-01", false},
		{"year-end break on a weekday Jan 2", "2026-01-02", false},
		{"year-end break ends Jan 3 (a weekday in 2025)", "2025-01-03", false},
		{"first business day after the break", "2026-01-05", true},
		{"Dec 28 on a weekday is still worked", "2026-12-28", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.IsBusinessDay(mustParse(t, tt.date)); got != tt.want {
				t.Errorf("IsBusinessDay(%s) = %v, want %v", tt.date, got, tt.want)
			}
		})
	}
}

func TestAddBusinessDays(t *testing.T) {
	cal := calendar.New()
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"new order lead time (docs/product.md example)", "2025-07-02", 8, "2025-07-14"},
		{"cancel lead time over Marine Day", "2025-07-15", 5, "2025-07-23"},
		{"zero is the same day", "2025-07-02", 0, "2025-07-02"},
		{"zero is the same day even on a Saturday", "2025-07-05", 0, "2025-07-05"},
		{"next business day over Golden Week", "2025-05-02", 1, "2025-05-07"},
		{"next business day over the year-end break", "2025-12-26", 1, "2026-01-05"},
		{"from a weekend", "2025-07-05", 1, "2025-07-07"},
		{"opening notice one business day before scheduledDate", "2025-07-14", -1, "2025-07-11"},
		{"opening notice before a scheduledDate after the break", "2026-01-05", -1, "2025-12-26"},
		{"one business day before a holiday", "2026-09-22", -1, "2026-09-18"},
		{"back over Silver Week 2026", "2026-09-24", -1, "2026-09-18"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := cal.AddBusinessDays(mustParse(t, tt.from), tt.n)
			if got.String() != tt.want {
				t.Errorf("AddBusinessDays(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
}

func TestNextBusinessDay(t *testing.T) {
	cal := calendar.New()
	if got := cal.NextBusinessDay(mustParse(t, "2026-09-18")); got.String() != "2026-09-24" {
		t.Errorf("NextBusinessDay(2026-09-18) = %s, want 2026-09-24 (Silver Week)", got)
	}
}

func TestAcceptanceDay(t *testing.T) {
	cal := calendar.New()
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"business day after 15:00 (docs/product.md example)", jst(2025, 7, 1, 16, 0), "2025-07-02"},
		{"business day before 15:00", jst(2025, 7, 1, 14, 59).Add(59 * time.Second), "2025-07-01"},
		{"exactly 15:00 counts as after", jst(2025, 7, 1, 15, 0), "2025-07-02"},
		{"early morning counts as that day", jst(2025, 7, 1, 0, 30), "2025-07-01"},
		{"Friday after 15:00 goes to Monday", jst(2025, 7, 4, 15, 30), "2025-07-07"},
		{"Saturday", jst(2025, 7, 5, 10, 0), "2025-07-07"},
		{"national holiday", jst(2025, 7, 21, 10, 0), "2025-07-22"},
		{"year-end break", jst(2025, 12, 30, 10, 0), "2026-01-05"},
		{"last day before the break, late", jst(2025, 12, 26, 15, 0), "2026-01-05"},
		{"instant given in UTC is judged in JST", time.Date(2025, 7, 1, 5, 59, 0, 0, time.UTC), "2025-07-01"},
		{"UTC evening is the next JST morning", time.Date(2025, 6, 30, 15, 30, 0, 0, time.UTC), "2025-07-01"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cal.AcceptanceDay(tt.at); got.String() != tt.want {
				t.Errorf("AcceptanceDay(%s) = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

// docs/product.md: a new order accepted 2025-07-01 16:00 JST counts from 2025-07-02 and can open on
// 2025-07-14 at the earliest.
func TestEarliestDateOfANewOrder(t *testing.T) {
	cal := calendar.New()
	acceptance := cal.AcceptanceDay(jst(2025, 7, 1, 16, 0))
	earliest := cal.AddBusinessDays(acceptance, 8)
	if acceptance.String() != "2025-07-02" || earliest.String() != "2025-07-14" {
		t.Errorf("acceptance day %s, earliest date %s; want 2025-07-02, 2025-07-14", acceptance, earliest)
	}
}

func TestZeroBusinessCalendarIsTheServiceCalendar(t *testing.T) {
	var cal calendar.BusinessCalendar
	if name, ok := cal.IsHoliday(mustParse(t, "2026-09-22")); !ok || name != "休日" {
		t.Errorf("zero BusinessCalendar: IsHoliday(2026-09-22) = %q, %v", name, ok)
	}
}

func mustParse(t *testing.T, s string) calendar.Date {
	t.Helper()
	d, err := calendar.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func jst(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, calendar.JST())
}
