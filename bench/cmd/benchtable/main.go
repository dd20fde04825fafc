// Command benchtable turns `go test -bench` output from the bench module into
// the comparison table that `make bench` prints: one row per workload, one
// column per library, each our ratio to the best peer, and an SVG bar chart of
// the same figures.
//
// Two kinds of benchmark are understood, by name:
//
//	Benchmark<Lib><Workload><Mode>         one full httptest request through a
//	                                       library's middleware (Lib: Sessionkit,
//	                                       SCS, Gorilla); BenchmarkScaffold, the
//	                                       request alone, is subtracted
//	BenchmarkStorage<Lib><Workload><Mode>  the session work without HTTP: parse
//	                                       the cookie, read, change, save,
//	                                       serialize (Lib: Sessionkit, Remix)
//
// Workload is Memory, Cookie, CookieSealed, File, Redis, Memcache or
// Postgres; Mode is Write or Read. With -count above 1 the median of the runs is used; each
// GOMAXPROCS (the -N suffix of -cpu 1,2) gets its own table.
//
// Usage:
//
//	go test -run '^$' -bench . -benchmem -cpu 1,2 -count 5 > bench.txt
//	go run ./cmd/benchtable -svg chart.svg -machine "2-core VM" bench.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

func main() {
	svgPath := flag.String("svg", "", "also write an SVG bar chart of the first table to this file")
	machine := flag.String("machine", "", "the machine, for the chart's caption")
	command := flag.String("command", "make bench", "the command that made the figures, for the chart's caption")
	flag.Parse()

	var in io.Reader = os.Stdin
	if flag.NArg() > 0 {
		var readers []io.Reader
		for _, name := range flag.Args() {
			f, err := os.Open(name)
			if err != nil {
				fmt.Fprintln(os.Stderr, "benchtable:", err)
				os.Exit(1)
			}
			defer f.Close()
			readers = append(readers, f)
		}
		in = io.MultiReader(readers...)
	}
	results, err := Parse(in)
	if err != nil {
		fmt.Fprintln(os.Stderr, "benchtable:", err)
		os.Exit(1)
	}
	tables := Build(results)
	if len(tables) == 0 {
		fmt.Fprintln(os.Stderr, "benchtable: no benchmark of a known name in the input")
		os.Exit(1)
	}
	for _, t := range tables {
		fmt.Println(t.Markdown())
	}
	if *svgPath != "" {
		caption := *command
		if *machine != "" {
			caption = *machine + " · " + caption
		}
		if err := os.WriteFile(*svgPath, []byte(tables[0].SVG(caption)), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchtable:", err)
			os.Exit(1)
		}
	}
}

// Result is the median of one benchmark's runs.
type Result struct {
	Name   string // without "Benchmark" and the -N suffix
	Procs  int    // GOMAXPROCS, 1 when the name has no suffix
	NsOp   float64
	Allocs float64
	Runs   int
}

var lineRE = regexp.MustCompile(`^Benchmark(\S+?)(?:-(\d+))?\s+\d+\s+([0-9.]+) ns/op(.*)$`)
var allocsRE = regexp.MustCompile(`([0-9.]+) allocs/op`)

// Parse reads benchmark lines and returns each benchmark's median over its
// runs, ordered by GOMAXPROCS and name.
func Parse(r io.Reader) ([]Result, error) {
	type key struct {
		name  string
		procs int
	}
	ns := map[key][]float64{}
	allocs := map[key][]float64{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		procs := 1
		if m[2] != "" {
			procs, _ = strconv.Atoi(m[2])
		}
		name := m[1]
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			name = name[i+1:] // BenchmarkRedis/SessionkitRedisWrite: the sub-benchmark names the workload
		}
		k := key{name, procs}
		v, err := strconv.ParseFloat(m[3], 64)
		if err != nil {
			return nil, fmt.Errorf("%q: %w", sc.Text(), err)
		}
		ns[k] = append(ns[k], v)
		if a := allocsRE.FindStringSubmatch(m[4]); a != nil {
			av, _ := strconv.ParseFloat(a[1], 64)
			allocs[k] = append(allocs[k], av)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	var out []Result
	for k, v := range ns {
		res := Result{Name: k.name, Procs: k.procs, NsOp: median(v), Runs: len(v), Allocs: -1}
		if a := allocs[k]; len(a) > 0 {
			res.Allocs = median(a)
		}
		out = append(out, res)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Procs != out[j].Procs {
			return out[i].Procs < out[j].Procs
		}
		return out[i].Name < out[j].Name
	})
	return out, nil
}

func median(v []float64) float64 {
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}
