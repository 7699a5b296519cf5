package render

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"time"

	"github.com/go-analyze/charts"
	"golang.org/x/net/idna"

	"yorozu/domain/report"
)

// Charts are drawn on the server as SVG by github.com/go-analyze/charts. The library measures
// text with its own embedded Latin fonts, so it cannot place Japanese text well: the SVGs carry
// only numbers and site names, and the Japanese names of the series are in the HTML legend next
// to each chart, in the same colours.

const (
	chartWidth  = 680
	donutWidth  = 300
	donutHeight = 260
)

var (
	colorText = charts.ColorFromHex("37474f")
	colorAxis = charts.ColorFromHex("90a4ae")
	colorGrid = charts.ColorFromHex("eceff1")
	colorWeb  = charts.ColorFromHex("1e88e5")
	// The off-hours chart's two series: holidays and late nights.
	colorHoliday   = "#1e88e5"
	colorLateNight = "#5e35b1"
)

func theme(series ...charts.Color) charts.ColorPalette {
	return charts.MakeTheme(charts.ThemeOption{
		AxisStrokeColor:    colorAxis,
		AxisSplitLineColor: colorGrid,
		BackgroundColor:    charts.ColorWhite,
		TextColor:          colorText,
		SeriesColors:       series,
	})
}

func svg(p *charts.Painter) (template.HTML, error) {
	buf, err := p.Bytes()
	if err != nil {
		return "", fmt.Errorf("render: chart: %w", err)
	}
	// The library escapes every text it writes into the SVG (site names come from telemetry).
	return template.HTML(buf), nil
}

// slice is one part of a donut: its Japanese label goes to the HTML legend.
type slice struct {
	Label string
	Color string
	Value float64
	Text  string
}

// donutChart draws parts with a value as a donut with the total in its centre; the legend
// lists every part, zeros included, so the reader sees what was looked for.
func donutChart(label string, parts []slice, unit string) (*chart, error) {
	var total float64
	var values []float64
	var colors []charts.Color
	for _, s := range parts {
		total += s.Value
		if s.Value > 0 {
			values = append(values, s.Value)
			colors = append(colors, charts.ParseColor(s.Color))
		}
	}
	if total == 0 {
		return nil, nil
	}
	c := &chart{Label: label, Kind: "donut"}
	for _, s := range parts {
		c.Legend = append(c.Legend, legendItem{
			Color: s.Color, Label: s.Label, Value: s.Text,
			Share: percent(int64(s.Value), int64(total)),
		})
	}

	opt := charts.NewDoughnutChartOptionWithData(values)
	opt.Theme = theme(colors...)
	opt.Padding = charts.NewBoxEqual(8)
	opt.Legend.Show = charts.Ptr(false)
	opt.RadiusRing = "46%"
	opt.RadiusCenter = "28%"
	opt.SegmentGap = 2
	opt.CenterValues = "sum"
	opt.CenterValuesFontStyle = charts.FontStyle{FontSize: 20, FontColor: colorText}
	opt.ValueFormatter = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	for i := range opt.SeriesList {
		opt.SeriesList[i].Label.Show = charts.Ptr(false)
	}
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: donutWidth, Height: donutHeight})
	if err := p.DoughnutChart(opt); err != nil {
		return nil, fmt.Errorf("render: %s: %w", label, err)
	}
	s, err := svg(p)
	if err != nil {
		return nil, err
	}
	c.SVG = s
	c.Caption = "中央の数字は合計（" + unit + "）"
	return c, nil
}

// webChart draws the sites with the most time in focus as horizontal bars, the longest on top.
func webChart(sites []report.Site) (*chart, error) {
	var longest int64
	for _, s := range sites {
		longest = max(longest, s.Seconds)
	}
	// Hours read better for a month of browsing; a quiet month is shown in minutes.
	unit, per := "時間", 3600.0
	if longest < 2*3600 {
		unit, per = "分", 60.0
	}
	n := len(sites)
	values := make([]float64, n)
	labels := make([]string, n)
	for i, s := range sites {
		// The library draws the first category at the bottom.
		values[n-1-i] = math.Round(float64(s.Seconds)/per*10) / 10
		labels[n-1-i] = chartLabel(s.Site)
	}
	format := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

	opt := charts.NewBarChartOptionWithData([][]float64{values})
	opt.Horizontal = true
	opt.Theme = theme(colorWeb)
	opt.Padding = charts.Box{Top: 10, Right: 48, Bottom: 10, Left: 10}
	opt.Legend.Show = charts.Ptr(false)
	opt.CategoryAxis.Labels = labels
	opt.CategoryAxis.LabelFontStyle = charts.FontStyle{FontSize: 10, FontColor: colorText}
	top, ticks := niceScale(values)
	opt.ValueAxis[0].Min = charts.Ptr(0.0)
	opt.ValueAxis[0].Max = charts.Ptr(top)
	opt.ValueAxis[0].LabelCount = ticks
	opt.ValueAxis[0].LabelFontStyle = charts.FontStyle{FontSize: 9, FontColor: colorText}
	opt.ValueFormatter = format
	opt.BarSize = 0.7
	opt.RoundedBarCaps = charts.Ptr(true)
	opt.SeriesList[0].Label.Show = charts.Ptr(true)
	opt.SeriesList[0].Label.ValueFormatter = format
	opt.SeriesList[0].Label.FontStyle = charts.FontStyle{FontSize: 9, FontColor: colorText}
	height := 40 + 26*n
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: chartWidth, Height: height})
	if err := p.BarChart(opt); err != nil {
		return nil, fmt.Errorf("render: web chart: %w", err)
	}
	s, err := svg(p)
	if err != nil {
		return nil, err
	}
	return &chart{
		SVG:     s,
		Kind:    "bar",
		Label:   fmt.Sprintf("閲覧時間の長いサイト 上位%d", n),
		Caption: "閲覧時間（" + unit + "）",
	}, nil
}

