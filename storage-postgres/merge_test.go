package postgresstorage

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
)

// TestMerge64 loads one session in 64 goroutines, sets a key of its own in
// each ("k0" … "k63"), and saves all 64 at once: every save must succeed
// and keep the others' keys, since package session answers a conflict by
// reading the row again and re-applying the request's own changes.
func TestMerge64(t *testing.T) {
	const n = 64
	tr := &tracer{}
	pool := newPool(t, server(t), func(c *pgxpool.Config) {
		c.ConnConfig.Tracer = tr
		c.MaxConns = 16
	})
	table := freshTable(t, pool)
	tr.nameStatements(t, table)
	st, err := New(pool, Options{Table: table, Session: session.Options{
		IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler),
	}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cookie := request(t, st, "", func(s *session.Session) { s.Set("base", "yes") })

	var loaded sync.WaitGroup
	loaded.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			s, err := st.Read(ctx, cookie)
			if err == nil && s.ID() != cookie {
				err = fmt.Errorf("Read returned a new session")
			}
			if err == nil {
				s.Set(fmt.Sprintf("k%d", i), i)
			}
			loaded.Done()
			<-start
			if err != nil {
				errs[i] = err
				return
			}
			v, _, err := st.Save(ctx, s)
			if err == nil && v != cookie {
				err = fmt.Errorf("Save returned another cookie value")
			}
			errs[i] = err
		})
	}
	loaded.Wait()
	tr.reset() // the 64 reads (and the statements' first prepares)
	close(start)
	wg.Wait()
	_, stmts := tr.take()
	counts := map[string]int{}
	for _, s := range stmts {
		counts[s]++
	}
	for i, err := range errs {
		if err != nil {
			t.Errorf("request %d: %v", i, err)
		}
	}
	s, err := st.Read(ctx, cookie)
	if err != nil || s.ID() != cookie {
		t.Fatalf("final Read: %v (new session: %v)", err, s != nil && s.ID() != cookie)
	}
	missing := 0
	for i := range n {
		if v, ok := session.Value[int](s, fmt.Sprintf("k%d", i)); !ok || v != i {
			missing++
		}
	}
	if missing != 0 || s.Get("base") != "yes" {
		t.Errorf("the final row lacks %d of the %d keys (base %v)", missing, n, s.Get("base"))
	}
	t.Logf("%d concurrent saves of one session: %d of %d keys kept; statements %v (the saves that lost a compare-and-set read the row again and retried)", n, n-missing, n, counts)
}

// TestRevokeVsRegenerate: 300 trials of a login with RegenerateID(true)
// racing RevokeAll of its user (each trial its own user), the revoke started
// with the login or at each step of it in turn: no trial may leave a
// signed-in session that Sessions does not list.
func TestRevokeVsRegenerate(t *testing.T) {
	pool := newPool(t, server(t), func(c *pgxpool.Config) { c.MaxConns = 16 })
	const trials, workers = 300, 16
	start := time.Now()
	out := revokeVsRegenerate(t, pool, trials, workers)
	t.Logf("%d trials (revoke started %q in turn) in %v: %d violations; the login's cookie was still signed in (and listed) %d times, anonymous %d times; %d logins returned an error",
		trials, revokeStarts, time.Since(start).Round(time.Millisecond), out.violations.Load(), out.loginKept.Load(), out.revoked.Load(), out.loginErrors.Load())
	if want := int64(trials - (trials+len(revokeStarts)-1)/len(revokeStarts)); out.stepped.Load() != want {
		t.Errorf("the revoke started at its step of the login in %d trials, want %d (the login no longer takes that step?)", out.stepped.Load(), want)
	}
	if v := out.violations.Load(); v != 0 {
		t.Errorf("%d of %d trials left a signed-in session that Sessions does not list (so RevokeAll cannot end it)", v, trials)
	}
}

