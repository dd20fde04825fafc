package session_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// The per-user conformance scenarios run in the conformance tests of memorystorage
// and filestorage and sessiontest's own runs; these tests cover
// what the suite cannot see: which storages implement UserIndex, the backend
// calls a save costs, errors, and file storage's index files.

func TestUserIndexImplementedBy(t *testing.T) {
	withKey := session.Options{UserKey: "user"}
	file := newFile(t, t.TempDir(), withKey)
	cookieSt, err := cookiestorage.New(cookiestorage.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		st   session.Storage
		want bool
	}{
		"memory":                 {newMemory(t, withKey), true},
		"file":                   {file, true},
		"memory without UserKey": {newMemory(t, session.Options{}), false},
		"cookie (cannot revoke)": {cookieSt, false},
		"any backend":            {mustStorage(t, sessiontest.NewBackend(nil).WithoutTouch(), withKey), true},
		"a backend that locks":   {mustStorage(t, sessiontest.NewBackend(nil), withKey), true},
	} {
		if _, ok := c.st.(session.UserIndex); ok != c.want {
			t.Errorf("%s: implements UserIndex = %v, want %v", name, ok, c.want)
		}
	}
}

// A save that changes neither the user nor the id does no index work: it is
// the same single Put as without UserKey. A login, a logout and a listing
// cost the index calls of the write order in userindex.go.
func TestUserIndexCost(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b, session.Options{UserKey: "user", Now: clock.Now, IdleTimeout: time.Hour})
	count := func(name string, want map[sessiontest.Op]int) {
		t.Helper()
		for _, op := range []sessiontest.Op{sessiontest.OpGet, sessiontest.OpGetMulti, sessiontest.OpPut, sessiontest.OpDelete, sessiontest.OpTouch} {
			if got := b.CallCount(op); got != want[op] {
				t.Errorf("%s: %d %s calls, want %d (%+v)", name, got, op, want[op], b.Calls())
			}
		}
		b.ResetCalls()
	}
	get, put, del, touch, multi := sessiontest.OpGet, sessiontest.OpPut, sessiontest.OpDelete, sessiontest.OpTouch, sessiontest.OpGetMulti
	anon, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	count("anonymous new session", map[sessiontest.Op]int{put: 1})
	in, _ := sessiontest.Request(t, st, anon, func(s *session.Session) { s.RegenerateID(true); s.Set("user", "alice") })
	// Read; the index read and written (add); the record; the index read
	// again (verify); the old record deleted.
	count("login", map[sessiontest.Op]int{get: 3, put: 2, del: 1})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Set("n", 2) })
	count("a change, same user", map[sessiontest.Op]int{get: 1, put: 1})
	sessiontest.Request(t, st, in, nil)
	count("read only", map[sessiontest.Op]int{get: 1})
	clock.Advance(10 * time.Minute)
	sessiontest.Request(t, st, in, nil)
	count("sliding refresh", map[sessiontest.Op]int{get: 1, touch: 1})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Set("user", "alice") })
	count("the same user set again", map[sessiontest.Op]int{get: 1, put: 1})
	ix := st.(session.UserIndex)
	if list, err := ix.Sessions(context.Background(), "alice"); err != nil || len(list) != 1 {
		t.Fatalf("Sessions = %v, %v", list, err)
	}
	count("listing one session", map[sessiontest.Op]int{get: 1, multi: 1})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Unset("user") })
	// Read; the record; the index read and, now empty, deleted.
	count("logout", map[sessiontest.Op]int{get: 2, put: 1, del: 1})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Destroy() })
	count("Destroy of an anonymous session", map[sessiontest.Op]int{get: 1, del: 1})
}

