package redisstorage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// backendContract checks the compare-and-set contract of session.Backend
// (and Toucher, Locker) on the backend itself, against real servers through
// c: versions, conflicts (with this package's writes and with another
// program's plain SET, as a Remix app writes), WRONGTYPE, and the round
// trips and commands of each call.
func backendContract(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	b := mustBackend(t, c, Options{KeyPrefix: freshPrefix()})
	h := &roundTrips{}
	c.AddHook(h)
	if err := c.Ping(ctx).Err(); err != nil { // the cluster client loads its slot map
		t.Fatal(err)
	}
	loadScripts(t, c)
	h.reset()
	expect := func(t *testing.T, what string, want ...string) {
		t.Helper()
		n, cmds := h.take()
		if n != len(want) || len(cmds) != len(want) {
			t.Errorf("%s: %d round trips %q, want %d %q", what, n, cmds, len(want), want)
			return
		}
		for i, w := range want {
			if !strings.HasPrefix(cmds[i], w) {
				t.Errorf("%s: command %d is %q, want %q…", what, i, cmds[i], w)
			}
		}
	}
	stored := func(t *testing.T, key string) (string, bool) {
		t.Helper()
		v, err := c.Get(ctx, key).Result()
		if errors.Is(err, redis.Nil) {
			return "", false
		}
		if err != nil {
			t.Fatal(err)
		}
		return v, true
	}

	t.Run("keys", func(t *testing.T) {
		if got := b.Key("abc"); got != b.prefix+"abc" {
			t.Errorf("Key = %q", got)
		}
		if got := b.IndexKey("ada"); got != b.prefix+"index:ada" {
			t.Errorf("IndexKey = %q", got)
		}
		if got := b.lockKey("abc"); got != b.prefix+"lock:abc" {
			t.Errorf("lock key = %q", got)
		}
	})

	t.Run("put, get, versions", func(t *testing.T) {
		key := b.Key("versions")
		if _, v, err := b.Get(ctx, key); err != session.ErrNotFound || !v.IsZero() {
			t.Fatalf("Get(absent) = %v, %v; want the zero Version, ErrNotFound", v, err)
		}
		expect(t, "Get", "get "+key)
		v1, err := b.Put(ctx, key, []byte("one"), time.Minute, session.Version{})
		if err != nil || v1.IsZero() {
			t.Fatalf("Put(zero version, absent) = %v, %v", v1, err)
		}
		expect(t, "Put (script loaded)", "evalsha "+putScript.Hash()+" 1 "+key+"  <record> 60000")
		data, got, err := b.Get(ctx, key)
		if err != nil || string(data) != "one" || got != v1 {
			t.Fatalf("Get = %q, %v, %v; want \"one\" at the version Put returned", data, got, err)
		}
		h.reset()
		v2, err := b.Put(ctx, key, []byte("two"), time.Minute, v1)
		if err != nil || v2 == v1 {
			t.Fatalf("Put at the current version = %v, %v", v2, err)
		}
		expect(t, "Put at a version", "evalsha "+putScript.Hash()+" 1 "+key+" "+digest(v1)+" <record> 60000")
		// v1 is stale now: nothing is written.
		if _, err := b.Put(ctx, key, []byte("three"), time.Minute, v1); err != session.ErrConflict {
			t.Errorf("Put at a stale version = %v, want ErrConflict", err)
		}
		if s, _ := stored(t, key); s != "two" {
			t.Errorf("after a conflicting Put the key holds %q, want \"two\"", s)
		}
		// The zero Version requires an absent key.
		if _, err := b.Put(ctx, key, []byte("four"), time.Minute, session.Version{}); err != session.ErrConflict {
			t.Errorf("Put with the zero Version over an existing key = %v, want ErrConflict", err)
		}
		if s, _ := stored(t, key); s != "two" {
			t.Errorf("after a conflicting Put the key holds %q, want \"two\"", s)
		}
		// A version of a key that is gone is a conflict too, and writes
		// nothing (no resurrection).
		gone := b.Key("gone")
		if _, err := b.Put(ctx, gone, []byte("x"), time.Minute, v2); err != session.ErrConflict {
			t.Errorf("Put at a version over an absent key = %v, want ErrConflict", err)
		}
		if _, ok := stored(t, gone); ok {
			t.Error("a conflicting Put created the key")
		}
		if _, err := b.Put(ctx, key, []byte("five"), time.Minute, v2); err != nil {
			t.Errorf("Put at the current version after conflicts: %v", err)
		}
	})

	t.Run("another program's SET is a conflict", func(t *testing.T) {
		key := b.Key("remix")
		v, err := b.Put(ctx, key, []byte(`[{"n":1},{}]`), 0, session.Version{})
		if err != nil {
			t.Fatal(err)
		}
		// A Remix app saves the session with a plain SET.
		if err := c.Set(ctx, key, `[{"n":1,"remix":true},{}]`, 0).Err(); err != nil {
			t.Fatal(err)
		}
		if _, err := b.Put(ctx, key, []byte(`[{"n":2},{}]`), 0, v); err != session.ErrConflict {
			t.Errorf("Put after another client's SET = %v, want ErrConflict", err)
		}
		if s, _ := stored(t, key); s != `[{"n":1,"remix":true},{}]` {
			t.Errorf("the conflicting Put overwrote the Remix write: %q", s)
		}
		if err := b.Delete(ctx, key, v); err != session.ErrConflict {
			t.Errorf("Delete after another client's SET = %v, want ErrConflict", err)
		}
		// Read again, the Remix write is the current version.
		_, cur, err := b.Get(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := b.Put(ctx, key, []byte(`[{"n":2,"remix":true},{}]`), 0, cur); err != nil {
			t.Errorf("Put at the version read after the Remix write: %v", err)
		}
	})

	t.Run("delete", func(t *testing.T) {
		key := b.Key("del")
		v1, err := b.Put(ctx, key, []byte("one"), time.Minute, session.Version{})
		if err != nil {
			t.Fatal(err)
		}
		v2, err := b.Put(ctx, key, []byte("two"), time.Minute, v1)
		if err != nil {
			t.Fatal(err)
		}
		h.reset()
		if err := b.Delete(ctx, key, v1); err != session.ErrConflict {
			t.Errorf("Delete at a stale version = %v, want ErrConflict", err)
		}
		if s, ok := stored(t, key); !ok || s != "two" {
			t.Errorf("after a conflicting Delete the key holds %q, %v", s, ok)
		}
		h.reset()
		if err := b.Delete(ctx, key, v2); err != nil {
			t.Errorf("Delete at the current version: %v", err)
		}
		expect(t, "Delete at a version", "evalsha "+delScript.Hash()+" 1 "+key+" "+digest(v2))
		if _, ok := stored(t, key); ok {
			t.Error("Delete at the current version left the key")
		}
		if err := b.Delete(ctx, key, v2); err != session.ErrConflict {
			t.Errorf("Delete at a version of an absent key = %v, want ErrConflict", err)
		}
		h.reset()
		if err := b.Delete(ctx, key, session.Version{}); err != nil {
			t.Errorf("Delete(absent, zero Version) = %v, want nil", err)
		}
		expect(t, "Delete with the zero Version", "del "+key)
		if _, err := b.Put(ctx, key, []byte("three"), time.Minute, session.Version{}); err != nil {
			t.Fatal(err)
		}
		if err := b.Delete(ctx, key, session.Version{}); err != nil {
			t.Errorf("Delete(zero Version) of an existing key: %v", err)
		}
		if _, ok := stored(t, key); ok {
			t.Error("Delete with the zero Version left the key")
		}
	})

	t.Run("an empty value has a version", func(t *testing.T) {
		key := b.Key("empty")
		if err := c.Set(ctx, key, "", 0).Err(); err != nil {
			t.Fatal(err)
		}
		data, v, err := b.Get(ctx, key)
		if err != nil || len(data) != 0 || v.IsZero() {
			t.Fatalf("Get(\"\") = %q, %v, %v; want a non-zero Version", data, v, err)
		}
		v2, err := b.Put(ctx, key, nil, 0, v)
		if err != nil || v2 != v {
			t.Fatalf("Put(\"\") over \"\" = %v, %v", v2, err)
		}
		if _, err := b.Put(ctx, key, []byte("x"), 0, session.Version{}); err != session.ErrConflict {
			t.Errorf("Put with the zero Version over \"\" = %v, want ErrConflict", err)
		}
		if err := b.Delete(ctx, key, v2); err != nil {
			t.Errorf("Delete(\"\") at its version: %v", err)
		}
	})

	t.Run("WRONGTYPE is a corrupt record", func(t *testing.T) {
		key := b.Key("hash")
		if err := c.HSet(ctx, key, "f", "v").Err(); err != nil {
			t.Fatal(err)
		}
		_, v, err := b.Get(ctx, key)
		if !errors.Is(err, session.ErrCorruptRecord) || !v.IsZero() {
			t.Errorf("Get of a hash = %v, %v; want an error wrapping ErrCorruptRecord", v, err)
		} else if strings.Contains(err.Error(), key) {
			t.Errorf("the error carries the key: %v", err)
		}
		if _, err := b.Put(ctx, key, []byte("x"), 0, session.Version{}); !errors.Is(err, session.ErrCorruptRecord) {
			t.Errorf("Put over a hash = %v, want ErrCorruptRecord", err)
		}
		if _, err := b.Put(ctx, key, []byte("x"), 0, versionOf("v")); !errors.Is(err, session.ErrCorruptRecord) {
			t.Errorf("Put at a version over a hash = %v, want ErrCorruptRecord", err)
		}
		if err := b.Delete(ctx, key, versionOf("v")); !errors.Is(err, session.ErrCorruptRecord) {
			t.Errorf("Delete at a version of a hash = %v, want ErrCorruptRecord", err)
		}
		if n, _ := c.Exists(ctx, key).Result(); n != 1 {
			t.Error("the hash is gone")
		}
		if err := b.Delete(ctx, key, session.Version{}); err != nil {
			t.Errorf("Delete(zero Version) of a hash: %v", err)
		}
		if n, _ := c.Exists(ctx, key).Result(); n != 0 {
			t.Error("Delete with the zero Version left the hash")
		}
	})

	t.Run("TTL", func(t *testing.T) {
		key := b.Key("ttl")
		h.reset()
		if _, err := b.Put(ctx, key, []byte("a"), 1500*time.Microsecond, session.Version{}); err != nil {
			t.Fatal(err)
		}
		if _, cmds := h.take(); len(cmds) != 1 || !strings.HasSuffix(cmds[0], " <record> 2") {
			t.Errorf("Put with 1.5ms: %q, want PX 2 (rounded up)", cmds)
		}
		if _, err := b.Put(ctx, key+"x", []byte("a"), 0, session.Version{}); err != nil {
			t.Fatal(err)
		}
		if d, _ := c.PTTL(ctx, key+"x").Result(); d != -1 {
			t.Errorf("PTTL after Put without a ttl = %v, want -1", d)
		}
		v, err := b.Put(ctx, key+"x", []byte("b"), time.Hour, versionOf("a"))
		if err != nil {
			t.Fatal(err)
		}
		if d, _ := c.PTTL(ctx, key+"x").Result(); d <= time.Hour-time.Minute || d > time.Hour {
			t.Errorf("PTTL after Put with 1h = %v", d)
		}
		// Touch changes the TTL, not the Version.
		h.reset()
		if err := b.Touch(ctx, key+"x", 2*time.Hour); err != nil {
			t.Fatal(err)
		}
		expect(t, "Touch", "pexpire "+key+"x 7200000")
		if _, got, _ := b.Get(ctx, key+"x"); got != v {
			t.Error("Touch changed the Version")
		}
		if d, _ := c.PTTL(ctx, key+"x").Result(); d <= 2*time.Hour-time.Minute {
			t.Errorf("PTTL after Touch(2h) = %v", d)
		}
		if err := b.Touch(ctx, key+"x", 0); err != nil {
			t.Fatal(err)
		}
		if d, _ := c.PTTL(ctx, key+"x").Result(); d != -1 {
			t.Errorf("PTTL after Touch(0) = %v, want -1", d)
		}
		for _, ttl := range []time.Duration{0, time.Minute} {
			if err := b.Touch(ctx, b.Key("absent"), ttl); err != session.ErrNotFound {
				t.Errorf("Touch(absent, %v) = %v, want ErrNotFound", ttl, err)
			}
		}
		if n, _ := c.Exists(ctx, b.Key("absent")).Result(); n != 0 {
			t.Error("Touch created the absent key")
		}
	})

	t.Run("locks", func(t *testing.T) {
		const id = "lockedSession"
		lk := b.lockKey(id)
		h.reset()
		ok, err := b.TryLock(ctx, id, "tokenA", 30*time.Second)
		if err != nil || !ok {
			t.Fatalf("TryLock of a free lock = %v, %v", ok, err)
		}
		expect(t, "TryLock", "set "+lk+" tokenA nx px 30000")
		if d, _ := c.PTTL(ctx, lk).Result(); d <= 29*time.Second || d > 30*time.Second {
			t.Errorf("lock PTTL %v, want 30s", d)
		}
		if ok, err := b.TryLock(ctx, id, "tokenB", 30*time.Second); err != nil || ok {
			t.Errorf("TryLock of a held lock = %v, %v; want false", ok, err)
		}
		if ok, err := b.TryLock(ctx, "other", "tokenB", 30*time.Second); err != nil || !ok {
			t.Errorf("TryLock of another session's lock = %v, %v", ok, err)
		}
		h.reset()
		if err := b.Unlock(ctx, id, "tokenB"); err != nil {
			t.Fatal(err)
		}
		expect(t, "Unlock", "evalsha "+unlockScript.Hash()+" 1 "+lk+" tokenB")
		if s, _ := stored(t, lk); s != "tokenA" {
			t.Errorf("Unlock with another token freed the lock (%q)", s)
		}
		if err := b.Unlock(ctx, id, "tokenA"); err != nil {
			t.Fatal(err)
		}
		if _, ok := stored(t, lk); ok {
			t.Error("Unlock with the holder's token left the lock")
		}
		if err := b.Unlock(ctx, id, "tokenA"); err != nil {
			t.Errorf("Unlock of a free lock: %v", err)
		}
		if ok, err := b.TryLock(ctx, id, "tokenB", 30*time.Second); err != nil || !ok {
			t.Errorf("TryLock after Unlock = %v, %v", ok, err)
		}
		// A lock expires by itself: the time to live is the lock key's TTL.
		if ok, err := b.TryLock(ctx, "short", "tokenC", time.Millisecond); err != nil || !ok {
			t.Fatalf("TryLock(1ms) = %v, %v", ok, err)
		}
		deadline := time.Now().Add(5 * time.Second)
		for {
			if ok, err := b.TryLock(ctx, "short", "tokenD", time.Minute); err != nil {
				t.Fatal(err)
			} else if ok {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("a 1ms lock was still held after 5s")
			}
			time.Sleep(time.Millisecond)
		}
		if ok, err := b.TryLock(ctx, id, "t", 0); err == nil || ok {
			t.Errorf("TryLock with ttl 0 = %v, %v; want an error", ok, err)
		}
	})

	t.Run("first run of a script", func(t *testing.T) {
		// With the script cache flushed, the first EVALSHA is answered
		// NOSCRIPT and go-redis sends EVAL, which loads it: two round trips
		// once per script and server, then one.
		flush(t, c)
		key := b.Key("flushed")
		h.reset()
		if _, err := b.Put(ctx, key, []byte("a"), 0, session.Version{}); err != nil {
			t.Fatal(err)
		}
		expect(t, "first Put on a server", "evalsha "+putScript.Hash(), "eval ")
		if _, err := b.Put(ctx, key, []byte("b"), 0, versionOf("a")); err != nil {
			t.Fatal(err)
		}
		expect(t, "next Put", "evalsha "+putScript.Hash())
		loadScripts(t, c)
		h.reset()
	})
}

// flush empties the script cache of every server behind c.
func flush(t *testing.T, c redis.UniversalClient) {
	t.Helper()
	ctx := context.Background()
	var err error
	switch cc := c.(type) {
	case *redis.ClusterClient:
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *redis.Client) error { return n.ScriptFlush(ctx).Err() })
	default:
		err = c.ScriptFlush(ctx).Err()
	}
	if err != nil {
		t.Fatal(err)
	}
}

func TestBackendContract(t *testing.T) {
	backendContract(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestBackendContractCluster(t *testing.T) {
	backendContract(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}
