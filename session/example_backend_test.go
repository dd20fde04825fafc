package session_test

import (
	"context"
	"fmt"
	"log"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// mapBackend is a custom store: a map with expiry, where each write takes a
// new version. A store outside package session implements Backend (and,
// optionally, Toucher and Locker) and gets every rule of the package (ids,
// flash, regeneration, expiry, limits, merged saves, the per-user index)
// from NewBackendStorage; sessiontest.Run proves it
// (TestMapBackendConformance).
type mapBackend struct {
	now     func() time.Time
	mu      sync.Mutex
	seq     uint64
	records map[string]mapRecord
}

type mapRecord struct {
	data    []byte
	version uint64
	expires time.Time // zero: never
}

func newMapBackend(now func() time.Time) *mapBackend {
	if now == nil {
		now = time.Now
	}
	return &mapBackend{now: now, records: map[string]mapRecord{}}
}

// Key is the id itself; IndexKey starts with "user:", which no id does
// (ids hold no ':').
func (b *mapBackend) Key(id string) string        { return id }
func (b *mapBackend) IndexKey(user string) string { return "user:" + user }

// live returns the unexpired record under key. b.mu must be held.
func (b *mapBackend) live(key string) (mapRecord, bool) {
	r, ok := b.records[key]
	if !ok || !r.expires.IsZero() && !b.now().Before(r.expires) {
		return mapRecord{}, false
	}
	return r, true
}

// Get returns the live record under key with its version, or
// session.ErrNotFound.
func (b *mapBackend) Get(_ context.Context, key string) ([]byte, session.Version, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.live(key)
	if !ok {
		return nil, session.Version{}, session.ErrNotFound
	}
	return r.data, session.Version{N: r.version}, nil
}

// Put stores data under key for ttl (0: no expiry) if the stored version is
// still v (the zero v: nothing stored), else returns session.ErrConflict.
func (b *mapBackend) Put(_ context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.live(key); ok && r.version != v.N || !ok && !v.IsZero() {
		return session.Version{}, session.ErrConflict
	}
	b.seq++
	r := mapRecord{data: data, version: b.seq}
	if ttl > 0 {
		r.expires = b.now().Add(ttl)
	}
	b.records[key] = r
	return session.Version{N: b.seq}, nil
}

// Delete removes the record under key if it is still at version v (the
// zero v: whatever is there).
func (b *mapBackend) Delete(_ context.Context, key string, v session.Version) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if r, ok := b.live(key); !v.IsZero() && (!ok || r.version != v.N) {
		return session.ErrConflict
	}
	delete(b.records, key)
	return nil
}

// Len counts the session records, for sessiontest's checks that nothing is
// stored needlessly.
func (b *mapBackend) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for k := range b.records {
		if !strings.HasPrefix(k, "user:") {
			n++
		}
	}
	return n
}

// A custom store is a Backend; NewBackendStorage turns it into a Storage
// that the session middleware takes.
func ExampleNewBackendStorage() {
	ctx := context.Background()
	st, err := session.NewBackendStorage(newMapBackend(nil), session.Options{IdleTimeout: 30 * time.Minute})
	if err != nil {
		log.Fatal(err)
	}

	s, _ := st.Read(ctx, "") // a request without a cookie
	s.Flash("notice", "Welcome")
	value, set, _ := st.Save(ctx, s)
	fmt.Println("set cookie:", set)

	s, _ = st.Read(ctx, value) // the next request
	fmt.Println("flash:", s.Get("notice"))
	// Output:
	// set cookie: true
	// flash: Welcome
}
