package main

import (
	"fmt"
	"math"
	"strings"
	"time"
)

// A sample is one reading of the process, once a second.
type sample struct {
	at         time.Duration // since the storage's load started
	heapInuse  float64       // bytes in in-use heap spans (runtime.MemStats.HeapInuse)
	heapLive   float64       // bytes marked live by the last GC (/gc/heap/live:bytes)
	goroutines float64
	fds        float64 // open file descriptors; -1 where /proc/self/fd is missing
}

// A metric is one series of the samples, with its tolerance: its drift
// over the fitted window (slope × window) is "flat" within
// max(abs, rel × mean, 2 × noise), where noise is the standard deviation
// of the samples around the fitted line: a drift within the series' own
// jitter (goroutines of requests in flight come and go by dozens from one
// second to the next) cannot be told from it.
type metric struct {
	name     string
	unit     string // "MiB" or ""
	abs, rel float64
	get      func(sample) float64
}

// judged are the series soak judges, and their tolerances (see README).
var judged = []metric{
	{"heap in use", "MiB", 2 << 20, 0.10, func(s sample) float64 { return s.heapInuse }},
	{"heap live after GC", "MiB", 1 << 20, 0.05, func(s sample) float64 { return s.heapLive }},
	{"goroutines", "", 3, 0.05, func(s sample) float64 { return s.goroutines }},
	{"open files", "", 3, 0.05, func(s sample) float64 { return s.fds }},
}

// warmupFraction of the samples is left out of the fit.
const warmupFraction = 0.2

// trend is a metric's fit over the samples after warm-up.
type trend struct {
	mean      float64
	slope     float64 // per second
	drift     float64 // slope × the fitted window
	noise     float64 // standard deviation of the residuals
	tolerance float64
	n         int
	missing   bool // the platform does not report it
}

func (t trend) verdict() string {
	switch {
	case t.missing:
		return "n/a"
	case t.n < 3:
		return "too few samples"
	case t.drift > t.tolerance:
		return "growing"
	case t.drift < -t.tolerance:
		return "shrinking"
	}
	return "flat"
}

// fit returns m's trend over samples, the first warmupFraction left out.
func fit(samples []sample, m metric) trend {
	from := int(math.Floor(float64(len(samples)) * warmupFraction))
	rest := samples[from:]
	var xs, ys []float64
	for _, s := range rest {
		xs = append(xs, s.at.Seconds())
		ys = append(ys, m.get(s))
	}
	t := trend{n: len(rest)}
	if len(rest) > 0 && ys[0] < 0 {
		t.missing = true
		return t
	}
	t.mean, t.slope = regress(xs, ys)
	if len(xs) > 1 {
		t.drift = t.slope * (xs[len(xs)-1] - xs[0])
	}
	t.noise = residualSD(xs, ys, t.mean, t.slope)
	t.tolerance = max(m.abs, m.rel*math.Abs(t.mean), 2*t.noise)
	return t
}

// residualSD is the standard deviation of ys around the line through the
// means with slope.
func residualSD(xs, ys []float64, mean, slope float64) float64 {
	if len(xs) < 2 {
		return 0
	}
	var mx float64
	for _, x := range xs {
		mx += x
	}
	mx /= float64(len(xs))
	var ss float64
	for i := range xs {
		r := ys[i] - (mean + slope*(xs[i]-mx))
		ss += r * r
	}
	return math.Sqrt(ss / float64(len(xs)-1))
}

// regress returns the mean of ys and the least-squares slope of ys over xs.
func regress(xs, ys []float64) (mean, slope float64) {
	n := float64(len(xs))
	if n == 0 {
		return 0, 0
	}
	var sx, sy float64
	for i := range xs {
		sx += xs[i]
		sy += ys[i]
	}
	mx, my := sx/n, sy/n
	var sxy, sxx float64
	for i := range xs {
		sxy += (xs[i] - mx) * (ys[i] - my)
		sxx += (xs[i] - mx) * (xs[i] - mx)
	}
	if sxx == 0 {
		return my, 0
	}
	return my, sxy / sxx
}

// cell shows a trend: the mean, the slope per minute and the verdict.
func (t trend) cell(m metric) string {
	if t.missing {
		return "n/a"
	}
	return fmt.Sprintf("%s, %s/min: %s", value(t.mean, m.unit), signedValue(t.slope*60, m.unit), t.verdict())
}

func value(v float64, unit string) string {
	if unit == "MiB" {
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%.0f", v)
}

func signedValue(v float64, unit string) string {
	if unit == "MiB" {
		return fmt.Sprintf("%+.2f MiB", v/(1<<20))
	}
	return fmt.Sprintf("%+.2f", v)
}

// result is one storage's soak.
type result struct {
	storage          string
	requests, errors int64
	seconds          float64
	samples          []sample
	goroutinesBefore int // before the storage was opened
	goroutinesAfter  int // after it was closed and its servers stopped
	warnings         int64
	firstErr         string
	goroutineGrowth  string // the goroutines that grew after the warm-up, by function
}

// row is the storage's line of the table.
func (r *result) row() string {
	cells := []string{r.storage, fmt.Sprint(r.requests), fmt.Sprintf("%.0f", float64(r.requests)/r.seconds), fmt.Sprint(r.errors)}
	var growing []string
	for _, m := range judged {
		t := fit(r.samples, m)
		cells = append(cells, t.cell(m))
		if t.verdict() == "growing" {
			growing = append(growing, m.name)
		}
	}
	cells = append(cells, fmt.Sprintf("%d → %d", r.goroutinesBefore, r.goroutinesAfter))
	verdict := "**flat**"
	if len(growing) > 0 {
		verdict = "**growing**: " + strings.Join(growing, ", ")
	}
	cells = append(cells, verdict)
	return "| " + strings.Join(cells, " | ") + " |"
}

// flat reports whether no metric of r grew past its tolerance (shrinking
// after the warm-up is no leak).
func (r *result) flat() bool {
	for _, m := range judged {
		if fit(r.samples, m).verdict() == "growing" {
			return false
		}
	}
	return true
}

const tableHeader = "| storage | requests | req/s | errors | heap in use | heap live after GC | goroutines | open files | goroutines before → after | verdict |\n" +
	"|---|---:|---:|---:|---|---|---|---|---|---|"
