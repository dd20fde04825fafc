package session_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// The per-user conformance scenarios run in TestNewMemoryStorageConformance,
// TestFileStorageConformance and sessiontest's own runs; these tests cover
// what the suite cannot see: which storages implement UserIndex, the backend
// calls a save costs, errors, and file storage's index files.

func TestUserIndexImplementedBy(t *testing.T) {
	withKey := session.Options{UserKey: "user"}
	file, err := session.NewFileStorage(t.TempDir(), withKey)
	if err != nil {
		t.Fatal(err)
	}
	cookieSt, err := session.NewCookieStorage(session.CookieStorageOptions{Options: withKey})
	if err != nil {
		t.Fatal(err)
	}
	for name, c := range map[string]struct {
		st   session.Storage
		want bool
	}{
		"memory":                         {session.NewMemoryStorage(withKey), true},
		"file":                           {file, true},
		"memory without UserKey":         {session.NewMemoryStorage(session.Options{}), false},
		"cookie (cannot revoke)":         {cookieSt, false},
		"backend that keeps no index":    {session.NewBackendStorage(sessiontest.NewBackend(nil).WithoutTouch(), withKey), false},
		"backend that can keep an index": {session.NewBackendStorage(sessiontest.NewBackend(nil), withKey), true},
	} {
		if _, ok := c.st.(session.UserIndex); ok != c.want {
			t.Errorf("%s: implements UserIndex = %v, want %v", name, ok, c.want)
		}
	}
}

// A save that changes neither the user nor the id does no index work: it is
// the same single backend call as without UserKey.
func TestUserIndexCost(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	b := sessiontest.NewBackend(clock.Now)
	st := session.NewBackendStorage(b.Updating(), session.Options{UserKey: "user", Now: clock.Now, IdleTimeout: time.Hour})
	count := func(name string, want map[sessiontest.Op]int) {
		t.Helper()
		for op, n := range want {
			if got := b.CallCount(op); got != n {
				t.Errorf("%s: %d %s calls, want %d (%v)", name, got, op, n, b.Calls())
			}
		}
		b.ResetCalls()
	}
	anon, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	count("anonymous new session", map[sessiontest.Op]int{sessiontest.OpSet: 1, sessiontest.OpSaveIndexed: 0})
	in, _ := sessiontest.Request(t, st, anon, func(s *session.Session) { s.RegenerateID(true); s.Set("user", "alice") })
	count("login", map[sessiontest.Op]int{sessiontest.OpSaveIndexed: 1, sessiontest.OpSet: 0, sessiontest.OpDelete: 0})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Set("n", 2) })
	count("a change, same user", map[sessiontest.Op]int{sessiontest.OpGet: 1, sessiontest.OpUpdate: 1, sessiontest.OpSaveIndexed: 0})
	sessiontest.Request(t, st, in, nil)
	count("read only", map[sessiontest.Op]int{sessiontest.OpGet: 1, sessiontest.OpUpdate: 0, sessiontest.OpSaveIndexed: 0})
	clock.Advance(10 * time.Minute)
	sessiontest.Request(t, st, in, nil)
	count("sliding refresh", map[sessiontest.Op]int{sessiontest.OpTouch: 1, sessiontest.OpSaveIndexed: 0})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Set("user", "alice") })
	count("the same user set again", map[sessiontest.Op]int{sessiontest.OpUpdate: 1, sessiontest.OpSaveIndexed: 0})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Unset("user") })
	count("logout", map[sessiontest.Op]int{sessiontest.OpSaveIndexed: 1, sessiontest.OpUpdate: 0})
	sessiontest.Request(t, st, in, func(s *session.Session) { s.Destroy() })
	count("Destroy of an anonymous session", map[sessiontest.Op]int{sessiontest.OpSaveIndexed: 0, sessiontest.OpDelete: 1})
	ix := st.(session.UserIndex)
	if _, err := ix.Sessions(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	count("listing", map[sessiontest.Op]int{sessiontest.OpUserRecords: 1, sessiontest.OpGet: 0})
}

