package main

import (
	"fmt"
	"html"
	"math"
	"strings"
)

var libColors = map[string]string{"Sessionkit": "#2a7ae2", "SCS": "#e07b39", "Gorilla": "#8a8a8a", "Remix": "#7b52ab"}

// SVG draws the table as horizontal bars, one group per workload, on a
// logarithmic time axis (the libraries differ by one to two orders of
// magnitude), with our ratio to the best peer at the right.
func (t *Table) SVG(caption string) string {
	const (
		left, right = 170.0, 150.0
		barH, gap   = 14.0, 12.0
		top         = 64.0
		width       = 900.0
	)
	bars := 0
	for _, r := range t.Rows {
		bars += len(r.Cells)
	}
	height := top + float64(bars)*barH + float64(len(t.Rows))*gap + 50
	lo, hi := math.Inf(1), 0.0
	for _, r := range t.Rows {
		for _, c := range r.Cells {
			if c.NsOp > 0 {
				lo, hi = math.Min(lo, c.NsOp), math.Max(hi, c.NsOp)
			}
		}
	}
	if math.IsInf(lo, 1) {
		lo, hi = 100, 1000 // nothing to draw
	}
	lo = math.Pow(10, math.Floor(math.Log10(math.Max(lo, 1))))
	hi = math.Pow(10, math.Ceil(math.Log10(math.Max(hi, lo*10))))
	plotW := width - left - right
	x := func(ns float64) float64 {
		return left + plotW*(math.Log10(math.Max(ns, lo))-math.Log10(lo))/(math.Log10(hi)-math.Log10(lo))
	}

	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%.0f" height="%.0f" viewBox="0 0 %.0f %.0f" font-family="sans-serif" font-size="12">`+"\n", width, height, width, height)
	fmt.Fprintf(&b, `<rect width="100%%" height="100%%" fill="#fff"/>`+"\n")
	fmt.Fprintf(&b, `<text x="10" y="20" font-size="14" font-weight="bold">Session work per request, GOMAXPROCS=%d (log scale, shorter is faster)</text>`+"\n", t.Procs)
	fmt.Fprintf(&b, `<text x="10" y="38" fill="#555">%s</text>`+"\n", html.EscapeString(caption))
	// Legend.
	lx := 10.0
	for _, lib := range t.Libs {
		fmt.Fprintf(&b, `<rect x="%.0f" y="46" width="10" height="10" fill="%s"/><text x="%.0f" y="55">%s</text>`+"\n", lx, libColors[lib], lx+14, html.EscapeString(libLabels[lib]))
		lx += 24 + 7*float64(len(libLabels[lib]))
	}
	// Grid lines at each power of ten.
	for v := lo; v <= hi*1.0001; v *= 10 {
		gx := x(v)
		fmt.Fprintf(&b, `<line x1="%.1f" y1="%.0f" x2="%.1f" y2="%.0f" stroke="#ddd"/>`+"\n", gx, top-4, gx, height-34)
		fmt.Fprintf(&b, `<text x="%.1f" y="%.0f" text-anchor="middle" fill="#555">%s</text>`+"\n", gx, height-20, axisLabel(v))
	}
	y := top
	for _, r := range t.Rows {
		groupTop := y
		for _, lib := range t.Libs {
			c, ok := r.Cells[lib]
			if !ok || c.NsOp <= 0 {
				continue
			}
			fmt.Fprintf(&b, `<rect x="%.0f" y="%.1f" width="%.1f" height="%.0f" fill="%s"><title>%s: %s</title></rect>`+"\n",
				left, y, math.Max(x(c.NsOp)-left, 1), barH-2, libColors[lib], html.EscapeString(libLabels[lib]), html.EscapeString(cell(c)))
			fmt.Fprintf(&b, `<text x="%.1f" y="%.1f" font-size="10" fill="#333">%s</text>`+"\n", x(c.NsOp)+3, y+barH-4, duration(c.NsOp))
			y += barH
		}
		fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" text-anchor="end">%s</text>`+"\n", left-8, (groupTop+y)/2+4, html.EscapeString(r.Label))
		if r.Ratio > 0 {
			fmt.Fprintf(&b, `<text x="%.0f" y="%.1f" font-weight="bold">%s× %s</text>`+"\n", width-right+50, (groupTop+y)/2+4, ratio(r.Ratio), html.EscapeString(libLabels[r.Peer]))
		}
		y += gap
	}
	b.WriteString("</svg>\n")
	return b.String()
}
