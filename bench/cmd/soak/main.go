// Command soak loads each session storage in turn (memory, file, redis,
// memcache, postgres) with steady traffic for -duration, samples the
// process once a second (heap in use, heap live after the last GC,
// goroutines, open file descriptors), and prints per storage the slope of
// each after the warm-up (a least-squares fit over the last 80% of the
// samples) with a verdict: "flat" when the fitted drift over that window
// is within the metric's tolerance (see bench/README.md). `make soak` runs
// it; it is not part of the tests or CI.
//
//	go run ./cmd/soak                         # 10 minutes per storage
//	go run ./cmd/soak -duration 1m -storage memory,redis
//
// Everything runs in this process, so that its own runtime can be read:
// the session middleware and each storage as the example app opens them
// (examples/app/storage.go: its options, with a per-user cap raised for
// the load and no Observer, see appOptions; its clients and number of
// servers), behind a handler doing the app's session work without its
// pages, served over loopback to -users clients, each a signed-in user
// with its own cookie jar who increments a counter on every request and
// signs out and in again every -relogin requests (so sessions are created,
// regenerated and destroyed all along, and the per-user index changes).
// The servers (redis-server, memcached, PostgreSQL) run as processes of
// their own on free loopback ports, started and stopped by PID through
// session/sessiontest/testserver.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/sessionkit/sessionkit/bench/internal/machine"
	"io"
	"net/http/httptest"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"strings"
	"syscall"
	"time"
)

type config struct {
	duration time.Duration
	users    int
	relogin  int
	storages []string
	csvDir   string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	notFlat, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "soak:", err)
		os.Exit(1)
	}
	if notFlat > 0 {
		fmt.Fprintf(os.Stderr, "soak: %d storages not flat\n", notFlat)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("soak", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&cfg.duration, "duration", 10*time.Minute, "how long each storage is loaded")
	fs.IntVar(&cfg.users, "users", 50, "concurrent signed-in users, one request at a time each")
	fs.IntVar(&cfg.relogin, "relogin", 100, "each user signs out and in again every this many requests (0: never)")
	fs.StringVar(&cfg.csvDir, "csv", "", "also write each storage's samples to DIR/<storage>.csv")
	list := fs.String("storage", strings.Join(storageNames, ","), "comma-separated storages to soak: "+strings.Join(storageNames, ", "))
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.duration < 10*time.Second || cfg.users < 1 {
		return nil, fmt.Errorf("want -duration of at least 10s and -users of at least 1")
	}
	for _, n := range strings.Split(*list, ",") {
		n = strings.TrimSpace(n)
		found := false
		for _, s := range storageNames {
			found = found || s == n
		}
		if !found {
			return nil, fmt.Errorf("-storage %q: want some of %s", n, strings.Join(storageNames, ", "))
		}
		cfg.storages = append(cfg.storages, n)
	}
	return cfg, nil
}

// run soaks each storage and prints the table; it returns how many were not
// flat.
func run(ctx context.Context, cfg *config, w io.Writer) (int, error) {
	tmp, err := os.MkdirTemp("", "sessionkit-soak-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	fmt.Fprintf(w, "# make soak\n\n%s; %d users per storage, %v each, one sample a second, slopes fitted over the last %.0f%% of the samples\n\n",
		machine.Describe(), cfg.users, cfg.duration, 100*(1-warmupFraction))
	var rows []string
	notFlat := 0
	for _, name := range cfg.storages {
		r, err := soak(ctx, cfg, name, filepath.Join(tmp, name))
		if errors.Is(err, errSkip) {
			rows = append(rows, fmt.Sprintf("| %s | skipped: %v |", name, err))
			continue
		}
		if err != nil {
			return notFlat, fmt.Errorf("%s: %w", name, err)
		}
		fmt.Fprintf(os.Stderr, "soak: %s done: %d requests, %d errors, %d warnings logged\n", name, r.requests, r.errors, r.warnings)
		fmt.Fprintf(os.Stderr, "soak: %s: goroutines that grew after the warm-up, by function: %s\n", name, r.goroutineGrowth)
		if r.firstErr != "" {
			fmt.Fprintf(os.Stderr, "soak: %s: the first error or warning: %s\n", name, r.firstErr)
		}
		if cfg.csvDir != "" {
			if err := writeCSV(filepath.Join(cfg.csvDir, name+".csv"), r.samples); err != nil {
				return notFlat, err
			}
		}
		rows = append(rows, r.row())
		if !r.flat() || r.errors > 0 {
			notFlat++
		}
	}
	fmt.Fprintln(w, tableHeader)
	for _, row := range rows {
		fmt.Fprintln(w, row)
	}
	return notFlat, nil
}

