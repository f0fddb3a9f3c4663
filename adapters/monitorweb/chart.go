package monitorweb

import (
	"fmt"
	"math"
	"strconv"

	"github.com/korpu-az/korpu/routers"
)

// The chart is SVG drawn here, inline in the page: no script draws it, so
// it shows without JavaScript and under the strict CSP, and a table of
// the same numbers stands beside it for screen readers.

// The chart's size in SVG units; the page scales it to its width.
const (
	chartWidth  = 800
	chartHeight = 240
	plotLeft    = 44
	plotRight   = 8
	plotTop     = 10
	plotBottom  = 28
)

// typeFills are the types' colours, each at least 3:1 on white (WCAG's
// non-text contrast) and told apart by the legend's words as well.
var typeFills = map[string]string{
	"complaint":   "#0b4f8a",
	"application": "#c75d00",
	"proposal":    "#5b3f8c",
}

type chart struct {
	Width, Height int
	Title, Desc   string
	Bars          []chartBar
	Ticks         []chartTick
	Labels        []chartLabel
	Legend        []legendItem
	Rows          []chartRow // the table alternative, oldest first
	PlotLeft      float64
	PlotRight     float64
	Baseline      float64
}

type chartBar struct {
	X, W  float64
	Title string // the bar's tooltip
	Segs  []chartSeg
}

type chartSeg struct {
	Y, H float64
	Fill string
}

type chartTick struct {
	Y     float64
	Label string
}

type chartLabel struct {
	X      float64
	Label  string
	Anchor string // text-anchor: the last label ends at its bar, inside the chart
}

type legendItem struct {
	Name, Fill string
}

type chartRow struct {
	Date   string
	Counts []int // by appealTypes
	Total  int
}

// niceStep is a step of 1, 2 or 5 times a power of ten at least x.
func niceStep(x float64) float64 {
	if x <= 1 {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(x)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= x {
			return m * p
		}
	}
	return 10 * p
}

// drawChart lays out stacked bars of appeals per day by type.
func drawChart(l lang, days []routers.DayCount) chart {
	c := chart{Width: chartWidth, Height: chartHeight, Title: l.word("chartTitle"),
		PlotLeft: plotLeft, PlotRight: chartWidth - plotRight, Baseline: chartHeight - plotBottom}
	for _, t := range appealTypes {
		c.Legend = append(c.Legend, legendItem{Name: l.enum("type", t), Fill: typeFills[t]})
	}
	top, total, busiest := 0, 0, -1
	for i, d := range days {
		row := chartRow{Date: d.Date}
		for _, t := range appealTypes {
			row.Counts = append(row.Counts, d.ByType[t])
			row.Total += d.ByType[t]
		}
		c.Rows = append(c.Rows, row)
		total += row.Total
		if row.Total > top {
			top, busiest = row.Total, i
		}
	}
	step := niceStep(float64(top) / 4)
	ymax := step * math.Max(1, math.Ceil(float64(top)/step))
	plotH := c.Baseline - plotTop
	for y := 0.0; y <= ymax; y += step {
		c.Ticks = append(c.Ticks, chartTick{Y: c.Baseline - y/ymax*plotH, Label: strconv.Itoa(int(y))})
	}
	if len(days) == 0 {
		c.Desc = fmt.Sprintf(l.word("chartDesc"), "0", "—", "0")
		return c
	}
	slot := (c.PlotRight - c.PlotLeft) / float64(len(days))
	for i, row := range c.Rows {
		b := chartBar{X: c.PlotLeft + float64(i)*slot + slot*0.125, W: slot * 0.75}
		b.Title = row.Date + ": " + strconv.Itoa(row.Total)
		y := c.Baseline
		for j, n := range row.Counts {
			b.Title += fmt.Sprintf(", %s %d", l.enum("type", appealTypes[j]), n)
			if n == 0 {
				continue
			}
			h := float64(n) / ymax * plotH
			y -= h
			b.Segs = append(b.Segs, chartSeg{Y: y, H: h, Fill: typeFills[appealTypes[j]]})
		}
		c.Bars = append(c.Bars, b)
		switch {
		case i == len(c.Rows)-1:
			c.Labels = append(c.Labels, chartLabel{X: b.X + b.W, Label: dayMonth(row.Date), Anchor: "end"})
		case i%15 == 0 && len(c.Rows)-1-i >= 8: // not crowding the last
			c.Labels = append(c.Labels, chartLabel{X: b.X + b.W/2, Label: dayMonth(row.Date), Anchor: "middle"})
		}
	}
	busiestDay := "—"
	if busiest >= 0 {
		busiestDay = c.Rows[busiest].Date
	}
	c.Desc = fmt.Sprintf(l.word("chartDesc"), strconv.Itoa(total), busiestDay, strconv.Itoa(top))
	return c
}

// dayMonth writes YYYY-MM-DD as DD.MM, as the axis has room for.
func dayMonth(date string) string {
	if len(date) != 10 {
		return date
	}
	return date[8:10] + "." + date[5:7]
}
