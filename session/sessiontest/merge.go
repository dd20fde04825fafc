package sessiontest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The scenarios of merged saves (every server-side storage writes by
// compare-and-set and merges a conflict) and of exclusive sessions
// (session.Locking).

var mergeScenarios = []scenario{
	{name: "merge: 64 concurrent saves of one session all succeed and keep all 64 keys", serverSide: true, run: merge64},
	{name: "merge: the same key set by two requests keeps the later save's value", serverSide: true, run: mergeSameKey},
	{name: "merge: flash set by either of two requests survives", serverSide: true, run: mergeFlash},
	{name: "merge: flash a request read is consumed even when another request saved meanwhile", serverSide: true, run: mergeFlashConsumed},
	{name: "merge: a regeneration keeps a change saved to the old id meanwhile", serverSide: true, run: mergeRegenerate},
	{name: "merge: a concurrent logout is never undone", serverSide: true, run: mergeLogoutWins},
	{name: "merge: a request's persistence choice survives a merge", serverSide: true, run: mergePersist},
	{name: "merge: a record another program rewrote meanwhile is merged, not overwritten", serverSide: true, put: true, run: mergeForeignWrite},
	{name: "exclusive: locked increments from concurrent requests are all kept", locks: true, run: exclusiveIncrements},
	{name: "exclusive: a held lock makes Lock wait, then time out with ErrLockTimeout", locks: true, run: exclusiveTimeout},
	{name: "exclusive: within a grace window, requests with the old and the new id share the session's lock", locks: true, serverSide: true, run: exclusiveGrace},
	{name: "exclusive: no cookie or a malformed one needs no lock", locks: true, run: exclusiveNoCookie},
}

func init() { scenarios = append(scenarios, mergeScenarios...) }

// mergeDifferentKeys (T-CC1): A and B load one session; A sets x and saves,
// then B sets y and saves. B's save finds the record changed, reads it again
// and re-applies its own change: both keys are kept.
func mergeDifferentKeys(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("base", 1) })
	a, b := e.read(id), e.read(id)
	a.Set("x", 1)
	e.save(a)
	b.Set("y", 2)
	equal(t, "B's merged save (its cookie)", saved(e.save(b)), saved(id, true))
	check(t, !b.State().Dirty, "B is still dirty after its merged save")
	holds(t, "the stored session", e.read(id), map[string]any{"base": 1.0, "x": 1.0, "y": 2.0})
	// B's session now holds the merged state too.
	holds(t, "B's session after the merge", b, map[string]any{"x": 1.0})
}

func merge64(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("base", 1) })
	ConcurrentSaves(t, e.st, id, 64, nil)
}

func mergeSameKey(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("k", 0); s.Set("gone", 1) })
	a, b := e.read(id), e.read(id)
	a.Set("k", 1)
	a.Set("gone", 2)
	e.save(a)
	b.Set("k", 2)
	b.Unset("gone")
	e.save(b)
	got := e.read(id)
	check(t, got.Get("k") == 2.0 && !got.Has("gone"), "want the later save's k=2 and gone unset, got %v", got.Data())
}

func mergeFlash(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("base", 1) })
	a, b := e.read(id), e.read(id)
	a.Flash("fa", "from a")
	e.save(a)
	b.Flash("fb", "from b")
	e.save(b)
	e.req(id, func(s *session.Session) {
		holds(t, "the next request's session", s, map[string]any{"fa": "from a", "fb": "from b"})
	})
	e.req(id, func(s *session.Session) {
		check(t, !s.Has("fa") && !s.Has("fb"), "flash outlived the next request: %v", s.Data())
	})
}

func mergeFlashConsumed(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Flash("msg", "hi") })
	a, b := e.read(id), e.read(id)
	require(t, a.Get("msg") == "hi" && b.Get("msg") == "hi", "the flash did not load")
	a.Set("x", 1)
	e.save(a)
	b.Set("y", 2)
	e.save(b)
	got := e.read(id)
	check(t, !got.Has("msg"), "the flash was not consumed: msg %v", got.Get("msg"))
	holds(t, "the stored session", got, map[string]any{"x": 1.0, "y": 2.0})
}

func mergeRegenerate(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	old, _ := e.req("", func(s *session.Session) { s.Set("cart", 1) })
	a, b := e.read(old), e.read(old)
	b.Set("cart", 2)
	b.Set("theme", "dark")
	e.save(b)
	a.RegenerateID(true)
	a.Set("user", "ada")
	newID, set := e.save(a)
	require(t, set && newID != old && newID != "", "the login's save = (%.12q, %v), want a new id", newID, set)
	s := e.read(old)
	check(t, s.ID() != old, "the old id still loads: %v", s.Data())
	got := e.read(newID)
	equal(t, "the new session's id", got.ID(), newID)
	holds(t, "the new session (the user, and cart and theme as the change saved meanwhile)", got,
		map[string]any{"user": "ada", "cart": 2.0, "theme": "dark"})
}

func mergeLogoutWins(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("user", "ada") })
	const n = 16
	writers := make([]*session.Session, n)
	for i := range writers {
		writers[i] = e.read(id)
		writers[i].Set(fmt.Sprintf("k%d", i), i)
	}
	logout := e.read(id)
	logout.Destroy()
	ctx := context.Background()
	var wg sync.WaitGroup
	start := make(chan struct{})
	save := func(s *session.Session) {
		defer wg.Done()
		<-start
		_, _, err := e.st.Save(ctx, s)
		noError(t, "Save", err)
	}
	wg.Add(n + 1)
	for _, s := range writers {
		go save(s)
	}
	go save(logout)
	close(start)
	wg.Wait()
	s := e.read(id)
	check(t, s.ID() != id, "a save after the logout brought the session back: %v", s.Data())
}

