// Command load drives web apps that keep a session with concurrent HTTP
// clients over loopback for a fixed, short time and prints requests per
// second, p50 and p99 latency and the error count of each, in one table:
// the example app (examples/app) with each of its storages, and minimal
// apps of sessionkit, alexedwards/scs and gorilla/sessions doing the same
// work (the bench module's handlers). `make load` runs it.
//
// Each client is one visitor with its own cookie jar: its first request
// starts a session, every later one loads it and writes a counter. A
// response other than 200 OK, or a transport error, is an error; 0 is the
// bar. Every server runs as its own process on a free loopback port, with
// redis-server, memcached and PostgreSQL started on free loopback ports for
// their rows and stopped by PID at the end. Requests are bounded in count
// (-max) and time (-duration); the client runs on the same machine as the
// servers, so the figures are end-to-end ones, where net/http's own cost
// dominates.
//
//	go run ./cmd/load -duration 5s -clients 32
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/redis/go-redis/v9"
)

func main() {
	serve := flag.String("serve", "", "internal: serve one minimal app (sessionkit-memory, sessionkit-cookie, scs-memory, gorilla-cookie) on -addr")
	addr := flag.String("addr", "127.0.0.1:0", "internal: address for -serve")
	duration := flag.Duration("duration", 5*time.Second, "how long each target is loaded")
	clients := flag.Int("clients", 32, "concurrent clients, each with its own session")
	maxRequests := flag.Int64("max", 2_000_000, "at most this many requests per target")
	only := flag.String("only", "", "comma-separated targets to run (default: all): sessionkit-memory, scs-memory, sessionkit-cookie, gorilla-cookie, app-memory, app-cookie, app-file, app-redis, app-redis-cluster, app-memcache, app-postgres")
	examples := flag.String("examples", "", "the examples module folder (default: ../examples next to this module)")
	flag.Parse()

	if *serve != "" {
		if err := serveMinimal(*serve, *addr); err != nil {
			fmt.Fprintln(os.Stderr, "load:", err)
			os.Exit(1)
		}
		return
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *duration, *clients, *maxRequests, *only, *examples); err != nil {
		fmt.Fprintln(os.Stderr, "load:", err)
		os.Exit(1)
	}
}

// Result is one target's figures.
type Result struct {
	Name     string
	Requests int64
	Errors   int64
	Elapsed  time.Duration
	P50, P99 time.Duration
	FirstErr string
}

// Load sends requests to urls from clients visitors until d has passed or
// max requests were sent, and measures them. Each visitor asks for urls in
// turn, one after the other (a page, then its assets), and again.
func Load(ctx context.Context, urls []string, clients int, d time.Duration, max int64) Result {
	transport := &http.Transport{
		MaxIdleConns:        clients,
		MaxIdleConnsPerHost: clients,
		DialContext:         (&net.Dialer{Timeout: 2 * time.Second}).DialContext,
	}
	defer transport.CloseIdleConnections()
	ctx, cancel := context.WithTimeout(ctx, d)
	defer cancel()
	var sent, errs atomic.Int64
	var firstErr atomic.Value
	lat := make([][]time.Duration, clients)
	var wg sync.WaitGroup
	start := time.Now()
	for i := 0; i < clients; i++ {
		jar, _ := cookiejar.New(nil)
		client := &http.Client{Transport: transport, Jar: jar, Timeout: 5 * time.Second}
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			mine := make([]time.Duration, 0, 4096)
			for n := 0; ctx.Err() == nil && sent.Add(1) <= max; n++ {
				t0 := time.Now()
				err := get(ctx, client, urls[n%len(urls)])
				if ctx.Err() != nil {
					break // the time was up during the request: not counted
				}
				mine = append(mine, time.Since(t0))
				if err != nil {
					errs.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
				}
			}
			lat[i] = mine
		}(i)
	}
	wg.Wait()
	res := Result{Elapsed: time.Since(start), Errors: errs.Load()}
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	res.Requests = int64(len(all))
	if len(all) > 0 {
		sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
		res.P50 = all[len(all)/2]
		res.P99 = all[len(all)*99/100]
	}
	if e, ok := firstErr.Load().(string); ok {
		res.FirstErr = e
	}
	return res
}

func get(ctx context.Context, client *http.Client, url string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if _, err := io.Copy(io.Discard, resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("status %d", resp.StatusCode)
	}
	return nil
}

// A target is one server to load: how to start it, and its URL.
type target struct {
	name  string // for -only
	label string // for the table
	start func(ctx context.Context, env *environment) (url string, stop func(), err error)
	// paths are what each visitor asks for in turn, after the URL's
	// origin: nil for just "/".
	paths []string
}

