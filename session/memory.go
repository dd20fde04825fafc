package session

import (
	"context"
	"sync"
	"time"
)

// NewMemoryStorage returns a Storage that keeps records in this process's
// memory: for tests, development and single-process programs. Records are
// stored as encoded bytes, so no request ever shares a map or slice with
// another (copies on read and write). Expired records are swept as new ones
// are written, so memory stays bounded by the live sessions; no goroutine is
// started and nothing needs stopping. All data is lost when the process
// exits.
//
// It panics on a negative IdleTimeout in o.
func NewMemoryStorage(o Options) Storage {
	return NewBackendStorage(newMemoryBackend(o.now), o)
}

// sweepPerWrite is how many entries each Set examines for expiry. Map
// iteration starts at a random entry, so every write samples the table and
// expired entries cannot pile up faster than writes remove them.
const sweepPerWrite = 16

type memoryBackend struct {
	mu      sync.RWMutex
	now     func() time.Time
	records map[string]memoryRecord
}

type memoryRecord struct {
	data    []byte
	expires time.Time // zero: never
}

func newMemoryBackend(now func() time.Time) *memoryBackend {
	return &memoryBackend{now: now, records: make(map[string]memoryRecord)}
}

func (m *memoryBackend) Get(_ context.Context, id string) ([]byte, error) {
	m.mu.RLock()
	r, ok := m.records[id]
	m.mu.RUnlock()
	if !ok || r.expired(m.now()) {
		return nil, ErrNotFound
	}
	return r.data, nil
}

func (r memoryRecord) expired(now time.Time) bool {
	return !r.expires.IsZero() && !now.Before(r.expires)
}

func (m *memoryBackend) Set(_ context.Context, id string, record []byte, ttl time.Duration) error {
	now := m.now()
	r := memoryRecord{data: record}
	if ttl > 0 {
		r.expires = now.Add(ttl)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.records[id] = r
	n := 0
	for k, v := range m.records {
		if n++; n > sweepPerWrite {
			break
		}
		if v.expired(now) {
			delete(m.records, k)
		}
	}
	return nil
}

// Update rewrites a live record; it is how a save avoids bringing back a
// record a concurrent request deleted.
func (m *memoryBackend) Update(_ context.Context, id string, record []byte, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[id]; !ok || r.expired(now) {
		return ErrNotFound
	}
	r := memoryRecord{data: record}
	if ttl > 0 {
		r.expires = now.Add(ttl)
	}
	m.records[id] = r
	return nil
}

func (m *memoryBackend) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	delete(m.records, id)
	m.mu.Unlock()
	return nil
}

func (m *memoryBackend) Touch(_ context.Context, id string, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[id]
	if !ok || r.expired(now) {
		return ErrNotFound
	}
	if ttl > 0 {
		r.expires = now.Add(ttl)
	} else {
		r.expires = time.Time{}
	}
	m.records[id] = r
	return nil
}

// sweep removes every expired record and returns how many remain.
func (m *memoryBackend) sweep() int {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, v := range m.records {
		if v.expired(now) {
			delete(m.records, k)
		}
	}
	return len(m.records)
}
