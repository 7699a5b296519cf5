package calendar

import "time"

// The rules below are those of 国民の祝日に関する法律 (Act on National Holidays, 昭和23年法律第178号)
// as amended up to now, with the one-off moves of the special laws, written down as they stand from
// rulesFirstYear: 2007 is when 昭和の日 and today's substitute-holiday rule took effect. The equinox
// formula holds to rulesLastYear. Outside those years the same code still answers, but nobody has
// checked it against a real calendar.
const (
	rulesFirstYear = 2007
	rulesLastYear  = 2099
)

// Names as the Cabinet Office list writes them.
const (
	substituteOrCitizensHoliday = "休日"       // 振替休日 (art. 3(2)) and 国民の休日 (art. 3(3)) alike
	treatedAsNationalHoliday    = "休日（祝日扱い）" // 2019 enthronement days, by special law
)

// holidaysByLaw returns every holiday of year computed by the rules: the national holidays of
// article 2, then the substitute and citizens' holidays they cause (article 3).
func holidaysByLaw(year int) map[Date]string {
	national := make(map[Date]string, 20)
	add := func(month time.Month, day int, name string) {
		national[Date{year: year, month: month, day: day}] = name
	}

	add(time.January, 1, "元日")
	add(time.January, nthMonday(year, time.January, 2), "成人の日")
	add(time.February, 11, "建国記念の日")
	switch {
	case year >= 2020:
		add(time.February, 23, "天皇誕生日")
	case year <= 2018:
		add(time.December, 23, "天皇誕生日")
	} // 2019 had none: the abdication fell between the two birthdays.
	add(time.March, vernalEquinoxDay(year), "春分の日")
	add(time.April, 29, "昭和の日")
	add(time.May, 3, "憲法記念日")
	add(time.May, 4, "みどりの日")
	add(time.May, 5, "こどもの日")
	add(time.September, nthMonday(year, time.September, 3), "敬老の日")
	add(time.September, autumnalEquinoxDay(year), "秋分の日")
	add(time.November, 3, "文化の日")
	add(time.November, 23, "勤労感謝の日")

	// 海の日, スポーツの日 and 山の日 moved to the Tokyo Olympics' opening and closing days, by the
	// Tokyo Olympic and Paralympic Games special measures act (東京オリンピック競技大会・東京パラリンピッ
	// ク競技大会特別措置法), as amended in 2018 for 2020 and again in 2020 for the postponed games.
	switch year {
	case 2020:
		add(time.July, 23, "海の日")
		add(time.July, 24, "スポーツの日")
		add(time.August, 10, "山の日")
	case 2021:
		add(time.July, 22, "海の日")
		add(time.July, 23, "スポーツの日")
		add(time.August, 8, "山の日")
	default:
		add(time.July, nthMonday(year, time.July, 3), "海の日")
		if year >= 2016 {
			add(time.August, 11, "山の日")
		}
		if year >= 2020 {
			add(time.October, nthMonday(year, time.October, 2), "スポーツの日")
		} else {
			add(time.October, nthMonday(year, time.October, 2), "体育の日")
		}
	}

	// 即位の日 and 即位礼正殿の儀 (天皇の即位の日及び即位礼正殿の儀の行われる日を休日とする法律): days
	// off that count as national holidays, so they also make 2019-04-30 and 2019-05-02 citizens'
	// holidays below.
	if year == 2019 {
		add(time.May, 1, treatedAsNationalHoliday)
		add(time.October, 22, treatedAsNationalHoliday)
	}

	all := make(map[Date]string, len(national)+4)
	for d, name := range national {
		all[d] = name
		// Art. 3(2): a national holiday on a Sunday makes the nearest following day that is not a
		// national holiday a day off (Sunday 5/3 → Wednesday 5/6, past 5/4 and 5/5).
		if d.Weekday() == time.Sunday {
			sub := d.AddDays(1)
			for national[sub] != "" {
				sub = sub.AddDays(1)
			}
			all[sub] = substituteOrCitizensHoliday
		}
		// Art. 3(3): a day that is not a national holiday, between two that are, is a day off.
		between := d.AddDays(1)
		if national[between] == "" && national[d.AddDays(2)] != "" {
			all[between] = substituteOrCitizensHoliday
		}
	}
	return all
}

// nthMonday returns the day of the month of the n-th Monday (the "Happy Monday" holidays).
func nthMonday(year int, month time.Month, n int) int {
	first := Date{year: year, month: month, day: 1}.Weekday()
	return 1 + (int(time.Monday)-int(first)+7)%7 + 7*(n-1)
}

// The equinox days are fixed each February by the Cabinet Office from the National Astronomical
// Observatory's ephemeris (暦要項) for the following year. For years not yet announced the standard
// approximation, valid from 1980 to 2099, gives the same days:
//
//	day = floor(C + 0.242194 × (year − 1980) − floor((year − 1980) / 4))
//
// with C = 20.8431 (March) and 23.2488 (September). It is computed in millionths of a day so that no
// floating-point rounding can move a day.
func vernalEquinoxDay(year int) int { return equinoxDay(year, 20_843_100) }

func autumnalEquinoxDay(year int) int { return equinoxDay(year, 23_248_800) }

func equinoxDay(year, constantMicro int) int {
	n := year - 1980
	return floorDiv(constantMicro+242_194*n-1_000_000*floorDiv(n, 4), 1_000_000)
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}
