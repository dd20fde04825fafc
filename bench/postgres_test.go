package bench

import (
	"context"
	"net"
	"net/http"
	"sync/atomic"
	"testing"
	"time"

	"github.com/alexedwards/scs/pgxstore"
	"github.com/alexedwards/scs/v2"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	postgresstorage "github.com/sessionkit/sessionkit/storage-postgres"
)

// PostgreSQL: sessionkit's storage-postgres against scs's pgxstore, on one
// PostgreSQL server started for the run (testserver; skipped when it is not
// installed, failed under SESSIONKIT_REQUIRE_SERVERS=1) and one pgx pool of
// 16 connections, each library in its own table: sessionkit in
// sessionkit_sessions (postgresstorage.Migrate), scs in sessions, the table
// pgxstore hard-codes (created here with the definition of its README).
// Both keep a 24-hour lifetime.
//
// Every figure includes the round trips, which the benchmarks count on the
// pool's connections (roundtrips/op: the writes the client sends, each
// waiting for its answer): a read is one SELECT for both libraries, a write
// a SELECT and an upsert.

// postgresSessionkitTable is sessionkit's table in the benchmarks.
const postgresSessionkitTable = "sessionkit_sessions"

// scsPostgresSchema is pgxstore's table, from its README.
const scsPostgresSchema = `CREATE TABLE IF NOT EXISTS sessions (
	token TEXT PRIMARY KEY,
	data BYTEA NOT NULL,
	expiry TIMESTAMPTZ NOT NULL
);
CREATE INDEX IF NOT EXISTS sessions_expiry_idx ON sessions (expiry);`

// postgresBench is a server, a pool on it with both libraries' tables, and
// the count of writes the pool's connections sent.
type postgresBench struct {
	pool   *pgxpool.Pool
	writes atomic.Int64
}

func newPostgresBench(tb testing.TB) *postgresBench {
	tb.Helper()
	srv := testserver.PostgresServer(tb)
	cfg, err := pgxpool.ParseConfig(srv.URL())
	if err != nil {
		tb.Fatal(err)
	}
	cfg.MaxConns, cfg.MinConns = redisClients, redisClients
	p := &postgresBench{}
	dial := cfg.ConnConfig.DialFunc
	cfg.ConnConfig.DialFunc = func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := dial(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		return &countingConn{Conn: c, writes: &p.writes}, nil
	}
	ctx := context.Background()
	p.pool, err = pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(p.pool.Close) // before the server stops
	// The pool opens its MinConns in the background: wait for them, so that
	// their start-up is not counted as a request's round trips.
	for deadline := time.Now().Add(10 * time.Second); p.pool.Stat().IdleConns() < cfg.MinConns; {
		if time.Now().After(deadline) {
			tb.Fatalf("the pool has %d idle connections after 10s, want %d", p.pool.Stat().IdleConns(), cfg.MinConns)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := postgresstorage.Migrate(ctx, p.pool, postgresSessionkitTable); err != nil {
		tb.Fatal(err)
	}
	if _, err := p.pool.Exec(ctx, scsPostgresSchema); err != nil {
		tb.Fatal(err)
	}
	return p
}

// countingConn counts the writes of a connection to the server: pgx sends
// each round trip's messages in one write.
type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(b []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(b)
}

func (p *postgresBench) sessionkit(tb testing.TB, write bool) http.Handler {
	tb.Helper()
	st, err := postgresstorage.New(p.pool, postgresstorage.Options{
		Table:   postgresSessionkitTable,
		Session: session.Options{Lifetime: 24 * time.Hour},
	})
	if err != nil {
		tb.Fatal(err)
	}
	return sessionkitHandler(tb, st, write)
}

func (p *postgresBench) scs(tb testing.TB, write bool) http.Handler {
	sm := scs.New()
	sm.Store = pgxstore.NewWithCleanupInterval(p.pool, 0) // no cleanup goroutine
	sm.Lifetime = 24 * time.Hour
	return SCSHandler(sm, write)
}

// BenchmarkPostgres runs every PostgreSQL workload in one run, against one
// server, each request a full HTTP request (httptest) as in the other
// benchmarks of this module:
//
//   - {Sessionkit,SCS}PostgresWrite: load the session, increment a counter,
//     save (SELECT + upsert).
//   - {Sessionkit,SCS}PostgresRead: load the session, read it, nothing to
//     save (SELECT).
//   - …PostgresParallel16Write, …PostgresParallel16Read: the same with 16
//     concurrent clients, each on its own session; req/s is requests
//     (sessions) per second.
func BenchmarkPostgres(b *testing.B) {
	p := newPostgresBench(b)
	libs := []struct {
		name    string
		handler func(testing.TB, bool) http.Handler
	}{
		{"Sessionkit", p.sessionkit},
		{"SCS", p.scs},
	}
	// Workload by workload, the libraries back to back, so that load from
	// elsewhere on the machine hits them alike.
	for _, write := range []bool{true, false} {
		mode := "Read"
		if write {
			mode = "Write"
		}
		for _, lib := range libs {
			b.Run(lib.name+"Postgres"+mode, func(b *testing.B) {
				h := lib.handler(b, write)
				cookie := firstCookie(b, h)
				before := p.writes.Load()
				run(b, h, cookie, write)
				b.ReportMetric(float64(p.writes.Load()-before)/float64(b.N), "roundtrips/op")
			})
		}
		for _, lib := range libs {
			b.Run(lib.name+"PostgresParallel16"+mode, func(b *testing.B) {
				runParallel(b, lib.handler(b, write), write)
			})
		}
	}
}

// TestPostgresBenchmarksWork runs every PostgreSQL workload a few times, so
// that a broken benchmark fails in `make test` rather than in a benchmark
// run, and checks the round trips a request costs once the pool's
// connections have prepared their statements: sessionkit reads with one
// SELECT and saves with one statement.
func TestPostgresBenchmarksWork(t *testing.T) {
	p := newPostgresBench(t)
	want := map[string]map[bool]int64{
		"sessionkit": {false: 1, true: 2},
		"scs":        {false: 1, true: 2}, // Find; Find and Commit
	}
	for name, handler := range map[string]func(testing.TB, bool) http.Handler{"sessionkit": p.sessionkit, "scs": p.scs} {
		for _, write := range []bool{true, false} {
			h := handler(t, write)
			cookie := firstCookie(t, h)
			for i := 0; i < 3; i++ {
				serve(t, h, cookie, write)
			}
			before := p.writes.Load()
			const n = 10
			for i := 0; i < n; i++ {
				serve(t, h, cookie, write)
			}
			got := p.writes.Load() - before
			if got != n*want[name][write] {
				t.Errorf("%s write=%v: %d round trips in %d requests, want %d each", name, write, got, n, want[name][write])
			}
		}
	}
}
