package render

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"yorozu/domain/calendar"
)

// csvTimeLayout is how every CSV writes an instant, in JST.
const csvTimeLayout = "2006-01-02 15:04:05"

func jst(t time.Time) time.Time { return t.In(calendar.JST()) }

// number writes n with thousands separators (1,234).
func number[N int | int64](n N) string {
	s := strconv.FormatInt(int64(n), 10)
	neg := strings.HasPrefix(s, "-")
	if neg {
		s = s[1:]
	}
	var b strings.Builder
	if neg {
		b.WriteByte('-')
	}
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// duration writes seconds the way a person reads them: 12時間34分, 34分56秒, 45秒.
func duration(seconds int64) string {
	if seconds < 0 {
		seconds = 0
	}
	h, m, s := seconds/3600, seconds%3600/60, seconds%60
	switch {
	case h > 0:
		return fmt.Sprintf("%s時間%02d分", number(h), m)
	case m > 0:
		return fmt.Sprintf("%d分%02d秒", m, s)
	default:
		return fmt.Sprintf("%d秒", s)
	}
}

// percent writes part/whole with one decimal, or "" when whole is zero.
func percent(part, whole int64) string {
	if whole <= 0 {
		return ""
	}
	return strconv.FormatFloat(float64(part)*100/float64(whole), 'f', 1, 64) + "%"
}

// dateJa writes a day as 2026年5月31日.
func dateJa(t time.Time) string {
	return fmt.Sprintf("%d年%d月%d日", t.Year(), int(t.Month()), t.Day())
}

// dateTimeJa writes an instant in JST as 2026年6月16日 00:00.
func dateTimeJa(t time.Time) string {
	t = jst(t)
	return dateJa(t) + t.Format(" 15:04")
}

// tableTime writes an instant in JST for a table row: 5/3(日) 23:14:05.
func tableTime(t time.Time) string {
	t = jst(t)
	return fmt.Sprintf("%d/%d(%s) %s", int(t.Month()), t.Day(), weekdays[t.Weekday()], t.Format("15:04:05"))
}

// reportMonth parses the report's YYYY-MM as the first day of the month in JST.
func reportMonth(month string) (time.Time, bool) {
	t, err := time.ParseInLocation("2006-01", month, calendar.JST())
	return t, err == nil
}
