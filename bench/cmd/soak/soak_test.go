package main

import (
	"math"
	"strings"
	"testing"
	"time"
)

func TestRegress(t *testing.T) {
	xs := []float64{0, 1, 2, 3, 4}
	ys := []float64{10, 12, 14, 16, 18}
	mean, slope := regress(xs, ys)
	if mean != 14 || slope != 2 {
		t.Errorf("regress = %v, %v; want 14, 2", mean, slope)
	}
	if _, slope := regress([]float64{1, 1}, []float64{3, 5}); slope != 0 {
		t.Errorf("slope with one x = %v", slope)
	}
}

// series makes n samples a second apart whose goroutines follow f.
func series(n int, f func(i int) float64) []sample {
	var s []sample
	for i := range n {
		s = append(s, sample{at: time.Duration(i) * time.Second, heapInuse: 8 << 20, heapLive: 4 << 20, goroutines: f(i), fds: 20})
	}
	return s
}

func TestFit(t *testing.T) {
	goroutines := judged[2]
	// A warm-up climb (the first 20%), then flat with noise: flat.
	flat := series(100, func(i int) float64 {
		if i < 20 {
			return float64(10 + i*5)
		}
		return 110 + float64(i%3)
	})
	if tr := fit(flat, goroutines); tr.verdict() != "flat" || math.Abs(tr.slope) > 0.05 {
		t.Errorf("flat series: %+v, %s", tr, tr.verdict())
	}
	// One goroutine more every 10 s after warm-up: 8 over the 79 s window,
	// past max(3, 5% of ~150).
	leak := series(100, func(i int) float64 { return 110 + float64(i/10) })
	if tr := fit(leak, goroutines); tr.verdict() != "growing" {
		t.Errorf("leaking series: %+v, %s", tr, tr.verdict())
	}
	missing := []sample{{fds: -1}, {fds: -1}, {fds: -1}}
	if tr := fit(missing, judged[3]); tr.verdict() != "n/a" {
		t.Errorf("missing fds: %s", tr.verdict())
	}
}

func TestRow(t *testing.T) {
	r := &result{storage: "memory", requests: 6000, seconds: 60, samples: series(60, func(int) float64 { return 100 }), goroutinesBefore: 3, goroutinesAfter: 3}
	row := r.row()
	for _, want := range []string{"| memory | 6000 | 100 | 0 |", "8.0 MiB, +0.00 MiB/min: flat", "100, +0.00/min: flat", "| 3 → 3 | **flat** |"} {
		if !strings.Contains(row, want) {
			t.Errorf("row lacks %q: %s", want, row)
		}
	}
	if !r.flat() {
		t.Error("not flat")
	}
	r.samples = series(60, func(i int) float64 { return float64(100 + i) })
	if row := r.row(); !strings.Contains(row, "**growing**: goroutines") || r.flat() {
		t.Errorf("growing goroutines: %s", row)
	}
}

func TestGoroutineProfile(t *testing.T) {
	profile := `goroutine profile: total 7
4 @ 0x48bc8e 0x4686c5 0x9b826c 0x493641
#	0x9b826b	github.com/sessionkit/sessionkit/session-middleware.worker+0xcb	/work/main/session-middleware/bound.go:174

2 @ 0x44a271 0x48aabd 0x591991 0x493641
#	0x44a270	runtime.gopark+0xce		/usr/local/go/src/runtime/proc.go:435
#	0x591990	internal/poll.runtime_pollWait+0x84	/usr/local/go/src/runtime/netpoll.go:351
#	0x5917c4	net/http.(*persistConn).readLoop+0x44	/usr/local/go/src/net/http/transport.go:2395
#	0x493640	runtime.goexit+0x1	/usr/local/go/src/runtime/asm_amd64.s:1700

1 @ 0x44a271
#	0x5917c4	main.main+0x44	/x.go:1
`
	got := parseGoroutineProfile(profile)
	want := map[string]int{"github.com/sessionkit/sessionkit/session-middleware.worker": 4, "net/http.(*persistConn).readLoop": 2, "main.main": 1}
	if len(got) != len(want) {
		t.Fatalf("got %v", got)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: %d, want %d", k, got[k], v)
		}
	}
	growth := goroutineGrowth(map[string]int{"a": 2, "b": 5}, map[string]int{"a": 7, "b": 5, "c": 1})
	if growth != "+5 a, +1 c" {
		t.Errorf("growth = %q", growth)
	}
}

// TestAppOptions: the storages get the example app's options, with room
// for every client signed in as the one demo user.
func TestAppOptions(t *testing.T) {
	for _, users := range []int{1, 50, 500} {
		o := appOptions(users, nil)
		if o.UserKey != "user" || o.IdleTimeout != 30*time.Minute || o.Lifetime != 12*time.Hour || o.RegenerateGrace != 30*time.Second {
			t.Errorf("%d users: %+v, want the app's options", users, o)
		}
		if o.MaxUserSessions < users || o.MaxUserSessions < 10 {
			t.Errorf("%d users: MaxUserSessions %d", users, o.MaxUserSessions)
		}
	}
}
