package postgresstorage

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// shared is the server that TestMain (example_test.go) started for the
// package's tests; nil when PostgreSQL is not installed.
var (
	shared    *testserver.Postgres
	sharedErr error
)

// UseTestServer is how TestMain, in the external test package, hands its
// server (or the error of starting it) to the tests of this package.
func UseTestServer(p *testserver.Postgres, err error) { shared, sharedErr = p, err }

// server returns the shared server, skipping the test when PostgreSQL is
// not installed (failing it under SESSIONKIT_REQUIRE_SERVERS=1).
func server(t testing.TB) *testserver.Postgres {
	t.Helper()
	if shared == nil {
		if sharedErr == nil {
			sharedErr = fmt.Errorf("no shared server (TestMain did not run)")
		}
		if testserver.Required() {
			t.Fatal(sharedErr)
		}
		t.Skipf("%v; set %s=1 to fail instead of skipping", sharedErr, testserver.RequireEnv)
	}
	return shared
}

// newPool connects a pool to srv, configured by cfg (may be nil), and
// closes it when the test ends.
func newPool(t testing.TB, srv *testserver.Postgres, configure func(*pgxpool.Config)) *pgxpool.Pool {
	t.Helper()
	cfg, err := pgxpool.ParseConfig(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	if configure != nil {
		configure(cfg)
	}
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	return pool
}

var tableSeq atomic.Int64

// freshTable creates (Migrate) a table that no other test of this run uses,
// and returns its name.
func freshTable(t testing.TB, pool *pgxpool.Pool) string {
	t.Helper()
	name := fmt.Sprintf("t%d_sessions", tableSeq.Add(1))
	if err := Migrate(context.Background(), pool, name); err != nil {
		t.Fatal(err)
	}
	return name
}

// mustBackend is newBackend that fails the test on error.
func mustBackend(t testing.TB, pool *pgxpool.Pool, o Options) *backend {
	t.Helper()
	b, err := newBackend(pool, o)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.checkTable(context.Background()); err != nil {
		t.Fatal(err)
	}
	return b
}

// countedBackend is a backend with Len, for sessiontest's Config.Count: the
// number of live session records in its table (64 hex digits, so not the
// index documents and locks). It keeps every method of backend, so the
// storage still sees a Toucher, a Locker and a MultiGetter.
type countedBackend struct{ *backend }

func (b countedBackend) Len() int {
	var n int
	err := b.pool.QueryRow(context.Background(),
		`SELECT count(*) FROM `+b.table.quoted+` WHERE length(key) = 64 AND left(key, 1) NOT IN ('u', 'l') AND (expires_at IS NULL OR expires_at > now())`).Scan(&n)
	if err != nil {
		panic(fmt.Sprintf("counting rows: %v", err))
	}
	return n
}

// rows counts the rows of a table: all, and those past expires_at.
func rows(t testing.TB, pool *pgxpool.Pool, table string) (all, expired int) {
	t.Helper()
	tb, err := parseTable(table)
	if err != nil {
		t.Fatal(err)
	}
	err = pool.QueryRow(context.Background(),
		`SELECT count(*), count(*) FILTER (WHERE expires_at <= now()) FROM `+tb.quoted).Scan(&all, &expired)
	if err != nil {
		t.Fatal(err)
	}
	return all, expired
}

// tracer is a pgx tracer that counts round trips to the server: each query
// (Query, QueryRow, Exec) is one, and so is each statement that pgx
// prepares on a connection (the first time that connection runs it), and
// each batch. It records the statements, named by the backend's statements
// when names is set ("get", "insert", …), as "prepare get" for a prepare.
type tracer struct {
	mu     sync.Mutex
	names  map[string]string
	rounds int
	stmts  []string
}

var (
	_ pgx.QueryTracer   = (*tracer)(nil)
	_ pgx.PrepareTracer = (*tracer)(nil)
	_ pgx.BatchTracer   = (*tracer)(nil)
)

// nameStatements makes the tracer name the statements of table.
func (tr *tracer) nameStatements(t testing.TB, table string) {
	tb, err := parseTable(table)
	if err != nil {
		t.Fatal(err)
	}
	q := newStatements(tb, sweepBatch)
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.names = map[string]string{
		q.get: "get", q.getMulti: "getMulti", q.insert: "insert", q.update: "update",
		q.deleteAny: "delete", q.deleteVersion: "deleteVersion", q.touch: "touch",
		q.lock: "lock", q.unlock: "unlock", q.sweep: "sweep",
	}
}

func (tr *tracer) add(kind, sql string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.rounds++
	name, ok := tr.names[sql]
	if !ok {
		name = sql
	}
	tr.stmts = append(tr.stmts, kind+name)
}

func (tr *tracer) TraceQueryStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceQueryStartData) context.Context {
	tr.add("", data.SQL)
	return ctx
}

func (tr *tracer) TraceQueryEnd(context.Context, *pgx.Conn, pgx.TraceQueryEndData) {}

type prepareKey struct{}

func (tr *tracer) TracePrepareStart(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareStartData) context.Context {
	return context.WithValue(ctx, prepareKey{}, data.SQL)
}

func (tr *tracer) TracePrepareEnd(ctx context.Context, _ *pgx.Conn, data pgx.TracePrepareEndData) {
	if !data.AlreadyPrepared {
		sql, _ := ctx.Value(prepareKey{}).(string)
		tr.add("prepare ", sql)
	}
}

func (tr *tracer) TraceBatchStart(ctx context.Context, _ *pgx.Conn, data pgx.TraceBatchStartData) context.Context {
	tr.add("batch of ", fmt.Sprint(data.Batch.Len()))
	return ctx
}

func (tr *tracer) TraceBatchQuery(context.Context, *pgx.Conn, pgx.TraceBatchQueryData) {}
func (tr *tracer) TraceBatchEnd(context.Context, *pgx.Conn, pgx.TraceBatchEndData)     {}

func (tr *tracer) reset() {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	tr.rounds, tr.stmts = 0, nil
}

// take returns the round trips and statements since the last reset, and
// resets.
func (tr *tracer) take() (int, []string) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	n, s := tr.rounds, tr.stmts
	tr.rounds, tr.stmts = 0, nil
	return n, s
}

// request plays one request (sessiontest.Request) and returns the cookie
// afterwards.
func request(t testing.TB, st session.Storage, cookie string, fn func(*session.Session)) string {
	t.Helper()
	v, _ := sessiontest.Request(t, st, cookie, fn)
	return v
}

// mustNew is New that fails the test on error.
func mustNew(t testing.TB, pool *pgxpool.Pool, o Options) session.Storage {
	t.Helper()
	st, err := New(pool, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
