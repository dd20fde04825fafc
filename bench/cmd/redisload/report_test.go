package main

import (
	"bytes"
	"context"
	"errors"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		in   []float64
		want float64
	}{
		{[]float64{5}, 5},
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{10, 10, 1, 1000, 11}, 10},
	} {
		in := append([]float64(nil), tc.in...)
		if got := median(tc.in); got != tc.want {
			t.Errorf("median(%v) = %v, want %v", tc.in, got, tc.want)
		}
		if !reflect.DeepEqual(in, tc.in) {
			t.Errorf("median modified its input: %v, was %v", tc.in, in)
		}
	}
	if got := median(nil); !math.IsNaN(got) {
		t.Errorf("median(nil) = %v, want NaN", got)
	}
}

func TestRatio(t *testing.T) {
	a := figure{reqPerSec: 300, ok: true}
	b := figure{reqPerSec: 200, ok: true}
	if got := ratio(a, b); got != "1.50×" {
		t.Errorf("ratio = %q, want 1.50×", got)
	}
	for _, other := range []figure{{}, {na: "no cluster"}, {ok: true}} {
		if got := ratio(a, other); got != "n/a" {
			t.Errorf("ratio(a, %+v) = %q, want n/a", other, got)
		}
	}
}

func TestMeasurement(t *testing.T) {
	m := measurement{ops: 20000, seconds: 2, cpu: 0.5}
	if got := m.reqPerSec(); got != 10000 {
		t.Errorf("reqPerSec = %v, want 10000", got)
	}
	// 0.5 s of Redis CPU for 20,000 requests: 250 ms per 10,000.
	if got := m.cpuPer10k(); math.Abs(got-250) > 1e-9 {
		t.Errorf("cpuPer10k = %v, want 250", got)
	}
}

func TestFigureMedians(t *testing.T) {
	r := newResults()
	k := cellKey{"node", 16, "write", "sessionkit"}
	r.add(k, measurement{ops: 1000, seconds: 1, cpu: 0.01}) // 1000 req/s, 100 ms/10k
	r.add(k, measurement{ops: 3000, seconds: 1, cpu: 0.06}) // 3000 req/s, 200 ms/10k
	r.add(k, measurement{ops: 2000, seconds: 1, cpu: 0.06}) // 2000 req/s, 300 ms/10k
	f := r.figure(k)
	if !f.ok || f.reqPerSec != 2000 || math.Abs(f.cpuPer10k-200) > 1e-9 {
		t.Errorf("figure = %+v, want medians 2000 req/s and 200 ms/10k", f)
	}
	if f := r.figure(cellKey{"node", 64, "write", "sessionkit"}); f.ok {
		t.Errorf("a cell without runs has a figure: %+v", f)
	}
}

func TestWriteTable(t *testing.T) {
	r := newResults()
	add := func(n int, wl, c string, ops int64) {
		r.add(cellKey{"cluster", n, wl, c}, measurement{ops: ops, seconds: 1, cpu: float64(ops) / 1e5})
	}
	for _, n := range []int{16, 64} {
		for _, wl := range workloadNames {
			add(n, wl, "sessionkit", 30000)
			add(n, wl, "remix", 20000)
			r.na[cellKey{"cluster", n, wl, "scs"}] = "goredisstore takes a *redis.Client"
		}
	}
	var buf bytes.Buffer
	writeTable(&buf, tableSpec{topo: "cluster", title: "3 masters", clients: []int{16, 64}, contenders: []string{"sessionkit", "scs", "remix"}}, r)
	got := buf.String()
	holdsAll(t, got,
		"## cluster: 3 masters\n",
		"| clients | workload | sessionkit req/s | sessionkit Redis CPU ms/10k req | scs req/s | scs Redis CPU ms/10k req | remix req/s | remix Redis CPU ms/10k req | sessionkit ÷ remix | sessionkit ÷ scs |\n",
		"| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n",
		"| 16 | write | 30000 | 100 | n/a | n/a | 20000 | 100 | 1.50× | n/a |\n",
		"| 64 | read | 30000 | 100 | n/a | n/a | 20000 | 100 | 1.50× | n/a |\n",
		"scs: n/a (goredisstore takes a *redis.Client)\n",
	)
	if n := strings.Count(got, "scs: n/a"); n != 1 {
		t.Errorf("the n/a note appears %d times, want once:\n%s", n, got)
	}
	if n := strings.Count(got, "\n| "); n != 6 {
		t.Errorf("%d table lines, want 6 (head, alignment, 4 rows):\n%s", n, got)
	}
}

