package sessiontest

import (
	"context"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

// Benchmark measures the session work of one request on st: Read, the
// handler's Get (and, with write, a Set), Save; no HTTP. Every storage's
// benchmarks run it, so their figures compare. The session holds a user,
// a number and a slice, as a signed-in session does.
func Benchmark(b *testing.B, st session.Storage, write bool) {
	ctx := context.Background()
	s, err := st.Read(ctx, "")
	if err != nil {
		b.Fatal(err)
	}
	s.Set("user", "alice@example.com")
	s.Set("count", 1)
	s.Set("roles", []any{"admin", "editor"})
	value, _, err := st.Save(ctx, s)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		value = benchRequest(b, st, value, write)
	}
}

// benchRequest is one request of Benchmark; it returns the cookie value for
// the next one.
func benchRequest(b *testing.B, st session.Storage, value string, write bool) string {
	ctx := context.Background()
	s, err := st.Read(ctx, value)
	if err != nil {
		b.Fatal(err)
	}
	if s.Get("user") == nil {
		b.Fatal("session lost")
	}
	if write {
		n, _ := session.Value[int](s, "count")
		s.Set("count", n+1)
	}
	v, set, err := st.Save(ctx, s)
	if err != nil || set != write {
		b.Fatal(err, set)
	}
	if set && v != "" {
		return v
	}
	return value
}
