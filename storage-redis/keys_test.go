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

// idTracker plays requests on a storage with a per-user index and keeps
// every session id they were given, to look for them in Redis afterwards.
type idTracker struct {
	t   *testing.T
	st  session.Storage
	ids []string
}

// request plays one request and records the cookie it ends with.
func (k *idTracker) request(cookie string, fn func(*session.Session)) string {
	v := request(k.t, k.st, cookie, fn)
	if v != "" {
		k.ids = append(k.ids, v)
	}
	return v
}

// signIn stores a new session and signs it in as user with
// RegenerateID(true), as a login does: both ids are recorded.
func (k *idTracker) signIn(user string) string {
	anon := k.request("", func(s *session.Session) { s.Set("n", 1) })
	return k.request(anon, func(s *session.Session) { s.RegenerateID(true); s.Set("user", user) })
}

// TestKeysHideIDs: with the default options, no key in Redis, and no value,
// holds a session id, after sign-ins (with RegenerateID), a revoke, a
// logout and with a lock held: a KEYS, a dump, a replica or the slow log
// hand out no usable session. The record, lock and index keys are where
// the hashed layout puts them.
func TestKeysHideIDs(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	ctx := context.Background()
	st := mustNew(t, c, Options{Session: session.Options{UserKey: "user", IdleTimeout: time.Hour}})
	k := &idTracker{t: t, st: st}
	kept, revoked, out := k.signIn("ada"), k.signIn("ada"), k.signIn("ada")
	k.request(out, func(s *session.Session) { s.Destroy() })
	must(t, st.(session.UserIndex).Revoke(ctx, "ada", read(t, st, revoked).Handle()))
	release, err := st.(session.Locking).Lock(ctx, kept, session.LockOptions{})
	must(t, err)
	defer release()

	keys := listKeys(c, "*")
	noIDs(t, c, keys, k.ids)
	for _, key := range []string{keyFor(DefaultKeyPrefix, kept), DefaultKeyPrefix + "lock:" + session.HashID(kept), DefaultKeyPrefix + "index:ada"} {
		if !containsKey(keys, key) {
			t.Errorf("no key %s among %q", key, keys)
		}
	}
	if containsKey(keys, keyFor(DefaultKeyPrefix, revoked)) || containsKey(keys, keyFor(DefaultKeyPrefix, out)) {
		t.Error("a revoked or logged-out session's record is still there")
	}
}

// noIDs fails the test when one of keys, or what a string key holds,
// contains one of ids.
func noIDs(t *testing.T, c redis.UniversalClient, keys, ids []string) {
	t.Helper()
	for _, key := range keys {
		v, _ := c.Get(context.Background(), key).Result() // "" for another type
		for _, id := range ids {
			if strings.Contains(key, id) || strings.Contains(v, id) {
				t.Errorf("the key %q or its value holds a session id", key)
			}
		}
	}
}

func containsKey(keys []string, key string) bool {
	for _, k := range keys {
		if k == key {
			return true
		}
	}
	return false
}

// TestPlainKeys: with Options.PlainKeys, the keys are Remix's, as in
// earlier versions: prefix + id for a record (its value the Remix JSON
// [values, flash]), prefix + "lock:" + id for a lock, and the index lists
// the plain key; a record that a Remix app stored under session:<id> reads
// as that session.
func TestPlainKeys(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	ctx := context.Background()
	st := mustNew(t, c, Options{PlainKeys: true, Session: session.Options{UserKey: "user"}})
	id := request(t, st, "", func(s *session.Session) { s.Set("name", "ada"); s.Flash("msg", "hi") })
	if v, _ := stored(t, c, "session:"+id); !strings.HasPrefix(v, `[{"name":"ada"},{"msg":"hi"}`) {
		t.Errorf("record under session:<id> %q does not start with the Remix [values, flash]", v)
	}
	release, err := st.(session.Locking).Lock(ctx, id, session.LockOptions{})
	must(t, err)
	if _, ok := stored(t, c, "session:lock:"+id); !ok {
		t.Error("no lock under session:lock:<id>")
	}
	release()
	signed := request(t, st, id, func(s *session.Session) { s.Set("user", "ada") })
	if doc, _ := stored(t, c, "session:index:ada"); !strings.Contains(doc, " session:"+signed+"\n") && !strings.HasSuffix(doc, " session:"+signed) {
		t.Errorf("the index document does not list the plain key:\n%s", doc)
	}

	must(t, c.Set(ctx, "session:remix-id", `[{"count":3},{}]`, 0).Err())
	s := read(t, st, "remix-id")
	if n, _ := session.Value[int](s, "count"); n != 3 || s.ID() != "remix-id" {
		t.Errorf("read a Remix record as id %q count %d", s.ID(), n)
	}
}

// TestUpgradeFromPlainKeys: a session stored under its plain key (by an
// earlier version of this package, or by Remix) is not found with the
// default options: the request gets a new session, not an error, and the
// old key is left to its TTL. With PlainKeys it is found.
func TestUpgradeFromPlainKeys(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	prefix := freshPrefix()
	old := mustNew(t, c, Options{KeyPrefix: prefix, PlainKeys: true})
	id := request(t, old, "", func(s *session.Session) { s.Set("user", "ada") })
	if s := read(t, mustNew(t, c, Options{KeyPrefix: prefix}), id); s.ID() == id || s.Get("user") != nil {
		t.Error("the default options found a session stored under its plain key")
	}
	if _, ok := stored(t, c, prefix+id); !ok {
		t.Error("reading with the default options removed the plain key")
	}
	if s := read(t, old, id); s.ID() != id || s.Get("user") != "ada" {
		t.Error("PlainKeys does not find the session any more")
	}
}

// TestKeyAllocations: a hashed key costs one allocation, as keyOf says.
func TestKeyAllocations(t *testing.T) {
	b := &backend{prefix: DefaultKeyPrefix}
	const id = "kwh7GVZoBoKwDE4xr1neAuneOlT-qBSUMlb-Sk_yCjM"
	if n := testing.AllocsPerRun(100, func() { _ = b.Key(id) }); n > 1 {
		t.Errorf("Key allocates %v times, want 1", n)
	}
	long := strings.Repeat("a", 128)
	if got, want := b.Key(long), DefaultKeyPrefix+session.HashID(long); got != want {
		t.Errorf("Key of a 128-byte id = %q, want %q", got, want)
	}
}