func TestRatioColumns(t *testing.T) {
	for _, tc := range []struct {
		in, want []string
	}{
		{contenderNames, []string{"remix", "scs"}},
		{[]string{"sessionkit", "scs"}, []string{"scs"}},
		{[]string{"sessionkit-direct", "scs", "remix"}, nil},
		{[]string{"sessionkit"}, nil},
	} {
		if got := ratioColumns(tc.in); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ratioColumns(%v) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestParseCPU(t *testing.T) {
	info := "# CPU\r\nused_cpu_sys:1.250000\r\nused_cpu_user:0.750000\r\nused_cpu_sys_children:9.000000\r\nused_cpu_user_children:9.000000\r\n"
	got, err := parseCPU(info)
	if err != nil || got != 2 {
		t.Errorf("parseCPU = %v, %v; want 2", got, err)
	}
	if _, err := parseCPU("# CPU\r\nused_cpu_sys:1\r\n"); err == nil {
		t.Error("parseCPU without used_cpu_user: no error")
	}
}

func TestParseOpsLine(t *testing.T) {
	m, err := parseOpsLine("ops 12345 seconds 2.0005")
	if err != nil || m.ops != 12345 || m.seconds != 2.0005 {
		t.Errorf("parseOpsLine = %+v, %v", m, err)
	}
	for _, bad := range []string{"ops 0 seconds 2", "ops 10 seconds 0", "ops x seconds 1", "ns/op 5 ops 10", "ops 10"} {
		if _, err := parseOpsLine(bad); err == nil {
			t.Errorf("parseOpsLine(%q): no error", bad)
		}
	}
}

func TestParseFlags(t *testing.T) {
	cfg, err := parseFlags([]string{"-clients", "64, 16", "-topology", "cluster,node", "-contenders", "remix,sessionkit", "-rounds", "3"}, &bytes.Buffer{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(cfg.clients, []int{64, 16}) {
		t.Errorf("clients = %v", cfg.clients)
	}
	// Names come back in the tables' order.
	if !reflect.DeepEqual(cfg.topologies, []string{"node", "cluster"}) || !reflect.DeepEqual(cfg.contenders, []string{"sessionkit", "remix"}) {
		t.Errorf("topologies %v, contenders %v", cfg.topologies, cfg.contenders)
	}
	for _, bad := range [][]string{
		{"-clients", "0"},
		{"-clients", "16,x"},
		{"-topology", "ring"},
		{"-contenders", "gorilla"},
		{"-rounds", "0"},
		{"-duration", "0s"},
	} {
		if _, err := parseFlags(bad, &bytes.Buffer{}); err == nil {
			t.Errorf("parseFlags(%q): no error", bad)
		}
	}
}

func TestCommandLine(t *testing.T) {
	got := commandLine([]string{"-clients", "16,64", "-remix", "my dir"})
	want := `go run ./cmd/redisload -clients 16,64 -remix "my dir"`
	if got != want {
		t.Errorf("commandLine = %q, want %q", got, want)
	}
}

// A request's error stops the run and is what drive returns.
func TestDriveFailsOnError(t *testing.T) {
	boom := errors.New("boom")
	calls := 0
	reqs := []request{
		func(ctx context.Context) error { return nil },
		func(ctx context.Context) error {
			if _, ok := ctx.Deadline(); !ok {
				return errors.New("a request without a deadline")
			}
			calls++
			if calls == 100 {
				return boom
			}
			return nil
		},
	}
	c := cell{cfg: &config{warmup: time.Minute, duration: time.Minute}}
	if _, err := drive(context.Background(), c, reqs); !errors.Is(err, boom) {
		t.Errorf("drive = %v, want %v", err, boom)
	}
}

// holdsAll reports each of want that the printed table got lacks.
func holdsAll(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Errorf("table lacks %q:\n%s", w, got)
		}
	}
}
