package memcachestorage

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
)

// The backend's contract (session.Backend, Toucher, Locker) against a real
// memcached, command by command: what each version makes Put and Delete do,
// what another client's writes do to them, and what is on the server
// afterwards (read with a plain get, past the backend).

func contractBackend(t *testing.T) (*backend, *memcache.Client, context.Context) {
	t.Helper()
	_, client := startMemcached(t)
	return newTestBackend(t, client, Options{}), client, context.Background()
}

// raw is what the server holds under key, past the backend: nil when
// nothing.
func raw(t *testing.T, client *memcache.Client, key string) *memcache.Item {
	t.Helper()
	it, err := client.Get(key)
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return it
}

func wantValue(t *testing.T, client *memcache.Client, key, want string) {
	t.Helper()
	it := raw(t, client, key)
	if it == nil {
		t.Fatalf("%s: nothing stored, want %q", key, want)
	}
	if string(it.Value) != want {
		t.Fatalf("%s holds %q, want %q", key, it.Value, want)
	}
}

func mustPut(t *testing.T, b *backend, key, data string, v session.Version) session.Version {
	t.Helper()
	nv, err := b.Put(context.Background(), key, []byte(data), time.Hour, v)
	if err != nil {
		t.Fatalf("Put(%q at %+v): %v", data, v, err)
	}
	return nv
}

func mustGet(t *testing.T, b *backend, key, want string) session.Version {
	t.Helper()
	data, v, err := b.Get(context.Background(), key)
	if err != nil || string(data) != want {
		t.Fatalf("Get = %q, %v; want %q", data, err, want)
	}
	if v.IsZero() || v.N == 0 {
		t.Fatalf("Get returned version %+v, want a CAS id", v)
	}
	return v
}

func TestBackendGetPut(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	if _, v, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) || !v.IsZero() {
		t.Fatalf("Get of nothing: %+v, %v; want ErrNotFound", v, err)
	}
	w := mustPut(t, b, key, "one", session.Version{})
	if w != (session.Version{Tag: "one"}) {
		t.Errorf("Put returned %+v, want the Tag of the bytes it wrote", w)
	}
	v1 := mustGet(t, b, key, "one")
	mustPut(t, b, key, "two", v1)
	v2 := mustGet(t, b, key, "two")
	if v2 == v1 {
		t.Errorf("the version did not change with a write: %+v", v1)
	}
	wantValue(t, client, key, "two")
}

// TestBackendStaleVersion: a Put or Delete at a version that is no longer
// the stored one returns ErrConflict and writes nothing.
func TestBackendStaleVersion(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	mustPut(t, b, key, "one", session.Version{})
	v1 := mustGet(t, b, key, "one")
	mustPut(t, b, key, "two", v1)
	if _, err := b.Put(ctx, key, []byte("three"), time.Hour, v1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at a stale version: %v, want ErrConflict", err)
	}
	wantValue(t, client, key, "two")
	if err := b.Delete(ctx, key, v1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Delete at a stale version: %v, want ErrConflict", err)
	}
	wantValue(t, client, key, "two")
	// At the current version both work; the delete leaves nothing, not a
	// tombstone.
	v2 := mustGet(t, b, key, "two")
	if err := b.Delete(ctx, key, v2); err != nil {
		t.Fatal(err)
	}
	if it := raw(t, client, key); it != nil {
		t.Fatalf("after Delete at the current version the server holds %q", it.Value)
	}
	// A version of an item that is gone is stale too.
	if _, err := b.Put(ctx, key, []byte("four"), time.Hour, v2); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at the version of a deleted item: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, v2); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Delete at the version of a deleted item: %v, want ErrConflict", err)
	}
	if it := raw(t, client, key); it != nil {
		t.Fatalf("the server holds %q", it.Value)
	}
}

