package sessiontest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The stress runs behind the merge and per-user scenarios, exported so that
// a storage module can run them at scale on its own server layouts (a
// Redis Cluster, a memcache pool) without a copy of its own.

// ConcurrentSaves reads the session that cookie names n times, sets the key
// "k<i>" to i in the i-th copy, and once every copy is read calls ready (if
// not nil: a module resets its round-trip counters there) and saves all n at
// once. Every save must succeed and keep cookie as the session's cookie, and
// the stored session must then hold every key and whatever it held before.
func ConcurrentSaves(t testing.TB, st session.Storage, cookie string, n int, ready func()) {
	t.Helper()
	ctx := context.Background()
	before, err := st.Read(ctx, cookie)
	if err != nil || before.ID() != cookie {
		t.Fatalf("ConcurrentSaves: the session does not load (%v)", err)
	}
	kept := before.Data().Values
	var loaded sync.WaitGroup
	loaded.Add(n)
	start := make(chan struct{})
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := st.Read(ctx, cookie)
			if err == nil && s.ID() != cookie {
				err = fmt.Errorf("read returned a new session")
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
				err = fmt.Errorf("save returned another cookie value")
			}
			errs[i] = err
		}()
	}
	loaded.Wait()
	if ready != nil {
		ready()
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("save %d of %d: %v", i, n, err)
		}
	}
	s, err := st.Read(ctx, cookie)
	if err != nil || s.ID() != cookie {
		t.Fatalf("after %d concurrent saves the session does not load (%v)", n, err)
	}
	missing := 0
	for i := range n {
		if v, ok := session.Value[int](s, fmt.Sprintf("k%d", i)); !ok || v != i {
			missing++
		}
	}
	lost := 0
	for k := range kept {
		if !s.Has(k) {
			lost++
		}
	}
	if missing != 0 || lost != 0 {
		t.Errorf("after %d concurrent saves the session lacks %d of their keys and %d of its earlier ones", n, missing, lost)
	}
}

// RevokeRaceStarts are the moments at which a RevokeRace trial starts its
// revoke, by trial number modulo their count: with the login (a free
// race), or once the login's Read returned, its save first read the user's
// index, first wrote it, or deleted the old record.
var RevokeRaceStarts = []string{"free race", "after the login's Read", "after the save's first index read", "after the save's first index write", "after the save deleted the old record"}

// RevokeRaceResult is what the trials of RevokeRace came to.
type RevokeRaceResult struct {
	Trials int
	// Violations are the trials that left a signed-in session that
	// Sessions does not list, so that no revoke can end it: must be 0.
	Violations int
	// LoginKept and Revoked count the trials whose login cookie loaded
	// signed in (and listed), or anonymous; LoginErrors the logins that
	// returned an error.
	LoginKept, Revoked, LoginErrors int
	// Stepped counts the trials whose revoke started at its step of the
	// login, before the login returned (all but the free races).
	Stepped int
}