// A failed save changes nothing that is live: a login whose index write
// fails (the server holding the user's index is down) leaves the stored
// session as it was, and so does one whose record write fails after its
// index write; either way the session stays dirty, nothing is listed, and
// a retry succeeds.
func TestUserIndexFailedSaveChangesNothingLive(t *testing.T) {
	ctx := context.Background()
	boom := errors.New("server down")
	for _, tc := range []struct {
		name string
		op   sessiontest.Op
		key  func(id string) string
	}{
		{"index write fails", sessiontest.OpPut, func(string) string { return "user:alice" }},
		{"index read fails", sessiontest.OpGet, func(string) string { return "user:alice" }},
		{"record write fails", sessiontest.OpPut, func(id string) string { return id }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := sessiontest.NewBackend(nil)
			st := mustStorage(t, b, session.Options{UserKey: "user"})
			ix := st.(session.UserIndex)
			id, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("cart", 1) })
			before, _ := b.Record(id)
			s, _ := st.Read(ctx, id)
			s.Set("user", "alice")
			b.FailKey(tc.op, tc.key(id), boom)
			if _, set, err := st.Save(ctx, s); !errors.Is(err, boom) || set || strings.Contains(err.Error(), id) {
				t.Fatalf("Save = (%v, %v), want the error, naming no id", set, err)
			}
			if after, _ := b.Record(id); string(after) != string(before) {
				t.Errorf("the stored session changed: %s -> %s", before, after)
			}
			if !s.State().Dirty {
				t.Error("the failed save marked the session saved")
			}
			b.FailKey(tc.op, tc.key(id), nil)
			if list, err := ix.Sessions(ctx, "alice"); err != nil || len(list) != 0 {
				t.Errorf("after the failed login Sessions = %v, %v; want none", list, err)
			}
			if _, _, err := st.Save(ctx, s); err != nil {
				t.Fatalf("retry: %v", err)
			}
			if list, _ := ix.Sessions(ctx, "alice"); len(list) != 1 {
				t.Errorf("after the retry %d sessions listed, want 1", len(list))
			}
		})
	}
}

// A login that fails after it wrote its new record (the index cannot be
// read again to verify it, the old record cannot be deleted, the request's
// time runs out there) deletes that record: its response carries no cookie
// for it, and left behind it would be listed among the user's sessions and
// count toward MaxUserSessions. The old session stays as it was.
func TestUserIndexFailedLoginLeavesNoRecord(t *testing.T) {
	boom := errors.New("server down")
	for _, tc := range []struct {
		name string
		// fail makes the step after the record write fail; cancel ends
		// the request's context there.
		fail func(b *sessiontest.Backend, oldID string, cancel context.CancelFunc)
	}{
		{"verify read fails", func(b *sessiontest.Backend, _ string, _ context.CancelFunc) {
			b.FailKey(sessiontest.OpGet, "user:alice", boom)
		}},
		{"old record delete fails", func(b *sessiontest.Backend, oldID string, _ context.CancelFunc) {
			b.FailKey(sessiontest.OpDelete, oldID, boom)
		}},
		{"the request's time runs out", func(b *sessiontest.Backend, _ string, cancel context.CancelFunc) {
			cancel()
			b.FailKey(sessiontest.OpGet, "user:alice", context.Canceled)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := sessiontest.NewBackend(nil)
			st := mustStorage(t, b, session.Options{UserKey: "user"})
			oldID, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("cart", 1) })
			before, _ := b.Record(oldID)
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := st.Read(ctx, oldID)
			if err != nil {
				t.Fatal(err)
			}
			s.RegenerateID(true)
			s.Set("user", "alice")
			newID := s.ID()
			// The record write is the Put of the new id; the step after it
			// fails.
			b.Before(sessiontest.OpPut, func(key string) {
				if key == newID {
					tc.fail(b, oldID, cancel)
				}
			})
			if _, set, err := st.Save(ctx, s); err == nil || set {
				t.Fatalf("Save = (%v, %v), want an error", set, err)
			}
			b.Before(sessiontest.OpPut, nil)
			b.FailKey(sessiontest.OpGet, "user:alice", nil)
			b.FailKey(sessiontest.OpDelete, oldID, nil)
			// Without time left the delete runs in the background.
			deadline := time.Now().Add(5 * time.Second)
			for _, ok := b.Record(newID); ok && time.Now().Before(deadline); _, ok = b.Record(newID) {
				time.Sleep(time.Millisecond)
			}
			if _, ok := b.Record(newID); ok {
				t.Error("the failed login's record is still stored")
			}
			if after, _ := b.Record(oldID); string(after) != string(before) {
				t.Errorf("the old session changed: %s -> %s", before, after)
			}
			if list, err := st.(session.UserIndex).Sessions(context.Background(), "alice"); err != nil || len(list) != 0 {
				t.Errorf("Sessions = %v, %v; want none", list, err)
			}
		})
	}
}

