// Command redisload measures session stores on Redis under concurrent load,
// without HTTP: sessionkit's storage-redis (pipelined, the default, and
// direct, NoPipeline), scs's goredisstore, and on Node the real
// @remix-run/session-storage-redis (bench/remix/redis-load.mjs). `make
// bench-redis` runs it; it is not part of the tests or CI.
//
//	go run ./cmd/redisload                                   # node and cluster, 16 and 64 clients, 5 s each
//	go run ./cmd/redisload -duration 2s -warmup 1s -clients 16 -topology node -rounds 3
//
// It starts one redis-server (persistence off) and a 3-master Redis Cluster
// without replicas on free loopback ports (session/sessiontest/testserver)
// and, for every topology, number of clients, workload and contender, runs
// that many clients, each on a session of its own created beforehand
// (user_id=42, name="alice"), one request after the other with no think
// time, for -warmup and then -duration, timed. A request reads the session
// by id, checks user_id and, in the write workload, increments a counter;
// then it saves, which writes nothing for an unchanged session. Each Go
// request runs on a context with a 2-second deadline, as the session
// middleware gives one. Any error fails the run.
//
// Reported per cell: requests per second over the timed window, and Redis's
// own CPU time (the used_cpu_sys + used_cpu_user of INFO cpu, summed over
// every master, before and after the window) per 10,000 requests; under
// each topology's table, a second one with Redis's time per command of a
// request (INFO commandstats, read with the CPU). With
// -rounds N every cell runs N times, the rounds interleaved, and each
// figure is the median of its N.
//
// The servers and the Node process are stopped by PID at the end, on
// failure and on Ctrl-C; on Linux they also get SIGKILL when this program
// dies.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// config is what the flags set.
type config struct {
	duration   time.Duration
	warmup     time.Duration
	clients    []int
	topologies []string
	contenders []string
	rounds     int
	remixDir   string
	cpuProfile string
}

// Topology and contender names, in the order the tables show them.
var (
	topologyNames  = []string{"node", "cluster"}
	contenderNames = []string{"sessionkit", "sessionkit-direct", "scs", "remix"}
	workloadNames  = []string{"write", "read"}
)

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = profiled(cfg.cpuProfile, func() error { return run(ctx, cfg, os.Args[1:], os.Stdout, os.Stderr) })
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "redisload: FAILED:", err)
		os.Exit(1)
	}
}

// parseFlags parses the command line into a config.
func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	fs := flag.NewFlagSet("redisload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.DurationVar(&cfg.duration, "duration", 5*time.Second, "timed load per cell")
	fs.DurationVar(&cfg.warmup, "warmup", time.Second, "load before the timed window, not counted")
	clients := fs.String("clients", "16,64", "comma-separated numbers of concurrent clients")
	topologies := fs.String("topology", strings.Join(topologyNames, ","), "comma-separated topologies: node (one redis-server), cluster (3 masters)")
	contenders := fs.String("contenders", strings.Join(contenderNames, ","), "comma-separated contenders: "+strings.Join(contenderNames, ", "))
	fs.IntVar(&cfg.rounds, "rounds", 1, "runs of every cell, interleaved; each figure is the median")
	fs.StringVar(&cfg.remixDir, "remix", "remix", "the folder of redis-load.mjs and its node_modules")
	fs.StringVar(&cfg.cpuProfile, "cpuprofile", "", "write this process's CPU profile of the whole run to this file")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	var err error
	if cfg.clients, err = parseInts(*clients); err != nil {
		return nil, fmt.Errorf("-clients: %w", err)
	}
	if cfg.topologies, err = parseNames(*topologies, topologyNames); err != nil {
		return nil, fmt.Errorf("-topology: %w", err)
	}
	if cfg.contenders, err = parseNames(*contenders, contenderNames); err != nil {
		return nil, fmt.Errorf("-contenders: %w", err)
	}
	return cfg, checkConfig(cfg)
}

// checkConfig refuses durations and counts that cannot make a run.
func checkConfig(cfg *config) error {
	switch {
	case cfg.duration <= 0:
		return fmt.Errorf("-duration %v: want more than 0", cfg.duration)
	case cfg.warmup < 0:
		return fmt.Errorf("-warmup %v: want 0 or more", cfg.warmup)
	case cfg.rounds < 1:
		return fmt.Errorf("-rounds %d: want at least 1", cfg.rounds)
	}
	return nil
}

// parseInts parses a comma-separated list of positive integers.
func parseInts(s string) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || n < 1 {
			return nil, fmt.Errorf("%q: want positive integers separated by commas", s)
		}
		out = append(out, n)
	}
	return out, nil
}

// parseNames parses a comma-separated list of names out of known, and
// returns them in known's order, each once.
func parseNames(s string, known []string) ([]string, error) {
	want := map[string]bool{}
	for _, f := range strings.Split(s, ",") {
		f = strings.TrimSpace(f)
		if !contains(known, f) {
			return nil, fmt.Errorf("%q: want some of %s", f, strings.Join(known, ", "))
		}
		want[f] = true
	}
	var out []string
	for _, k := range known {
		if want[k] {
			out = append(out, k)
		}
	}
	return out, nil
}

// contains reports whether list holds s.
func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// commandLine is how this run was started, for the report's header.
func commandLine(args []string) string {
	parts := []string{"go run ./cmd/redisload"}
	for _, a := range args {
		if a == "" || strings.ContainsAny(a, " \t\"'$") {
			a = strconv.Quote(a)
		}
		parts = append(parts, a)
	}
	return strings.Join(parts, " ")
}

// profiled runs f, under the CPU profiler writing to path unless path is
// empty.
func profiled(path string, f func() error) error {
	if path == "" {
		return f()
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return err
	}
	err = f()
	pprof.StopCPUProfile()
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
