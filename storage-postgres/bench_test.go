package postgresstorage

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
)

// benchStorage is a storage on a fresh table of the shared server, with a
// 30-minute idle timeout, and the cookie of a session holding user_id and
// name (the workload of the bench module).
func benchStorage(b *testing.B, conns int32) (session.Storage, string) {
	pool := newPool(b, server(b), func(c *pgxpool.Config) { c.MaxConns = conns })
	st := mustNew(b, pool, Options{Table: freshTable(b, pool), Session: session.Options{
		IdleTimeout: 30 * time.Minute, Logger: slog.New(slog.DiscardHandler),
	}})
	cookie := request(b, st, "", func(s *session.Session) { s.Set("user_id", 42); s.Set("name", "Ada") })
	return st, cookie
}

// BenchmarkRead is a read-only request: Read and an unchanged Save (one
// SELECT).
func BenchmarkRead(b *testing.B) {
	st, cookie := benchStorage(b, 4)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := st.Read(ctx, cookie)
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWrite is a request that changes the session: Read, Set, Save
// (one SELECT, one UPDATE).
func BenchmarkWrite(b *testing.B) {
	st, cookie := benchStorage(b, 4)
	ctx := context.Background()
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		s, err := st.Read(ctx, cookie)
		if err != nil {
			b.Fatal(err)
		}
		n++
		s.Set("n", n)
		if _, _, err := st.Save(ctx, s); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteParallel is BenchmarkWrite from GOMAXPROCS×4 goroutines,
// each on a session of its own, over a pool of 16 connections.
func BenchmarkWriteParallel(b *testing.B) {
	st, _ := benchStorage(b, 16)
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(4)
	b.RunParallel(func(pb *testing.PB) {
		cookie := request(b, st, "", func(s *session.Session) { s.Set("user_id", 42); s.Set("name", "Ada") })
		n := 0
		for pb.Next() {
			s, err := st.Read(ctx, cookie)
			if err != nil {
				b.Error(err)
				return
			}
			n++
			s.Set("n", n)
			if _, _, err := st.Save(ctx, s); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
