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
	require(t, key != "" && key == b.Key(id), "Key(id) = %q, not stable", key)
	_, v, err := b.Get(ctx, key)
	require(t, errors.Is(err, session.ErrNotFound) && v.IsZero(), "Get of nothing = %v, %v; want ErrNotFound and the zero Version", v, err)
	noError(t, "Delete of nothing", b.Delete(ctx, key, session.Version{}))
	v1, err := b.Put(ctx, key, []byte(`[{"a":1},{}]`), time.Hour, session.Version{})
	must(t, "Put where nothing is", err)
	require(t, !v1.IsZero(), "Put where nothing is returned the zero Version")
	data, got, err := b.Get(ctx, key)
	must(t, "Get", err)
	require(t, string(data) == `[{"a":1},{}]` && !got.IsZero(), "Get = %q, %v; want the record Put stored and its version", data, got)
	_, err = b.Put(ctx, key, []byte(`[{"a":2},{}]`), time.Hour, session.Version{})
	isError(t, "Put of the zero Version over a record", err, session.ErrConflict)
	v2, err := b.Put(ctx, key, []byte(`[{"a":3},{}]`), time.Hour, got)
	must(t, "Put over the version read", err)
	require(t, !v2.IsZero(), "Put over the version read returned the zero Version")
	_, err = b.Put(ctx, key, []byte(`[{"a":4},{}]`), time.Hour, got)
	isError(t, "Put over a stale version", err, session.ErrConflict)
	isError(t, "Delete of a stale version", b.Delete(ctx, key, got), session.ErrConflict)
	data, _, _ = b.Get(ctx, key)
	equal(t, "the record after the refused writes (the last accepted)", string(data), `[{"a":3},{}]`)
	// The version Put returned is the one stored.
	v3, err := b.Put(ctx, key, []byte(`[{"a":5},{}]`), time.Hour, v2)
	must(t, "Put over the version the last Put returned", err)
	noError(t, "Delete of the current version", b.Delete(ctx, key, v3))
	_, _, err = b.Get(ctx, key)
	isError(t, "Get after Delete", err, session.ErrNotFound)
	isError(t, "Delete of a version that is gone", b.Delete(ctx, key, v3), session.ErrConflict)
	_, err = b.Put(ctx, key, []byte(`[{},{}]`), time.Hour, v3)
	isError(t, "Put over a version that is gone", err, session.ErrConflict)
}

func contractIndexKey(t *testing.T, c Config) {
	b, e := contractBackend(t, c)
	ctx := context.Background()
	id := session.New().ID()
	e.saw(id)
	ada, again := b.IndexKey("ada"), b.IndexKey("ada")
	require(t, ada != b.Key(id) && ada != b.IndexKey("bob") && ada == again,
		"IndexKey is not distinct and stable: %q %q %q", b.IndexKey("ada"), b.IndexKey("bob"), b.Key(id))
	ik := b.IndexKey("ada")
	v, err := b.Put(ctx, ik, []byte("doc"), time.Hour, session.Version{})
	must(t, "Put of an index document", err)
	data, got, err := b.Get(ctx, ik)
	must(t, "Get of an index document", err)
	require(t, string(data) == "doc" && !got.IsZero(), "Get of an index document = %q, %v; want doc and its version", data, got)
	_, _, err = b.Get(ctx, b.Key(id))
	check(t, errors.Is(err, session.ErrNotFound), "a record appeared with the index document: %v", err)
	noError(t, "Delete of an index document", b.Delete(ctx, ik, v))
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
	isError(t, "Touch of nothing", tb.Touch(ctx, key, time.Hour), session.ErrNotFound)
	v, err := b.Put(ctx, key, []byte(`[{},{}]`), time.Hour, session.Version{})
	must(t, "Put", err)
	must(t, "Touch", tb.Touch(ctx, key, 2*time.Hour))
	_, err = b.Put(ctx, key, []byte(`[{"a":1},{}]`), time.Hour, v)
	check(t, err == nil, "Put over the version before a Touch = %v; a touch must not change the version", err)
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
	ok, err := lk.TryLock(ctx, id, "t1", time.Minute)
	require(t, ok && err == nil, "TryLock of a free lock = %v, %v; want true, nil", ok, err)
	ok, err = lk.TryLock(ctx, id, "t2", time.Minute)
	check(t, !ok && err == nil, "TryLock of a held lock = %v, %v; want false, nil", ok, err)
	noError(t, "Unlock with another token", lk.Unlock(ctx, id, "t2"))
	ok, _ = lk.TryLock(ctx, id, "t3", time.Minute)
	check(t, !ok, "Unlock with another token freed the lock")
	noError(t, "Unlock", lk.Unlock(ctx, id, "t1"))
	ok, err = lk.TryLock(ctx, id, "t4", time.Minute)
	check(t, ok && err == nil, "TryLock after Unlock = %v, %v; want true, nil", ok, err)
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
		_, err := b.Put(ctx, keys[i], []byte(fmt.Sprintf(`[{"i":%d},{}]`, i)), time.Hour, session.Version{})
		must(t, "Put", err)
	}
	got, err := mg.GetMulti(ctx, keys)
	must(t, "GetMulti", err)
	require(t, len(got) == 3, "GetMulti = %d values, want 3", len(got))
	check(t, string(got[0]) == `[{"i":0},{}]` && got[1] == nil && string(got[2]) == `[{"i":2},{}]`,
		"GetMulti = %q, want the two records in order and nil for the missing one", got)
	got, err = mg.GetMulti(ctx, nil)
	check(t, err == nil && len(got) == 0, "GetMulti of no keys = %q, %v; want none", got, err)
}
