package session_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// memoryConfig runs the suite on the memory storage, built as
// NewMemoryStorage builds it but keeping the backend for the hooks.
func memoryConfig() sessiontest.Config {
	var mu sync.Mutex
	backends := map[session.Storage]*session.MemoryBackendForTest{}
	get := func(st session.Storage) *session.MemoryBackendForTest {
		mu.Lock()
		defer mu.Unlock()
		return backends[st]
	}
	return sessiontest.Config{
		New: func(t *testing.T, o session.Options) session.Storage {
			b := session.NewMemoryBackendForTest(o.Now)
			st := session.NewBackendStorage(b, o)
			mu.Lock()
			backends[st] = b
			mu.Unlock()
			return st
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
		Count:               func(t *testing.T, st session.Storage) int { return session.MemoryRecordCount(get(st)) },
		Put: func(t *testing.T, st session.Storage, id string, rec []byte) {
			if err := get(st).Set(context.Background(), id, rec, 0); err != nil {
				t.Fatal(err)
			}
		},
		Get: func(t *testing.T, st session.Storage, id string) ([]byte, bool) {
			rec, err := get(st).Get(context.Background(), id)
			return rec, err == nil
		},
	}
}

func TestMemoryStorageConformance(t *testing.T) { sessiontest.Run(t, memoryConfig()) }

// The exported constructor itself, without hooks.
func TestNewMemoryStorageConformance(t *testing.T) {
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) session.Storage {
			return session.NewMemoryStorage(o)
		},
		ServerSide:          true,
		ClockControlsExpiry: true,
	})
}

func TestMemoryStorageRejectsNegativeDurations(t *testing.T) {
	for _, o := range []session.Options{{IdleTimeout: -1}, {Lifetime: -time.Second}} {
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
	b := session.NewMemoryBackendForTest(clock.Now)
	b.Set(ctx, "a", []byte("1"), time.Minute)
	b.Set(ctx, "forever", []byte("2"), 0)
	clock.Advance(59 * time.Second)
	if _, err := b.Get(ctx, "a"); err != nil {
		t.Fatalf("live record: %v", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if _, err := b.Get(ctx, "a"); err != nil {
		t.Fatalf("touched record: %v", err)
	}
	clock.Advance(time.Second)
	if _, err := b.Get(ctx, "a"); err != session.ErrNotFound {
		t.Fatalf("expired record: %v, want ErrNotFound", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); err != session.ErrNotFound {
		t.Errorf("Touch of an expired record: %v, want ErrNotFound", err)
	}
	if err := b.Touch(ctx, "missing", time.Minute); err != session.ErrNotFound {
		t.Errorf("Touch of a missing record: %v, want ErrNotFound", err)
	}
	clock.Advance(1000 * time.Hour)
	if _, err := b.Get(ctx, "forever"); err != nil {
		t.Errorf("a record with no TTL expired: %v", err)
	}
	if err := b.Touch(ctx, "forever", 0); err != nil {
		t.Error(err)
	}
	if err := b.Delete(ctx, "nothing"); err != nil {
		t.Errorf("Delete of a missing record: %v", err)
	}
	if n := session.MemorySweep(b); n != 1 {
		t.Errorf("sweep left %d records, want 1", n)
	}
}

// Each write examines at most 16 entries, so expired ones are swept as new
// sessions arrive without a write ever scanning the whole table.
func TestMemoryBackendSweepBound(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := session.NewMemoryBackendForTest(clock.Now)
	const old = 1000
	for i := 0; i < old; i++ {
		b.Set(ctx, fmt.Sprint("old", i), []byte("x"), time.Minute)
	}
	if n := session.MemoryRecordCount(b); n < old-16 {
		t.Fatalf("live records were swept: %d left", n)
	}
	clock.Advance(time.Hour)
	prev := session.MemoryRecordCount(b)
	for i := 0; i < 500; i++ {
		b.Set(ctx, fmt.Sprint("new", i), []byte("x"), time.Hour)
		n := session.MemoryRecordCount(b)
		if removed := prev + 1 - n; removed > 16 {
			t.Fatalf("one write removed %d records, want at most 16", removed)
		}
		prev = n
	}
	if n := session.MemoryRecordCount(b); n >= old+500-100 {
		t.Errorf("%d records after 500 writes over %d expired ones: the writes barely swept", n, old)
	}
	if n := session.MemorySweep(b); n != 500 {
		t.Errorf("sweep left %d records, want the 500 live ones", n)
	}
}

func TestMemoryStorageCopiesRecords(t *testing.T) {
	ctx := context.Background()
	st := session.NewMemoryStorage(session.Options{})
	s, _ := st.Read(ctx, "")
	tags := map[string]any{"a": "x"}
	s.Set("tags", tags)
	id, _, _ := st.Save(ctx, s)
	s.Set("later", 1) // the saved session object, changed after save
	tags["a"] = "y"
	s2, _ := st.Read(ctx, id)
	if s2.Has("later") || s2.Get("tags").(map[string]any)["a"] != "x" {
		t.Errorf("the store shares memory with the saved session: %v", s2.Data())
	}
	s2.Get("tags").(map[string]any)["a"] = "z"
	s3, _ := st.Read(ctx, id)
	if s3.Get("tags").(map[string]any)["a"] != "x" {
		t.Error("two reads share a map")
	}
}

// Concurrent requests follow last-writer-wins: every save writes the whole
// session as its request saw it (security-and-routers.md §6.1, T-CC1).
func TestConcurrentLastWriterWins(t *testing.T) {
	ctx := context.Background()
	st := session.NewMemoryStorage(session.Options{})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("base", 1) })
	a, _ := st.Read(ctx, id)
	b, _ := st.Read(ctx, id)
	a.Set("x", 1)
	if _, _, err := st.Save(ctx, a); err != nil {
		t.Fatal(err)
	}
	b.Set("y", 2)
	if _, _, err := st.Save(ctx, b); err != nil {
		t.Fatal(err)
	}
	got, _ := st.Read(ctx, id)
	if got.Has("x") || got.Get("y") != 2.0 || got.Get("base") != 1.0 {
		t.Errorf("T-CC1: want last-writer-wins (x lost, y kept), got %v", got.Data())
	}
}

// T-CC2, resurrection: A loads, B destroys (logout), A saves. The memory
// backend is a session.Updater, so A's save rewrites the record only if it
// still exists: the logout wins, A's changes are dropped with a warning, and
// A sends no Set-Cookie. An unchanged A refreshed after the logout does not
// bring it back either (Touch finds no record).
func TestConcurrentDestroyResurrection(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	st := session.NewMemoryStorage(session.Options{Now: clock.Now, IdleTimeout: time.Hour, Logger: logs.Logger()})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })

	// Unchanged A, refreshed after the logout: stays deleted.
	clock.Advance(10 * time.Minute)
	a, _ := st.Read(ctx, id)
	sessiontest.Request(t, st, id, func(s *session.Session) { s.Destroy() })
	if _, set, err := st.Save(ctx, a); err != nil || set {
		t.Fatalf("unchanged A: set %v, err %v", set, err)
	}
	if s, _ := st.Read(ctx, id); s.ID() == id {
		t.Error("a refresh of an unchanged session resurrected the destroyed record")
	}

	// Changed A: dropped, not resurrected.
	id, _ = sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "bob") })
	a, _ = st.Read(ctx, id)
	sessiontest.Request(t, st, id, func(s *session.Session) { s.Destroy() })
	a.Set("cart", 1)
	v, set, err := st.Save(ctx, a)
	if err != nil || set || v != "" {
		t.Fatalf("changed A after a logout: Save = (%q, %v, %v), want (\"\", false, nil)", v, set, err)
	}
	if s, _ := st.Read(ctx, id); s.ID() == id {
		t.Errorf("the destroyed session was resurrected: %v", s.Data())
	}
	if a.Dirty() {
		t.Error("A is still dirty after its changes were dropped (the middleware would report them as late)")
	}
	if !logs.Contains("concurrent") {
		t.Errorf("dropping A's changes was not logged: %s", logs)
	}
}

