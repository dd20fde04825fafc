package main

import (
	"encoding/xml"
	"strings"
	"testing"
)

const sample = `goos: linux
BenchmarkScaffold        	 1000000	      1000 ns/op	     900 B/op	      14 allocs/op
BenchmarkScaffold        	 1000000	      1100 ns/op	     900 B/op	      14 allocs/op
BenchmarkScaffold        	 1000000	      1050 ns/op	     900 B/op	      14 allocs/op
BenchmarkSessionkitMemoryWrite	  300000	      3000 ns/op	    2000 B/op	      29 allocs/op
BenchmarkSessionkitMemoryWrite	  300000	      3200 ns/op	    2000 B/op	      29 allocs/op
BenchmarkSCSMemoryWrite   	   50000	     21050 ns/op	   20000 B/op	     268 allocs/op
BenchmarkSCSMemoryWrite   	   50000	     22050 ns/op	   20000 B/op	     268 allocs/op
BenchmarkSessionkitMemcacheWrite	   10000	     50000 ns/op	    3000 B/op	      40 allocs/op
BenchmarkRedis/SessionkitRedisRead	   10000	     31050 ns/op	    3000 B/op	      35 allocs/op
BenchmarkRedis/SCSRedisRead	   10000	     91050 ns/op	    3000 B/op	      235 allocs/op
BenchmarkPostgres/SessionkitPostgresWrite	    5000	    201050 ns/op	         2.000 roundtrips/op	    4000 B/op	      60 allocs/op
BenchmarkPostgres/SCSPostgresWrite	    5000	    261050 ns/op	         2.000 roundtrips/op	    9000 B/op	      300 allocs/op
BenchmarkPostgres/SessionkitPostgresParallel16Write	   20000	     60000 ns/op	     16000 req/s	    4000 B/op	      60 allocs/op
BenchmarkScaffold-2      	 1000000	      2000 ns/op	     900 B/op	      14 allocs/op
BenchmarkSessionkitCookieRead-2	  300000	      4000 ns/op	    2000 B/op	      25 allocs/op
BenchmarkGorillaCookieRead-2	   50000	     22000 ns/op	   20000 B/op	     219 allocs/op
BenchmarkStorageSessionkitCookieWrite	  500000	      2000 ns/op	    1000 B/op	      10 allocs/op
BenchmarkStorageRemixCookieWrite	    5000	    150000 ns/op	   17136 B/op	     105 allocs/op
PASS
`

func TestTables(t *testing.T) {
	res, err := Parse(strings.NewReader(sample))
	if err != nil {
		t.Fatal(err)
	}
	tables := Build(res)
	if len(tables) != 3 {
		t.Fatalf("%d tables, want 3 (HTTP at 1 and 2 procs, storage at 1)", len(tables))
	}
	md := tables[0].Markdown()
	for _, want := range []string{
		"GOMAXPROCS=1 (Scaffold 1.05 µs, 14 allocs)",
		// median 3100 − 1050 = 2050 ns; scs median 21550 − 1050 = 20500 ns: 10×
		"| memory, write | 2.05 µs, 15 allocs | 20.50 µs, 254 allocs | — | **10×** scs |",
		"| Memcache, write | 48.95 µs, 26 allocs | — | — | no peer |",
		"| Redis, read | 30.00 µs, 21 allocs | 90.00 µs, 221 allocs | — | **3.0×** scs |",
		// the round trips between ns/op and B/op do not hide allocs/op;
		// the Parallel16 benchmarks are not workloads of the table
		"| PostgreSQL, write | 200.00 µs, 46 allocs | 260.00 µs, 286 allocs | — | **1.3×** scs |",
	} {
		if !strings.Contains(md, want) {
			t.Errorf("table lacks %q:\n%s", want, md)
		}
	}
	if md2 := tables[1].Markdown(); !strings.Contains(md2, "| cookie signed, read | 2.00 µs, 11 allocs | — | 20.00 µs, 205 allocs | **10×** gorilla |") {
		t.Errorf("GOMAXPROCS=2 table:\n%s", md2)
	}
	if md3 := tables[2].Markdown(); !strings.Contains(md3, "| cookie signed, write | 2.00 µs, 10 allocs | 150.00 µs | **75×** Remix (Node) |") {
		t.Errorf("storage table:\n%s", md3)
	}
	svg := tables[0].SVG("test machine · make bench")
	if err := xml.Unmarshal([]byte(svg), new(struct{})); err != nil {
		t.Fatalf("SVG is not well-formed XML: %v", err)
	}
	if !strings.Contains(svg, "10× scs") || !strings.Contains(svg, "test machine") {
		t.Errorf("SVG lacks the ratio or caption")
	}
}

func TestNoKnownBenchmarks(t *testing.T) {
	res, err := Parse(strings.NewReader("BenchmarkOther 10 5 ns/op\n"))
	if err != nil {
		t.Fatal(err)
	}
	if tables := Build(res); len(tables) != 0 {
		t.Fatalf("got %d tables from unknown names", len(tables))
	}
}

// A noisy run can time a library below the scaffold: the table says so
// instead of printing a negative time or a ratio, and the chart still draws.
func TestBelowScaffold(t *testing.T) {
	res, err := Parse(strings.NewReader(`BenchmarkScaffold 10 5000 ns/op 10 B/op 14 allocs/op
BenchmarkSessionkitMemoryWrite 10 4000 ns/op 10 B/op 29 allocs/op
BenchmarkSCSMemoryWrite 10 20000 ns/op 10 B/op 268 allocs/op
`))
	if err != nil {
		t.Fatal(err)
	}
	tables := Build(res)
	md := tables[0].Markdown()
	if !strings.Contains(md, "| memory, write | below Scaffold | 15.00 µs, 254 allocs | — | — (a figure is below Scaffold: too noisy a run) |") {
		t.Errorf("table:\n%s", md)
	}
	if err := xml.Unmarshal([]byte(tables[0].SVG("x")), new(struct{})); err != nil {
		t.Fatal(err)
	}
}