// urls returns the URLs a visitor of t asks for, on the server at base
// ("http://host:port/").
func (t target) urls(base string) []string {
	if len(t.paths) == 0 {
		return []string{base}
	}
	out := make([]string, len(t.paths))
	for i, p := range t.paths {
		out[i] = strings.TrimSuffix(base, "/") + p
	}
	return out
}

func run(ctx context.Context, d time.Duration, clients int, max int64, only, examplesDir string) error {
	env, err := newEnvironment(examplesDir)
	if err != nil {
		return err
	}
	defer env.close()
	want := map[string]bool{}
	for _, n := range strings.Split(only, ",") {
		if n = strings.TrimSpace(n); n != "" {
			want[n] = true
		}
	}
	fmt.Printf("%d clients, %v per target, loopback, GOMAXPROCS of each server = %d cores\n\n", clients, d, numCPU())
	fmt.Println("| target | req/s | p50 | p99 | errors | Redis commands per request |")
	fmt.Println("|---|---:|---:|---:|---:|---:|")
	failed := 0
	for _, t := range targets() {
		if len(want) > 0 && !want[t.name] {
			continue
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		url, stop, err := t.start(ctx, env)
		if err != nil {
			if errors.Is(err, errSkip) {
				fmt.Printf("| %s | skipped: %v | | | | |\n", t.label, err)
				continue
			}
			return fmt.Errorf("%s: %w", t.name, err)
		}
		// A short warm-up, so connections and caches are in place.
		urls := t.urls(url)
		Load(ctx, urls, clients, d/10, max)
		before := env.commands()
		r := Load(ctx, urls, clients, d, max)
		commands := perRequest(env.commands()-before, r.Requests)
		stop()
		env.redis = ""
		rps := float64(r.Requests) / r.Elapsed.Seconds()
		fmt.Printf("| %s | %.0f | %s | %s | %d | %s |\n", t.label, rps, ms(r.P50), ms(r.P99), r.Errors, commands)
		if r.Errors > 0 {
			failed++
			fmt.Fprintf(os.Stderr, "load: %s: %d errors, the first: %s\n", t.name, r.Errors, r.FirstErr)
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d targets had errors", failed)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/1e6) }

var errSkip = errors.New("skipped")

// environment holds what targets share: the built example app and the
// servers started for them.
type environment struct {
	tmp      string
	app      string // the example app's binary
	self     string // this program, for -serve
	stoppers []func()
	// redis is the address of the target's one redis-server, whose
	// commands are counted; "" for none.
	redis string
}

// commands returns how many commands the target's redis-server has
// processed (INFO stats), or -1 when it has none or cannot tell.
func (e *environment) commands() int64 {
	if e.redis == "" {
		return -1
	}
	c := redis.NewClient(&redis.Options{Addr: e.redis})
	defer c.Close()
	info, err := c.Info(context.Background(), "stats").Result()
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(info, "\r\n") {
		if v, ok := strings.CutPrefix(line, "total_commands_processed:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err == nil {
				return n
			}
		}
	}
	return -1
}

// perRequest is commands per request, or "" when they were not counted.
// The count includes the one INFO that read it.
func perRequest(commands, requests int64) string {
	if commands < 0 || requests == 0 {
		return ""
	}
	return fmt.Sprintf("%.2f", float64(commands-1)/float64(requests))
}

func newEnvironment(examplesDir string) (*environment, error) {
	tmp, err := os.MkdirTemp("", "sessionkit-load-")
	if err != nil {
		return nil, err
	}
	env := &environment{tmp: tmp}
	if env.self, err = os.Executable(); err != nil {
		return nil, err
	}
	if examplesDir == "" {
		examplesDir = filepath.Join("..", "examples")
	}
	env.app = filepath.Join(tmp, "app")
	build := exec.Command("go", "build", "-o", env.app, "./app")
	build.Dir = examplesDir
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		return nil, fmt.Errorf("building the example app in %s: %w", examplesDir, err)
	}
	return env, nil
}

func (e *environment) close() {
	for i := len(e.stoppers) - 1; i >= 0; i-- {
		e.stoppers[i]()
	}
	os.RemoveAll(e.tmp)
}

// startProcess runs a server command that listens on addr and waits until it
// accepts connections.
func startProcess(ctx context.Context, addr string, name string, args []string, extraEnv ...string) (func(), error) {
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), extraEnv...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = io.Discard, &limitedWriter{w: &out, n: 16 << 10}
	cmd.SysProcAttr = procAttr()
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	stop := func() {
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		select {
		case <-done:
			return nil, fmt.Errorf("%s exited at start: %s", filepath.Base(name), out.String())
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return stop, nil
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			stop()
			return nil, fmt.Errorf("%s not listening on %s after 30s: %s", filepath.Base(name), addr, out.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type limitedWriter struct {
	mu sync.Mutex
	w  *strings.Builder
	n  int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.w.Len() < l.n {
		l.w.Write(p)
	}
	return len(p), nil
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
