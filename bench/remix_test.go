package bench

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// remixSeconds is how long bench/remix/bench.mjs times each workload.
const remixSeconds = 1.0

// benchRemix runs one workload through @remix-run/session on Node (see
// bench/remix/bench.mjs) and reports Node's own time per operation as this
// benchmark's ns/op, so the figure sits in the same output, and the same
// table, as the Go benchmarks of the run. Node's start-up and JIT warm-up
// are left out. env carries server addresses for the Redis and Memcache
// storages. Skipped unless bench/remix's npm packages are installed
// (`make bench-remix` does it).
//
// One iteration of b.Loop is one run of bench.mjs, which times itself for
// remixSeconds: at the default -benchtime of 1s that is a single run, and a
// longer -benchtime (or -benchtime Nx) gets more runs, whose operations are
// pooled into one ns/op.
func benchRemix(b *testing.B, workload string, env ...string) {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join("remix", "node_modules", "@remix-run", "session")); err != nil {
		b.Skip("bench/remix has no node_modules: run make bench-remix (npm ci in bench/remix)")
	}
	var totalNS, totalOps float64
	for b.Loop() {
		ns, ops := runRemixBench(b, node, workload, env)
		totalNS += ns * ops
		totalOps += ops
	}
	b.ReportMetric(totalNS/totalOps, "ns/op")
}

// runRemixBench runs bench.mjs once and returns the time per operation it
// measured and how many operations it timed.
func runRemixBench(b *testing.B, node, workload string, env []string) (nsPerOp, ops float64) {
	cmd := exec.Command(node, "bench.mjs", workload, strconv.FormatFloat(remixSeconds, 'f', -1, 64))
	cmd.Dir = "remix"
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	out, err := cmd.Output()
	if err != nil {
		b.Fatalf("node bench.mjs %s: %v: %s", workload, err, out)
	}
	sc := bufio.NewScanner(strings.NewReader(string(out)))
	for sc.Scan() {
		// "ns/op <float> ops <int>"
		f := strings.Fields(sc.Text())
		if len(f) != 4 || f[0] != "ns/op" || f[2] != "ops" {
			continue
		}
		nsPerOp, err := strconv.ParseFloat(f[1], 64)
		if err != nil {
			b.Fatal(err)
		}
		ops, err := strconv.ParseFloat(f[3], 64)
		if err != nil || ops <= 0 {
			b.Fatalf("node bench.mjs %s: ops %q: %v", workload, f[3], err)
		}
		return nsPerOp, ops
	}
	b.Fatalf("node bench.mjs %s printed no ns/op line: %s", workload, out)
	return 0, 0
}

func BenchmarkStorageRemixMemoryWrite(b *testing.B) { benchRemix(b, "MemoryWrite") }
func BenchmarkStorageRemixMemoryRead(b *testing.B)  { benchRemix(b, "MemoryRead") }
func BenchmarkStorageRemixCookieWrite(b *testing.B) { benchRemix(b, "CookieWrite") }
func BenchmarkStorageRemixCookieRead(b *testing.B)  { benchRemix(b, "CookieRead") }
func BenchmarkStorageRemixFileWrite(b *testing.B) {
	benchRemix(b, "FileWrite", "FILE_DIR="+b.TempDir())
}
func BenchmarkStorageRemixFileRead(b *testing.B) {
	benchRemix(b, "FileRead", "FILE_DIR="+b.TempDir())
}

// The Redis workloads against a redis-server started for the benchmark, as
// storage_test.go's sessionkit ones.
func BenchmarkStorageRemixRedisWrite(b *testing.B) {
	benchRemix(b, "RedisWrite", "REDIS_ADDR="+testserver.Redis(b).Addr())
}
func BenchmarkStorageRemixRedisRead(b *testing.B) {
	benchRemix(b, "RedisRead", "REDIS_ADDR="+testserver.Redis(b).Addr())
}
