package main

import (
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// cellKey names one cell of the tables.
type cellKey struct {
	topo      string
	clients   int
	workload  string
	contender string
}

// results holds every run's measurement, and why the cells that could not
// run did not.
type results struct {
	runs map[cellKey][]measurement
	na   map[cellKey]string
}

// newResults returns empty results.
func newResults() *results {
	return &results{runs: map[cellKey][]measurement{}, na: map[cellKey]string{}}
}

// add records one run of k.
func (r *results) add(k cellKey, m measurement) { r.runs[k] = append(r.runs[k], m) }

// figure is what a cell shows: the medians of its runs, or why it has
// none.
type figure struct {
	reqPerSec float64
	cpuPer10k float64
	na        string // not "": the contender could not run, for this reason
	ok        bool   // the cell has runs
}

// figure returns the cell k's medians over its runs.
func (r *results) figure(k cellKey) figure {
	if why, ok := r.na[k]; ok {
		return figure{na: why}
	}
	ms := r.runs[k]
	if len(ms) == 0 {
		return figure{}
	}
	rps := make([]float64, len(ms))
	cpu := make([]float64, len(ms))
	for i, m := range ms {
		rps[i], cpu[i] = m.reqPerSec(), m.cpuPer10k()
	}
	return figure{reqPerSec: median(rps), cpuPer10k: median(cpu), ok: true}
}

// median is the middle value of xs (the mean of the two middle ones for
// an even count); NaN for none. xs is not modified.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// ratio is a's req/s over b's, as "1.23×", or "n/a" when either has none.
func ratio(a, b figure) string {
	if !a.ok || !b.ok || b.reqPerSec == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.2f×", a.reqPerSec/b.reqPerSec)
}

// cells are f's two table cells: req/s and Redis CPU ms per 10k requests.
func (f figure) cells() []string {
	if !f.ok {
		return []string{"n/a", "n/a"}
	}
	return []string{fmt.Sprintf("%.0f", f.reqPerSec), fmt.Sprintf("%.0f", f.cpuPer10k)}
}

// ratioColumns are the ratio columns the table has: sessionkit against
// each of the other contenders in it.
func ratioColumns(contenders []string) []string {
	var out []string
	if !contains(contenders, "sessionkit") {
		return nil
	}
	for _, other := range []string{"remix", "scs"} {
		if contains(contenders, other) {
			out = append(out, other)
		}
	}
	return out
}

// tableSpec is what one topology's table shows.
type tableSpec struct {
	topo       string
	title      string
	clients    []int
	contenders []string
}

// writeTable prints the markdown table of one topology: a row per
// (clients, workload), req/s and Redis CPU per 10k requests per
// contender, then sessionkit's req/s over remix's and scs's; and under it
// why any contender has no figures.
func writeTable(w io.Writer, spec tableSpec, r *results) {
	fmt.Fprintf(w, "\n## %s: %s\n\n", spec.topo, spec.title)
	ratios := ratioColumns(spec.contenders)
	head := []string{"clients", "workload"}
	align := []string{"---:", "---"}
	for _, c := range spec.contenders {
		head = append(head, c+" req/s", c+" Redis CPU ms/10k req")
		align = append(align, "---:", "---:")
	}
	for _, o := range ratios {
		head = append(head, "sessionkit ÷ "+o)
		align = append(align, "---:")
	}
	writeRow(w, head)
	writeRow(w, align)
	for _, n := range spec.clients {
		for _, wl := range workloadNames {
			writeRow(w, tableRow(spec, n, wl, ratios, r))
		}
	}
	for _, note := range naNotes(spec, r) {
		fmt.Fprintln(w, note)
	}
}

// tableRow is the row of n clients and workload wl.
func tableRow(spec tableSpec, n int, wl string, ratios []string, r *results) []string {
	key := func(c string) cellKey { return cellKey{spec.topo, n, wl, c} }
	row := []string{fmt.Sprint(n), wl}
	for _, c := range spec.contenders {
		row = append(row, r.figure(key(c)).cells()...)
	}
	sk := r.figure(key("sessionkit"))
	for _, o := range ratios {
		row = append(row, ratio(sk, r.figure(key(o))))
	}
	return row
}

// naNotes are the lines saying why a contender has no figures in the
// table, one per contender and reason.
func naNotes(spec tableSpec, r *results) []string {
	var out []string
	seen := map[string]bool{}
	for _, c := range spec.contenders {
		for _, n := range spec.clients {
			for _, wl := range workloadNames {
				why, ok := r.na[cellKey{spec.topo, n, wl, c}]
				note := fmt.Sprintf("\n%s: n/a (%s)", c, why)
				if ok && !seen[note] {
					seen[note] = true
					out = append(out, note)
				}
			}
		}
	}
	return out
}

// writeRow prints one markdown table row.
func writeRow(w io.Writer, cells []string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
}

// writeCommandTable prints, under the topology's table, what Redis spent
// executing the commands of a request (INFO commandstats), per contender:
// each command as calls per request × µs per call, the largest share
// first. Redis's CPU per request beyond that is I/O: reading and parsing
// commands, writing replies, system calls, the event loop. The commands a
// script runs (redis.call) are counted under their own names too, and
// their time is also part of the script's.
func writeCommandTable(w io.Writer, spec tableSpec, r *results) {
	fmt.Fprintf(w, "\n%s, Redis command time (INFO commandstats), per request: calls × µs per call; a script's own commands are counted under their names too, their time also in the script's.\n\n", spec.topo)
	head := []string{"clients", "workload"}
	align := []string{"---:", "---"}
	for _, c := range spec.contenders {
		head = append(head, c)
		align = append(align, "---")
	}
	writeRow(w, head)
	writeRow(w, align)
	for _, n := range spec.clients {
		for _, wl := range workloadNames {
			row := []string{fmt.Sprint(n), wl}
			for _, c := range spec.contenders {
				cell := "n/a"
				if f, ok := commandFigure(r.runs[cellKey{spec.topo, n, wl, c}]); ok {
					cell = f.String()
				}
				row = append(row, cell)
			}
			writeRow(w, row)
		}
	}
}