// steppedBackend is the backend with triggers: a trigger registered for a
// key fires (once) when a call of its kind on that key returns, so that a
// test can start a concurrent operation at a chosen step of another.
type steppedBackend struct {
	*backend
	mu       sync.Mutex
	triggers map[string]*trigger
}

type trigger struct {
	op   string // "get", "put" or "delete"
	once sync.Once
	ch   chan struct{}
}

func (t *trigger) fire() { t.once.Do(func() { close(t.ch) }) }

// on returns a trigger that fires after the first op on key.
func (b *steppedBackend) on(key, op string) *trigger {
	tr := &trigger{op: op, ch: make(chan struct{})}
	b.mu.Lock()
	b.triggers[key] = tr
	b.mu.Unlock()
	return tr
}

func (b *steppedBackend) off(key string) {
	b.mu.Lock()
	delete(b.triggers, key)
	b.mu.Unlock()
}

func (b *steppedBackend) after(key, op string) {
	b.mu.Lock()
	tr := b.triggers[key]
	b.mu.Unlock()
	if tr != nil && tr.op == op {
		tr.fire()
	}
}

func (b *steppedBackend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	defer b.after(key, "get")
	return b.backend.Get(ctx, key)
}

func (b *steppedBackend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	defer b.after(key, "put")
	return b.backend.Put(ctx, key, data, ttl, v)
}

func (b *steppedBackend) Delete(ctx context.Context, key string, v session.Version) error {
	defer b.after(key, "delete")
	return b.backend.Delete(ctx, key, v)
}

// revokeOutcome counts what the trials of revokeVsRegenerate came to.
type revokeOutcome struct {
	violations  atomic.Int64 // trials that left a signed-in session the index does not list
	loginKept   atomic.Int64 // the login's cookie still signed in (and listed)
	revoked     atomic.Int64 // the login's cookie reads an anonymous session
	loginErrors atomic.Int64 // the login's Read or Save returned an error
	// stepped counts the trials whose revoke started at its step of the
	// login, before the login returned (all but the free races).
	stepped atomic.Int64
}

// The moments at which the revoke of a trial starts, by trial number mod
// len(revokeStarts): with the login (free race), or once the login's
// Read returned, its save first read the index, first wrote the index, or
// deleted the old record.
var revokeStarts = []string{"free race", "after the login's Read", "after the save's first index read", "after the save's first index write", "after the save deleted the old record"}