// id2handle is the handle of the stored session id (a loaded session's).
func id2handle(t *testing.T, st session.Storage, id string) string {
	t.Helper()
	s, err := st.Read(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return s.Handle()
}

// A revoke that lands between the steps of a login's save (after the index
// write, after the record write) wins: the login's record is deleted, no
// cookie is sent, and nothing of alice is live.
func TestUserIndexRevokeDuringLogin(t *testing.T) {
	for _, step := range []string{"before the record write", "before the verification"} {
		t.Run(step, func(t *testing.T) {
			ctx := context.Background()
			b := sessiontest.NewBackend(nil)
			st := mustStorage(t, b, session.Options{UserKey: "user"})
			ix := st.(session.UserIndex)
			in, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
			s, _ := st.Read(ctx, in)
			s.RegenerateID(true)
			s.Set("n", 1)
			newID := s.ID()
			revoke := func() {
				if _, err := ix.RevokeAll(ctx, "alice"); err != nil {
					t.Errorf("RevokeAll: %v", err)
				}
			}
			var once sync.Once
			if step == "before the record write" {
				b.Before(sessiontest.OpPut, func(key string) {
					if key == newID {
						once.Do(revoke)
					}
				})
			} else {
				gets := 0
				b.Before(sessiontest.OpGet, func(key string) {
					if key == "user:alice" {
						if gets++; gets == 2 { // the add's read, then the verification's
							once.Do(revoke)
						}
					}
				})
			}
			v, set, err := st.Save(ctx, s)
			b.Before(sessiontest.OpPut, nil)
			b.Before(sessiontest.OpGet, nil)
			if err != nil || set || v != "" {
				t.Fatalf("the login's save = (%.12q, %v, %v), want it dropped", v, set, err)
			}
			for _, id := range []string{in, newID} {
				if _, ok := b.Record(id); ok {
					t.Errorf("a record of alice survived the revoke")
				}
			}
			if list, _ := ix.Sessions(ctx, "alice"); len(list) != 0 {
				t.Errorf("alice has %d sessions", len(list))
			}
		})
	}
}

// A revoke that cannot delete a record returns the error and leaves the
// member marked: it is not listed, a login cannot carry it over, and the
// next revoke ends it.
func TestUserIndexRevokeFailureIsFinishedLater(t *testing.T) {
	ctx := context.Background()
	b := sessiontest.NewBackend(nil)
	st := mustStorage(t, b, session.Options{UserKey: "user"})
	ix := st.(session.UserIndex)
	in, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	boom := errors.New("boom")
	b.FailKey(sessiontest.OpDelete, in, boom)
	if _, err := ix.RevokeAll(ctx, "alice"); !errors.Is(err, boom) {
		t.Fatalf("RevokeAll with a failing delete = %v", err)
	}
	if list, _ := ix.Sessions(ctx, "alice"); len(list) != 0 {
		t.Errorf("a session marked revoked is listed")
	}
	s, _ := st.Read(ctx, in)
	s.RegenerateID(true)
	if v, set, err := st.Save(ctx, s); err != nil || set || v != "" {
		t.Errorf("a login from the marked session = (%.12q, %v, %v), want it dropped", v, set, err)
	}
	b.FailKey(sessiontest.OpDelete, in, nil)
	if n, err := ix.RevokeAll(ctx, "alice"); err != nil || n != 1 {
		t.Errorf("the next RevokeAll = %d, %v; want 1", n, err)
	}
	if _, ok := b.Record(in); ok {
		t.Error("the revoked session is still stored")
	}
}

// Revoke returns an error when the index keeps changing under it, instead
// of reporting success with sessions left.
func TestUserIndexRevokeGivesUpWithAnError(t *testing.T) {
	ctx := context.Background()
	b := sessiontest.NewBackend(nil)
	st := mustStorage(t, b, session.Options{UserKey: "user"})
	ix := st.(session.UserIndex)
	sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	b.Before(sessiontest.OpPut, func(key string) {
		if rec, ok := b.Record("user:alice"); ok && key == "user:alice" {
			b.Store("user:alice", rec) // another writer, every time
		}
	})
	_, err := ix.RevokeAll(ctx, "alice")
	b.Before(sessiontest.OpPut, nil)
	if !errors.Is(err, session.ErrConflict) {
		t.Errorf("RevokeAll under constant change = %v, want ErrConflict", err)
	}
}

// Options.MaxUserSessions: a sign-in past the limit ends the user's oldest
// session, with a warning.
func TestUserIndexMaxUserSessions(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	st := newMemory(t, session.Options{UserKey: "user", MaxUserSessions: 2, Now: clock.Now, Logger: logs.Logger()})
	ix := st.(session.UserIndex)
	var cookies []string
	for range 3 {
		c, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
		cookies = append(cookies, c)
		clock.Advance(time.Second)
	}
	if list, _ := ix.Sessions(ctx, "alice"); len(list) != 2 {
		t.Errorf("%d sessions listed, want 2", len(list))
	}
	if s, _ := st.Read(ctx, cookies[0]); s.ID() == cookies[0] {
		t.Error("the oldest session outlived the limit")
	}
	for _, c := range cookies[1:] {
		if s, _ := st.Read(ctx, c); s.Get("user") != "alice" {
			t.Error("a newer session was ended")
		}
	}
	if !logs.Contains("MaxUserSessions") {
		t.Errorf("no warning: %s", logs)
	}
}

// Backend errors in the index calls are returned, never turned into a new
// session, and never carry the id.
func TestUserIndexErrors(t *testing.T) {
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	b := sessiontest.NewBackend(nil)
	st := mustStorage(t, b, session.Options{UserKey: "user", Logger: logs.Logger()})
	ix := st.(session.UserIndex)
	boom := errors.New("boom")
	v, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	b.FailKey(sessiontest.OpGet, "user:alice", boom)
	if _, err := ix.Sessions(ctx, "alice"); !errors.Is(err, boom) {
		t.Errorf("Sessions: %v", err)
	}
	if err := ix.Revoke(ctx, "alice", id2handle(t, st, v)); !errors.Is(err, boom) {
		t.Errorf("Revoke: %v", err)
	}
	if _, err := ix.RevokeAll(ctx, "alice"); !errors.Is(err, boom) {
		t.Errorf("RevokeAll: %v", err)
	}
	b.FailKey(sessiontest.OpGet, "user:alice", nil)
	b.FailKey(sessiontest.OpPut, "user:alice", boom)
	if _, err := ix.RevokeAll(ctx, "alice"); !errors.Is(err, boom) {
		t.Errorf("RevokeAll with a failing index write: %v", err)
	}
	if got, _ := st.Read(ctx, v); got.Get("user") != "alice" {
		t.Error("a failed revoke ended the session")
	}
	if strings.Contains(logs.String(), v) {
		t.Errorf("the id reached the logs: %s", logs)
	}
}

// A login racing with a revoke that wins: the save's changes are dropped and
// logged (by hash), no cookie is sent, and the session is not indexed.
func TestUserIndexSaveAfterRevokeIsDropped(t *testing.T) {
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	st := newMemory(t, session.Options{UserKey: "user", Logger: logs.Logger()})
	ix := st.(session.UserIndex)
	in, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	s, _ := st.Read(ctx, in)
	if _, err := ix.RevokeAll(ctx, "alice"); err != nil {
		t.Fatal(err)
	}
	s.RegenerateID(true)
	s.Set("user", "bob")
	if v, set, err := st.Save(ctx, s); err != nil || set || v != "" {
		t.Fatalf("save after the revoke = %q, %v, %v; want no cookie", v, set, err)
	}
	if s.State().Dirty || s.Handle() != "" {
		t.Error("the dropped session is dirty or has a handle")
	}
	for _, u := range []string{"alice", "bob"} {
		if list, _ := ix.Sessions(ctx, u); len(list) != 0 {
			t.Errorf("%s has %d sessions", u, len(list))
		}
	}
	if logs.Warnings() != 1 || strings.Contains(logs.String(), in) || strings.Contains(logs.String(), s.ID()) {
		t.Errorf("logs: %s", logs)
	}
}

// Something under a user's index key that is no document (a Redis hash, a
// directory) is logged and replaced, so it cannot block that user's
// sign-ins for good.
func TestUserIndexCorruptIndexIsReplaced(t *testing.T) {
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	b := sessiontest.NewBackend(nil)
	st := mustStorage(t, b, session.Options{UserKey: "user", Logger: logs.Logger()})
	ix := st.(session.UserIndex)
	b.Store("user:alice", []byte("old"))
	corrupt := true // until the storage deletes it
	b.Before(sessiontest.OpGet, func(key string) {
		if key == "user:alice" && corrupt {
			b.FailKey(sessiontest.OpGet, key, fmt.Errorf("WRONGTYPE: %w", session.ErrCorruptRecord))
		} else {
			b.FailKey(sessiontest.OpGet, key, nil)
		}
	})
	b.Before(sessiontest.OpDelete, func(key string) { corrupt = corrupt && key != "user:alice" })
	c, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	b.Before(sessiontest.OpGet, nil)
	b.Before(sessiontest.OpDelete, nil)
	if list, err := ix.Sessions(ctx, "alice"); err != nil || len(list) != 1 || list[0].Handle != id2handle(t, st, c) {
		t.Errorf("after replacing the corrupt index: %v, %v", list, err)
	}
	if !logs.Contains("holds no index document") {
		t.Errorf("not logged: %s", logs)
	}
}

// A session signed in before Options.UserKey was set (or before an upgrade
// that moved the index) is in no index: a login from it (RegenerateID, or a
// switch of user) goes on and is indexed, and a revoke that finished before
// such a login (the record gone) still wins.
func TestUserIndexLoginFromUnindexedSession(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		login func(*session.Session)
		user  string
	}{
		{"again, RegenerateID(true)", func(s *session.Session) { s.RegenerateID(true) }, "alice"},
		{"again, RegenerateID(false)", func(s *session.Session) { s.RegenerateID(false) }, "alice"},
		{"as another user", func(s *session.Session) { s.RegenerateID(true); s.Set("user", "bob") }, "bob"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			b := sessiontest.NewBackend(nil)
			before := mustStorage(t, b, session.Options{})
			old, _ := sessiontest.Request(t, before, "", func(s *session.Session) { s.Set("user", "alice") })
			st := mustStorage(t, b, session.Options{UserKey: "user"})
			ix := st.(session.UserIndex)
			v, set := sessiontest.Request(t, st, old, tc.login)
			if !set || v == old {
				t.Fatalf("the login = (%.12q, %v), want a new id", v, set)
			}
			if list, err := ix.Sessions(ctx, tc.user); err != nil || len(list) != 1 || list[0].Handle != id2handle(t, st, v) {
				t.Errorf("Sessions(%s) = %v, %v; want the login's session", tc.user, list, err)
			}
		})
	}
	t.Run("revoked before the login", func(t *testing.T) {
		b := sessiontest.NewBackend(nil)
		before := mustStorage(t, b, session.Options{})
		old, _ := sessiontest.Request(t, before, "", func(s *session.Session) { s.Set("user", "alice") })
		st := mustStorage(t, b, session.Options{UserKey: "user"})
		s, _ := st.Read(ctx, old)
		b.Delete(ctx, old, session.Version{}) // a revoke (or logout) finished meanwhile
		s.RegenerateID(false)
		if v, set, err := st.Save(ctx, s); err != nil || set || v != "" {
			t.Errorf("the login after the record went = (%.12q, %v, %v), want it dropped", v, set, err)
		}
	})
}

