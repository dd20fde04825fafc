package sessiontest

import (
	"context"
	"errors"
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
	if v, set := e.save(b); !set || v != id {
		t.Errorf("B's merged save = (%.12q, %v), want its cookie", v, set)
	}
	if b.State().Dirty {
		t.Error("B is still dirty after its merged save")
	}
	got := e.read(id)
	if got.Get("x") != 1.0 || got.Get("y") != 2.0 || got.Get("base") != 1.0 {
		t.Errorf("want base, x and y, got %v", got.Data())
	}
	// B's session now holds the merged state too.
	if b.Get("x") != 1.0 {
		t.Errorf("B's session after the merge: %v", b.Data())
	}
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
	if got.Get("k") != 2.0 || got.Has("gone") {
		t.Errorf("want the later save's k=2 and gone unset, got %v", got.Data())
	}
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
		if s.Get("fa") != "from a" || s.Get("fb") != "from b" {
			t.Errorf("the next request sees flash %v, %v; want both", s.Get("fa"), s.Get("fb"))
		}
	})
	e.req(id, func(s *session.Session) {
		if s.Has("fa") || s.Has("fb") {
			t.Errorf("flash outlived the next request: %v", s.Data())
		}
	})
}

func mergeFlashConsumed(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Flash("msg", "hi") })
	a, b := e.read(id), e.read(id)
	if a.Get("msg") != "hi" || b.Get("msg") != "hi" {
		t.Fatal("the flash did not load")
	}
	a.Set("x", 1)
	e.save(a)
	b.Set("y", 2)
	e.save(b)
	got := e.read(id)
	if got.Has("msg") || got.Get("x") != 1.0 || got.Get("y") != 2.0 {
		t.Errorf("want x, y and the flash consumed, got %v (msg %v)", got.Data(), got.Get("msg"))
	}
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
	if !set || newID == old || newID == "" {
		t.Fatalf("the login's save = (%.12q, %v), want a new id", newID, set)
	}
	if s := e.read(old); s.ID() == old {
		t.Errorf("the old id still loads: %v", s.Data())
	}
	got := e.read(newID)
	if got.ID() != newID || got.Get("user") != "ada" || got.Get("cart") != 2.0 || got.Get("theme") != "dark" {
		t.Errorf("the new session = %v; want user, cart 2 and theme from the change saved meanwhile", got.Data())
	}
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
		if _, _, err := e.st.Save(ctx, s); err != nil {
			t.Errorf("Save: %v", err)
		}
	}
	wg.Add(n + 1)
	for _, s := range writers {
		go save(s)
	}
	go save(logout)
	close(start)
	wg.Wait()
	if s := e.read(id); s.ID() == id {
		t.Errorf("a save after the logout brought the session back: %v", s.Data())
	}
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
	if !got.Persistent() || got.Get("x") != 1.0 {
		t.Errorf("want persistent with x kept, got persistent=%v %v", got.Persistent(), got.Data())
	}
}

func mergeForeignWrite(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	id, _ := e.req("", func(s *session.Session) { s.Set("base", 1) })
	a := e.read(id)
	// A Remix app writes the record with a plain SET meanwhile.
	c.Put(t, e.st, id, []byte(`[{"base":1,"remix":"yes"},{}]`))
	a.Set("go", "yes")
	e.save(a)
	got := e.read(id)
	if got.Get("remix") != "yes" || got.Get("go") != "yes" {
		t.Errorf("want the Remix app's and this request's changes, got %v", got.Data())
	}
}

// locking returns the scenario's storage as a session.Locking, or false
// after checking that it should not be one (its backend is no
// session.Locker).
func (e *env) locking() (session.Locking, bool) {
	lk, ok := e.st.(session.Locking)
	if e.c.backendOf != nil {
		if _, locks := e.c.backendOf(e.st).(session.Locker); locks != ok {
			e.t.Fatalf("the backend is a session.Locker: %v; the storage is a session.Locking: %v", locks, ok)
		}
	} else if !ok {
		e.t.Fatal("Config.Locks is true, but the storage does not implement session.Locking")
	}
	return lk, ok
}

func exclusiveIncrements(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	id, _ := e.req("", func(s *session.Session) { s.Set("count", 0) })
	const workers, each = 8, 25
	ctx := context.Background()
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				release, err := lk.Lock(ctx, id, session.LockOptions{Wait: time.Minute})
				if err != nil {
					t.Errorf("Lock: %v", err)
					return
				}
				s, err := e.st.Read(ctx, id)
				if err == nil {
					incr(s)
					_, _, err = e.st.Save(ctx, s)
				}
				release()
				if err != nil {
					t.Errorf("request: %v", err)
					return
				}
			}
		}()
	}
	wg.Wait()
	if n, _ := session.Value[int](e.read(id), "count"); n != workers*each {
		t.Errorf("count = %d after %d locked increments", n, workers*each)
	}
}

func exclusiveTimeout(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	id, _ := e.req("", func(s *session.Session) { s.Set("count", 0) })
	ctx := context.Background()
	release, err := lk.Lock(ctx, id, session.LockOptions{})
	if err != nil {
		t.Fatalf("Lock: %v", err)
	}
	if _, err := lk.Lock(ctx, id, session.LockOptions{Wait: 30 * time.Millisecond}); !errors.Is(err, session.ErrLockTimeout) {
		t.Errorf("Lock of a held lock = %v, want ErrLockTimeout", err)
	}
	release()
	release() // a second call does nothing
	again, err := lk.Lock(ctx, id, session.LockOptions{Wait: time.Second})
	if err != nil {
		t.Fatalf("Lock after the release: %v", err)
	}
	again()
}

func exclusiveNoCookie(t *testing.T, c Config) {
	e := newEnv(t, c, nil)
	lk, ok := e.locking()
	if !ok {
		return
	}
	for _, v := range []string{"", "not valid!"} {
		release, err := lk.Lock(context.Background(), v, session.LockOptions{})
		if err != nil || release == nil {
			t.Fatalf("Lock(%q) = %v", v, err)
		}
		release()
	}
}
