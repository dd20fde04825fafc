package memorystorage

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// memoryConfig runs the suite on the memory storage's backend.
func memoryConfig() sessiontest.Config {
	return sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			return newBackend(Options{Session: o})
		},
		ClockControlsExpiry: true,
		UserIndex:           true,
	}
}

func TestConformance(t *testing.T) { sessiontest.Run(t, memoryConfig()) }

// New itself, with the hooks that reach its records through the backend
// each storage was built on, so that every scenario runs.
func TestNewConformance(t *testing.T) {
	var mu sync.Mutex
	backends := map[session.Storage]*backend{}
	of := func(st session.Storage) *backend {
		mu.Lock()
		defer mu.Unlock()
		return backends[st]
	}
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) (session.Storage, error) {
			b := newBackend(Options{Session: o})
			st, err := session.NewBackendStorage(b, o)
			if err == nil {
				mu.Lock()
				backends[st] = b
				mu.Unlock()
			}
			return st, err
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
		UserIndex:           true,
		Locks:               true,
		Count:               func(t *testing.T, st session.Storage) int { return of(st).Len() },
		Put: func(t *testing.T, st session.Storage, id string, rec []byte) {
			of(st).set(context.Background(), id, rec, 0)
		},
		Get: func(t *testing.T, st session.Storage, id string) ([]byte, bool) {
			rec, _, err := of(st).Get(context.Background(), id)
			return rec, err == nil
		},
	})
}

func TestNewRejectsNegativeIdleTimeout(t *testing.T) {
	for _, o := range []session.Options{{IdleTimeout: -1}, {IdleTimeout: -time.Second, Lifetime: -1}} {
		if st, err := New(Options{Session: o}); err == nil || st != nil {
			t.Errorf("New(%+v) = %v, %v; want an error", o, st, err)
		}
	}
}

// Len counts the records, expired or not.
func (m *backend) Len() int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.records)
}

// set stores data under key whatever is stored there: the tests' shortcut
// for a write outside a session.
func (m *backend) set(ctx context.Context, key string, data []byte, ttl time.Duration) {
	_, v, _ := m.Get(ctx, key)
	if _, err := m.Put(ctx, key, data, ttl, v); err != nil {
		panic(err)
	}
}

func TestMemoryBackendTTL(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := newBackend(Options{Session: session.Options{Now: clock.Now}})
	b.set(ctx, "a", []byte("1"), time.Minute)
	b.set(ctx, "forever", []byte("2"), 0)
	clock.Advance(59 * time.Second)
	if _, _, err := b.Get(ctx, "a"); err != nil {
		t.Fatalf("live record: %v", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if _, _, err := b.Get(ctx, "a"); err != nil {
		t.Fatalf("touched record: %v", err)
	}
	clock.Advance(time.Second)
	if _, _, err := b.Get(ctx, "a"); err != session.ErrNotFound {
		t.Fatalf("expired record: %v, want ErrNotFound", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); err != session.ErrNotFound {
		t.Errorf("Touch of an expired record: %v, want ErrNotFound", err)
	}
	if err := b.Touch(ctx, "missing", time.Minute); err != session.ErrNotFound {
		t.Errorf("Touch of a missing record: %v, want ErrNotFound", err)
	}
	clock.Advance(1000 * time.Hour)
	if _, _, err := b.Get(ctx, "forever"); err != nil {
		t.Errorf("a record with no TTL expired: %v", err)
	}
	if err := b.Touch(ctx, "forever", 0); err != nil {
		t.Error(err)
	}
	if err := b.Delete(ctx, "nothing", session.Version{}); err != nil {
		t.Errorf("Delete of a missing record: %v", err)
	}
	b.set(ctx, "new", []byte("3"), time.Minute) // sweeps the expired "a"
	if n := b.Len(); n != 2 {
		t.Errorf("%d records after a write, want 2 (the expired one swept)", n)
	}
}

// Each write of a new record removes at most 16 expired ones, soonest
// expired first, so expired records go as new sessions arrive without a
// write ever paying for all of them.
func TestMemoryBackendSweepBound(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := newBackend(Options{Session: session.Options{Now: clock.Now}})
	const old = 1000
	for i := 0; i < old; i++ {
		b.set(ctx, fmt.Sprint("old", i), []byte("x"), time.Minute)
	}
	if n := b.Len(); n != old {
		t.Fatalf("live records were swept: %d left", n)
	}
	clock.Advance(time.Hour)
	expiredLeft := old
	for i := 0; i < 100; i++ {
		b.set(ctx, fmt.Sprint("new", i), []byte("x"), time.Hour)
		expiredLeft -= min(expiredLeft, 16)
		if n := b.Len(); n != expiredLeft+i+1 {
			t.Fatalf("after write %d: %d records, want %d expired + %d live (16 expired removed per write)", i, n, expiredLeft, i+1)
		}
	}
}

// Issue 8.4: a flood of anonymous requests that each store a session (a
// failed-login flash) stays within Options.MaxSessions, whose default is
// DefaultMaxSessions; the newest sessions survive.
func TestMemoryStorageBoundedByDefault(t *testing.T) {
	logs := sessiontest.NewLogs()
	b := newBackend(Options{Session: session.Options{Logger: logs.Logger()}})
	st, err := session.NewBackendStorage(b, session.Options{Logger: logs.Logger()})
	if err != nil {
		t.Fatal(err)
	}
	const requests = 2 * DefaultMaxSessions
	var last string
	for i := 0; i < requests; i++ {
		last, _ = sessiontest.Request(t, st, "", func(s *session.Session) { s.Flash("error", "Wrong password") })
	}
	wantLen(t, b, DefaultMaxSessions)
	sessiontest.Request(t, st, last, func(s *session.Session) {
		if s.ID() != last || s.Get("error") != "Wrong password" {
			t.Error("the newest session was evicted")
		}
	})
	wantOneWarning(t, logs)
}

// The cap's warning is logged once, naming no session; a negative
// MaxSessions is no limit. (TestMemoryBackendEvictionOrder has the order.)
func TestMemoryBackendCapWarning(t *testing.T) {
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	b := newBackend(Options{MaxSessions: 3, Session: session.Options{Logger: logs.Logger()}})
	for i := 0; i < 10; i++ {
		b.set(ctx, fmt.Sprint("id", i), []byte("1"), time.Hour)
	}
	wantLen(t, b, 3)
	wantOneWarning(t, logs)
	if logs.Contains("id0") || !logs.Contains("max_sessions=3") {
		t.Errorf("want a warning naming the cap and no id, got:\n%s", logs)
	}
	u := newBackend(Options{MaxSessions: -1})
	for i := 0; i < 10; i++ {
		u.set(ctx, fmt.Sprint(i), []byte("1"), 0)
	}
	wantLen(t, u, 10) // no limit
}
