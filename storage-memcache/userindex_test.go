package memcachestorage

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

func userStorage(t *testing.T) (session.Storage, session.UserIndex, *sessiontest.Logs) {
	t.Helper()
	_, client := startMemcached(t)
	logs := sessiontest.NewLogs()
	st, _ := newStorage(t, client, Options{Session: session.Options{UserKey: "user", Logger: logs.Logger()}})
	ix, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("the Memcache storage with UserKey does not implement session.UserIndex")
	}
	return st, ix, logs
}

func login(t *testing.T, st session.Storage, user string) string {
	t.Helper()
	v, _ := sessiontest.Request(t, st, "", func(s *session.Session) { s.Set("user", user) })
	return v
}

// Concurrent logins of one user each add their member: the index is changed
// with compare-and-swap, so none is lost.
func TestUserIndexConcurrentLogins(t *testing.T) {
	st, ix, _ := userStorage(t)
	const n = 24
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			login(t, st, "ada")
		}()
	}
	wg.Wait()
	list, err := ix.Sessions(context.Background(), "ada")
	if err != nil || len(list) != n {
		t.Fatalf("Sessions = %d, %v; want %d", len(list), err, n)
	}
}

// The index holds at most MaxUserSessions members; past that the oldest
// session is signed out (never left live and unlisted), and logged.
func TestUserIndexBounded(t *testing.T) {
	st, ix, logs := userStorage(t)
	first := login(t, st, "ada")
	for range MaxUserSessions {
		login(t, st, "ada")
	}
	list, err := ix.Sessions(context.Background(), "ada")
	if err != nil || len(list) != MaxUserSessions {
		t.Fatalf("Sessions = %d, %v; want %d", len(list), err, MaxUserSessions)
	}
	if s, _ := st.Read(context.Background(), first); s.Get("user") != nil {
		t.Error("the oldest session is still signed in, but no longer listed")
	}
	if !strings.Contains(logs.String(), "MaxUserSessions") || strings.Contains(logs.String(), first) {
		t.Errorf("logs: %s", logs)
	}
	// Revoking them all empties the index.
	if n, err := ix.RevokeAll(context.Background(), "ada"); err != nil || n != MaxUserSessions {
		t.Errorf("RevokeAll = %d, %v", n, err)
	}
	if list, _ := ix.Sessions(context.Background(), "ada"); len(list) != 0 {
		t.Errorf("%d sessions after RevokeAll", len(list))
	}
}
