package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

var ctx = context.Background()

func newFakeStorage(t *testing.T, o session.Options) (session.Storage, *sessiontest.Backend, *sessiontest.FakeClock) {
	t.Helper()
	clock := sessiontest.NewFakeClock(time.Time{})
	if o.Now == nil {
		o.Now = clock.Now
	}
	b := sessiontest.NewBackend(o.Now)
	return mustStorage(t, b, o), b, clock
}

// T-ID5: malformed ids never reach the backend, with or without
// UseUnknownIDs.
func TestBackendStorageValidatesIDsBeforeBackend(t *testing.T) {
	for _, unknown := range []bool{false, true} {
		st, b, _ := newFakeStorage(t, session.Options{UseUnknownIDs: unknown})
		for _, v := range append([]string{""}, sessiontest.MalformedCookieValues...) {
			s, err := st.Read(ctx, v)
			if err != nil || s == nil || s.ID() == v || !session.ValidID(s.ID()) {
				t.Errorf("Read(%.20q): %v, %v", v, s, err)
			}
			if _, set, err := st.Save(ctx, s); set || err != nil {
				t.Errorf("Save of a clean session: set %v, err %v", set, err)
			}
		}
		if calls := b.Calls(); len(calls) != 0 {
			t.Errorf("UseUnknownIDs %v: the backend saw %d calls, first %+v", unknown, len(calls), calls[0])
		}
	}
}

// T-FX1: an unknown id is looked up once, replaced, and no record is created.
func TestBackendStorageUnknownID(t *testing.T) {
	st, b, _ := newFakeStorage(t, session.Options{})
	s, err := st.Read(ctx, "unknown")
	if err != nil || s.ID() == "unknown" {
		t.Fatalf("Read: %q, %v", s.ID(), err)
	}
	st.Save(ctx, s)
	if n := b.CallCount(sessiontest.OpGet); n != 1 || len(b.Calls()) != 1 || b.Len() != 0 {
		t.Errorf("calls %+v, records %d: want one Get and nothing stored", b.Calls(), b.Len())
	}
}

// T-FAIL: a backend error is returned, never turned into a new session.
func TestBackendStorageGetError(t *testing.T) {
	st, b, _ := newFakeStorage(t, session.Options{UseUnknownIDs: true})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	boom := errors.New("connection refused")
	b.Fail(sessiontest.OpGet, boom)
	s, err := st.Read(ctx, id)
	if !errors.Is(err, boom) || s != nil {
		t.Fatalf("Read with a failing backend = (%v, %v), want (nil, the error)", s, err)
	}
	if strings.Contains(err.Error(), id) || !strings.Contains(err.Error(), session.LogID(id)) {
		t.Errorf("T-LOG1: error %q must name the session by its hash %s, not its id", err, session.LogID(id))
	}
	if err := errors.Unwrap(err); err == session.ErrNotFound {
		t.Error("the error unwraps to ErrNotFound")
	}
}

func TestBackendStorageSaveErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("Put", func(t *testing.T) {
		st, b, _ := newFakeStorage(t, session.Options{})
		b.Fail(sessiontest.OpPut, boom)
		s, _ := st.Read(ctx, "")
		s.Set("a", 1)
		v, set, err := st.Save(ctx, s)
		if !errors.Is(err, boom) || set || v != "" {
			t.Fatalf("Save = (%q, %v, %v)", v, set, err)
		}
		if strings.Contains(err.Error(), s.ID()) {
			t.Errorf("T-LOG1: the error names the raw id: %v", err)
		}
		if !s.State().Dirty {
			t.Error("a failed save marked the session clean")
		}
		b.Fail(sessiontest.OpPut, nil)
		if v, set, err := st.Save(ctx, s); err != nil || !set || v != s.ID() {
			t.Errorf("retry: (%q, %v, %v)", v, set, err)
		}
	})
	t.Run("Delete on destroy", func(t *testing.T) {
		st, b, _ := newFakeStorage(t, session.Options{})
		id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		b.Fail(sessiontest.OpDelete, boom)
		s, _ := st.Read(ctx, id)
		s.Destroy()
		if _, set, err := st.Save(ctx, s); !errors.Is(err, boom) || set {
			t.Errorf("Save = (%v, %v), want the error", set, err)
		}
	})
	t.Run("Delete after regenerate", func(t *testing.T) {
		st, b, _ := newFakeStorage(t, session.Options{})
		old, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		b.Fail(sessiontest.OpDelete, boom)
		b.ResetCalls()
		s, _ := st.Read(ctx, old)
		s.RegenerateID(true)
		if _, _, err := st.Save(ctx, s); !errors.Is(err, boom) {
			t.Fatalf("Save: %v, want the error", err)
		}
		// The new record was written first, so the old one never goes
		// before it: the user stays signed in with the old cookie. The
		// failed save then deletes the new record, which no response
		// names (here that delete fails too, and is logged).
		calls := b.Calls()
		if len(calls) != 4 || calls[1].Op != sessiontest.OpPut || calls[1].Key != s.ID() || calls[2].Op != sessiontest.OpDelete || calls[2].Key != old ||
			calls[3].Op != sessiontest.OpDelete || calls[3].Key != s.ID() {
			t.Errorf("calls %+v, want Get, Put(new), Delete(old), Delete(new)", calls)
		}
	})
	t.Run("Touch", func(t *testing.T) {
		st, b, clock := newFakeStorage(t, session.Options{IdleTimeout: 10 * time.Minute})
		id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		clock.Advance(2 * time.Minute)
		b.Fail(sessiontest.OpTouch, boom)
		s, _ := st.Read(ctx, id)
		if _, set, err := st.Save(ctx, s); !errors.Is(err, boom) || set {
			t.Errorf("refresh with a failing Touch = (%v, %v), want the error", set, err)
		}
	})
}

// The record's TTL is the smaller of the idle timeout and the lifetime left.
func TestBackendStorageTTL(t *testing.T) {
	for _, tc := range []struct {
		idle, life, after, want time.Duration
	}{
		{0, -1, time.Hour, 0},
		{0, 0, time.Hour, session.DefaultLifetime - time.Hour},
		{10 * time.Minute, -1, time.Hour, 10 * time.Minute},
		{10 * time.Minute, 0, time.Hour, 10 * time.Minute},
		{0, time.Hour, 20 * time.Minute, 40 * time.Minute},
		{10 * time.Minute, time.Hour, 5 * time.Minute, 10 * time.Minute},
		{2 * time.Hour, time.Hour, 55 * time.Minute, 5 * time.Minute},
	} {
		st, b, clock := newFakeStorage(t, session.Options{IdleTimeout: tc.idle, Lifetime: tc.life})
		id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		clock.Advance(tc.after)
		b.ResetCalls()
		sessiontest.Request(t, st, id, func(s *session.Session) { s.Set("a", 2) })
		calls := b.Calls()
		if len(calls) != 2 || calls[1].Op != sessiontest.OpPut || calls[1].TTL != tc.want {
			t.Errorf("idle %v, lifetime %v, %v later: calls %+v, want Put with TTL %v", tc.idle, tc.life, tc.after, calls, tc.want)
		}
	}
}

func TestBackendStorageRefreshTouches(t *testing.T) {
	st, b, clock := newFakeStorage(t, session.Options{IdleTimeout: 10 * time.Minute, Lifetime: time.Hour})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	clock.Advance(30 * time.Second)
	b.ResetCalls()
	if _, set := sessiontest.Request(t, st, id, nil); set {
		t.Error("Set-Cookie on a read-only request")
	}
	if calls := b.Calls(); len(calls) != 1 {
		t.Errorf("before a tenth of the idle timeout: calls %+v, want only the Get", calls)
	}
	clock.Advance(30 * time.Second)
	b.ResetCalls()
	if _, set := sessiontest.Request(t, st, id, nil); set {
		t.Error("a refresh sent a Set-Cookie (server-side storages refresh silently)")
	}
	calls := b.Calls()
	if len(calls) != 2 || calls[1].Op != sessiontest.OpTouch || calls[1].TTL != 10*time.Minute {
		t.Errorf("refresh: calls %+v, want Get then Touch with TTL 10m", calls)
	}
}

