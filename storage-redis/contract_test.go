package redisstorage

import (
	"context"
	"crypto/sha1"
	"encoding/hex"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// contract checks the compare-and-set contract of session.Backend (and
// Toucher, Locker) on the backend itself, against real servers through c:
// versions, conflicts (with this package's writes and with another
// program's plain SET, as a Remix app writes), WRONGTYPE, and the round
// trips and commands of each call.
type contract struct {
	ctx context.Context
	c   redis.UniversalClient
	b   *backend
	h   *roundTrips
}

func backendContract(t *testing.T, c redis.UniversalClient) {
	k := &contract{ctx: context.Background(), c: c, b: mustBackend(t, c, Options{KeyPrefix: freshPrefix()}), h: &roundTrips{}}
	c.AddHook(k.h)
	must(t, c.Ping(k.ctx).Err()) // the cluster client loads its slot map
	loadScripts(t, c)
	k.h.reset()
	t.Run("keys", k.keys)
	t.Run("put, get, versions", k.versions)
	t.Run("stale versions", k.staleVersions)
	t.Run("another program's SET is a conflict", k.foreignSet)
	t.Run("delete at a version", k.deleteAtVersion)
	t.Run("a large record's version is compared by its SHA-1", k.largeRecord)
	t.Run("delete with the zero version", k.deleteZero)
	t.Run("an empty value has a version", k.emptyValue)
	t.Run("WRONGTYPE is a corrupt record", k.wrongType)
	t.Run("TTL", k.ttl)
	t.Run("touch", k.touch)
	t.Run("locks", k.locks)
	t.Run("lock release", k.lockRelease)
	t.Run("a lock expires", k.lockExpires)
	t.Run("first run of a script", k.firstRun)
}

// expect checks the round trips and the commands since the last check:
// each wanted command is a prefix of the one sent, in order.
func (k *contract) expect(t *testing.T, what string, want ...string) {
	t.Helper()
	n, cmds := k.h.take()
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

// put is b.Put that fails the test on error.
func (k *contract) put(t *testing.T, key, data string, ttl time.Duration, v session.Version) session.Version {
	t.Helper()
	nv, err := k.b.Put(k.ctx, key, []byte(data), ttl, v)
	must(t, err)
	return nv
}

func (k *contract) keys(t *testing.T) {
	const id = "abc"
	if got, want := k.b.Key(id), k.b.prefix+session.HashID(id); got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	if got := k.b.IndexKey("ada"); got != k.b.prefix+"index:ada" {
		t.Errorf("IndexKey = %q", got)
	}
	if got, want := k.b.lockKey(id), k.b.prefix+"lock:"+session.HashID(id); got != want {
		t.Errorf("lock key = %q, want %q", got, want)
	}
	plain := mustBackend(t, k.c, Options{KeyPrefix: k.b.prefix, PlainKeys: true})
	if got := plain.Key(id); got != k.b.prefix+id {
		t.Errorf("Key with PlainKeys = %q", got)
	}
	if got := plain.lockKey(id); got != k.b.prefix+"lock:"+id {
		t.Errorf("lock key with PlainKeys = %q", got)
	}
}

func (k *contract) versions(t *testing.T) {
	key := k.b.Key("versions")
	_, v, err := k.b.Get(k.ctx, key)
	wantIs(t, "Get(absent)", err, session.ErrNotFound)
	if !v.IsZero() {
		t.Errorf("Get(absent): version %v, want the zero Version", v)
	}
	k.expect(t, "Get", "get "+key)
	v1 := k.put(t, key, "one", time.Minute, session.Version{})
	if v1.IsZero() {
		t.Fatal("Put(zero version, absent) returned the zero Version")
	}
	k.expect(t, "Put (script loaded)", "evalsha "+putScript.Hash()+" 1 "+key+"  <record> 60000 absent")
	data, got, err := k.b.Get(k.ctx, key)
	if err != nil || string(data) != "one" || got != v1 {
		t.Fatalf("Get = %q, %v, %v; want \"one\" at the version Put returned", data, got, err)
	}
	k.h.reset()
	if v2 := k.put(t, key, "two", time.Minute, v1); v2 == v1 {
		t.Error("Put at the current version returned the same Version")
	}
	k.expect(t, "Put at a version", "evalsha "+putScript.Hash()+" 1 "+key+" one <record> 60000 bytes")
}

func (k *contract) staleVersions(t *testing.T) {
	key := k.b.Key("stale")
	v1 := k.put(t, key, "one", time.Minute, session.Version{})
	v2 := k.put(t, key, "two", time.Minute, v1)
	// v1 is stale now: nothing is written.
	_, err := k.b.Put(k.ctx, key, []byte("three"), time.Minute, v1)
	wantIs(t, "Put at a stale version", err, session.ErrConflict)
	wantStored(t, k.c, "after a conflicting Put", key, "two")
	// The zero Version requires an absent key.
	_, err = k.b.Put(k.ctx, key, []byte("four"), time.Minute, session.Version{})
	wantIs(t, "Put with the zero Version over an existing key", err, session.ErrConflict)
	wantStored(t, k.c, "after a conflicting Put", key, "two")
	// A version of a key that is gone is a conflict too, and writes
	// nothing (no resurrection).
	gone := k.b.Key("gone")
	_, err = k.b.Put(k.ctx, gone, []byte("x"), time.Minute, v2)
	wantIs(t, "Put at a version over an absent key", err, session.ErrConflict)
	wantAbsent(t, k.c, "a conflicting Put", gone)
	k.put(t, key, "five", time.Minute, v2)
}

func (k *contract) foreignSet(t *testing.T) {
	key := k.b.Key("remix")
	v := k.put(t, key, `[{"n":1},{}]`, 0, session.Version{})
	// A Remix app saves the session with a plain SET.
	must(t, k.c.Set(k.ctx, key, `[{"n":1,"remix":true},{}]`, 0).Err())
	_, err := k.b.Put(k.ctx, key, []byte(`[{"n":2},{}]`), 0, v)
	wantIs(t, "Put after another client's SET", err, session.ErrConflict)
	wantStored(t, k.c, "the conflicting Put", key, `[{"n":1,"remix":true},{}]`)
	wantIs(t, "Delete after another client's SET", k.b.Delete(k.ctx, key, v), session.ErrConflict)
	// Read again, the Remix write is the current version.
	_, cur, err := k.b.Get(k.ctx, key)
	must(t, err)
	k.put(t, key, `[{"n":2,"remix":true},{}]`, 0, cur)
}

func (k *contract) deleteAtVersion(t *testing.T) {
	key := k.b.Key("del")
	v1 := k.put(t, key, "one", time.Minute, session.Version{})
	v2 := k.put(t, key, "two", time.Minute, v1)
	wantIs(t, "Delete at a stale version", k.b.Delete(k.ctx, key, v1), session.ErrConflict)
	wantStored(t, k.c, "after a conflicting Delete", key, "two")
	k.h.reset()
	must(t, k.b.Delete(k.ctx, key, v2))
	k.expect(t, "Delete at a version", "evalsha "+delScript.Hash()+" 1 "+key+" two bytes")
	wantAbsent(t, k.c, "Delete at the current version", key)
	wantIs(t, "Delete at a version of an absent key", k.b.Delete(k.ctx, key, v2), session.ErrConflict)
}

func (k *contract) deleteZero(t *testing.T) {
	key := k.b.Key("delzero")
	k.h.reset()
	must(t, k.b.Delete(k.ctx, key, session.Version{}))
	k.expect(t, "Delete with the zero Version", "del "+key)
	k.put(t, key, "three", time.Minute, session.Version{})
	must(t, k.b.Delete(k.ctx, key, session.Version{}))
	wantAbsent(t, k.c, "Delete with the zero Version", key)
}

// largeRecord: above maxExpectBytes, Put and Delete send the SHA-1 of the
// bytes they read instead of the bytes, with the same conflicts; at the
// limit, still the bytes.
func (k *contract) largeRecord(t *testing.T) {
	key := k.b.Key("large")
	big := func(c string) string { return strings.Repeat(c, maxExpectBytes+1) }
	v1 := k.put(t, key, big("a"), time.Minute, session.Version{})
	k.h.reset()
	v2 := k.put(t, key, big("b"), time.Minute, v1)
	sum := sha1.Sum([]byte(big("a")))
	k.expect(t, "Put at the version of a large record", "evalsha "+putScript.Hash()+" 1 "+key+" "+hex.EncodeToString(sum[:])+" <record> 60000 sha1")
	_, err := k.b.Put(k.ctx, key, []byte("c"), time.Minute, v1)
	wantIs(t, "Put at a stale version of a large record", err, session.ErrConflict)
	wantIs(t, "Delete at a stale version of a large record", k.b.Delete(k.ctx, key, v1), session.ErrConflict)
	// Another program writes other bytes of the same length.
	must(t, k.c.Set(k.ctx, key, big("c"), 0).Err())
	_, err = k.b.Put(k.ctx, key, []byte("d"), time.Minute, v2)
	wantIs(t, "Put after another client's SET of a large record", err, session.ErrConflict)
	wantStored(t, k.c, "after the conflicting Put", key, big("c"))
	_, cur, err := k.b.Get(k.ctx, key)
	must(t, err)
	must(t, k.b.Delete(k.ctx, key, cur))
	wantAbsent(t, k.c, "Delete at the version of a large record", key)

	atLimit := strings.Repeat("e", maxExpectBytes)
	v := k.put(t, key, atLimit, time.Minute, session.Version{})
	k.h.reset()
	k.put(t, key, "f", time.Minute, v)
	k.expect(t, "Put at the version of a record at the limit", "evalsha "+putScript.Hash()+" 1 "+key+" "+atLimit+" <record> 60000 bytes")
}

func (k *contract) emptyValue(t *testing.T) {
	key := k.b.Key("empty")
	must(t, k.c.Set(k.ctx, key, "", 0).Err())
	data, v, err := k.b.Get(k.ctx, key)
	if err != nil || len(data) != 0 || v.IsZero() {
		t.Fatalf("Get(\"\") = %q, %v, %v; want a non-zero Version", data, v, err)
	}
	if v2 := k.put(t, key, "", 0, v); v2 != v {
		t.Fatalf("Put(\"\") over \"\" = %v, want %v", v2, v)
	}
	_, err = k.b.Put(k.ctx, key, []byte("x"), 0, session.Version{})
	wantIs(t, "Put with the zero Version over \"\"", err, session.ErrConflict)
	must(t, k.b.Delete(k.ctx, key, v))
}

func (k *contract) wrongType(t *testing.T) {
	key := k.b.Key("hash")
	must(t, k.c.HSet(k.ctx, key, "f", "v").Err())
	_, v, err := k.b.Get(k.ctx, key)
	wantIs(t, "Get of a hash", err, session.ErrCorruptRecord)
	if !v.IsZero() || err != nil && strings.Contains(err.Error(), key) {
		t.Errorf("Get of a hash = %v, %v; want the zero Version and an error without the key", v, err)
	}
	_, err = k.b.Put(k.ctx, key, []byte("x"), 0, session.Version{})
	wantIs(t, "Put over a hash", err, session.ErrCorruptRecord)
	_, err = k.b.Put(k.ctx, key, []byte("x"), 0, versionOf("v"))
	wantIs(t, "Put at a version over a hash", err, session.ErrCorruptRecord)
	wantIs(t, "Delete at a version of a hash", k.b.Delete(k.ctx, key, versionOf("v")), session.ErrCorruptRecord)
	if n, _ := k.c.Exists(k.ctx, key).Result(); n != 1 {
		t.Error("the hash is gone")
	}
	must(t, k.b.Delete(k.ctx, key, session.Version{}))
	wantAbsent(t, k.c, "Delete with the zero Version of a hash", key)
}

func (k *contract) ttl(t *testing.T) {
	key := k.b.Key("ttl")
	k.h.reset()
	k.put(t, key, "a", 1500*time.Microsecond, session.Version{})
	if _, cmds := k.h.take(); len(cmds) != 1 || !strings.HasSuffix(cmds[0], " <record> 2 absent") {
		t.Errorf("Put with 1.5ms: %q, want PX 2 (rounded up)", cmds)
	}
	k.put(t, key+"x", "a", 0, session.Version{})
	wantPTTL(t, k.c, "after Put without a ttl", key+"x", -1, -1)
	k.put(t, key+"x", "b", time.Hour, versionOf("a"))
	wantPTTL(t, k.c, "after Put with 1h", key+"x", time.Hour-time.Minute, time.Hour)
}

func (k *contract) touch(t *testing.T) {
	key := k.b.Key("touch")
	v := k.put(t, key, "b", time.Hour, session.Version{})
	// Touch changes the TTL, not the Version.
	k.h.reset()
	must(t, k.b.Touch(k.ctx, key, 2*time.Hour))
	k.expect(t, "Touch", "pexpire "+key+" 7200000")
	if _, got, _ := k.b.Get(k.ctx, key); got != v {
		t.Error("Touch changed the Version")
	}
	wantPTTL(t, k.c, "after Touch(2h)", key, 2*time.Hour-time.Minute, 2*time.Hour)
	must(t, k.b.Touch(k.ctx, key, 0))
	wantPTTL(t, k.c, "after Touch(0)", key, -1, -1)
	for _, ttl := range []time.Duration{0, time.Minute} {
		wantIs(t, "Touch(absent)", k.b.Touch(k.ctx, k.b.Key("absent"), ttl), session.ErrNotFound)
	}
	wantAbsent(t, k.c, "Touch of an absent key", k.b.Key("absent"))
}

// tryLock is b.TryLock that fails the test unless it answers want.
func (k *contract) tryLock(t *testing.T, id, token string, ttl time.Duration, want bool) {
	t.Helper()
	ok, err := k.b.TryLock(k.ctx, id, token, ttl)
	if err != nil || ok != want {
		t.Errorf("TryLock(%s, %s) = %v, %v; want %v", id, token, ok, err, want)
	}
}

func (k *contract) locks(t *testing.T) {
	const id = "lockedSession"
	lk := k.b.lockKey(id)
	k.h.reset()
	k.tryLock(t, id, "tokenA", 30*time.Second, true)
	k.expect(t, "TryLock", "set "+lk+" tokenA nx px 30000")
	wantPTTL(t, k.c, "lock", lk, 29*time.Second, 30*time.Second)
	k.tryLock(t, id, "tokenB", 30*time.Second, false)
	k.tryLock(t, "other", "tokenB", 30*time.Second, true)
	if ok, err := k.b.TryLock(k.ctx, id, "t", 0); err == nil || ok {
		t.Errorf("TryLock with ttl 0 = %v, %v; want an error", ok, err)
	}
}

func (k *contract) lockRelease(t *testing.T) {
	const id = "releasedSession"
	lk := k.b.lockKey(id)
	k.tryLock(t, id, "tokenA", 30*time.Second, true)
	k.h.reset()
	must(t, k.b.Unlock(k.ctx, id, "tokenB"))
	k.expect(t, "Unlock", "evalsha "+unlockScript.Hash()+" 1 "+lk+" tokenB")
	wantStored(t, k.c, "Unlock with another token", lk, "tokenA")
	must(t, k.b.Unlock(k.ctx, id, "tokenA"))
	wantAbsent(t, k.c, "Unlock with the holder's token", lk)
	must(t, k.b.Unlock(k.ctx, id, "tokenA")) // a free lock
	k.tryLock(t, id, "tokenB", 30*time.Second, true)
}

// lockExpires: the time to live is the lock key's TTL, after which another
// token takes it.
func (k *contract) lockExpires(t *testing.T) {
	k.tryLock(t, "short", "tokenC", time.Millisecond, true)
	deadline := time.Now().Add(5 * time.Second)
	for {
		ok, err := k.b.TryLock(k.ctx, "short", "tokenD", time.Minute)
		must(t, err)
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a 1ms lock was still held after 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// firstRun: with the script cache flushed, the first EVALSHA is answered
// NOSCRIPT and go-redis sends EVAL, which loads it: two round trips once
// per script and server, then one.
func (k *contract) firstRun(t *testing.T) {
	must(t, eachServer(k.c, func(ctx context.Context, n redis.UniversalClient) error { return n.ScriptFlush(ctx).Err() }))
	key := k.b.Key("flushed")
	k.h.reset()
	k.put(t, key, "a", 0, session.Version{})
	k.expect(t, "first Put on a server", "evalsha "+putScript.Hash(), "eval ")
	k.put(t, key, "b", 0, versionOf("a"))
	k.expect(t, "next Put", "evalsha "+putScript.Hash())
	loadScripts(t, k.c)
	k.h.reset()
}

func TestBackendContract(t *testing.T) {
	backendContract(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestBackendContractCluster(t *testing.T) {
	backendContract(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}
