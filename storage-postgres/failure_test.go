package postgresstorage

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// checkNoID fails when err's text holds a raw id.
func checkNoID(t *testing.T, err error, ids ...string) {
	t.Helper()
	for _, id := range ids {
		if id != "" && strings.Contains(err.Error(), id) {
			t.Errorf("the error %q carries a raw session id", err)
		}
	}
}

// TestServerDown stops the server mid-run (a crash: SIGKILL): Read and Save
// fail, never with a new session, and when the server is back the same
// Storage works again at once, with the sessions it had. (The test server
// runs with synchronous_commit off, so a crash may lose the commits of its
// last moments; a CHECKPOINT before the crash makes them durable, as
// synchronous_commit on, PostgreSQL's default, would have.)
func TestServerDown(t *testing.T) {
	srv := testserver.PostgresServer(t)
	pool := newPool(t, srv, func(c *pgxpool.Config) { c.ConnConfig.ConnectTimeout = time.Second })
	st := mustNew(t, pool, Options{Table: freshTable(t, pool), Session: session.Options{UserKey: "user"}})
	ctx := context.Background()
	id := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	loaded, err := st.Read(ctx, id)
	if err != nil {
		t.Fatal(err)
	}

	if _, err := pool.Exec(ctx, "CHECKPOINT"); err != nil {
		t.Fatal(err)
	}
	if err := srv.Kill(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Read(ctx, id)
	if err == nil {
		t.Fatalf("Read with the server down returned a session (new: %v) and no error", s.ID() != id)
	}
	if s != nil {
		t.Error("Read returned a session with its error")
	}
	checkNoID(t, err, id)
	t.Logf("Read with the server down: %v", err)
	loaded.Set("n", 1)
	if _, _, err := st.Save(ctx, loaded); err == nil {
		t.Error("Save of a changed session with the server down: no error")
	} else {
		checkNoID(t, err, id)
	}
	fresh, err := st.Read(ctx, "")
	if err != nil {
		t.Fatalf("Read without a cookie needs no server, got %v", err)
	}
	fresh.Set("a", 1)
	if _, _, err := st.Save(ctx, fresh); err == nil {
		t.Error("Save of a new session with the server down: no error")
	}
	if _, err := st.(session.Locking).Lock(ctx, id, session.LockOptions{Wait: time.Second}); err == nil || errors.Is(err, session.ErrLockTimeout) {
		t.Errorf("Lock with the server down: %v, want the connection error", err)
	} else {
		checkNoID(t, err, id)
	}
	if _, err := st.(session.UserIndex).Sessions(ctx, "ada"); err == nil {
		t.Error("Sessions with the server down: no error")
	}
	never, _ := st.Read(ctx, "")
	never.Destroy()
	if _, _, err := st.Save(ctx, never); err != nil {
		t.Errorf("Destroy of a never-stored session needs no server, got %v", err)
	}

	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	// The same storage, the same pool: the session is still there, and the
	// request that loaded it before the crash saves.
	s, err = st.Read(ctx, id)
	if err != nil || s.ID() != id || s.Get("user") != "ada" {
		t.Fatalf("Read after the restart: %v (same session: %v)", err, s != nil && s.ID() == id)
	}
	if _, _, err := st.Save(ctx, loaded); err != nil {
		t.Fatalf("Save after the restart: %v", err)
	}
	if s, _ := st.Read(ctx, id); s.Get("n") == nil {
		t.Error("the save after the restart was lost")
	}
	id2 := request(t, st, "", func(s *session.Session) { s.Set("user", "grace") })
	if s, err := st.Read(ctx, id2); err != nil || s.Get("user") != "grace" {
		t.Fatalf("a new session after the restart: %v, %v", s.Get("user"), err)
	}
}

// TestRestartWithIdleConnections restarts the server (a fast shutdown,
// which closes every client connection) while the pool holds 4 idle
// connections that it will not ping first (ShouldPing false, as in a busy
// pool whose connections are never idle for a second): the first request
// after the restart still succeeds, since a statement that fails on a
// closed connection is sent again on another one.
func TestRestartWithIdleConnections(t *testing.T) {
	srv := testserver.PostgresServer(t)
	tr := &tracer{}
	const conns = 4
	pool := newPool(t, srv, func(c *pgxpool.Config) {
		c.MaxConns = conns
		c.ShouldPing = func(context.Context, pgxpool.ShouldPingParams) bool { return false }
		c.ConnConfig.Tracer = tr
	})
	table := freshTable(t, pool)
	tr.nameStatements(t, table)
	st := mustNew(t, pool, Options{Table: table})
	ctx := context.Background()
	id := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	// Open conns connections and leave them idle.
	var held []*pgxpool.Conn
	for range conns {
		c, err := pool.Acquire(ctx)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	for _, c := range held {
		c.Release()
	}
	if n := pool.Stat().IdleConns(); n != conns {
		t.Fatalf("%d idle connections, want %d", n, conns)
	}

	for round := range 2 {
		if err := srv.Restart(); err != nil {
			t.Fatal(err)
		}
		tr.reset()
		s, err := st.Read(ctx, id)
		if err != nil || s.ID() != id {
			t.Fatalf("round %d: the first Read after the restart: %v", round, err)
		}
		_, stmts := tr.take()
		t.Logf("round %d: the first Read after the restart sent %q (it failed on each closed connection, then ran on a new one)", round, stmts)
		request(t, st, id, func(s *session.Session) { s.Set("round", round) })
	}
}

// TestContextDeadline makes the server hold a Read and a Save (another
// transaction locks the table, or the row): each returns the context's
// error at its deadline instead of waiting, and the storage works as soon
// as the lock is gone. A context that is already done sends nothing.
func TestContextDeadline(t *testing.T) {
	pool := newPool(t, server(t), nil)
	table := freshTable(t, pool)
	st := mustNew(t, pool, Options{Table: table})
	tb, _ := parseTable(table)
	bg := context.Background()
	id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	loaded, err := st.Read(bg, id)
	if err != nil {
		t.Fatal(err)
	}
	loaded.Set("b", 2)

	// hold runs stmt in a transaction of its own until release.
	hold := func(t *testing.T, stmt string) (release func()) {
		tx, err := pool.Begin(bg)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Exec(bg, stmt); err != nil {
			t.Fatal(err)
		}
		var once sync.Once
		release = func() { once.Do(func() { tx.Rollback(bg) }) }
		t.Cleanup(release)
		return release
	}
	within := func(t *testing.T, what string, err error, started time.Time) {
		t.Helper()
		took := time.Since(started)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("%s past its deadline: %v, want context.DeadlineExceeded", what, err)
		}
		if took > 2*time.Second {
			t.Errorf("%s took %v, past its 200ms deadline", what, took)
		}
	}

	t.Run("Read", func(t *testing.T) {
		release := hold(t, `LOCK TABLE `+tb.quoted+` IN ACCESS EXCLUSIVE MODE`)
		ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		s, err := st.Read(ctx, id)
		within(t, "Read", err, start)
		if s != nil {
			t.Error("Read returned a session with its error")
		}
		release()
		if s, err := st.Read(bg, id); err != nil || s.ID() != id {
			t.Errorf("Read after the lock: %v", err)
		}
	})
	t.Run("Save", func(t *testing.T) {
		release := hold(t, `SELECT 1 FROM `+tb.quoted+` FOR UPDATE`)
		ctx, cancel := context.WithTimeout(bg, 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, _, err := st.Save(ctx, loaded)
		within(t, "Save", err, start)
		release()
		if _, _, err := st.Save(bg, loaded); err != nil {
			t.Errorf("Save after the lock: %v", err)
		}
		if s, _ := st.Read(bg, id); s.Get("b") == nil {
			t.Error("the save is lost")
		}
	})
	t.Run("done context", func(t *testing.T) {
		tr := &tracer{}
		pool := newPool(t, server(t), func(c *pgxpool.Config) { c.ConnConfig.Tracer = tr })
		st := mustNew(t, pool, Options{Table: table})
		ctx, cancel := context.WithCancel(bg)
		cancel()
		loaded.Set("c", 3)
		tr.reset()
		if _, err := st.Read(ctx, id); !errors.Is(err, context.Canceled) {
			t.Errorf("Read with a canceled context: %v", err)
		}
		if _, _, err := st.Save(ctx, loaded); !errors.Is(err, context.Canceled) {
			t.Errorf("Save with a canceled context: %v", err)
		}
		if n, stmts := tr.take(); n != 0 {
			t.Errorf("a canceled context sent %q", stmts)
		}
	})
}