func TestBackendStorageRefreshRewritesWithoutToucher(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b.WithoutTouch(), session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	before, _ := b.Record(id)
	clock.Advance(time.Minute)
	b.ResetCalls()
	if _, set := sessiontest.Request(t, st, id, nil); set {
		t.Error("a refresh sent a Set-Cookie")
	}
	calls := b.Calls()
	if len(calls) != 2 || calls[1].Op != sessiontest.OpPut || calls[1].TTL != 10*time.Minute {
		t.Fatalf("calls %+v, want Get then Put (rewrite)", calls)
	}
	after, _ := b.Record(id)
	var d1, d2 session.Data
	d1.UnmarshalJSON(before)
	d2.UnmarshalJSON(after)
	if d2.Values["a"] != 1.0 || string(before) == string(after) {
		t.Errorf("rewrite: %s -> %s, want the same data with a new save time", before, after)
	}
	// The rewrite moved the save time, so the next read is not due again.
	clock.Advance(30 * time.Second)
	b.ResetCalls()
	sessiontest.Request(t, st, id, nil)
	if len(b.Calls()) != 1 {
		t.Errorf("calls %+v, want only the Get (throttled)", b.Calls())
	}
}

// With a Toucher, the throttle should also hold after the first touch: a
// read-only session should be touched about once per IdleTimeout/10, not on
// every request.
func TestBackendStorageTouchThrottledAfterFirstTouch(t *testing.T) {
	st, b, clock := newFakeStorage(t, session.Options{IdleTimeout: 10 * time.Minute})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	clock.Advance(2 * time.Minute)
	sessiontest.Request(t, st, id, nil) // touches
	clock.Advance(10 * time.Second)
	b.ResetCalls()
	sessiontest.Request(t, st, id, nil)
	if n := b.CallCount(sessiontest.OpTouch); n != 0 {
		t.Errorf("%d touches within IdleTimeout/10 of the last touch, want 0", n)
	}
	// Once another tenth of the idle timeout has passed, it touches again.
	clock.Advance(time.Minute)
	sessiontest.Request(t, st, id, nil)
	if n := b.CallCount(sessiontest.OpTouch); n != 1 {
		t.Errorf("%d touches after IdleTimeout/10 since the last touch, want 1", n)
	}
}

func TestBackendStorageTouchOfDeletedRecordDoesNotResurrect(t *testing.T) {
	st, b, clock := newFakeStorage(t, session.Options{IdleTimeout: 10 * time.Minute})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	clock.Advance(2 * time.Minute)
	s, _ := st.Read(ctx, id)
	b.Delete(ctx, id, session.Version{}) // a logout elsewhere
	if _, set, err := st.Save(ctx, s); err != nil || set {
		t.Errorf("Save = (%v, %v)", set, err)
	}
	if b.Len() != 0 || b.CallCount(sessiontest.OpPut) != 1 {
		t.Errorf("the refresh rewrote a deleted record")
	}
}

// A persistent session's refresh sends its cookie, but not when the record
// was deleted meanwhile (a logout elsewhere): the browser must not keep a
// cookie for a dead session. Touch and rewrite refreshes alike.
func TestBackendStoragePersistentRefreshOfDeletedRecordSendsNoCookie(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	for name, b := range map[string]session.Backend{"Toucher": sessiontest.NewBackend(clock.Now), "rewrite": newMapBackend(clock.Now)} {
		t.Run(name, func(t *testing.T) {
			st := mustStorage(t, b, session.Options{Now: clock.Now, IdleTimeout: 10 * time.Minute})
			id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Persist(true) })
			clock.Advance(2 * time.Minute)
			if v, set := sessiontest.Request(t, st, id, nil); !set || v != id {
				t.Fatalf("refresh of a persistent session: (%q, %v), want the id and a Set-Cookie", v, set)
			}
			clock.Advance(2 * time.Minute)
			s, _ := st.Read(ctx, id)
			b.Delete(ctx, id, session.Version{}) // a logout elsewhere
			if v, set, err := st.Save(ctx, s); err != nil || set || v != "" {
				t.Errorf("Save = (%q, %v, %v), want no cookie", v, set, err)
			}
		})
	}
}