// soak loads one storage for cfg.duration and samples the process.
func soak(ctx context.Context, cfg *config, name, tmp string) (*result, error) {
	runtime.GC()
	r := &result{storage: name, goroutinesBefore: runtime.NumGoroutine()}
	logger, warnings, first := newCountingLogger()
	op, err := openStorage(name, tmp, cfg.users, logger)
	if err != nil {
		return nil, err
	}
	h, err := newHandler(op.st, logger)
	if err != nil {
		op.close()
		return nil, err
	}
	srv := httptest.NewServer(h)
	l := newLoad(srv.URL, cfg.users, cfg.relogin)
	sampleCtx, cancel := context.WithTimeout(ctx, cfg.duration)
	start := time.Now()
	done := make(chan struct{})
	go func() { l.run(ctx); close(done) }()
	// The goroutines by function when the fitted window starts, and at its
	// end: what grew, if anything did.
	warmCh := make(chan map[string]int, 1)
	warm := time.AfterFunc(time.Duration(float64(cfg.duration)*warmupFraction), func() { warmCh <- goroutineCounts() })
	r.samples = sampleUntil(sampleCtx, start)
	atWarm := map[string]int{}
	if !warm.Stop() {
		atWarm = <-warmCh
	}
	r.goroutineGrowth = goroutineGrowth(atWarm, goroutineCounts())
	cancel()
	l.stop()
	<-done
	r.seconds = time.Since(start).Seconds()
	r.requests, r.errors = l.requests.Load(), l.errors.Load()
	srv.Close()
	op.close()
	// Give the closed clients' goroutines a moment to end.
	time.Sleep(time.Second)
	runtime.GC()
	r.goroutinesAfter = runtime.NumGoroutine()
	r.warnings = warnings.Load()
	if e, ok := l.firstErr.Load().(string); ok {
		r.firstErr = e
	} else if e, ok := first.Load().(string); ok {
		r.firstErr = e
	}
	return r, ctx.Err()
}

// sampleUntil reads the process once a second until ctx is done.
func sampleUntil(ctx context.Context, start time.Time) []sample {
	var out []sample
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	read := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	for {
		select {
		case <-ctx.Done():
			return out
		case <-tick.C:
		}
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		metrics.Read(read)
		s := sample{
			at:         time.Since(start),
			heapInuse:  float64(ms.HeapInuse),
			goroutines: float64(runtime.NumGoroutine()),
			fds:        openFiles(),
		}
		if read[0].Value.Kind() == metrics.KindUint64 {
			s.heapLive = float64(read[0].Value.Uint64())
		}
		out = append(out, s)
	}
}

// writeCSV writes samples, one line a second.
func writeCSV(path string, samples []sample) error {
	var b strings.Builder
	b.WriteString("seconds,heap_inuse_bytes,heap_live_bytes,goroutines,open_files\n")
	for _, s := range samples {
		fmt.Fprintf(&b, "%.1f,%.0f,%.0f,%.0f,%.0f\n", s.at.Seconds(), s.heapInuse, s.heapLive, s.goroutines, s.fds)
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