// TestBackendForeignSet: a plain set by another client (as Remix writes)
// moves the CAS id, so a Put or Delete at the version read before it is a
// conflict and the other client's bytes stay.
func TestBackendForeignSet(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	mustPut(t, b, key, "ours", session.Version{})
	v := mustGet(t, b, key, "ours")
	if err := client.Set(&memcache.Item{Key: key, Value: []byte("remix")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, key, []byte("ours again"), time.Hour, v); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put after a foreign set: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, v); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Delete after a foreign set: %v, want ErrConflict", err)
	}
	wantValue(t, client, key, "remix")
	// Even a set of the same bytes is a write.
	v = mustGet(t, b, key, "remix")
	if err := client.Set(&memcache.Item{Key: key, Value: []byte("remix")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, key, []byte("ours"), time.Hour, v); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put after a foreign set of the same bytes: %v, want ErrConflict", err)
	}
}

// TestBackendPutAbsent: the zero version means "nothing stored": over an
// item it is a conflict and the item stays.
func TestBackendPutAbsent(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	mustPut(t, b, key, "first", session.Version{})
	if _, err := b.Put(ctx, key, []byte("second"), time.Hour, session.Version{}); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at the zero version over an item: %v, want ErrConflict", err)
	}
	wantValue(t, client, key, "first")
	// An item written by another client counts the same.
	other := b.Key("b")
	if err := client.Set(&memcache.Item{Key: other, Value: []byte("remix")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, other, []byte("ours"), time.Hour, session.Version{}); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at the zero version over a foreign item: %v, want ErrConflict", err)
	}
	wantValue(t, client, other, "remix")
}

// TestBackendTagVersion: a Put or Delete at the version a Put returned (the
// bytes it wrote) works while those bytes are stored, and is a conflict
// once anything else is.
func TestBackendTagVersion(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	w1 := mustPut(t, b, key, "one", session.Version{})
	w2 := mustPut(t, b, key, "two", w1)
	wantValue(t, client, key, "two")
	if _, err := b.Put(ctx, key, []byte("three"), time.Hour, w1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at a stale Tag: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, w1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Delete at a stale Tag: %v, want ErrConflict", err)
	}
	wantValue(t, client, key, "two")
	if err := client.Set(&memcache.Item{Key: key, Value: []byte("remix")}); err != nil {
		t.Fatal(err)
	}
	if _, err := b.Put(ctx, key, []byte("three"), time.Hour, w2); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at a Tag after a foreign set: %v, want ErrConflict", err)
	}
	wantValue(t, client, key, "remix")
	w3 := mustPut(t, b, key, "three", mustGet(t, b, key, "remix"))
	if err := b.Delete(ctx, key, w3); err != nil {
		t.Fatalf("Delete at the current Tag: %v", err)
	}
	if it := raw(t, client, key); it != nil {
		t.Fatalf("after Delete at the current Tag the server holds %q", it.Value)
	}
	if _, err := b.Put(ctx, key, []byte("four"), time.Hour, w3); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put at the Tag of a deleted item: %v, want ErrConflict", err)
	}
}

// TestBackendTombstone: an empty value reads as absent, Put at the zero
// version writes over it, and a Put or Delete at a version does not take it
// for the item it replaced.
func TestBackendTombstone(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	mustPut(t, b, key, "one", session.Version{})
	v1 := mustGet(t, b, key, "one")
	tomb := &memcache.Item{Key: key, Value: nil, Expiration: 60}
	if err := client.Set(tomb); err != nil {
		t.Fatal(err)
	}
	if _, v, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) || !v.IsZero() {
		t.Fatalf("Get of a tombstone: %+v, %v; want ErrNotFound", v, err)
	}
	if _, err := b.Put(ctx, key, []byte("two"), time.Hour, v1); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put over a tombstone at the version before it: %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, session.Version{Tag: "one"}); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Delete of a tombstone at a Tag: %v, want ErrConflict", err)
	}
	mustPut(t, b, key, "two", session.Version{})
	mustGet(t, b, key, "two")
	// Delete at the zero version removes a tombstone as anything else.
	if err := client.Set(tomb); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, key, session.Version{}); err != nil {
		t.Fatal(err)
	}
	if it := raw(t, client, key); it != nil {
		t.Fatalf("the server holds %q", it.Value)
	}
}

