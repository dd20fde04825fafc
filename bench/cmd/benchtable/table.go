package main

import (
	"fmt"
	"math"
	"strings"
)

// The workloads in table order, with the label a reader sees.
var workloads = []struct{ Name, Label string }{
	{"MemoryWrite", "memory, write"},
	{"MemoryRead", "memory, read"},
	{"CookieWrite", "cookie signed, write"},
	{"CookieRead", "cookie signed, read"},
	{"CookieSealedWrite", "cookie sealed, write"},
	{"CookieSealedRead", "cookie sealed, read"},
	{"FileWrite", "file, write"},
	{"FileRead", "file, read"},
	{"RedisWrite", "Redis, write"},
	{"RedisRead", "Redis, read"},
	{"MemcacheWrite", "Memcache, write"},
	{"MemcacheRead", "Memcache, read"},
	{"PostgresWrite", "PostgreSQL, write"},
	{"PostgresRead", "PostgreSQL, read"},
}

// A kind of table: which libraries, which name prefix, and whether the
// scaffold is subtracted.
type kind struct {
	title    string
	prefix   string   // "" or "Storage"
	ours     string   // the library whose ratio is shown
	peers    []string // the others, in column order
	scaffold bool
}

var kinds = []kind{
	{title: "One full request through each library's middleware (httptest), session work = figure − Scaffold", ours: "Sessionkit", peers: []string{"SCS", "Gorilla"}, scaffold: true},
	{title: "Session work without HTTP (parse cookie, read, change, save, serialize): sessionkit on Go, @remix-run/session on Node", prefix: "Storage", ours: "Sessionkit", peers: []string{"Remix"}},
}

var libLabels = map[string]string{"Sessionkit": "sessionkit", "SCS": "scs", "Gorilla": "gorilla", "Remix": "Remix (Node)"}

// Table is one comparison, ready to print.
type Table struct {
	Title    string
	Procs    int
	Scaffold *Result
	Libs     []string // ours first
	Rows     []Row
}

// Row is one workload.
type Row struct {
	Label string
	Cells map[string]Result // by library; absent: not measured
	Ratio float64           // best peer's time / ours; 0 when there is no peer
	Peer  string            // the best peer
}

// Build makes one table per kind and GOMAXPROCS that has any figures.
func Build(results []Result) []*Table {
	byProcs := map[int]map[string]Result{}
	var procsOrder []int
	for _, r := range results {
		if byProcs[r.Procs] == nil {
			byProcs[r.Procs] = map[string]Result{}
			procsOrder = append(procsOrder, r.Procs)
		}
		byProcs[r.Procs][r.Name] = r
	}
	var tables []*Table
	for _, k := range kinds {
		for _, procs := range procsOrder {
			m := byProcs[procs]
			t := &Table{Title: k.title, Procs: procs, Libs: append([]string{k.ours}, k.peers...)}
			var scaffold Result
			if k.scaffold {
				s, ok := m["Scaffold"]
				if !ok {
					continue
				}
				scaffold = s
				t.Scaffold = &s
			}
			for _, w := range workloads {
				row := Row{Label: w.Label, Cells: map[string]Result{}}
				for _, lib := range t.Libs {
					r, ok := m[k.prefix+lib+w.Name]
					if !ok {
						continue
					}
					if k.scaffold {
						r.NsOp -= scaffold.NsOp
						if r.Allocs >= 0 && scaffold.Allocs >= 0 {
							r.Allocs -= scaffold.Allocs
						}
					}
					if lib == "Remix" {
						r.Allocs = -1 // Node's allocations are not counted; the figure would be the Go harness's
					}
					row.Cells[lib] = r
				}
				ours, ok := row.Cells[k.ours]
				if !ok {
					continue
				}
				for _, p := range k.peers {
					if r, ok := row.Cells[p]; ok && (row.Peer == "" || r.NsOp < row.Cells[row.Peer].NsOp) {
						row.Peer = p
					}
				}
				if row.Peer != "" && ours.NsOp > 0 && row.Cells[row.Peer].NsOp > 0 {
					row.Ratio = row.Cells[row.Peer].NsOp / ours.NsOp
				}
				t.Rows = append(t.Rows, row)
			}
			if len(t.Rows) > 0 {
				tables = append(tables, t)
			}
		}
	}
	return tables
}

// Markdown renders the table as GitHub Markdown.
func (t *Table) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s, GOMAXPROCS=%d", t.Title, t.Procs)
	if t.Scaffold != nil {
		fmt.Fprintf(&b, " (Scaffold %s)", cell(*t.Scaffold))
	}
	b.WriteString("\n\n| workload |")
	for _, lib := range t.Libs {
		fmt.Fprintf(&b, " %s |", libLabels[lib])
	}
	b.WriteString(" sessionkit vs best peer |\n|---|")
	for range t.Libs {
		b.WriteString("---:|")
	}
	b.WriteString("---:|\n")
	for _, r := range t.Rows {
		fmt.Fprintf(&b, "| %s |", r.Label)
		for _, lib := range t.Libs {
			if c, ok := r.Cells[lib]; ok {
				fmt.Fprintf(&b, " %s |", cell(c))
			} else {
				b.WriteString(" — |")
			}
		}
		if r.Peer != "" && r.Ratio == 0 {
			b.WriteString(" — (a figure is below Scaffold: too noisy a run) |\n")
		} else if r.Peer != "" {
			fmt.Fprintf(&b, " **%s×** %s |\n", ratio(r.Ratio), libLabels[r.Peer])
		} else {
			b.WriteString(" no peer |\n")
		}
	}
	return b.String()
}

func cell(r Result) string {
	if r.NsOp <= 0 {
		return "below Scaffold"
	}
	s := duration(r.NsOp)
	if r.Allocs >= 0 {
		s += fmt.Sprintf(", %d allocs", int(math.Round(r.Allocs)))
	}
	return s
}

// axisLabel is a power of ten as a short duration.
func axisLabel(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%g ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%g µs", ns/1e3)
	default:
		return fmt.Sprintf("%g ns", ns)
	}
}

func duration(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.2f µs", ns/1e3)
	default:
		return fmt.Sprintf("%.0f ns", ns)
	}
}

func ratio(x float64) string {
	if x >= 10 {
		return fmt.Sprintf("%.0f", x)
	}
	return fmt.Sprintf("%.1f", x)
}
