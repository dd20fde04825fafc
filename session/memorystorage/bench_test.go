package memorystorage

import (
	"context"
	"io"
	"log/slog"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The backend's own steps, without the session package's encoding: a read
// and a write of a session that came back, and a write of a new session at
// the cap (an eviction each). See the session module's BenchmarkMemory* for
// a whole request's session work.

var benchRecord = []byte(`[{"user":"alice@example.com","count":1},{},{"c":1,"s":1}]`)

func BenchmarkGet(b *testing.B) {
	ctx := context.Background()
	m := newBackend(Options{})
	m.set(ctx, "user", benchRecord, time.Hour)
	m.Get(ctx, "user")
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if _, _, err := m.Get(ctx, "user"); err != nil {
			b.Fatal(err)
		}
	}
}

// Reads of one session from every processor: the read lock's contention.
func BenchmarkGetParallel(b *testing.B) {
	ctx := context.Background()
	m := newBackend(Options{})
	m.set(ctx, "user", benchRecord, time.Hour)
	m.Get(ctx, "user")
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := m.Get(ctx, "user"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkPutExisting(b *testing.B) {
	ctx := context.Background()
	m := newBackend(Options{})
	v, err := m.Put(ctx, "user", benchRecord, time.Hour, session.Version{})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		if v, err = m.Put(ctx, "user", benchRecord, time.Hour, v); err != nil {
			b.Fatal(err)
		}
	}
}

// Each write stores a new session in a full storage, so each evicts one.
func BenchmarkPutNewAtCap(b *testing.B) {
	ctx := context.Background()
	const capacity = 10_000
	m := newBackend(Options{MaxSessions: capacity, Session: session.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}})
	for i := range capacity {
		m.set(ctx, "user"+strconv.Itoa(i), benchRecord, time.Hour)
	}
	ids := make([]string, b.N)
	for i := range ids {
		ids[i] = "new" + strconv.Itoa(i)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for _, id := range ids {
		if _, err := m.Put(ctx, id, benchRecord, time.Hour, session.Version{}); err != nil {
			b.Fatal(err)
		}
	}
}
