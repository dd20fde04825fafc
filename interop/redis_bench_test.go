package interop

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// BenchmarkRedisStorage runs one workload without HTTP through Go's
// redisstorage and through @remix-run/session-storage-redis (npm redis
// client, in the Node helper), on one redis-server, back to back: read the
// session by id, check user_id, (Write: increment a counter), save. Both
// keep a TTL of 24 hours. Parallel16 runs 16 concurrent clients, each on
// its own session: goroutines on a 16-connection pool for Go, async loops
// on one connection for Node (node-redis pipelines concurrent commands).
// For Remix, ns/op is the wall time of the helper call over b.N requests
// and node-ns/op the time Node measured itself (process.hrtime).
//
//	go test -run '^$' -bench RedisStorage -benchtime 2000x -count 3 -cpu 1
func BenchmarkRedisStorage(b *testing.B) {
	r := startRemix(b, "session.mjs", "redis.mjs")
	rs := startRedisSideTB(b, r)
	st, err := redisstorage.New(rs.c, redisstorage.Options{
		KeyPrefix: "bench:go:",
		PlainKeys: true, // the layout the Remix side uses, for comparable figures
		Session:   session.Options{Lifetime: 24 * time.Hour},
	})
	if err != nil {
		b.Fatal(err)
	}
	direct, err := redisstorage.New(rs.c, redisstorage.Options{
		KeyPrefix:  "bench:go:",
		PlainKeys:  true,
		NoPipeline: true,
		Session:    session.Options{Lifetime: 24 * time.Hour},
	})
	if err != nil {
		b.Fatal(err)
	}
	remix := func(b *testing.B, write bool, concurrency int) {
		var out struct{ NsPerOp float64 }
		b.ResetTimer()
		r.with(b).mustCall(map[string]any{"op": "redisBench", "url": rs.url, "n": b.N, "write": write, "concurrency": concurrency}, &out)
		b.StopTimer()
		b.ReportMetric(out.NsPerOp, "node-ns/op")
		b.ReportMetric(1e9/out.NsPerOp, "req/s")
	}
	for _, write := range []bool{true, false} {
		mode := "Read"
		if write {
			mode = "Write"
		}
		b.Run("Go"+mode, func(b *testing.B) {
			id := benchSession(b, st)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				benchRequest(b, st, id, write)
			}
		})
		b.Run("Remix"+mode, func(b *testing.B) { remix(b, write, 1) })
		b.Run("GoParallel16"+mode, func(b *testing.B) { benchParallel(b, st, write) })
		b.Run("GoDirectParallel16"+mode, func(b *testing.B) { benchParallel(b, direct, write) })
		b.Run("RemixParallel16"+mode, func(b *testing.B) { remix(b, write, 16) })
	}
}

var bg = context.Background()

// benchSession stores a new session holding the workload's values.
func benchSession(b *testing.B, st session.Storage) string {
	s, _ := st.Read(bg, "")
	s.Set("user_id", 42)
	s.Set("name", "alice")
	id, _, err := st.Save(bg, s)
	if err != nil {
		b.Fatal(err)
	}
	return id
}

// benchRequest is one request of the workload on the session id.
func benchRequest(b *testing.B, st session.Storage, id string, write bool) {
	s, err := st.Read(bg, id)
	if err != nil {
		b.Fatal(err)
	}
	if n, _ := session.Value[int](s, "user_id"); n != 42 {
		b.Fatal("lost session")
	}
	if write {
		n, _ := session.Value[int](s, "counter")
		s.Set("counter", n+1)
	}
	if _, _, err := st.Save(bg, s); err != nil {
		b.Fatal(err)
	}
}

// benchParallel runs the workload from 16 goroutines, each on its own
// session, and reports requests per second.
func benchParallel(b *testing.B, st session.Storage, write bool) {
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((16 + procs - 1) / procs)
	ids := make(chan string, 32)
	for i := 0; i < 32; i++ {
		ids <- benchSession(b, st)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		id := <-ids
		for pb.Next() {
			benchRequest(b, st, id, write)
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
}
