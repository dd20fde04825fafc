package session_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// memoryConfig runs the suite on the memory storage's backend, as
// NewMemoryStorage builds it.
func memoryConfig() sessiontest.Config {
	return sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			return session.NewMemoryBackendForTest(o)
		},
		ClockControlsExpiry: true,
		UserIndex:           true,
	}
}

func TestMemoryStorageConformance(t *testing.T) { sessiontest.Run(t, memoryConfig()) }

// The exported constructor itself; the hooks reach its records through its
// backend, so that every scenario runs.
func TestNewMemoryStorageConformance(t *testing.T) {
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) session.Storage {
			return session.NewMemoryStorage(o)
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
		UserIndex:           true,
		Locks:               true,
		Count: func(t *testing.T, st session.Storage) int {
			return session.MemoryStorageLen(st)
		},
		Put: func(t *testing.T, st session.Storage, id string, rec []byte) {
			session.MemoryStorageBackend(st).Set(context.Background(), id, rec, 0)
		},
		Get: func(t *testing.T, st session.Storage, id string) ([]byte, bool) {
			rec, _, err := session.MemoryStorageBackend(st).Get(context.Background(), id)
			return rec, err == nil
		},
	})
}

func TestMemoryStorageRejectsNegativeIdleTimeout(t *testing.T) {
	for _, o := range []session.Options{{IdleTimeout: -1}, {IdleTimeout: -time.Second, Lifetime: -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("NewMemoryStorage(%+v) did not panic", o)
				}
			}()
			session.NewMemoryStorage(o)
		}()
	}
}

func TestMemoryBackendTTL(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := session.NewMemoryBackendForTest(session.Options{Now: clock.Now})
	b.Set(ctx, "a", []byte("1"), time.Minute)
	b.Set(ctx, "forever", []byte("2"), 0)
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
	b.Set(ctx, "new", []byte("3"), time.Minute) // sweeps the expired "a"
	if n := session.MemoryRecordCount(b); n != 2 {
		t.Errorf("%d records after a write, want 2 (the expired one swept)", n)
	}
}

// Each write of a new record removes at most 16 expired ones, soonest
// expired first, so expired records go as new sessions arrive without a
// write ever paying for all of them.
func TestMemoryBackendSweepBound(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := session.NewMemoryBackendForTest(session.Options{Now: clock.Now})
	const old = 1000
	for i := 0; i < old; i++ {
		b.Set(ctx, fmt.Sprint("old", i), []byte("x"), time.Minute)
	}
	if n := session.MemoryRecordCount(b); n != old {
		t.Fatalf("live records were swept: %d left", n)
	}
	clock.Advance(time.Hour)
	expiredLeft := old
	for i := 0; i < 100; i++ {
		b.Set(ctx, fmt.Sprint("new", i), []byte("x"), time.Hour)
		expiredLeft -= min(expiredLeft, 16)
		if n := session.MemoryRecordCount(b); n != expiredLeft+i+1 {
			t.Fatalf("after write %d: %d records, want %d expired + %d live (16 expired removed per write)", i, n, expiredLeft, i+1)
		}
	}
}

// Issue 8.4: a flood of anonymous requests that each store a session (a
// failed-login flash) stays within Options.MaxSessions, whose default is
// DefaultMaxSessions; the newest sessions survive.
func TestMemoryStorageBoundedByDefault(t *testing.T) {
	logs := sessiontest.NewLogs()
	st := session.NewMemoryStorage(session.Options{Logger: logs.Logger()})
	const requests = 2 * session.DefaultMaxSessions
	var last string
	for i := 0; i < requests; i++ {
		last, _ = sessiontest.Request(t, st, "", func(s *session.Session) { s.Flash("error", "Wrong password") })
	}
	if n := session.MemoryStorageLen(st); n != session.DefaultMaxSessions {
		t.Errorf("%d sessions after %d anonymous writes, want the cap %d", n, requests, session.DefaultMaxSessions)
	}
	sessiontest.Request(t, st, last, func(s *session.Session) {
		if s.ID() != last || s.Get("error") != "Wrong password" {
			t.Error("the newest session was evicted")
		}
	})
	if logs.Warnings() != 1 || !logs.Contains("memory storage is full") {
		t.Errorf("want one warning about the cap, got:\n%s", logs)
	}
}

// At the cap, the records closest to expiry go first; records that never
// expire go last.
func TestMemoryBackendEvictsClosestToExpiry(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	b := session.NewMemoryBackendForTest(session.Options{Now: clock.Now, MaxSessions: 3, Logger: logs.Logger()})
	b.Set(ctx, "forever", []byte("1"), 0)
	b.Set(ctx, "hour", []byte("1"), time.Hour)
	b.Set(ctx, "minute", []byte("1"), time.Minute)
	b.Touch(ctx, "minute", 2*time.Hour) // now the furthest from expiry but "forever"
	b.Set(ctx, "new0", []byte("1"), 30*time.Minute)
	want := map[string]bool{"forever": true, "minute": true, "new0": true, "hour": false}
	for id, live := range want {
		if _, _, err := b.Get(ctx, id); (err == nil) != live {
			t.Errorf("%s: live %v, want %v", id, err == nil, live)
		}
	}
	b.Set(ctx, "new1", []byte("1"), 3*time.Hour) // evicts new0 (30 min)
	b.Set(ctx, "new2", []byte("1"), 4*time.Hour) // evicts minute (2 h)
	want = map[string]bool{"forever": true, "minute": false, "new0": false, "new1": true, "new2": true}
	for id, live := range want {
		if _, _, err := b.Get(ctx, id); (err == nil) != live {
			t.Errorf("%s: live %v, want %v", id, err == nil, live)
		}
	}
	if n := session.MemoryRecordCount(b); n != 3 {
		t.Errorf("%d records, want the cap 3", n)
	}
	if logs.Warnings() != 1 || logs.Contains("forever") {
		t.Errorf("want one warning naming no id, got:\n%s", logs)
	}
	// A negative MaxSessions is no limit.
	u := session.NewMemoryBackendForTest(session.Options{MaxSessions: -1})
	for i := 0; i < 10; i++ {
		u.Set(ctx, fmt.Sprint(i), []byte("1"), 0)
	}
	if n := session.MemoryRecordCount(u); n != 10 {
		t.Errorf("no limit: %d records, want 10", n)
	}
}