// Issue 22.3: the per-user cap counts live sessions only. Sessions whose
// records were lost (a cache server restarted empty) leave the index when a
// sign-in finds the user over the cap, and no session whose record is fine
// is ended for them.
func TestUserIndexCapCountsLiveSessions(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b, session.Options{UserKey: "user", MaxUserSessions: 3, Now: clock.Now, Logger: logs.Logger()})
	ix := st.(session.UserIndex)
	signIn := func() string {
		c, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
		return c
	}
	healthy, lost1, lost2 := signIn(), signIn(), signIn()
	clock.Advance(2 * time.Minute)
	for _, c := range []string{lost1, lost2} {
		if err := b.Delete(ctx, b.Key(c), session.Version{}); err != nil {
			t.Fatal(err)
		}
	}
	fresh := []string{signIn(), signIn()}
	for _, c := range append(fresh, healthy) {
		if s, _ := st.Read(ctx, c); s.Get("user") != "alice" {
			t.Errorf("a session with a live record was ended (%d sign-ins after 2 of 3 records were lost)", len(fresh))
		}
	}
	if list, err := ix.Sessions(ctx, "alice"); err != nil || len(list) != 3 {
		t.Errorf("Sessions = %d, %v; want the 3 live ones", len(list), err)
	}
	if logs.Contains("MaxUserSessions") {
		t.Errorf("a warning about the cap although only 3 sessions are live:\n%s", logs)
	}
	// Past the cap with live sessions only, the oldest is ended as before.
	clock.Advance(2 * time.Minute)
	signIn()
	if s, _ := st.Read(ctx, healthy); s.Get("user") == "alice" {
		t.Error("4 live sessions under a cap of 3: the oldest was not ended")
	}
}

