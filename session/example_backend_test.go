package session_test

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// mapBackend is a custom store: a map with expiry. A store outside package
// session implements Backend (and, optionally, Updater, Toucher, Replacer)
// and gets every rule of the package (ids, flash, regeneration, expiry,
// limits) from NewBackendStorage; sessiontest.Run proves it
// (TestMapBackendConformance).
type mapBackend struct {
	now     func() time.Time
	mu      sync.Mutex
	records map[string]mapRecord
}

type mapRecord struct {
	data    []byte
	expires time.Time // zero: never
}

func newMapBackend(now func() time.Time) *mapBackend {
	if now == nil {
		now = time.Now
	}
	return &mapBackend{now: now, records: map[string]mapRecord{}}
}

// Get returns the live record under id, or session.ErrNotFound.
func (b *mapBackend) Get(_ context.Context, id string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[id]
	if !ok || !r.expires.IsZero() && !b.now().Before(r.expires) {
		return nil, session.ErrNotFound
	}
	return r.data, nil
}

// Set stores record under id for ttl (0: no expiry).
func (b *mapBackend) Set(_ context.Context, id string, record []byte, ttl time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records[id] = mapRecord{data: record, expires: b.expiry(ttl)}
	return nil
}

// Update stores record only while a live record is there (session.Updater),
// so that a save racing a logout cannot bring the session back.
func (b *mapBackend) Update(_ context.Context, id string, record []byte, ttl time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[id]
	if !ok || !r.expires.IsZero() && !b.now().Before(r.expires) {
		return session.ErrNotFound
	}
	b.records[id] = mapRecord{data: record, expires: b.expiry(ttl)}
	return nil
}

// Delete removes the record under id.
func (b *mapBackend) Delete(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.records, id)
	return nil
}

// Len counts the records, for sessiontest's checks that nothing is stored
// needlessly.
func (b *mapBackend) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.records)
}

func (b *mapBackend) expiry(ttl time.Duration) time.Time {
	if ttl <= 0 {
		return time.Time{}
	}
	return b.now().Add(ttl)
}

// A custom store is a Backend; NewBackendStorage turns it into a Storage
// that the session middleware takes.
func ExampleNewBackendStorage() {
	ctx := context.Background()
	st := session.NewBackendStorage(newMapBackend(nil), session.Options{IdleTimeout: 30 * time.Minute})

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
