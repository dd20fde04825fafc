// Command chaos breaks the servers under the example app (examples/app)
// while signed-in users load it, and prints one table per scenario: requests,
// 5xx, sessions lost, writes lost, the longest outage (of all users, and of
// one user), p99 latency before, during and after the fault, and whether
// every session recovered without a restart of the app. `make chaos` runs
// every scenario; see bench/README.md.
//
//	go run ./cmd/chaos                                   # every scenario, about 5 minutes
//	go run ./cmd/chaos -scenario memory,redis-aof,file-kill -users 50 -before 3s -during 3s -after 5s
//
// Each scenario starts its own servers on free loopback ports (through
// session/sessiontest/testserver), builds and starts the example app as a
// child process with SESSION_SECRET fixed and -max-user-sessions of -users
// (appFlags), signs -users users in (all as the app's demo user) and lets
// them load it, one request after the other, with no think time: each
// GET / increments a counter kept in the user's session and shows it, so the client knows how many increments it had acknowledged
// (2xx) and sees how many landed. A page that shows a signed-out visitor is a
// lost session: nobody signs these users out. Then, after -before, the fault;
// -during later, its end (a restart, a SIGCONT); then -after, extended by up
// to -settle while some user's requests still fail.
//
// Servers and the app are stopped by PID at the end of each scenario, on
// failure and on Ctrl-C; on Linux they also get SIGKILL when this program
// dies.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"github.com/sessionkit/sessionkit/bench/internal/machine"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

type config struct {
	scenarios             []string
	users                 int
	before, during, after time.Duration
	settle                time.Duration
	age                   time.Duration
	backoff, timeout      time.Duration
	bound                 time.Duration
	nodeTimeout           time.Duration
	examples              string
	strict                bool
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Stderr)
	if errors.Is(err, flag.ErrHelp) {
		return
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	failed, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(1)
	}
	if failed > 0 && cfg.strict {
		fmt.Fprintf(os.Stderr, "chaos: %d checks of issue 22 not met\n", failed)
		os.Exit(1)
	}
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	cfg := &config{}
	var names []string
	for _, s := range scenarios() {
		names = append(names, s.name)
	}
	fs := flag.NewFlagSet("chaos", flag.ContinueOnError)
	fs.SetOutput(stderr)
	scenarioList := fs.String("scenario", "all", "comma-separated scenarios to run, or all: "+strings.Join(names, ", "))
	fs.IntVar(&cfg.users, "users", 200, "signed-in users loading the app, each one request at a time")
	fs.DurationVar(&cfg.before, "before", 5*time.Second, "load before the fault")
	fs.DurationVar(&cfg.during, "during", 6*time.Second, "how long the fault lasts: a server (or the app) down, a master paused; after a master's kill, the time before the after phase")
	fs.DurationVar(&cfg.after, "after", 12*time.Second, "load after the fault ended")
	fs.DurationVar(&cfg.settle, "settle", 60*time.Second, "at most this much longer after -after while some user's requests still fail")
	fs.DurationVar(&cfg.age, "age", 65*time.Second, "memcache-kill-relogin: the fault waits until the sign-ins are this old (the per-user index counts younger members as live unread)")
	fs.DurationVar(&cfg.backoff, "backoff", 100*time.Millisecond, "a user's pause after a failed request")
	fs.DurationVar(&cfg.timeout, "timeout", 15*time.Second, "the client's limit on one request")
	fs.DurationVar(&cfg.bound, "bound", 2*time.Second, "the app's per-request bound on storage work, to count the requests that took longer")
	fs.DurationVar(&cfg.nodeTimeout, "node-timeout", 2*time.Second, "the Redis Cluster's cluster-node-timeout")
	fs.StringVar(&cfg.examples, "examples", filepath.Join("..", "examples"), "the examples module folder")
	fs.BoolVar(&cfg.strict, "strict", false, "exit 1 when a check of issue 22's \"Done when\" is not met")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if cfg.users < 1 {
		return nil, fmt.Errorf("-users %d: want at least 1", cfg.users)
	}
	if *scenarioList == "all" {
		cfg.scenarios = names
		return cfg, nil
	}
	for _, n := range strings.Split(*scenarioList, ",") {
		n = strings.TrimSpace(n)
		if _, ok := findScenario(n); !ok {
			return nil, fmt.Errorf("-scenario %q: want one of %s, or all", n, strings.Join(names, ", "))
		}
		cfg.scenarios = append(cfg.scenarios, n)
	}
	return cfg, nil
}

func findScenario(name string) (scenario, bool) {
	for _, s := range scenarios() {
		if s.name == name {
			return s, true
		}
	}
	return scenario{}, false
}

// run builds the app and runs the scenarios, returning how many checks
// failed.
func run(ctx context.Context, cfg *config, w io.Writer) (int, error) {
	tmp, err := os.MkdirTemp("", "sessionkit-chaos-")
	if err != nil {
		return 0, err
	}
	defer os.RemoveAll(tmp)
	bin, err := buildApp(cfg.examples, tmp)
	if err != nil {
		return 0, err
	}
	fmt.Fprintf(w, "# make chaos\n\n%s; %d users; phases %v / %v / %v (+ up to %v while requests fail); client backoff %v after a failed request\n",
		machine.Describe(), cfg.users, cfg.before, cfg.during, cfg.after, cfg.settle, cfg.backoff)
	failed := 0
	var rows []string
	for _, name := range cfg.scenarios {
		if ctx.Err() != nil {
			return failed, ctx.Err()
		}
		sc, _ := findScenario(name)
		row, n, err := runScenario(ctx, cfg, sc, bin, tmp, w)
		if errors.Is(err, errSkip) {
			fmt.Fprintf(w, "\n## %s: skipped (%v)\n", sc.name, err)
			continue
		}
		if err != nil {
			return failed, fmt.Errorf("%s: %w", sc.name, err)
		}
		rows = append(rows, row)
		failed += n
	}
	fmt.Fprintf(w, "\n## All scenarios\n\n%s\n", summaryHeader)
	for _, row := range rows {
		fmt.Fprintln(w, row)
	}
	return failed, nil
}