// T-CC2 with flash: a session loaded with flash is dirty, so a request that
// only read it saves it; a concurrent logout still wins.
func TestConcurrentDestroyResurrectionByFlash(t *testing.T) {
	ctx := context.Background()
	st := session.NewMemoryStorage(session.Options{Logger: sessiontest.NewLogs().Logger()})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Flash("msg", "hi") })
	a, _ := st.Read(ctx, id)
	sessiontest.Request(t, st, id, func(s *session.Session) { s.Destroy() })
	if _, set, err := st.Save(ctx, a); err != nil || set {
		t.Fatalf("Save = (%v, %v)", set, err)
	}
	if s, _ := st.Read(ctx, id); s.ID() == id {
		t.Errorf("a flash-dirty save resurrected the destroyed session")
	}
}

// T-CC3: A loads, B regenerates with delete-old (a login), A saves a
// change: the old id stays dead, the new one keeps B's data.
func TestConcurrentRegenerateRace(t *testing.T) {
	ctx := context.Background()
	st := session.NewMemoryStorage(session.Options{Logger: sessiontest.NewLogs().Logger()})
	old, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	a, _ := st.Read(ctx, old)
	newID, _ := sessiontest.Request(t, st, old, func(s *session.Session) { s.RegenerateID(true) })
	if s, _ := st.Read(ctx, old); s.ID() == old {
		t.Fatal("the old id survived RegenerateID(true)")
	}
	a.Set("n", 2)
	if _, set, err := st.Save(ctx, a); err != nil || set {
		t.Fatalf("Save = (%v, %v)", set, err)
	}
	if s, _ := st.Read(ctx, old); s.ID() == old {
		t.Errorf("the pre-login id was written back")
	}
	if s, _ := st.Read(ctx, newID); s.Get("n") != 1.0 {
		t.Errorf("new id: n = %v", s.Get("n"))
	}
}
