package views

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Response-time charts drawn on the server as SVG: no script, no library,
// readable by a screen reader through the title, the description and the
// table of the same figures that goes with each chart.

// LatencyPoint is one bucket's response time in one series.
type LatencyPoint struct {
	Start time.Time
	Label string // the bucket as people read it ("10:00", "Mar 3")
	Count int    // results behind the figures
	P50MS int64
	P95MS int64
}

// LatencySeries is one line pair (p50 and p95) of a chart: a region, or
// all regions together.
type LatencySeries struct {
	Name   string
	Points []LatencyPoint
}

// LatencyChart is a response-time chart and the table behind it.
type LatencyChart struct {
	ID     string // unique on the page: the title's and description's ids derive from it
	Title  string
	From   time.Time
	To     time.Time
	Series []LatencySeries
}

// Chart geometry, in SVG user units; the SVG scales to its box.
const (
	chartW, chartH          = 640, 220
	chartLeft, chartRight   = 52, 28
	chartTop, chartBottom   = 10, 26
	chartPlotW, chartPlotH  = chartW - chartLeft - chartRight, chartH - chartTop - chartBottom
	chartTicksY, chartTicks = 4, 6
)

// ChartLine is one polyline of a drawn chart.
type ChartLine struct {
	Class  string // series-N plus p50 or p95
	Points string
	Label  string // "fra p95"
}

// ChartTick is a labelled gridline.
type ChartTick struct {
	X, Y  string
	Label string
}

// DrawnChart is a LatencyChart laid out for SVG.
type DrawnChart struct {
	ViewBox string
	Lines   []ChartLine
	YTicks  []ChartTick // horizontal gridlines: X is the line's end
	XTicks  []ChartTick
	Empty   bool
	Left    string
	Right   string
	Bottom  string
}

// Desc describes the chart in words for the SVG's desc element.
func (c LatencyChart) Desc() string {
	if c.Empty() {
		return "No results in this period."
	}
	var parts []string
	for _, s := range c.Series {
		var worst, sum int64
		var n int
		for _, p := range s.Points {
			worst = max(worst, p.P95MS)
			sum += p.P50MS * int64(p.Count)
			n += p.Count
		}
		avg := int64(0)
		if n > 0 {
			avg = sum / int64(n)
		}
		parts = append(parts, fmt.Sprintf("%s: typical p50 %d ms, highest p95 %d ms over %d results", s.Name, avg, worst, n))
	}
	return "Median (p50, solid) and 95th percentile (p95, dashed) response time. " + strings.Join(parts, "; ") + "."
}

// Empty reports whether the chart has no points.
func (c LatencyChart) Empty() bool {
	for _, s := range c.Series {
		if len(s.Points) > 0 {
			return false
		}
	}
	return true
}

// Draw lays the chart out: x is time from From to To, y is milliseconds
// from 0 to a round number above the highest p95.
func (c LatencyChart) Draw() DrawnChart {
	d := DrawnChart{ViewBox: fmt.Sprintf("0 0 %d %d", chartW, chartH), Empty: c.Empty(),
		Left: num(chartLeft), Right: num(chartW - chartRight), Bottom: num(chartTop + chartPlotH)}
	var top int64
	for _, s := range c.Series {
		for _, p := range s.Points {
			top = max(top, p.P95MS, p.P50MS)
		}
	}
	top = niceCeil(top)
	span := c.To.Sub(c.From)
	if span <= 0 {
		span = time.Hour
	}
	x := func(t time.Time) float64 {
		return chartLeft + chartPlotW*float64(t.Sub(c.From))/float64(span)
	}
	y := func(ms int64) float64 { return chartTop + chartPlotH*(1-float64(ms)/float64(top)) }
	for i := 0; i <= chartTicksY; i++ {
		ms := top * int64(i) / chartTicksY
		d.YTicks = append(d.YTicks, ChartTick{X: num(chartW - chartRight), Y: num(y(ms)), Label: fmt.Sprintf("%d ms", ms)})
	}
	for i := 0; i <= chartTicks; i++ {
		t := c.From.Add(span * time.Duration(i) / chartTicks)
		layout := "15:04"
		if span > 48*time.Hour {
			layout = "Jan 2"
		}
		d.XTicks = append(d.XTicks, ChartTick{X: num(x(t)), Y: num(chartH - 8), Label: t.UTC().Format(layout)})
	}
	for i, s := range c.Series {
		if len(s.Points) == 0 {
			continue
		}
		var p50, p95 []string
		for _, p := range s.Points {
			px := num(x(p.Start))
			p50 = append(p50, px+","+num(y(p.P50MS)))
			p95 = append(p95, px+","+num(y(p.P95MS)))
		}
		cls := fmt.Sprintf("series-%d", i%6)
		if len(s.Points) == 1 {
			// One point is no line: a polyline of one point draws nothing,
			// so the point is drawn as a zero-length segment with round
			// caps (a dot; the CSS's .dot).
			p50, p95 = append(p50, p50[0]), append(p95, p95[0])
			cls += " dot"
		}
		d.Lines = append(d.Lines, ChartLine{Class: cls + " p95", Points: strings.Join(p95, " "), Label: s.Name + " p95"},
			ChartLine{Class: cls + " p50", Points: strings.Join(p50, " "), Label: s.Name + " p50"})
	}
	return d
}

// SeriesClass is the legend swatch class of the i-th series.
func SeriesClass(i int) string { return fmt.Sprintf("swatch series-%d", i%6) }

// niceCeil rounds ms up to 1, 2 or 5 times a power of ten (at least 10).
func niceCeil(ms int64) int64 {
	if ms <= 10 {
		return 10
	}
	for p := int64(10); ; p *= 10 {
		for _, m := range []int64{1, 2, 5} {
			if ms <= m*p {
				return m * p
			}
		}
	}
}

func num(f float64) string { return strconv.FormatFloat(f, 'f', 1, 64) }
