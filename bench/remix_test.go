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
func benchRemix(b *testing.B, workload string, env ...string) {
	node, err := exec.LookPath("node")
	if err != nil {
		b.Skip("node is not installed")
	}
	if _, err := os.Stat(filepath.Join("remix", "node_modules", "@remix-run", "session")); err != nil {
		b.Skip("bench/remix has no node_modules: run make bench-remix (npm ci in bench/remix)")
	}
	if b.N > 1 {
		// Node times itself for remixSeconds; one run per -count is enough.
		b.N = 1
	}
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
		f := strings.Fields(sc.Text())
		if len(f) == 4 && f[0] == "ns/op" {
			ns, err := strconv.ParseFloat(f[1], 64)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(ns, "ns/op")
			return
		}
	}
	b.Fatalf("node bench.mjs %s printed no ns/op line: %s", workload, out)
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
