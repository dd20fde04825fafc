package sessiontest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// The Backend contract scenarios (Config.Backend): versioned Get, Put and
// Delete, Touch, and the locks, tested on the backend itself, so that a
// third-party backend learns what it got wrong before a session scenario
// shows it as a lost update.

var contractScenarios = []scenario{
	{name: "backend: Put and Delete are compare-and-set on the version Get returned", backend: true, run: contractVersions},
	{name: "backend: index documents live apart from records", backend: true, run: contractIndexKey},
	{name: "backend: Touch extends a record without changing its version", backend: true, run: contractTouch},
	{name: "backend: a lock is held by one token at a time", backend: true, run: contractLock},
	{name: "backend: GetMulti reads what Get reads", backend: true, run: contractGetMulti},
}

func init() { scenarios = append(scenarios, contractScenarios...) }

func contractBackend(t *testing.T, c Config) (session.Backend, *env) {
	e := newEnv(t, c, nil)
	return c.backendOf(e.st), e
}

func contractVersions(t *testing.T, c Config) {
	b, e := contractBackend(t, c)
	ctx := context.Background()
	id := session.New().ID()
	e.saw(id)
	key := b.Key(id)
	if key == "" || key != b.Key(id) {
		t.Fatalf("Key(id) = %q, not stable", key)
	}
	if _, v, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) || !v.IsZero() {
		t.Fatalf("Get of nothing = %v, %v; want ErrNotFound and the zero Version", v, err)
	}
	if err := b.Delete(ctx, key, session.Version{}); err != nil {
		t.Errorf("Delete of nothing: %v", err)
	}
	v1, err := b.Put(ctx, key, []byte(`[{"a":1},{}]`), time.Hour, session.Version{})
	if err != nil || v1.IsZero() {
		t.Fatalf("Put where nothing is = %v, %v", v1, err)
	}
	data, got, err := b.Get(ctx, key)
	if err != nil || string(data) != `[{"a":1},{}]` || got.IsZero() {
		t.Fatalf("Get = %q, %v, %v", data, got, err)
	}
	if _, err := b.Put(ctx, key, []byte(`[{"a":2},{}]`), time.Hour, session.Version{}); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put of the zero Version over a record = %v, want ErrConflict", err)
	}
	v2, err := b.Put(ctx, key, []byte(`[{"a":3},{}]`), time.Hour, got)
	if err != nil || v2.IsZero() {
		t.Fatalf("Put over the version read = %v, %v", v2, err)
	}
	if _, err := b.Put(ctx, key, []byte(`[{"a":4},{}]`), time.Hour, got); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put over a stale version = %v, want ErrConflict", err)
	}
	if err := b.Delete(ctx, key, got); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Delete of a stale version = %v, want ErrConflict", err)
	}
	if data, _, _ := b.Get(ctx, key); string(data) != `[{"a":3},{}]` {
		t.Errorf("after the refused writes the record is %q, want the last accepted", data)
	}
	// The version Put returned is the one stored.
	v3, err := b.Put(ctx, key, []byte(`[{"a":5},{}]`), time.Hour, v2)
	if err != nil {
		t.Fatalf("Put over the version the last Put returned: %v", err)
	}
	if err := b.Delete(ctx, key, v3); err != nil {
		t.Errorf("Delete of the current version: %v", err)
	}
	if _, _, err := b.Get(ctx, key); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Get after Delete: %v", err)
	}
	if err := b.Delete(ctx, key, v3); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Delete of a version that is gone = %v, want ErrConflict", err)
	}
	if _, err := b.Put(ctx, key, []byte(`[{},{}]`), time.Hour, v3); !errors.Is(err, session.ErrConflict) {
		t.Errorf("Put over a version that is gone = %v, want ErrConflict", err)
	}
}