// revokeVsRegenerate runs trials of a login racing a revoke of all of the
// user's sessions: user U<i> has a signed-in session; concurrently, (a) a
// login request reads it, calls RegenerateID(true) and saves, and (b)
// RevokeAll(U<i>) runs, started with the login or at one of its steps
// (revokeStarts). Afterwards, the session that the login's cookie (and the
// old cookie) reaches must be anonymous or fresh, or be listed by
// Sessions(U<i>), so that it can still be revoked; RevokeAll is not called
// again. A pool of workers runs the trials, each with its own user.
func revokeVsRegenerate(t *testing.T, pool *pgxpool.Pool, trials, workers int) *revokeOutcome {
	ctx := context.Background()
	b := &steppedBackend{
		backend:  mustBackend(t, pool, Options{Table: freshTable(t, pool)}),
		triggers: make(map[string]*trigger),
	}
	st := session.NewBackendStorage(b, session.Options{
		UserKey: "user", IdleTimeout: time.Hour, Logger: slog.New(slog.DiscardHandler),
	})
	ix, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("the storage with UserKey is not a session.UserIndex")
	}
	var out revokeOutcome
	// check reports whether the session that cookie reaches is anonymous
	// (or fresh), or one that Sessions(user) lists; and whether it is
	// signed in as user.
	check := func(cookie, user string) (ok, signedIn bool, err error) {
		s, err := st.Read(ctx, cookie)
		if err != nil {
			return false, false, err
		}
		if s.ID() != cookie || s.Get("user") != user {
			return true, false, nil
		}
		list, err := ix.Sessions(ctx, user)
		if err != nil {
			return false, true, err
		}
		for _, i := range list {
			if i.Handle == s.Handle() {
				return true, true, nil
			}
		}
		return false, true, nil
	}

	// The harness's own checks: a login alone keeps its new session signed
	// in and listed; a signed-in record that the index does not hold (as
	// another program could write) is a violation.
	{
		old, err := signIn(ctx, st, "solo")
		if err != nil {
			t.Fatal(err)
		}
		nv := request(t, st, old, func(s *session.Session) { s.RegenerateID(true) })
		if ok, signedIn, err := check(nv, "solo"); err != nil || !ok || !signedIn {
			t.Fatalf("a login without a revoke: listed %v, signed in %v, %v; want both", ok, signedIn, err)
		}
		const unindexed = "unindexedSessionId0123456789abcdefghijklmno"
		if _, err := b.Put(ctx, b.Key(unindexed), []byte(`[{"user":"solo"},{}]`), time.Hour, session.Version{}); err != nil {
			t.Fatal(err)
		}
		if ok, signedIn, err := check(unindexed, "solo"); err != nil || ok || !signedIn {
			t.Fatalf("an unindexed signed-in record: listed %v, signed in %v, %v; want a violation", ok, signedIn, err)
		}
	}

	trial := func(i int) error {
		user := fmt.Sprintf("U%d", i)
		old, err := signIn(ctx, st, user)
		if err != nil {
			return err
		}
		var start *trigger
		switch mode := i % len(revokeStarts); mode {
		case 0, 1:
			start = &trigger{ch: make(chan struct{})}
		case 2:
			start = b.on(b.IndexKey(user), "get")
		case 3:
			start = b.on(b.IndexKey(user), "put")
		case 4:
			start = b.on(b.Key(old), "delete")
		}
		defer b.off(b.IndexKey(user))
		defer b.off(b.Key(old))
		if i%len(revokeStarts) == 0 {
			start.fire()
		}
		var wg sync.WaitGroup
		var loginCookie string
		var loginErr, revokeErr error
		wg.Go(func() { // the login
			defer func() {
				select {
				case <-start.ch:
					if i%len(revokeStarts) != 0 {
						out.stepped.Add(1)
					}
				default:
					start.fire() // whatever happens, the revoke runs
				}
			}()
			s, err := st.Read(ctx, old)
			if i%len(revokeStarts) == 1 {
				start.fire()
			}
			if err != nil {
				loginErr = err
				return
			}
			s.RegenerateID(true)
			v, set, err := st.Save(ctx, s)
			switch {
			case err != nil:
				loginErr = err
			case set:
				loginCookie = v
			default:
				loginCookie = old
			}
		})
		wg.Go(func() { // the revoke
			<-start.ch
			_, revokeErr = ix.RevokeAll(ctx, user)
		})
		wg.Wait()
		if revokeErr != nil {
			return fmt.Errorf("RevokeAll: %w", revokeErr)
		}
		if loginErr != nil {
			out.loginErrors.Add(1)
		}
		bad := false
		if old != loginCookie {
			ok, _, err := check(old, user)
			if err != nil {
				return err
			}
			bad = !ok
		}
		if loginCookie != "" {
			ok, signedIn, err := check(loginCookie, user)
			if err != nil {
				return err
			}
			bad = bad || !ok
			if signedIn {
				out.loginKept.Add(1)
			} else {
				out.revoked.Add(1)
			}
		}
		if bad {
			out.violations.Add(1)
		}
		return nil
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Go(func() {
			for i := range jobs {
				if err := trial(i); err != nil && failed.Add(1) <= 5 {
					t.Errorf("trial %d: %v", i, err)
				}
			}
		})
	}
	for i := range trials {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	return &out
}

// signIn stores a new session signed in as user and returns its cookie
// value.
func signIn(ctx context.Context, st session.Storage, user string) (string, error) {
	s, err := st.Read(ctx, "")
	if err != nil {
		return "", err
	}
	s.Set("user", user)
	v, _, err := st.Save(ctx, s)
	return v, err
}