// TestBackendReplay: a store sent twice (as send does when the reply
// to the first was lost) is a conflict the second time, and what the first
// wrote stays readable: never a silent success over another write, never a
// spurious "not found".
func TestBackendReplay(t *testing.T) {
	b, client, ctx := contractBackend(t)
	key := b.Key("a")
	mustPut(t, b, key, "one", session.Version{})
	v := mustGet(t, b, key, "one")

	it := &memcache.Item{Key: key, Value: []byte("two"), Expiration: 3600, CasID: v.N}
	if err := b.cas(ctx, it); err != nil {
		t.Fatal(err)
	}
	if err := b.cas(ctx, it); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("the same cas again: %v, want ErrConflict", err)
	}
	mustGet(t, b, key, "two")

	// The same through Put.
	v = mustGet(t, b, key, "two")
	mustPut(t, b, key, "three", v)
	if _, err := b.Put(ctx, key, []byte("three"), time.Hour, v); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("Put replayed: %v, want ErrConflict", err)
	}
	mustGet(t, b, key, "three")

	// An add replayed.
	other := b.Key("b")
	mustPut(t, b, other, "new", session.Version{})
	if _, err := b.Put(ctx, other, []byte("new"), time.Hour, session.Version{}); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("add replayed: %v, want ErrConflict", err)
	}
	mustGet(t, b, other, "new")

	// A conditional delete replayed: a conflict, and the item stays gone.
	v = mustGet(t, b, other, "new")
	if err := b.Delete(ctx, other, v); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, other, v); !errors.Is(err, session.ErrConflict) {
		t.Fatalf("conditional delete replayed: %v, want ErrConflict", err)
	}
	if it := raw(t, client, other); it != nil {
		t.Fatalf("the server holds %q", it.Value)
	}
	// A plain delete replayed is not an error either time.
	if err := b.Delete(ctx, key, session.Version{}); err != nil {
		t.Fatal(err)
	}
	if err := b.Delete(ctx, key, session.Version{}); err != nil {
		t.Fatalf("plain delete of nothing: %v", err)
	}
}

// TestBackendTouch: touch moves the expiration, keeps the version, and
// reports a missing item.
func TestBackendTouch(t *testing.T) {
	srv, client := startMemcached(t)
	b := newTestBackend(t, client, Options{})
	ctx := context.Background()
	key := b.Key("a")
	mustPut(t, b, key, "one", session.Version{})
	v := mustGet(t, b, key, "one")
	before := time.Now().Unix()
	if err := b.Touch(ctx, key, 2*time.Hour); err != nil {
		t.Fatal(err)
	}
	if exp := expirationOf(t, srv.Addr(), key); exp < before+2*3600-1 || exp > time.Now().Unix()+2*3600+1 {
		t.Errorf("exp = %d after a 2-hour touch at %d", exp, before)
	}
	if got := mustGet(t, b, key, "one"); got != v {
		t.Errorf("touch changed the version from %+v to %+v", v, got)
	}
	mustPut(t, b, key, "two", v)
	if err := b.Touch(ctx, b.Key("nothing"), time.Hour); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of nothing: %v, want ErrNotFound", err)
	}
}