// RevokeRace runs trials of a login racing a revoke of all of the user's
// sessions on session.NewBackendStorage over b (with Options.UserKey
// "user"): user U<i> has a signed-in session; concurrently, a login request
// reads it, calls RegenerateID(true), sets the user and saves, and
// RevokeAll(U<i>) runs,
// started at one of RevokeRaceStarts. Afterwards the sessions that the
// login's cookie and the old cookie reach must be anonymous, or listed by
// Sessions (so that they can still be revoked). workers goroutines run the
// trials, each with its own user. It fails the test on a violation, an
// error, or a step that the login no longer takes, and returns the counts.
func RevokeRace(t testing.TB, b session.Backend, trials, workers int) RevokeRaceResult {
	t.Helper()
	ctx := context.Background()
	sb := &steppedBackend{Backend: b, triggers: make(map[string]*trigger)}
	st, err := session.NewBackendStorage(sb, session.Options{UserKey: "user", IdleTimeout: time.Hour, Logger: NewLogs().Logger()})
	if err != nil {
		t.Fatal(err)
	}
	ix := st.(session.UserIndex)
	// check reports whether the session that cookie reaches is anonymous
	// (or fresh), or listed by Sessions(user); and whether it is signed in
	// as user.
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
		return slices.ContainsFunc(list, func(i session.SessionInfo) bool { return i.Handle == s.Handle() }), true, nil
	}
	// The harness's own checks: a login alone keeps its new session signed
	// in and listed; a signed-in record the index does not hold (written
	// by another program) is a violation.
	{
		old, err := signIn(ctx, st, "solo")
		if err != nil {
			t.Fatal(err)
		}
		s, err := st.Read(ctx, old)
		if err != nil {
			t.Fatal(err)
		}
		s.RegenerateID(true)
		nv, _, err := st.Save(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		if ok, signedIn, err := check(nv, "solo"); err != nil || !ok || !signedIn {
			t.Fatalf("a login without a revoke: listed %v, signed in %v, %v; want both", ok, signedIn, err)
		}
		unindexed := session.New().ID()
		if err := Overwrite(ctx, b, unindexed, []byte(`[{"user":"solo"},{}]`)); err != nil {
			t.Fatal(err)
		}
		if ok, signedIn, err := check(unindexed, "solo"); err != nil || ok || !signedIn {
			t.Fatalf("an unindexed signed-in record: listed %v, signed in %v, %v; want a violation", ok, signedIn, err)
		}
	}

	var violations, kept, revoked, loginErrors, stepped atomic.Int64
	modes := len(RevokeRaceStarts)
	trial := func(i int) error {
		user := fmt.Sprintf("U%d", i)
		old, err := signIn(ctx, st, user)
		if err != nil {
			return err
		}
		var start *trigger
		switch i % modes {
		case 0, 1:
			start = &trigger{ch: make(chan struct{})}
		case 2:
			start = sb.on(b.IndexKey(user), "get")
		case 3:
			start = sb.on(b.IndexKey(user), "put")
		case 4:
			start = sb.on(b.Key(old), "delete")
		}
		defer sb.off(b.IndexKey(user))
		defer sb.off(b.Key(old))
		if i%modes == 0 {
			start.fire()
		}
		var wg sync.WaitGroup
		var loginCookie string
		var loginErr, revokeErr error
		wg.Add(1)
		go func() { // the login
			defer wg.Done()
			defer func() {
				select {
				case <-start.ch:
					if i%modes != 0 {
						stepped.Add(1)
					}
				default:
					start.fire() // whatever happens, the revoke runs
				}
			}()
			s, err := st.Read(ctx, old)
			if i%modes == 1 {
				start.fire()
			}
			if err != nil {
				loginErr = err
				return
			}
			s.RegenerateID(true)
			s.Set("user", user) // as a login does: a fresh session gets signed in too
			v, set, err := st.Save(ctx, s)
			switch {
			case err != nil:
				loginErr = err
			case set:
				loginCookie = v
			default:
				loginCookie = old
			}
		}()
		wg.Add(1)
		go func() { // the revoke
			defer wg.Done()
			<-start.ch
			_, revokeErr = ix.RevokeAll(ctx, user)
		}()
		wg.Wait()
		if revokeErr != nil {
			return fmt.Errorf("RevokeAll: %w", revokeErr)
		}
		if loginErr != nil {
			loginErrors.Add(1)
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
				kept.Add(1)
			} else {
				revoked.Add(1)
			}
		}
		if bad {
			violations.Add(1)
		}
		return nil
	}

	jobs := make(chan int)
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				if err := trial(i); err != nil && failed.Add(1) <= 5 {
					t.Errorf("trial %d: %v", i, err)
				}
			}
		}()
	}
	for i := range trials {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	r := RevokeRaceResult{Trials: trials, Violations: int(violations.Load()), LoginKept: int(kept.Load()),
		Revoked: int(revoked.Load()), LoginErrors: int(loginErrors.Load()), Stepped: int(stepped.Load())}
	if want := trials - (trials+modes-1)/modes; r.Stepped != want {
		t.Errorf("the revoke started at its step of the login in %d trials, want %d (the login no longer takes that step?)", r.Stepped, want)
	}
	if r.Violations != 0 {
		t.Errorf("%d of %d trials left a signed-in session that Sessions does not list (so RevokeAll cannot end it)", r.Violations, trials)
	}
	return r
}

// signIn stores a new session signed in as user and returns its cookie.
func signIn(ctx context.Context, st session.Storage, user string) (string, error) {
	s, err := st.Read(ctx, "")
	if err != nil {
		return "", err
	}
	s.Set("user", user)
	v, _, err := st.Save(ctx, s)
	return v, err
}

// steppedBackend is a Backend with triggers: a trigger registered for a key
// fires (once) when a call of its kind on that key returns, so that
// RevokeRace can start a revoke at a chosen step of a login.
type steppedBackend struct {
	session.Backend
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
	return b.Backend.Get(ctx, key)
}

func (b *steppedBackend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	defer b.after(key, "put")
	return b.Backend.Put(ctx, key, data, ttl, v)
}

func (b *steppedBackend) Delete(ctx context.Context, key string, v session.Version) error {
	defer b.after(key, "delete")
	return b.Backend.Delete(ctx, key, v)
}