func mergePersist(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("base", 1) })
	a, b := e.read(id), e.read(id)
	a.Set("x", 1)
	e.save(a)
	b.Persist(true)
	e.save(b)
	got := e.read(id)
	check(t, got.Persistent(), "the persistence choice was lost by the merge")
	holds(t, "the stored session", got, map[string]any{"x": 1.0})
}

func mergeForeignWrite(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("base", 1) })
	a := e.read(id)
	// A Remix app writes the record with a plain SET meanwhile.
	c.Put(t, e.st, id, []byte(`[{"base":1,"remix":"yes"},{}]`))
	a.Set("go", "yes")
	e.save(a)
	holds(t, "the stored session (the Remix app's and this request's changes)", e.read(id), map[string]any{"remix": "yes", "go": "yes"})
}

// locking returns the scenario's storage as a session.Locking, or false
// after checking that it should not be one (its backend is no
// session.Locker).
func (e *env) locking() (session.Locking, bool) {
	e.t.Helper()
	lk, ok := e.st.(session.Locking)
	if e.c.backendOf == nil {
		require(e.t, ok, "Config.Locks is true, but the storage does not implement session.Locking")
		return lk, ok
	}
	_, locks := e.c.backendOf(e.st).(session.Locker)
	require(e.t, locks == ok, "the backend is a session.Locker: %v; the storage is a session.Locking: %v", locks, ok)
	return lk, ok
}

func exclusiveIncrements(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	id, _ := e.req("", func(s *session.Session) { s.Set("count", 0) })
	incrementsKept(e, lk, id, []string{id, id, id, id, id, id, id, id}, 25)
}

// incrementsKept runs one goroutine per cookie value in cookies, all at
// once, each sending each requests that increment the count of session id
// while holding the lock that its cookie value takes (lockedIncrements),
// and checks that the count has every increment.
func incrementsKept(e *env, lk session.Locking, id string, cookies []string, each int) {
	e.t.Helper()
	var wg sync.WaitGroup
	for _, cookie := range cookies {
		wg.Add(1)
		go func() {
			defer wg.Done()
			lockedIncrements(e, lk, cookie, each)
		}()
	}
	wg.Wait()
	n, _ := session.Value[int](e.read(id), "count")
	equal(e.t, fmt.Sprintf("count after %d locked increments through %d requests at once", len(cookies)*each, len(cookies)), n, len(cookies)*each)
}

// lockedIncrements runs n requests that increment the count of session id,
// each holding the session's lock; it stops at the first error.
func lockedIncrements(e *env, lk session.Locking, id string, n int) {
	ctx := context.Background()
	for range n {
		release, err := lk.Lock(ctx, id, session.LockOptions{Wait: time.Minute})
		if !noError(e.t, "Lock", err) {
			return
		}
		s, err := e.st.Read(ctx, id)
		if err == nil {
			incr(s)
			_, _, err = e.st.Save(ctx, s)
		}
		release()
		if !noError(e.t, "request", err) {
			return
		}
	}
}

func exclusiveTimeout(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	id, _ := e.req("", func(s *session.Session) { s.Set("count", 0) })
	lockExcludes(t, lk, id, id)
}

// lockExcludes checks that while a request holds what Lock took for the
// cookie value held, Lock for the cookie value other waits and then times
// out with ErrLockTimeout, and that other's lock is free once the first is
// released (a second release doing nothing).
func lockExcludes(t *testing.T, lk session.Locking, held, other string) {
	t.Helper()
	ctx := context.Background()
	release, err := lk.Lock(ctx, held, session.LockOptions{})
	must(t, "Lock", err)
	_, err = lk.Lock(ctx, other, session.LockOptions{Wait: 30 * time.Millisecond})
	isError(t, "Lock while a request holds the lock it needs", err, session.ErrLockTimeout)
	release()
	release() // a second call does nothing
	again, err := lk.Lock(ctx, other, session.LockOptions{Wait: time.Second})
	must(t, "Lock after the release", err)
	again()
}

// exclusiveGrace: within a grace window (Options.RegenerateGrace) the old
// id loads the session that replaced it, so Lock of the old id also takes
// the lock of the new one, which requests with the new cookie take.
func exclusiveGrace(t *testing.T, c Config) {
	e, old, cookie := graceEnv(t, c)
	lk, ok := e.locking()
	if !ok {
		return
	}
	lockExcludes(t, lk, cookie, old)
	lockExcludes(t, lk, old, cookie)
	e.req(cookie, func(s *session.Session) { s.Set("count", 0) })
	incrementsKept(e, lk, cookie, []string{old, cookie, old, cookie, old, cookie, old, cookie}, 10)
}

func exclusiveNoCookie(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	for _, v := range []string{"", "not valid!"} {
		release, err := lk.Lock(context.Background(), v, session.LockOptions{})
		must(t, fmt.Sprintf("Lock(%q)", v), err)
		require(t, release != nil, "Lock(%q) returned no release function", v)
		release()
	}
}
