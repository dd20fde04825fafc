package bench

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// The session work of a request without HTTP, the same workload
// bench/remix/bench.mjs runs through @remix-run/session on Node: parse and
// verify the cookie, read the session, read user_id, and for a write set a
// counter, save, and sign and serialize the cookie (every storage sends one
// on a write; an unchanged session is not written and sends none).

// storageRequest is one client of that workload, holding its cookie.
type storageRequest struct {
	st     session.Storage
	c      *cookie.Cookie
	header string
	write  bool
}

func newStorageRequest(tb testing.TB, st session.Storage, write bool) *storageRequest {
	tb.Helper()
	ctx := context.Background()
	c, err := cookie.New("session", cookie.Options{Secrets: []string{secret32}})
	if err != nil {
		tb.Fatal(err)
	}
	s, err := st.Read(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	s.Set("user_id", 42)
	s.Set("name", "alice")
	v, _, err := st.Save(ctx, s)
	if err != nil {
		tb.Fatal(err)
	}
	line, err := c.Serialize(v)
	if err != nil {
		tb.Fatal(err)
	}
	header, _, _ := strings.Cut(line, ";")
	return &storageRequest{st: st, c: c, header: header, write: write}
}

// do plays one request and keeps the cookie it sets, as a browser would.
func (r *storageRequest) do(ctx context.Context) error {
	value, _ := r.c.Parse(r.header)
	s, err := r.st.Read(ctx, value)
	if err != nil {
		return err
	}
	if id, _ := session.Value[int](s, "user_id"); id != 42 {
		return errors.New("lost session")
	}
	if r.write {
		n, _ := session.Value[int](s, "counter")
		s.Set("counter", n+1)
	}
	v, set, err := r.st.Save(ctx, s)
	if err != nil {
		return err
	}
	if set != r.write {
		return fmt.Errorf("Set-Cookie %v on a write=%v request", set, r.write)
	}
	if set {
		line, err := r.c.Serialize(v)
		if err != nil {
			return err
		}
		r.header, _, _ = strings.Cut(line, ";")
	}
	return nil
}

// benchStorage times b.N requests of one client.
func benchStorage(b *testing.B, st session.Storage, write bool) {
	r := newStorageRequest(b, st, write)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := r.do(ctx); err != nil {
			b.Fatal(err)
		}
	}
}

func memoryStorage(tb testing.TB) session.Storage {
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func cookieStorage(tb testing.TB, keys [][]byte) session.Storage {
	st, err := cookiestorage.New(cookiestorage.Options{CookieName: "session", Keys: keys})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func fileStorage(tb testing.TB) session.Storage {
	st, err := filestorage.New(tb.TempDir(), filestorage.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return st
}

func BenchmarkStorageSessionkitMemoryWrite(b *testing.B) {
	benchStorage(b, memoryStorage(b), true)
}
func BenchmarkStorageSessionkitMemoryRead(b *testing.B) {
	benchStorage(b, memoryStorage(b), false)
}
func BenchmarkStorageSessionkitCookieWrite(b *testing.B) {
	benchStorage(b, cookieStorage(b, nil), true)
}
func BenchmarkStorageSessionkitCookieRead(b *testing.B) {
	benchStorage(b, cookieStorage(b, nil), false)
}
func BenchmarkStorageSessionkitCookieSealedWrite(b *testing.B) {
	benchStorage(b, cookieStorage(b, [][]byte{key32}), true)
}
func BenchmarkStorageSessionkitCookieSealedRead(b *testing.B) {
	benchStorage(b, cookieStorage(b, [][]byte{key32}), false)
}
func BenchmarkStorageSessionkitFileWrite(b *testing.B) { benchStorage(b, fileStorage(b), true) }
func BenchmarkStorageSessionkitFileRead(b *testing.B)  { benchStorage(b, fileStorage(b), false) }

// redisStorage is storage-redis on a redis-server started for the benchmark
// (skipped, or failed under SESSIONKIT_REQUIRE_SERVERS=1, when missing).
func redisStorage(b *testing.B) (session.Storage, string) {
	srv := testserver.Redis(b)
	client := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true})
	b.Cleanup(func() { client.Close() })
	st, err := redisstorage.New(client, redisstorage.Options{Session: session.Options{IdleTimeout: time.Hour}})
	if err != nil {
		b.Fatal(err)
	}
	return st, srv.Addr()
}

func BenchmarkStorageSessionkitRedisWrite(b *testing.B) {
	st, _ := redisStorage(b)
	benchStorage(b, st, true)
}
func BenchmarkStorageSessionkitRedisRead(b *testing.B) {
	st, _ := redisStorage(b)
	benchStorage(b, st, false)
}