// runScenario runs one scenario and prints its report; it returns its row
// of the summary table and how many of its checks failed.
func runScenario(ctx context.Context, cfg *config, sc scenario, bin, tmp string, w io.Writer) (string, int, error) {
	r := &scenarioRun{cfg: cfg, sc: sc, tmp: filepath.Join(tmp, sc.name)}
	defer r.stopAll()
	if err := os.MkdirAll(r.tmp, 0o700); err != nil {
		return "", 0, err
	}
	if err := sc.prepare(ctx, r); err != nil {
		return "", 0, err
	}
	app, err := startApp(ctx, bin, filepath.Join(r.tmp, "app.log"), appFlags(cfg, sc, r.appArgs)...)
	if err != nil {
		return "", 0, err
	}
	r.app = app
	r.cleanup(app.stop)
	o, err := r.drive(ctx)
	if err != nil {
		return "", 0, err
	}
	row, failed := r.report(w, o)
	return row, failed, nil
}

// drive loads the app through the phases and injects the fault.
func (r *scenarioRun) drive(ctx context.Context) (*outcome, error) {
	cfg := r.cfg
	l, err := newLoad(r.app.url(), loadConfig{users: cfg.users, relogin: r.sc.relogin, backoff: cfg.backoff, timeout: cfg.timeout})
	if err != nil {
		return nil, err
	}
	r.load = l
	loadCtx, stopLoad := context.WithCancel(ctx)
	defer func() { stopLoad(); l.wait() }()
	if err := l.run(loadCtx, time.Minute); err != nil {
		return nil, err
	}
	o := &outcome{bound: cfg.bound}
	before := cfg.before
	if r.sc.aged {
		before = max(before, cfg.age)
	}
	if sleep(ctx, before); ctx.Err() != nil {
		return nil, ctx.Err()
	}
	if r.locate != nil {
		c, err := cookie.New("session", cookie.Options{Secrets: []string{appSecret}})
		if err != nil {
			return nil, err
		}
		o.serverOf = r.locate(ctx, l.sessionIDs(c))
	}
	o.faultAt = l.since()
	if err := r.fault(ctx); err != nil {
		return nil, fmt.Errorf("injecting the fault: %w", err)
	}
	watchCtx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		defer close(watched)
		if r.watch != nil {
			r.watch(watchCtx)
		}
	}()
	sleep(ctx, cfg.during)
	o.recoAt = l.since()
	if r.recover != nil && ctx.Err() == nil {
		if err := r.recover(ctx); err != nil {
			stopWatch()
			<-watched
			return nil, fmt.Errorf("ending the fault: %w", err)
		}
	}
	sleep(ctx, cfg.after)
	for deadline := time.Now().Add(cfg.settle); l.failing() > 0 && time.Now().Before(deadline) && ctx.Err() == nil; {
		sleep(ctx, 200*time.Millisecond)
	}
	o.end = l.since()
	l.stop()
	l.wait()
	stopWatch()
	<-watched
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	o.users, o.stopped = l.records()
	o.events = r.timeline()
	o.faulted = r.faulted
	return o, nil
}

// report prints the scenario's table, timeline and checks; it returns the
// scenario's row of the summary table and how many checks failed.
func (r *scenarioRun) report(w io.Writer, o *outcome) (string, int) {
	var notes []string
	if r.after != nil {
		notes = r.after()
	}
	if !r.app.alive() {
		notes = append(notes, "the app had exited by the end of the run: "+r.app.tail(5))
	}
	s := analyze(o)
	fmt.Fprintf(w, "\n## %s: %s\n\n", r.sc.name, r.sc.title)
	fmt.Fprintf(w, "%s\n\n", r.describe(o, &s))
	fmt.Fprint(w, s.table(o, r.sc.multi, r.sc.appRestart))
	fmt.Fprintln(w)
	var checks []check
	if r.checks != nil {
		checks = r.checks(&s, o)
	}
	fmt.Fprintln(w, "Issue 22's \"Done when\":")
	printChecks(w, checks)
	fmt.Fprintf(w, "\n%s\n", r.load.setupSummary())
	fmt.Fprintf(w, "Client errors during the run: %s\n", r.load.errorSummary(4))
	counts, err := logCounts(r.app.logPath)
	if err != nil {
		notes = append(notes, "reading the app's log: "+err.Error())
	}
	fmt.Fprintf(w, "App log, WARN and ERROR lines: %s\n", topCounts(counts, 4))
	for _, n := range notes {
		fmt.Fprintln(w, n)
	}
	failed := 0
	for _, c := range checks {
		if !c.ok && !c.info {
			failed++
		}
	}
	return s.summaryRow(r.sc.name, r.sc.multi, checks), failed
}

// describe is the line above the table: the users and the timeline.
func (r *scenarioRun) describe(o *outcome, s *summary) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d users signed in as demo, one request after the other. Timeline:", r.cfg.users)
	for _, e := range o.events {
		fmt.Fprintf(&b, " %s %s;", signedSecs(e.at-o.faultAt), e.detail)
	}
	fmt.Fprintf(&b, " end of the run %s (times from the fault).", signedSecs(o.end-o.faultAt))
	if r.sc.multi {
		fmt.Fprintf(&b, " %d of the %d users had their session on the faulted server %s.", s.usersOnFaulted, r.cfg.users, o.faulted)
	}
	return b.String()
}