// The record carries the persistence choice as "p" in its metadata, which
// Remix ignores, and only when a choice was made.
func TestBackendStorageRecordPersistFlag(t *testing.T) {
	st, b, _ := newFakeStorage(t, session.Options{})
	on, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1); s.Persist(true) })
	off, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1); s.Persist(false) })
	none, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1); s.PersistByDefault(true) })
	for id, want := range map[string]string{on: `,"p":true}]`, off: `,"p":false}]`, none: `}]`} {
		rec, _ := b.Record(id)
		if !strings.HasPrefix(string(rec), `[{"a":1},{},{"c":`) || !strings.HasSuffix(string(rec), want) || strings.Count(string(rec), `"p"`) > 1 {
			t.Errorf("record %s, want it to end with %s", rec, want)
		}
	}
}

// Past its lifetime at save time, a session is deleted and its cookie
// expired instead of written.
func TestBackendStorageSaveAfterLifetime(t *testing.T) {
	st, b, clock := newFakeStorage(t, session.Options{Lifetime: time.Hour})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	s, _ := st.Read(ctx, id)
	clock.Advance(time.Hour)
	s.Set("a", 2)
	v, set, err := st.Save(ctx, s)
	if err != nil || !set || v != "" {
		t.Errorf("Save = (%q, %v, %v), want (\"\", true): expire the cookie", v, set, err)
	}
	if b.Len() != 0 {
		t.Error("the expired record was not deleted")
	}
}

// Records without metadata (written by Remix) start their lifetime when
// first loaded, and get metadata on the next write.
func TestBackendStorageRemixRecordLifetime(t *testing.T) {
	st, b, clock := newFakeStorage(t, session.Options{Lifetime: time.Hour})
	b.Store("remix", []byte(`[{"n":1},{}]`))
	clock.Advance(24 * time.Hour)
	s, _ := st.Read(ctx, "remix")
	if s.ID() != "remix" {
		t.Fatal("a Remix record without metadata was treated as expired")
	}
	s.Set("n", 2)
	st.Save(ctx, s)
	rec, _ := b.Record("remix")
	if want := `,{"c":`; !strings.Contains(string(rec), want) {
		t.Errorf("record %s has no metadata", rec)
	}
	clock.Advance(time.Hour)
	if s, _ := st.Read(ctx, "remix"); s.ID() == "remix" {
		t.Error("the lifetime did not start at the first load")
	}
}

func TestNewBackendStorageRefuses(t *testing.T) {
	for name, c := range map[string]struct {
		b session.Backend
		o session.Options
	}{
		"nil backend":   {nil, session.Options{}},
		"negative idle": {sessiontest.NewBackend(nil), session.Options{IdleTimeout: -1}},
	} {
		if st, err := session.NewBackendStorage(c.b, c.o); err == nil || st != nil {
			t.Errorf("%s: NewBackendStorage = %v, %v; want an error", name, st, err)
		}
	}
}

func TestLogID(t *testing.T) {
	// sha256("hello") = 2cf24dba5fb0a30e...
	if got := session.LogID("hello"); got != "id-sha256:2cf24dba5fb0" {
		t.Errorf("LogID(hello) = %q", got)
	}
}

// Past its lifetime at save time after RegenerateID(false), the record under
// the original id is the one deleted (the new id was never stored).
func TestBackendStorageSaveAfterLifetimeRegenerated(t *testing.T) {
	st, b, clock := newFakeStorage(t, session.Options{Lifetime: time.Hour})
	id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	s, _ := st.Read(ctx, id)
	s.RegenerateID(false)
	clock.Advance(time.Hour)
	if v, set, err := st.Save(ctx, s); err != nil || !set || v != "" {
		t.Fatalf("Save = (%q, %v, %v), want (\"\", true): expire the cookie", v, set, err)
	}
	if _, ok := b.Record(id); ok {
		t.Error("the original record outlived its lifetime")
	}
}

// The custom Backend of ExampleNewBackendStorage passes the conformance
// suite, every scenario included.
func TestMapBackendConformance(t *testing.T) {
	sessiontest.Run(t, sessiontest.Config{
		Backend: func(t *testing.T, o session.Options) session.Backend {
			return newMapBackend(o.Now)
		},
		ClockControlsExpiry: true,
	})
}