// Backend errors in the index calls are returned, never turned into a new
// session, and never carry the id.
func TestUserIndexErrors(t *testing.T) {
	ctx := context.Background()
	logs := sessiontest.NewLogs()
	b := sessiontest.NewBackend(nil)
	st := session.NewBackendStorage(b.Updating(), session.Options{UserKey: "user", Logger: logs.Logger()})
	ix := st.(session.UserIndex)
	boom := errors.New("boom")
	s, _ := st.Read(ctx, "")
	s.Set("user", "alice")
	b.Fail(sessiontest.OpSaveIndexed, boom)
	if _, _, err := st.Save(ctx, s); !errors.Is(err, boom) || strings.Contains(err.Error(), s.ID()) {
		t.Errorf("failed indexed save: %v", err)
	}
	if s.Handle() != "" || !s.Dirty() {
		t.Error("a failed save marked the session saved")
	}
	b.Fail(sessiontest.OpSaveIndexed, nil)
	v, _, err := st.Save(ctx, s)
	if err != nil || s.Handle() == "" {
		t.Fatalf("save after the failure: %v, handle %q", err, s.Handle())
	}
	b.Fail(sessiontest.OpUserRecords, boom)
	if _, err := ix.Sessions(ctx, "alice"); !errors.Is(err, boom) {
		t.Errorf("Sessions: %v", err)
	}
	b.Fail(sessiontest.OpDeleteUserRecords, boom)
	if err := ix.Revoke(ctx, "alice", s.Handle()); !errors.Is(err, boom) {
		t.Errorf("Revoke: %v", err)
	}
	if _, err := ix.RevokeAll(ctx, "alice"); !errors.Is(err, boom) {
		t.Errorf("RevokeAll: %v", err)
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
	st := session.NewMemoryStorage(session.Options{UserKey: "user", Logger: logs.Logger()})
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
	if s.Dirty() || s.Handle() != "" {
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

// File storage's index files name neither the user nor any id, and go when
// the user has no session left.
func TestFileUserIndexFiles(t *testing.T) {
	dir := t.TempDir()
	clock := sessiontest.NewFakeClock(time.Time{})
	st, err := session.NewFileStorage(dir, session.Options{UserKey: "user", Now: clock.Now, Lifetime: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	ix := st.(session.UserIndex)
	a, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice@example.com") })
	b, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "alice@example.com") })
	indexes := func() []string {
		t.Helper()
		var found []string
		err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasPrefix(d.Name(), "u-") {
				found = append(found, p)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return found
	}
	files := indexes()
	if len(files) != 1 {
		t.Fatalf("%d index files, want 1", len(files))
	}
	data, err := os.ReadFile(files[0])
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{a, b, "alice"} {
		if strings.Contains(string(data), secret) || strings.Contains(files[0], secret) {
			t.Errorf("the index file reveals %q", secret)
		}
	}
	if n := strings.Count(string(data), "\n"); n != 2 {
		t.Errorf("index has %d lines, want 2:\n%s", n, data)
	}
	if fi, _ := os.Stat(files[0]); fi.Mode().Perm() != 0o600 {
		t.Errorf("index file mode %v", fi.Mode().Perm())
	}
	// Garbage in the index file is skipped, not an error.
	if err := os.WriteFile(files[0], append(data, "garbage\nx y\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	if list, err := ix.Sessions(context.Background(), "alice@example.com"); err != nil || len(list) != 2 {
		t.Fatalf("Sessions with garbage lines = %d, %v", len(list), err)
	}
	sessiontest.Request(t, st, a, func(s *session.Session) { s.Destroy() })
	sessiontest.Request(t, st, b, func(s *session.Session) { s.Unset("user") })
	if files := indexes(); len(files) != 0 {
		t.Errorf("index files left after the last logout: %v", files)
	}
	// An index whose sessions all expired is removed by the sweep.
	sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", "bob") })
	files = indexes()
	if len(files) != 1 {
		t.Fatalf("%d index files, want 1", len(files))
	}
	clock.Advance(2 * time.Hour)
	if _, err := session.FileSweep(session.FileStorageBackend(st), clock.Now()); err != nil {
		t.Fatal(err)
	}
	if files := indexes(); len(files) != 0 {
		t.Errorf("the sweep left an index of dead sessions: %v", files)
	}
}