// chartLabel fits a site name to the chart: the library measures only Latin text well, so an
// internationalised domain is drawn in its ASCII form, and a long name is shortened (the table
// next to the chart has it in full).
func chartLabel(site string) string {
	if ascii, err := idna.ToASCII(site); err == nil {
		site = ascii
	}
	const maxLen = 32
	if r := []rune(site); len(r) > maxLen {
		site = string(r[:maxLen-3]) + "..."
	}
	return site
}

// offHoursChart draws the boots and logons outside working time per day of the month, holidays
// and late nights stacked.
func offHoursChart(month time.Time, monthOK bool, rows []report.OffHours) (*chart, error) {
	days := 31
	if monthOK {
		days = month.AddDate(0, 1, -1).Day()
	}
	holiday := make([]float64, days)
	lateNight := make([]float64, days)
	for _, o := range rows {
		t := jst(o.At)
		if monthOK && (t.Year() != month.Year() || t.Month() != month.Month()) {
			continue
		}
		d := t.Day() - 1
		if d >= days {
			continue
		}
		if o.Reason == report.OffHoursHoliday {
			holiday[d]++
		} else {
			lateNight[d]++
		}
	}
	// Every other day is named: 31 names would touch each other at this width.
	labels := make([]string, days)
	for i := range labels {
		if i%2 == 0 {
			labels[i] = strconv.Itoa(i + 1)
		}
	}
	stacked := make([]float64, days)
	for i := range days {
		stacked[i] = holiday[i] + lateNight[i]
	}

	opt := charts.NewBarChartOptionWithData([][]float64{holiday, lateNight})
	opt.Theme = theme(charts.ParseColor(colorHoliday), charts.ParseColor(colorLateNight))
	opt.Padding = charts.Box{Top: 16, Right: 28, Bottom: 8, Left: 8}
	opt.Legend.Show = charts.Ptr(false)
	opt.StackSeries = charts.Ptr(true)
	opt.CategoryAxis.Labels = labels
	opt.CategoryAxis.LabelCount = days
	opt.CategoryAxis.LabelFontStyle = charts.FontStyle{FontSize: 8, FontColor: colorText}
	top, count := niceScale(stacked)
	opt.ValueAxis[0].Min = charts.Ptr(0.0)
	opt.ValueAxis[0].Max = charts.Ptr(top)
	opt.ValueAxis[0].LabelCount = count
	opt.ValueAxis[0].LabelFontStyle = charts.FontStyle{FontSize: 9, FontColor: colorText}
	opt.ValueFormatter = func(v float64) string { return strconv.FormatFloat(v, 'f', 0, 64) }
	opt.BarSize = 0.7
	p := charts.NewPainter(charts.PainterOptions{OutputFormat: charts.ChartOutputSVG, Width: chartWidth, Height: 260})
	if err := p.BarChart(opt); err != nil {
		return nil, fmt.Errorf("render: off-hours chart: %w", err)
	}
	s, err := svg(p)
	if err != nil {
		return nil, err
	}
	var h, l float64
	for i := range days {
		h += holiday[i]
		l += lateNight[i]
	}
	return &chart{
		SVG:     s,
		Kind:    "bar",
		Label:   "日別の時間外利用（件）",
		Caption: "横軸は日付、縦軸は件数",
		Legend: []legendItem{
			{Color: colorHoliday, Label: "休日（土日祝）", Value: number(int(h)) + " 件"},
			{Color: colorLateNight, Label: "深夜（22時〜翌5時）", Value: number(int(l)) + " 件"},
		},
	}, nil
}

// niceScale picks the top of a value axis starting at zero and its number of labels, so that
// the steps are round (1, 2, 2.5 or 5 times a power of ten, whole from a peak of 1 up) and there
// are at most six of them.
func niceScale(values []float64) (top float64, labels int) {
	var peak float64
	for _, v := range values {
		peak = max(peak, v)
	}
	if peak <= 0 {
		return 5, 6
	}
	for exp := math.Floor(math.Log10(peak / 6)); ; exp++ {
		for _, m := range []float64{1, 2, 2.5, 5} {
			step := m * math.Pow(10, exp)
			if peak >= 1 && step != math.Trunc(step) {
				continue // whole steps for counts
			}
			if n := math.Ceil(peak / step); n <= 6 {
				return math.Round(n*step*1e6) / 1e6, int(n) + 1
			}
		}
	}
}
