package bench

import (
	"context"
	"net/http"
	"runtime"
	"testing"
	"time"

	"github.com/alexedwards/scs/goredisstore"
	"github.com/alexedwards/scs/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// redisClients is how many concurrent clients the parallel benchmarks run,
// whatever -cpu says.
const redisClients = 16

// BenchmarkRedis runs every Redis workload against one redis-server started
// for it on a loopback port (persistence off), in one run: sessionkit's
// storage-redis and scs's goredisstore, both through one go-redis v9 client
// with 16 pooled connections, each request a full HTTP request (httptest)
// as in the other benchmarks of this module.
//
//   - {Sessionkit,SCS}RedisWrite: load the session, increment a counter,
//     save (GET + SET).
//   - {Sessionkit,SCS}RedisRead: load the session, read it, nothing to save
//     (GET).
//   - …RedisParallel16Write, …RedisParallel16Read: the same with 16
//     concurrent clients,
//     each on its own session; req/s is requests (sessions) per second.
//
// Both libraries keep a 24-hour lifetime, so each write sets a TTL.
func BenchmarkRedis(b *testing.B) {
	srv := testserver.Redis(b)
	client := redis.NewClient(&redis.Options{
		Addr:                  srv.Addr(),
		PoolSize:              redisClients,
		MinIdleConns:          redisClients,
		ContextTimeoutEnabled: true,
	})
	b.Cleanup(func() { client.Close() })
	if err := client.Ping(context.Background()).Err(); err != nil {
		b.Fatal(err)
	}

	sessionkit := func(b *testing.B, write bool) http.Handler {
		st, err := redisstorage.New(client, redisstorage.Options{
			KeyPrefix: "bench:sessionkit:",
			Session:   session.Options{Lifetime: 24 * time.Hour},
		})
		if err != nil {
			b.Fatal(err)
		}
		return sessionkitHandler(b, st, write)
	}
	scsRedis := func(b *testing.B, write bool) http.Handler {
		sm := scs.New()
		sm.Store = goredisstore.NewWithPrefix(client, "bench:scs:")
		sm.Lifetime = 24 * time.Hour
		return SCSHandler(sm, write)
	}
	libs := []struct {
		name    string
		handler func(*testing.B, bool) http.Handler
	}{
		{"Sessionkit", sessionkit},
		{"SCS", scsRedis},
	}
	// Workload by workload, the libraries back to back, so that load from
	// elsewhere on the machine hits them alike.
	for _, write := range []bool{true, false} {
		mode := "Read"
		if write {
			mode = "Write"
		}
		for _, lib := range libs {
			b.Run(lib.name+"Redis"+mode, func(b *testing.B) {
				h := lib.handler(b, write)
				run(b, h, firstCookie(b, h), write)
			})
		}
		for _, lib := range libs {
			b.Run(lib.name+"RedisParallel16"+mode, func(b *testing.B) {
				runParallel(b, lib.handler(b, write), write)
			})
		}
	}
}

// runParallel drives b.N requests through h from redisClients goroutines,
// each a client with its own session, and reports requests per second.
func runParallel(b *testing.B, h http.Handler, write bool) {
	b.Helper()
	procs := runtime.GOMAXPROCS(0)
	b.SetParallelism((redisClients + procs - 1) / procs)
	// Each goroutine takes a session from this pool; the first request of a
	// goroutine that finds none creates one (outside the timed region the
	// sessions cannot be made, since RunParallel starts the goroutines).
	cookies := make(chan string, redisClients*2)
	for i := 0; i < redisClients*2; i++ {
		cookies <- firstCookie(b, h)
	}
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		cookie := <-cookies
		for pb.Next() {
			serve(b, h, cookie, write)
		}
	})
	elapsed := time.Since(start)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "req/s")
}
