package postgresstorage

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// TestRoundTrips counts, with a pgx tracer on the pool, the round trips and
// statements of each kind of request: a read is one SELECT, a save one
// INSERT or UPDATE, an unchanged session none, a sliding refresh one UPDATE
// of expires_at. pgx prepares a statement the first time a connection runs
// it (one more round trip, counted by the tracer); the pool has one
// connection and every request is played once first, so that what is
// counted is the steady state.
func TestRoundTrips(t *testing.T) {
	tr := &tracer{}
	pool := newPool(t, server(t), func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = tr
		c.MaxConns = 1
	})
	const idle = time.Hour
	clk := sessiontest.NewFakeClock(time.Time{})
	table := freshTable(t, pool)
	tr.nameStatements(t, table)
	st := mustNew(t, pool, Options{Table: table, Session: session.Options{IdleTimeout: idle, Now: clk.Now}})
	ctx := context.Background()

	type step struct {
		name   string
		rounds int
		want   []string
		run    func(t *testing.T)
	}
	var id string
	steps := []step{
		{"Read without a cookie", 0, nil, func(t *testing.T) {
			if _, err := st.Read(ctx, ""); err != nil {
				t.Fatal(err)
			}
		}},
		{"Save of a new session", 1, []string{"insert"}, func(t *testing.T) {
			s, _ := st.Read(ctx, "")
			s.Set("user", "ada")
			var err error
			id, _, err = st.Save(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
		}},
		{"Read", 1, []string{"get"}, func(t *testing.T) {
			if s, err := st.Read(ctx, id); err != nil || s.ID() != id {
				t.Fatalf("Read: %v", err)
			}
		}},
		{"Save of an unchanged session", 0, nil, nil}, // with the Read above: see below
		{"Save of a changed session", 1, []string{"update"}, nil},
		{"sliding refresh of a read-only request", 1, []string{"touch"}, nil},
		{"the next read-only request (throttled)", 0, nil, nil},
		{"login: Save after RegenerateID(true)", 2, []string{"insert", "deleteVersion"}, nil},
		{"logout: Save after Destroy", 1, []string{"delete"}, nil},
	}
	// The steps that need a loaded session load it first (one SELECT, reset
	// before counting).
	loaded := func(fn func(s *session.Session) (bool, error)) func(t *testing.T) {
		return func(t *testing.T) {
			s, err := st.Read(ctx, id)
			if err != nil || s.ID() != id {
				t.Fatalf("Read: %v", err)
			}
			tr.reset()
			changed, err := fn(s)
			if err != nil {
				t.Fatal(err)
			}
			if changed {
				id = s.ID()
			}
		}
	}
	save := func(s *session.Session) (bool, error) {
		_, _, err := st.Save(ctx, s)
		return true, err
	}
	steps[3].run = loaded(func(s *session.Session) (bool, error) {
		_, set, err := st.Save(ctx, s)
		if set {
			return false, fmt.Errorf("an unchanged session sent a Set-Cookie")
		}
		return false, err
	})
	steps[4].run = loaded(func(s *session.Session) (bool, error) { s.Set("n", 1); return save(s) })
	steps[5].run = loaded(func(s *session.Session) (bool, error) {
		clk.Advance(idle/10 + time.Second)
		return save(s)
	})
	steps[6].run = steps[3].run
	steps[7].run = loaded(func(s *session.Session) (bool, error) {
		s.RegenerateID(true)
		s.Set("user", "grace")
		return save(s)
	})
	steps[8].run = loaded(func(s *session.Session) (bool, error) {
		s.Destroy()
		_, err := save(s)
		return false, err
	})

	// Warm-up: every statement prepared on the pool's one connection.
	for _, s := range steps {
		s.run(t)
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			tr.reset()
			s.run(t)
			n, stmts := tr.take()
			if n != s.rounds || !slices.Equal(stmts, s.want) {
				t.Errorf("%d round trips %q, want %d %q", n, stmts, s.rounds, s.want)
			}
		})
	}

	t.Run("a conflict", func(t *testing.T) {
		// Another request rewrites the record between this request's read
		// and save: the save's compare-and-set fails, package session reads
		// again and re-applies the change.
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		s, _ := st.Read(ctx, id)
		request(t, st, id, func(s *session.Session) { s.Set("other", true) })
		tr.reset()
		s.Set("b", 2)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		n, stmts := tr.take()
		if want := []string{"update", "get", "update"}; n != 3 || !slices.Equal(stmts, want) {
			t.Errorf("Save after a concurrent write: %d round trips %q, want 3 %q", n, stmts, want)
		}
		s, _ = st.Read(ctx, id)
		if s.Get("other") != true || s.Get("b") == nil {
			t.Errorf("after the merged save: other %v, b %v", s.Get("other"), s.Get("b"))
		}
	})

	t.Run("first use on a connection", func(t *testing.T) {
		// A new connection prepares each statement once: a Read on it is
		// two round trips, the next Read one.
		pool.Reset() // closes the connection; the next Acquire opens one
		tr.reset()
		if _, err := st.Read(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n, stmts := tr.take(); n != 2 {
			t.Errorf("first Read on a new connection: %d round trips %q, want 2 (prepare, query)", n, stmts)
		}
		if _, err := st.Read(ctx, id); err != nil {
			t.Fatal(err)
		}
		if n, stmts := tr.take(); n != 1 {
			t.Errorf("second Read: %d round trips %q, want 1", n, stmts)
		}
	})
}

// TestRoundTripsPerUser counts the round trips of the per-user index: a
// login that adds the session to its user's index, listing a user's
// sessions (two: the index row, then every record in one SELECT … ANY), and
// a save that keeps the user (no index statement).
func TestRoundTripsPerUser(t *testing.T) {
	tr := &tracer{}
	pool := newPool(t, server(t), func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = tr
		c.MaxConns = 1
	})
	table := freshTable(t, pool)
	tr.nameStatements(t, table)
	st := mustNew(t, pool, Options{Table: table, Session: session.Options{UserKey: "user", IdleTimeout: time.Hour}})
	ix := st.(session.UserIndex)
	ctx := context.Background()
	// Warm-up, as in TestRoundTrips.
	for range 2 {
		for i := range 3 {
			request(t, st, "", func(s *session.Session) { s.Set("user", "ada"); s.Set("i", i) })
		}
		if _, err := ix.Sessions(ctx, "ada"); err != nil {
			t.Fatal(err)
		}
	}
	tr.reset()
	list, err := ix.Sessions(ctx, "ada")
	if err != nil || len(list) != 6 {
		t.Fatalf("Sessions = %d, %v; want 6", len(list), err)
	}
	if n, stmts := tr.take(); n != 2 || !slices.Equal(stmts, []string{"get", "getMulti"}) {
		t.Errorf("Sessions: %d round trips %q, want 2 (the index row, then every record in one query)", n, stmts)
	}

	var id string
	tr.reset()
	id = request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	n, stmts := tr.take()
	t.Logf("a login (new session signed in): %d round trips %q", n, stmts)
	if n > 6 {
		t.Errorf("a login: %d round trips %q, want at most 6", n, stmts)
	}
	s, _ := st.Read(ctx, id)
	tr.reset()
	s.Set("n", 1)
	if _, _, err := st.Save(ctx, s); err != nil {
		t.Fatal(err)
	}
	if n, stmts := tr.take(); n != 1 {
		t.Errorf("a save that keeps the user: %d round trips %q, want 1 (no index statement)", n, stmts)
	}
}
