package redisstorage

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// userIndex checks where the per-user index lives in Redis and what it
// costs: package session keeps it as a document under IndexKey(user) =
// prefix + "index:" + user, a plain string written with the same
// compare-and-set Put as the records. A save that keeps the user sends no
// index command; a login, a logout and a revoke cost a few round trips more
// (counted and logged here, at most maxIndexRounds); a listing is two (the
// index, then every member's record in one pipeline) and RevokeAll six and
// one DEL per session it ends.
func userIndex(t *testing.T, c redis.UniversalClient) {
	const maxIndexRounds = 8
	h := &roundTrips{}
	c.AddHook(h)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	loadScripts(t, c)
	prefix := freshPrefix()
	const lifetime = 2 * time.Hour
	b := countedBackend{mustBackend(t, c, Options{KeyPrefix: prefix})}
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{UserKey: "user", Lifetime: lifetime}})
	ix, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("the Redis storage with UserKey is not a session.UserIndex")
	}
	index := prefix + "index:ada"
	// step checks the commands since the last step: at least one on the
	// index (or none, when the step must not touch it), every key the
	// index, a record or a lock, and at most max round trips.
	step := func(what string, touchesIndex bool, max int) {
		t.Helper()
		n, cmds := h.take()
		onIndex := false
		for _, cmd := range cmds {
			f := strings.Fields(cmd)
			key := ""
			switch {
			case len(f) >= 4 && f[0] == "evalsha":
				key = f[3]
			case len(f) >= 2:
				key = f[1]
			}
			if key == index {
				onIndex = true
			} else if !strings.HasPrefix(key, prefix) || strings.Contains(key[len(prefix):], ":") {
				t.Errorf("%s: a command on another key than a record or the index: %q", what, cmd)
			}
		}
		if onIndex != touchesIndex {
			t.Errorf("%s: touches the index %v, want %v:\n  %s", what, onIndex, touchesIndex, strings.Join(cmds, "\n  "))
		}
		if n > max {
			t.Errorf("%s: %d round trips, want at most %d:\n  %s", what, n, max, strings.Join(cmds, "\n  "))
		}
		t.Logf("%s: %d round trips", what, n)
	}
	h.reset()
	anon := request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	step("a new anonymous session (1 EVALSHA)", false, 1)
	in := request(t, st, anon, func(s *session.Session) { s.Set("user", "ada") })
	step("sign-in in place (GET, then the save)", true, maxIndexRounds)
	typ, err := c.Type(ctx, index).Result()
	if err != nil || typ != "string" {
		t.Fatalf("the index %s is a %q (%v), want a string", index, typ, err)
	}
	if d, _ := c.PTTL(ctx, index).Result(); d <= 0 || d > lifetime {
		t.Errorf("the index's PTTL is %v, want at most the lifetime %v", d, lifetime)
	}
	h.reset()
	request(t, st, in, func(s *session.Session) { s.Set("n", 2) })
	if n, cmds := h.take(); n != 2 || len(cmds) != 2 || !strings.HasPrefix(cmds[0], "get "+prefix+in) || !strings.HasPrefix(cmds[1], "evalsha "+putScript.Hash()+" 1 "+prefix+in+" ") {
		t.Errorf("a change that keeps the user: %d round trips %q, want GET and one EVALSHA", n, cmds)
	}
	other := request(t, st, in, func(s *session.Session) { s.RegenerateID(true) })
	step("login with RegenerateID(true) (GET, then the save)", true, maxIndexRounds)
	second := request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	step("a new signed-in session", true, maxIndexRounds)
	list, err := ix.Sessions(ctx, "ada")
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %+v, %v; want 2", list, err)
	}
	step("Sessions (the index, then the members' records in one pipeline)", true, 2)
	for _, info := range list {
		if strings.Contains(info.Handle, other) || strings.Contains(info.Handle, second) {
			t.Errorf("a handle reveals the id")
		}
	}
	s, _ := st.Read(ctx, second)
	h.reset()
	if err := ix.Revoke(ctx, "ada", s.Handle()); err != nil {
		t.Fatal(err)
	}
	step("Revoke", true, maxIndexRounds)
	if n, _ := c.Exists(ctx, prefix+second).Result(); n != 0 {
		t.Error("Revoke left the record")
	}
	request(t, st, other, func(s *session.Session) { s.Destroy() })
	step("logout (GET, then Destroy's save)", true, maxIndexRounds)
	if list, err := ix.Sessions(ctx, "ada"); err != nil || len(list) != 0 {
		t.Errorf("Sessions after a revoke and a logout = %+v, %v; want none", list, err)
	}
	for range 3 {
		request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	}
	h.reset()
	if n, err := ix.RevokeAll(ctx, "ada"); err != nil || n != 3 {
		t.Errorf("RevokeAll = %d, %v; want 3", n, err)
	}
	// Mark (GET, EVALSHA), read the index and the records (GET, one
	// pipeline), a DEL per session, then remove the members (GET, DEL).
	step("RevokeAll of 3 sessions", true, 6+3)
	if n := b.Len(); n != 0 {
		t.Errorf("%d records left after RevokeAll, want 0", n)
	}
}

func TestUserIndex(t *testing.T) {
	t.Run("node", func(t *testing.T) { userIndex(t, newClient(t, testserver.Redis(t).Addr())) })
	t.Run("cluster", func(t *testing.T) { userIndex(t, newClusterClient(t, testserver.RedisCluster(t, 3))) })
}
