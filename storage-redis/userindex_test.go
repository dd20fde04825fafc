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

// maxIndexRounds bounds the round trips of a request that changes the
// per-user index.
const maxIndexRounds = 8

// indexLifetime is the Lifetime of userIndexCase's storage.
const indexLifetime = 2 * time.Hour

// userIndexCase checks where the per-user index lives in Redis and what it
// costs: package session keeps it as a document under IndexKey(user) =
// prefix + "index:" + user, a plain string written with the same
// compare-and-set Put as the records. A save that keeps the user sends no
// index command; a login, a logout and a revoke cost a few round trips more
// (counted and logged here, at most maxIndexRounds); a listing is two (the
// index, then every member's record in one pipeline) and RevokeAll six and
// one DEL per session it ends.
type userIndexCase struct {
	ctx    context.Context
	c      redis.UniversalClient
	h      *roundTrips
	prefix string
	index  string // the index document's key
	st     session.Storage
	ix     session.UserIndex
}

func userIndex(t *testing.T, c redis.UniversalClient) {
	k := &userIndexCase{ctx: context.Background(), c: c, h: &roundTrips{}, prefix: freshPrefix()}
	k.index = k.prefix + "index:ada"
	c.AddHook(k.h)
	must(t, c.Ping(k.ctx).Err())
	loadScripts(t, c)
	k.st = mustNew(t, c, Options{KeyPrefix: k.prefix, Session: session.Options{UserKey: "user", Lifetime: indexLifetime}})
	ix, ok := k.st.(session.UserIndex)
	if !ok {
		t.Fatal("the Redis storage with UserKey is not a session.UserIndex")
	}
	k.ix = ix
	k.h.reset()
	signedIn := k.signIn(t)
	other, second := k.loginAndList(t, signedIn)
	k.revokeAndLogout(t, other, second)
	k.revokeAll(t)
}

// step checks the commands since the last step: at least one on the index
// (or none, when the step must not touch it), every key the index or a
// record, and at most max round trips.
func (k *userIndexCase) step(t *testing.T, what string, touchesIndex bool, max int) {
	t.Helper()
	n, cmds := k.h.take()
	onIndex := false
	for _, cmd := range cmds {
		key := commandKey(cmd)
		onIndex = onIndex || key == k.index
		if key != k.index && !k.isRecordKey(key) {
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

// commandKey is the key of a command as roundTrips.take shows it: the
// argument after EVALSHA's script and key count, or the first argument.
func commandKey(cmd string) string {
	f := strings.Fields(cmd)
	switch {
	case len(f) >= 4 && f[0] == "evalsha":
		return f[3]
	case len(f) >= 2:
		return f[1]
	}
	return ""
}

// isRecordKey reports whether key is a record's: the prefix, then the hex
// SHA-256 of an id.
func (k *userIndexCase) isRecordKey(key string) bool {
	rest, ok := strings.CutPrefix(key, k.prefix)
	return ok && len(rest) == 64 && strings.Trim(rest, "0123456789abcdef") == ""
}

// signIn signs an anonymous session in place, then saves it keeping its
// user: GET and one EVALSHA, nothing on the index.
func (k *userIndexCase) signIn(t *testing.T) string {
	anon := request(t, k.st, "", func(s *session.Session) { s.Set("n", 1) })
	k.step(t, "a new anonymous session (1 EVALSHA)", false, 1)
	in := request(t, k.st, anon, func(s *session.Session) { s.Set("user", "ada") })
	k.step(t, "sign-in in place (GET, then the save)", true, maxIndexRounds)
	if typ, err := k.c.Type(k.ctx, k.index).Result(); err != nil || typ != "string" {
		t.Fatalf("the index %s is a %q (%v), want a string", k.index, typ, err)
	}
	wantPTTL(t, k.c, "the index", k.index, 1, indexLifetime)
	k.h.reset()
	request(t, k.st, in, func(s *session.Session) { s.Set("n", 2) })
	key := keyFor(k.prefix, in)
	if n, cmds := k.h.take(); n != 2 || len(cmds) != 2 || !strings.HasPrefix(cmds[0], "get "+key) || !strings.HasPrefix(cmds[1], "evalsha "+putScript.Hash()+" 1 "+key+" ") {
		t.Errorf("a change that keeps the user: %d round trips %q, want GET and one EVALSHA", n, cmds)
	}
	return in
}

// loginAndList regenerates the signed-in session's id, signs in a second
// one, and lists both.
func (k *userIndexCase) loginAndList(t *testing.T, in string) (other, second string) {
	other = request(t, k.st, in, func(s *session.Session) { s.RegenerateID(true) })
	k.step(t, "login with RegenerateID(true) (GET, then the save)", true, maxIndexRounds)
	second = request(t, k.st, "", func(s *session.Session) { s.Set("user", "ada") })
	k.step(t, "a new signed-in session", true, maxIndexRounds)
	list, err := k.ix.Sessions(k.ctx, "ada")
	if err != nil || len(list) != 2 {
		t.Fatalf("Sessions = %+v, %v; want 2", list, err)
	}
	k.step(t, "Sessions (the index, then the members' records in one pipeline)", true, 2)
	for _, info := range list {
		if strings.Contains(info.Handle, other) || strings.Contains(info.Handle, second) {
			t.Errorf("a handle reveals the id")
		}
	}
	return other, second
}

func (k *userIndexCase) revokeAndLogout(t *testing.T, other, second string) {
	handle := read(t, k.st, second).Handle()
	k.h.reset()
	must(t, k.ix.Revoke(k.ctx, "ada", handle))
	k.step(t, "Revoke", true, maxIndexRounds)
	wantAbsent(t, k.c, "Revoke", keyFor(k.prefix, second))
	request(t, k.st, other, func(s *session.Session) { s.Destroy() })
	k.step(t, "logout (GET, then Destroy's save)", true, maxIndexRounds)
	if list, err := k.ix.Sessions(k.ctx, "ada"); err != nil || len(list) != 0 {
		t.Errorf("Sessions after a revoke and a logout = %+v, %v; want none", list, err)
	}
}

func (k *userIndexCase) revokeAll(t *testing.T) {
	for range 3 {
		request(t, k.st, "", func(s *session.Session) { s.Set("user", "ada") })
	}
	k.h.reset()
	if n, err := k.ix.RevokeAll(k.ctx, "ada"); err != nil || n != 3 {
		t.Errorf("RevokeAll = %d, %v; want 3", n, err)
	}
	// Mark (GET, EVALSHA), read the index and the records (GET, one
	// pipeline), a DEL per session, then remove the members (GET, DEL).
	k.step(t, "RevokeAll of 3 sessions", true, 6+3)
	if n := (countedBackend{mustBackend(t, k.c, Options{KeyPrefix: k.prefix})}).Len(); n != 0 {
		t.Errorf("%d records left after RevokeAll, want 0", n)
	}
}

func TestUserIndex(t *testing.T) {
	t.Run("node", func(t *testing.T) { userIndex(t, newClient(t, testserver.Redis(t).Addr())) })
	t.Run("cluster", func(t *testing.T) { userIndex(t, newClusterClient(t, testserver.RedisCluster(t, 3))) })
}