// TestBackendLock: one holder at a time; Unlock by another token leaves the
// lock; the lock expires after its TTL, rounded up to whole seconds.
func TestBackendLock(t *testing.T) {
	srv, client := startMemcached(t)
	b := newTestBackend(t, client, Options{})
	ctx := context.Background()
	id := session.New().ID()
	key := b.lockKey(id)
	before := time.Now().Unix()
	if ok, err := b.TryLock(ctx, id, "A", 1500*time.Millisecond); !ok || err != nil {
		t.Fatalf("TryLock of a free lock: %v, %v", ok, err)
	}
	if exp := expirationOf(t, srv.Addr(), key); exp < before+1 || exp > time.Now().Unix()+3 {
		t.Errorf("lock exp = %d at %d, want 2 s on", exp, before)
	}
	if ok, err := b.TryLock(ctx, id, "B", time.Minute); ok || err != nil {
		t.Fatalf("TryLock of a held lock: %v, %v", ok, err)
	}
	if err := b.Unlock(ctx, id, "B"); err != nil {
		t.Fatal(err)
	}
	wantValue(t, client, key, "A")
	if err := b.Unlock(ctx, id, "A"); err != nil {
		t.Fatal(err)
	}
	if it := raw(t, client, key); it != nil {
		t.Fatalf("after Unlock the server holds %q", it.Value)
	}
	if ok, err := b.TryLock(ctx, id, "B", time.Millisecond); !ok || err != nil {
		t.Fatalf("TryLock after Unlock: %v, %v", ok, err)
	}
	if exp := expirationOf(t, srv.Addr(), key); exp < before || exp > time.Now().Unix()+2 {
		t.Errorf("a 1 ms lock: exp = %d at %d, want 1 s on", exp, before)
	}
	// A lock left as a tombstone is free.
	if err := client.Set(&memcache.Item{Key: key, Expiration: 60}); err != nil {
		t.Fatal(err)
	}
	if ok, err := b.TryLock(ctx, id, "C", time.Minute); !ok || err != nil {
		t.Fatalf("TryLock over a tombstone: %v, %v", ok, err)
	}
	wantValue(t, client, key, "C")
	// Locks of different sessions are independent, and never a record.
	other := session.New().ID()
	if ok, err := b.TryLock(ctx, other, "C", time.Minute); !ok || err != nil {
		t.Fatalf("TryLock of another session: %v, %v", ok, err)
	}
	if b.isRecordKey(key) || key == b.Key(id) || key == b.IndexKey(id) {
		t.Errorf("lock key %s collides", key)
	}
	if _, err := b.TryLock(ctx, id, "", time.Minute); err == nil {
		t.Error("TryLock with an empty token: no error")
	}
}