func contractIndexKey(t *testing.T, c Config) {
	b, e := contractBackend(t, c)
	ctx := context.Background()
	id := session.New().ID()
	e.saw(id)
	ada, again := b.IndexKey("ada"), b.IndexKey("ada")
	if ada == b.Key(id) || ada == b.IndexKey("bob") || ada != again {
		t.Fatalf("IndexKey is not distinct and stable: %q %q %q", b.IndexKey("ada"), b.IndexKey("bob"), b.Key(id))
	}
	ik := b.IndexKey("ada")
	v, err := b.Put(ctx, ik, []byte("doc"), time.Hour, session.Version{})
	if err != nil {
		t.Fatalf("Put of an index document: %v", err)
	}
	if data, got, err := b.Get(ctx, ik); err != nil || string(data) != "doc" || got.IsZero() {
		t.Fatalf("Get of an index document = %q, %v, %v", data, got, err)
	}
	if _, _, err := b.Get(ctx, b.Key(id)); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("a record appeared with the index document: %v", err)
	}
	if err := b.Delete(ctx, ik, v); err != nil {
		t.Errorf("Delete of an index document: %v", err)
	}
}

func contractTouch(t *testing.T, c Config) {
	b, e := contractBackend(t, c)
	tb, ok := b.(session.Toucher)
	if !ok {
		return // optional: sliding expiry rewrites records instead
	}
	ctx := context.Background()
	id := session.New().ID()
	e.saw(id)
	key := b.Key(id)
	if err := tb.Touch(ctx, key, time.Hour); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("Touch of nothing = %v, want ErrNotFound", err)
	}
	v, err := b.Put(ctx, key, []byte(`[{},{}]`), time.Hour, session.Version{})
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Touch(ctx, key, 2*time.Hour); err != nil {
		t.Fatalf("Touch: %v", err)
	}
	if _, err := b.Put(ctx, key, []byte(`[{"a":1},{}]`), time.Hour, v); err != nil {
		t.Errorf("Put over the version before a Touch = %v; a touch must not change the version", err)
	}
}

func contractLock(t *testing.T, c Config) {
	b, e := contractBackend(t, c)
	lk, ok := b.(session.Locker)
	if !ok {
		return // optional: the storage is then no session.Locking
	}
	ctx := context.Background()
	id := session.New().ID()
	e.saw(id)
	if ok, err := lk.TryLock(ctx, id, "t1", time.Minute); !ok || err != nil {
		t.Fatalf("TryLock of a free lock = %v, %v", ok, err)
	}
	if ok, err := lk.TryLock(ctx, id, "t2", time.Minute); ok || err != nil {
		t.Errorf("TryLock of a held lock = %v, %v; want false", ok, err)
	}
	if err := lk.Unlock(ctx, id, "t2"); err != nil {
		t.Errorf("Unlock with another token: %v", err)
	}
	if ok, _ := lk.TryLock(ctx, id, "t3", time.Minute); ok {
		t.Error("Unlock with another token freed the lock")
	}
	if err := lk.Unlock(ctx, id, "t1"); err != nil {
		t.Errorf("Unlock: %v", err)
	}
	if ok, err := lk.TryLock(ctx, id, "t4", time.Minute); !ok || err != nil {
		t.Errorf("TryLock after Unlock = %v, %v", ok, err)
	}
	lk.Unlock(ctx, id, "t4")
}

func contractGetMulti(t *testing.T, c Config) {
	b, e := contractBackend(t, c)
	mg, ok := b.(session.MultiGetter)
	if !ok {
		return // optional: listing then reads one record at a time
	}
	ctx := context.Background()
	ids := []string{session.New().ID(), session.New().ID(), session.New().ID()}
	e.saw(ids...)
	keys := make([]string, len(ids))
	for i, id := range ids {
		keys[i] = b.Key(id)
	}
	for _, i := range []int{0, 2} {
		if _, err := b.Put(ctx, keys[i], []byte(fmt.Sprintf(`[{"i":%d},{}]`, i)), time.Hour, session.Version{}); err != nil {
			t.Fatal(err)
		}
	}
	got, err := mg.GetMulti(ctx, keys)
	if err != nil || len(got) != 3 {
		t.Fatalf("GetMulti = %d values, %v", len(got), err)
	}
	if string(got[0]) != `[{"i":0},{}]` || got[1] != nil || string(got[2]) != `[{"i":2},{}]` {
		t.Errorf("GetMulti = %q, want the two records in order and nil for the missing one", got)
	}
	if got, err := mg.GetMulti(ctx, nil); err != nil || len(got) != 0 {
		t.Errorf("GetMulti of no keys = %q, %v", got, err)
	}
}