// Issue 22.3: when the records cannot be read (a server is down), a sign-in
// past the cap ends nothing, so a failing server never signs out users
// whose servers are fine; the sign-in itself succeeds, and it is logged.
func TestUserIndexCapUnreadableEndsNothing(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b, session.Options{UserKey: "user", MaxUserSessions: 2, Now: clock.Now, Logger: logs.Logger()})
	var cookies []string
	for range 2 {
		c, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
		cookies = append(cookies, c)
	}
	clock.Advance(2 * time.Minute)
	b.Fail(sessiontest.OpGetMulti, errors.New("server down"))
	c, set := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
	if !set || c == "" {
		t.Fatal("the sign-in failed")
	}
	b.Fail(sessiontest.OpGetMulti, nil)
	for _, c := range append(cookies, c) {
		if s, _ := st.Read(ctx, c); s.Get("user") != "alice" {
			t.Error("a session was ended while its user's records could not be read")
		}
	}
	if !logs.Contains("cannot be read") {
		t.Errorf("no warning:\n%s", logs)
	}
}

// Issue 22.3: sessions lost within a minute of their sign-in (a cache
// server dies right after a wave of sign-ins) are not counted either, so
// the sign-ins that follow end no session whose record is there.
func TestUserIndexCapIgnoresYoungLostSessions(t *testing.T) {
	ctx := context.Background()
	clock := sessiontest.NewFakeClock(time.Time{})
	logs := sessiontest.NewLogs()
	b := sessiontest.NewBackend(clock.Now)
	st := mustStorage(t, b, session.Options{UserKey: "user", MaxUserSessions: 3, Now: clock.Now, Logger: logs.Logger()})
	signIn := func() string {
		c, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice") })
		return c
	}
	healthy, lost1, lost2 := signIn(), signIn(), signIn()
	for _, c := range []string{lost1, lost2} {
		if err := b.Delete(ctx, b.Key(c), session.Version{}); err != nil {
			t.Fatal(err)
		}
	}
	clock.Advance(time.Second)
	fresh := []string{signIn(), signIn()}
	for _, c := range append(fresh, healthy) {
		if s, _ := st.Read(ctx, c); s.Get("user") != "alice" {
			t.Errorf("a session with a live record was ended by sign-ins a second after 2 of 3 records were lost")
		}
	}
	if logs.Contains("MaxUserSessions") {
		t.Errorf("a warning about the cap although only 3 sessions are live:\n%s", logs)
	}
}
