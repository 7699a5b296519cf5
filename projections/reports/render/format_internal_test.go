package render

import "testing"

func TestNiceScaleHasRoundSteps(t *testing.T) {
	for _, c := range []struct {
		peak   float64
		top    float64
		labels int
	}{
		{0, 5, 6},
		{1, 1, 2},
		{4, 4, 5},
		{12, 12, 7},
		{13, 15, 4},
		{114.4, 120, 7},
		{0.6, 0.6, 7},
		{5000, 5000, 6},
	} {
		top, labels := niceScale([]float64{c.peak / 2, c.peak})
		if top != c.top || labels != c.labels {
			t.Errorf("niceScale(peak %v) = %v, %d labels; want %v, %d", c.peak, top, labels, c.top, c.labels)
		}
	}
}

func TestNumbersAndDurationsReadAsInJapanese(t *testing.T) {
	for in, want := range map[int64]string{0: "0", 999: "999", 1000: "1,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := number(in); got != want {
			t.Errorf("number(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[int64]string{0: "0秒", 45: "45秒", 60: "1分00秒", 2096: "34分56秒", 45296: "12時間34分", 3_600_000: "1,000時間00分"} {
		if got := duration(in); got != want {
			t.Errorf("duration(%d) = %q, want %q", in, got, want)
		}
	}
}

func TestChartLabelsAreLatinAndShort(t *testing.T) {
	for in, want := range map[string]string{
		"cybozu.com":   "cybozu.com",
		"192.168.1.20": "192.168.1.20",
		"日本語.jp":       "xn--wgv71a119e.jp",
		"a-very-long-subdomain-name.of-an-example-company.co.jp": "a-very-long-subdomain-name.of...",
	} {
		if got := chartLabel(in); got != want {
			t.Errorf("chartLabel(%q) = %q, want %q", in, got, want)
		}
	}
}
