package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
)

// Memcache storage against a memcached on loopback, started for each
// benchmark run (testserver; skipped when memcached is not installed).
// scs has no memcached store, so there is no Go peer here; the Remix figures
// come from @remix-run/session-storage-memcache on the same server
// (interop/node/bench-memcache.mjs). Every figure includes the round trips:
// one get per request, and one replace for a write.

// parallelClients is how many requests run at once in the *Parallel16
// benchmarks.
const parallelClients = 16

func memcacheStorage(b testing.TB) (session.Storage, string) {
	b.Helper()
	srv := testserver.Memcached(b)
	client := memcache.New(srv.Addr())
	client.MaxIdleConns = parallelClients
	st, err := memcachestorage.New(client, memcachestorage.Options{Session: session.Options{IdleTimeout: time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	return st, srv.Addr()
}

// Full HTTP requests through the session middleware, as the other
// sessionkit benchmarks of this module.

func BenchmarkSessionkitMemcacheWrite(b *testing.B) {
	st, _ := memcacheStorage(b)
	benchSessionkit(b, st, true)
}

func BenchmarkSessionkitMemcacheRead(b *testing.B) {
	st, _ := memcacheStorage(b)
	benchSessionkit(b, st, false)
}

func benchMemcacheStorage(b *testing.B, write bool) {
	st, _ := memcacheStorage(b)
	benchStorage(b, st, write)
}

// benchMemcacheStorageParallel runs 16 clients at once, each with its own
// session; ns/op is wall time per request over all of them.
func benchMemcacheStorageParallel(b *testing.B, write bool) {
	st, _ := memcacheStorage(b)
	ctx := context.Background()
	b.SetParallelism((parallelClients + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		r := newStorageRequest(b, st, write)
		for pb.Next() {
			if err := r.do(ctx); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

func BenchmarkStorageSessionkitMemcacheWrite(b *testing.B) { benchMemcacheStorage(b, true) }
func BenchmarkStorageSessionkitMemcacheRead(b *testing.B)  { benchMemcacheStorage(b, false) }
func BenchmarkStorageSessionkitMemcacheWriteParallel16(b *testing.B) {
	benchMemcacheStorageParallel(b, true)
}
func BenchmarkStorageSessionkitMemcacheReadParallel16(b *testing.B) {
	benchMemcacheStorageParallel(b, false)
}

// remixMemcache is the Node script, started against addr and warmed up.
type remixMemcache struct {
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	lines  *bufio.Scanner
	stderr *strings.Builder
}

func startRemixMemcache(tb testing.TB, addr, mode string, clients int) *remixMemcache {
	tb.Helper()
	script, err := filepath.Abs(filepath.Join("..", "interop", "node", "bench-memcache.mjs"))
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		tb.Skip("node is not on PATH")
	}
	pkg := filepath.Join(filepath.Dir(script), "node_modules", "@remix-run", "session-storage-memcache")
	if _, err := os.Stat(pkg); err != nil {
		tb.Skipf("%s is missing (run: cd interop/node && npm ci)", pkg)
	}
	r := &remixMemcache{cmd: exec.Command("node", script, addr, mode, fmt.Sprint(clients)), stderr: &strings.Builder{}}
	r.cmd.Stderr = r.stderr
	if r.stdin, err = r.cmd.StdinPipe(); err != nil {
		tb.Fatal(err)
	}
	stdout, err := r.cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := r.cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		r.stdin.Close() // the script ends with its input
		if err := r.cmd.Wait(); err != nil {
			tb.Errorf("node: %v\n%s", err, r.stderr.String())
		}
	})
	r.lines = bufio.NewScanner(stdout)
	if !r.lines.Scan() || r.lines.Text() != "ready" {
		tb.Fatalf("node did not start: %q\n%s", r.lines.Text(), r.stderr.String())
	}
	return r
}

// run makes the script do n requests and returns the nanoseconds they took.
func (r *remixMemcache) run(tb testing.TB, n int) float64 {
	tb.Helper()
	fmt.Fprintf(r.stdin, "%d\n", n)
	if !r.lines.Scan() {
		tb.Fatalf("node gave no result\n%s", r.stderr.String())
	}
	var res struct{ NS, Ops float64 }
	if err := json.Unmarshal(r.lines.Bytes(), &res); err != nil || res.Ops != float64(n) {
		tb.Fatalf("node answered %q: %v", r.lines.Text(), err)
	}
	return res.NS
}

// The same workload through @remix-run/session-storage-memcache on Node,
// against a memcached started the same way. Node starts and warms up with
// the timer stopped; the script times its own loop of b.N requests, which
// the benchmark reports as ns/op.
func benchRemixMemcache(b *testing.B, mode string, clients int) {
	b.StopTimer()
	_, addr := memcacheStorage(b)
	r := startRemixMemcache(b, addr, mode, clients)
	b.StartTimer()
	ns := r.run(b, b.N)
	b.StopTimer()
	b.ReportMetric(ns/float64(b.N), "ns/op")
}

func BenchmarkStorageRemixMemcacheWrite(b *testing.B) { benchRemixMemcache(b, "write", 1) }
func BenchmarkStorageRemixMemcacheRead(b *testing.B)  { benchRemixMemcache(b, "read", 1) }
func BenchmarkStorageRemixMemcacheWriteParallel16(b *testing.B) {
	benchRemixMemcache(b, "write", parallelClients)
}
func BenchmarkStorageRemixMemcacheReadParallel16(b *testing.B) {
	benchRemixMemcache(b, "read", parallelClients)
}

// TestMemcacheBenchmarksWork runs every Memcache workload a few times, so
// that a broken benchmark fails in `make test` rather than in a benchmark
// run.
func TestMemcacheBenchmarksWork(t *testing.T) {
	st, addr := memcacheStorage(t)
	for _, write := range []bool{true, false} {
		h := sessionkitHandler(t, st, write)
		cookie := firstCookie(t, h)
		r := newStorageRequest(t, st, write)
		for i := 0; i < 3; i++ {
			serve(t, h, cookie, write)
			if err := r.do(context.Background()); err != nil {
				t.Fatalf("write=%v: %v", write, err)
			}
		}
	}
	for _, mode := range []string{"write", "read"} {
		t.Run("remix "+mode, func(t *testing.T) {
			r := startRemixMemcache(t, addr, mode, 2)
			if ns := r.run(t, 5); ns <= 0 {
				t.Errorf("node timed %v ns", ns)
			}
		})
	}
}