// Issue 8.4: a 20 MB value fails Save with ErrTooLarge naming the limit, and
// the stored session is unchanged, in memory and file storage; the limit
// follows Options.MaxRecordSize (negative: none).
func TestServerSideStoragesRefuseOversizedRecords(t *testing.T) {
	for _, tc := range []struct {
		name string
		new  func(o session.Options) session.Storage
	}{
		{"memory", func(o session.Options) session.Storage { return newMemory(t, o) }},
		{"file", func(o session.Options) session.Storage { return newFile(t, t.TempDir(), o) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := tc.new(session.Options{})
			id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
			s, _ := st.Read(ctx, id)
			s.Set("blob", strings.Repeat("x", 20<<20))
			_, set, err := st.Save(ctx, s)
			if !errors.Is(err, session.ErrTooLarge) || set || !strings.Contains(err.Error(), "1048576") {
				t.Fatalf("Save of 20 MB = (set %v, %v), want ErrTooLarge naming the 1048576-byte limit", set, err)
			}
			sessiontest.Request(t, st, id, func(s *session.Session) {
				if s.ID() != id || s.Get("user") != "ada" || s.Has("blob") {
					t.Errorf("the stored session changed: id kept %v, user %v, blob %v", s.ID() == id, s.Get("user"), s.Has("blob"))
				}
			})

			small := tc.new(session.Options{MaxRecordSize: 64})
			if _, _, err := small.Save(ctx, withValue(small, strings.Repeat("x", 64))); !errors.Is(err, session.ErrTooLarge) || !strings.Contains(err.Error(), "64-byte limit") {
				t.Errorf("MaxRecordSize 64: %v", err)
			}
			unlimited := tc.new(session.Options{MaxRecordSize: -1})
			if _, _, err := unlimited.Save(ctx, withValue(unlimited, strings.Repeat("x", 2<<20))); err != nil {
				t.Errorf("MaxRecordSize -1, 2 MiB: %v", err)
			}
		})
	}
}

func withValue(st session.Storage, v string) *session.Session {
	s, _ := st.Read(ctx, "")
	s.Set("v", v)
	return s
}

// Issue 22.5: a record whose TTL was removed (PERSIST, a migration, another
// program's write) still ends by its metadata on a backend that touches: it
// is read as absent once it is idle for twice the idle timeout.
func TestBackendStorageIdleWithoutTTL(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b, session.Options{Now: clock.Now, IdleTimeout: 30 * time.Minute})
	saved := clock.Now().Add(-2 * time.Hour).UnixMilli()
	b.Store("persisted", []byte(fmt.Sprintf(`[{"user":"ada"},{},{"c":%d,"s":%d}]`, saved, saved)))
	if s, err := st.Read(ctx, "persisted"); err != nil || s.ID() == "persisted" {
		t.Fatalf("Read of a record idle for 2 h without a TTL = %v, %v; want a fresh session", s, err)
	}
	recent := clock.Now().Add(-50 * time.Minute).UnixMilli()
	b.Store("touched", []byte(fmt.Sprintf(`[{"user":"ada"},{},{"c":%d,"s":%d}]`, recent, recent)))
	if s, err := st.Read(ctx, "touched"); err != nil || s.ID() != "touched" {
		t.Fatalf("Read of a record written 50 min ago (touched since, as far as the storage knows) = %v, %v; want it loaded", s, err)
	}
}

// Issue 22.5: a session in use only by read-only requests on a backend that
// touches stays alive for many idle timeouts, and its record is rewritten
// at least every half idle timeout, so that its metadata never looks idle.
func TestBackendStorageTouchesRewriteInTime(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	idle := 30 * time.Minute
	st := mustStorage(t, b, session.Options{Now: clock.Now, IdleTimeout: idle})
	c, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	b.ResetCalls()
	for range 60 { // 60 requests 4 minutes apart: 8 idle timeouts
		clock.Advance(4 * time.Minute)
		sessiontest.Request(t, st, c, func(s *session.Session) {
			if s.Get("user") != "ada" {
				t.Fatal("the session ended while in use")
			}
		})
	}
	if puts, touches := b.CallCount(sessiontest.OpPut), b.CallCount(sessiontest.OpTouch); puts < 15 || touches == 0 {
		t.Errorf("%d rewrites and %d touches in 4 h; want a rewrite at least every %v, touches between", puts, touches, idle/2)
	}
}
