package sessiontest_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// backendConfig runs the suite on session.NewBackendStorage over the fake
// Backend, with Touch and locks or with neither, which also checks the
// suite itself.
func backendConfig(touch bool) sessiontest.Config {
	return sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			b := sessiontest.NewBackend(o.Now)
			if !touch {
				return b.WithoutTouch() // neither Toucher nor Locker
			}
			return b
		},
		ClockControlsExpiry: true,
	}
}

func TestRunBackendWithTouch(t *testing.T)    { sessiontest.Run(t, backendConfig(true)) }
func TestRunBackendWithoutTouch(t *testing.T) { sessiontest.Run(t, backendConfig(false)) }

// Without the optional hooks and with a real-time store, the suite still
// runs (skipping what it cannot check).
func TestRunMinimalConfig(t *testing.T) {
	sessiontest.Run(t, sessiontest.Config{
		New: func(t *testing.T, o session.Options) (session.Storage, error) {
			return session.NewBackendStorage(sessiontest.NewBackend(nil), o)
		},
		ServerSide: true,
		UserIndex:  true,
		Locks:      true,
	})
}

func TestFakeClock(t *testing.T) {
	start := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	c := sessiontest.NewFakeClock(start)
	if !c.Now().Equal(start) {
		t.Fatalf("Now = %v", c.Now())
	}
	if got := c.Advance(time.Hour); !got.Equal(start.Add(time.Hour)) || !c.Now().Equal(got) {
		t.Errorf("Advance = %v, Now = %v", got, c.Now())
	}
	c.Set(start)
	if !c.Now().Equal(start) {
		t.Errorf("Set: Now = %v", c.Now())
	}
	if z := sessiontest.NewFakeClock(time.Time{}); z.Now().IsZero() || time.Since(z.Now()) > time.Minute {
		t.Errorf("zero start: Now = %v, want about now", z.Now())
	}
}

func TestBackend(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	if _, _, err := b.Get(ctx, "a"); !errors.Is(err, session.ErrNotFound) {
		t.Fatalf("Get of nothing: %v", err)
	}
	if _, err := b.Put(ctx, "a", []byte("rec"), time.Minute, session.Version{}); err != nil {
		t.Fatal(err)
	}
	got, v, err := b.Get(ctx, "a")
	if err != nil || string(got) != "rec" || v.IsZero() {
		t.Fatalf("Get = %q, %v, %v", got, v, err)
	}
	clock.Advance(30 * time.Second)
	if err := b.Touch(ctx, "a", time.Minute); err != nil {
		t.Fatal(err)
	}
	clock.Advance(59 * time.Second)
	if _, ok := b.Record("a"); !ok {
		t.Error("Touch did not extend the TTL")
	}
	clock.Advance(time.Second)
	if _, _, err := b.Get(ctx, "a"); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("expired record: %v", err)
	}
	if err := b.Touch(ctx, "a", time.Minute); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of an expired record: %v", err)
	}
	boom := errors.New("boom")
	b.Fail(sessiontest.OpPut, boom)
	if _, err := b.Put(ctx, "b", []byte("x"), 0, session.Version{}); err != boom {
		t.Errorf("Put with a fault: %v", err)
	}
	if _, ok := b.Record("b"); ok {
		t.Error("a failed Put stored the record")
	}
	b.Fail(sessiontest.OpPut, nil)
	var before []string
	b.Before(sessiontest.OpPut, func(key string) { before = append(before, key) })
	if _, err := b.Put(ctx, "b", []byte("x"), 0, session.Version{}); err != nil {
		t.Error(err)
	}
	b.Before(sessiontest.OpPut, nil)
	if len(before) != 1 || before[0] != "b" {
		t.Errorf("Before saw %q", before)
	}
	b.Store("c", []byte("y"))
	if err := b.Delete(ctx, "b", session.Version{}); err != nil || b.Len() != 2 { // "c", and "a" expired
		t.Errorf("Delete: %v, Len %d", err, b.Len())
	}
	if n := b.CallCount(sessiontest.OpPut); n != 3 {
		t.Errorf("CallCount(Put) = %d, want 3", n)
	}
	calls := b.Calls()
	if len(calls) == 0 || calls[0].Op != sessiontest.OpGet || calls[0].Key != "a" {
		t.Errorf("Calls()[0] = %+v", calls[0])
	}
	b.ResetCalls()
	if len(b.Calls()) != 0 {
		t.Error("ResetCalls kept calls")
	}
	if _, ok := b.WithoutTouch().(session.Toucher); ok {
		t.Error("WithoutTouch is still a Toucher")
	}
}

func TestLogs(t *testing.T) {
	l := sessiontest.NewLogs()
	l.Logger().Info("hello", "k", "v")
	l.Logger().With("a", 1).Warn("careful")
	if l.Warnings() != 1 || !l.Contains("hello") || !l.Contains("careful") || !l.Contains("a=1") {
		t.Errorf("warnings %d, logs %q", l.Warnings(), l.String())
	}
}

func TestRequest(t *testing.T) {
	st, err := session.NewBackendStorage(sessiontest.NewBackend(nil), session.Options{})
	if err != nil {
		t.Fatal(err)
	}
	c, set := sessiontest.Request(t, st, "", nil)
	if set || c != "" {
		t.Errorf("clean request = (%q, %v)", c, set)
	}
	c, set = sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	if !set || c == "" {
		t.Fatalf("dirty request = (%q, %v)", c, set)
	}
	if c2, set := sessiontest.Request(t, st, c, nil); set || c2 != c {
		t.Errorf("unchanged request = (%q, %v), want the same cookie and no Set-Cookie", c2, set)
	}
	if c3, set := sessiontest.Request(t, st, c, func(s *session.Session) { s.Destroy() }); !set || c3 != "" {
		t.Errorf("destroy request = (%q, %v)", c3, set)
	}
}

// Issue 9.9: the suite builds a backend only for a scenario's storage, never
// an extra one (outside any scenario) to probe for Len.
func TestRunBuildsNoSpareBackend(t *testing.T) {
	var mu sync.Mutex
	var outside []string
	t.Run("suite", func(suite *testing.T) {
		sessiontest.Run(suite, sessiontest.Config{
			Backend: func(t *testing.T, o session.Options) session.Backend {
				if t == suite {
					mu.Lock()
					outside = append(outside, t.Name())
					mu.Unlock()
				}
				return sessiontest.NewBackend(o.Now)
			},
			ClockControlsExpiry: true,
		})
	})
	if len(outside) > 0 {
		t.Errorf("the suite built %d backends outside its scenarios", len(outside))
	}
}

// RevokeRace on the fake backend: no trial leaves a session that cannot be
// revoked (the storage modules run it at scale on their servers).
func TestRevokeRace(t *testing.T) {
	r := sessiontest.RevokeRace(t, sessiontest.NewBackend(nil), 200, 8)
	if r.Trials != 200 || r.LoginKept+r.Revoked+r.LoginErrors != 200 {
		t.Errorf("result %+v", r)
	}
}