// TestBackendKeys: the three kinds of keys, their lengths and their
// separation.
func TestBackendKeys(t *testing.T) {
	b, err := newBackend(memcache.New("127.0.0.1:1"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	// SHA-256("abc") from FIPS 180-2.
	if got, want := b.Key("abc"), "remix:session:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"; got != want {
		t.Errorf("Key = %q, want %q", got, want)
	}
	ix, lk := b.IndexKey("abc"), b.lockKey("abc")
	for _, k := range []string{ix, lk} {
		if len(k) != len(DefaultKeyPrefix)+1+digestLength || !strings.HasPrefix(k, DefaultKeyPrefix) || b.isRecordKey(k) {
			t.Errorf("key %q", k)
		}
	}
	if ix[len(DefaultKeyPrefix)] != 'u' || lk[len(DefaultKeyPrefix)] != 'l' {
		t.Errorf("index key %q, lock key %q", ix, lk)
	}
	if strings.Contains(ix, "ba7816bf8f01cfea") || strings.Contains(lk, "ba7816bf8f01cfea") {
		t.Error("an index or lock key holds the record key's hash")
	}
	b, _ = newBackend(memcache.New("127.0.0.1:1"), Options{KeyPrefix: strings.Repeat("p", MaxKeyPrefixLength)})
	for _, k := range []string{b.Key(strings.Repeat("x", 128)), b.IndexKey(strings.Repeat("x", 1000)), b.lockKey("x")} {
		if len(k) > MaxKeyLength {
			t.Errorf("key of %d bytes", len(k))
		}
	}
	if n := len(b.Key("x")); n != MaxKeyLength {
		t.Errorf("longest record key is %d bytes, want %d", n, MaxKeyLength)
	}
}

// TestBackendOversized: an item over the limit is refused before it is
// sent, and what the key held stays.
func TestBackendOversized(t *testing.T) {
	_, client := startMemcached(t)
	b := newTestBackend(t, client, Options{MaxItemSize: 2048})
	ctx := context.Background()
	key := b.Key("a")
	mustPut(t, b, key, "small", session.Version{})
	v := mustGet(t, b, key, "small")
	big := make([]byte, 2048)
	for _, v := range []session.Version{v, {}, {Tag: "small"}} {
		if _, err := b.Put(ctx, key, big, time.Hour, v); !errors.Is(err, ErrTooLarge) || !errors.Is(err, session.ErrTooLarge) {
			t.Errorf("Put of %d bytes at %+v: %v, want ErrTooLarge", len(big), v, err)
		}
	}
	mustGet(t, b, key, "small")
}

// TestBackendNoCAS: a memcached started with -C gives no CAS ids; the
// backend says so rather than return the zero version ("absent") for an
// item.
func TestBackendNoCAS(t *testing.T) {
	_, client := startMemcached(t, "-C")
	b := newTestBackend(t, client, Options{})
	key := b.Key("a")
	if err := client.Set(&memcache.Item{Key: key, Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := b.Get(context.Background(), key); !errors.Is(err, errNoCAS) {
		t.Errorf("Get from memcached -C: %v, want errNoCAS", err)
	}
}

// TestBackendDone: a context already done fails every call before it is
// sent.
func TestBackendDone(t *testing.T) {
	b, client, _ := contractBackend(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	key := b.Key("a")
	if _, _, err := b.Get(ctx, key); !errors.Is(err, context.Canceled) {
		t.Errorf("Get: %v", err)
	}
	if _, err := b.Put(ctx, key, []byte("x"), 0, session.Version{}); !errors.Is(err, context.Canceled) {
		t.Errorf("Put: %v", err)
	}
	if err := b.Delete(ctx, key, session.Version{N: 1}); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete: %v", err)
	}
	if err := b.Touch(ctx, key, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("Touch: %v", err)
	}
	if _, err := b.TryLock(ctx, "id", "t", time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("TryLock: %v", err)
	}
	if err := b.Unlock(ctx, "id", "t"); !errors.Is(err, context.Canceled) {
		t.Errorf("Unlock: %v", err)
	}
	if it := raw(t, client, key); it != nil {
		t.Errorf("the server holds %q", it.Value)
	}
}

// TestBackendDeleteVsAdd races a Delete at a version with a Put at the zero
// version that retries until the key is free (as the session package
// writes an index document again after it was deleted), and an Unlock with
// a TryLock that retries: the write that won after the delete is never
// removed by it. (A cas to a tombstone followed by a plain delete could
// remove it; Delete's single cas cannot.)
func TestBackendDeleteVsAdd(t *testing.T) {
	b, client, ctx := contractBackend(t)
	const rounds = 300
	for round := 0; round < rounds; round++ {
		key := b.Key("a")
		mustPut(t, b, key, "old", session.Version{})
		v := mustGet(t, b, key, "old")
		id := session.New().ID()
		if ok, err := b.TryLock(ctx, id, "A", time.Minute); !ok || err != nil {
			t.Fatal(ok, err)
		}
		errs := make(chan error, 4)
		start := make(chan struct{})
		go func() {
			<-start
			errs <- b.Delete(ctx, key, v)
		}()
		go func() {
			<-start
			errs <- b.Unlock(ctx, id, "A")
		}()
		go func() {
			<-start
			for try := 0; try < 10000; try++ {
				_, err := b.Put(ctx, key, []byte("new"), time.Hour, session.Version{})
				if !errors.Is(err, session.ErrConflict) {
					errs <- err
					return
				}
			}
			errs <- errors.New("the key never became free")
		}()
		go func() {
			<-start
			for try := 0; try < 10000; try++ {
				ok, err := b.TryLock(ctx, id, "B", time.Minute)
				if ok || err != nil {
					errs <- err
					return
				}
			}
			errs <- errors.New("the lock never became free")
		}()
		close(start)
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		wantValue(t, client, key, "new")
		wantValue(t, client, b.lockKey(id), "B")
		if err := b.Delete(ctx, key, session.Version{}); err != nil {
			t.Fatal(err)
		}
	}
}
