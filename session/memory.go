package session

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"
)

// NewMemoryStorage returns a Storage that keeps records in this process's
// memory: for tests, development and single-process programs. Records are
// stored as encoded bytes, so no request ever shares a map or slice with
// another (copies on read and write). Memory stays bounded: each write
// removes expired records (the ones past their expiry come first in an
// expiry-ordered heap), a record is at most Options.MaxRecordSize (1 MiB by
// default), and at most Options.MaxSessions records (100,000 by default) are
// kept: at the cap, the records closest to expiry are evicted first (logged
// once). No goroutine is started and nothing needs stopping. All data is
// lost when the process exits.
//
// It panics on a negative IdleTimeout in o.
func NewMemoryStorage(o Options) Storage {
	return NewBackendStorage(newMemoryBackend(o), o)
}

// sweepPerWrite is how many expired records a write of a new record removes
// at most, so that no write pays for a pile of them at once while expired
// records still go faster than new ones arrive.
const sweepPerWrite = 16

type memoryBackend struct {
	now    func() time.Time
	max    int // most records held; 0: no limit
	logger *slog.Logger

	mu       sync.RWMutex
	records  map[string]*memoryRecord
	byExpiry expiryHeap
	warned   bool // the cap was reached and logged
}

type memoryRecord struct {
	id      string
	data    []byte
	expires time.Time // zero: never
	index   int       // in byExpiry
}

func newMemoryBackend(o Options) *memoryBackend {
	o = o.withDefaults()
	return &memoryBackend{
		now:     o.now,
		max:     max(o.MaxSessions, 0),
		logger:  o.logger(),
		records: make(map[string]*memoryRecord),
	}
}

func (m *memoryBackend) Get(_ context.Context, id string) ([]byte, error) {
	m.mu.RLock()
	r, ok := m.records[id]
	var data []byte
	var expires time.Time
	if ok {
		data, expires = r.data, r.expires
	}
	m.mu.RUnlock()
	if !ok || expired(expires, m.now()) {
		return nil, ErrNotFound
	}
	return data, nil
}

func expired(expires, now time.Time) bool {
	return !expires.IsZero() && !now.Before(expires)
}

func expiry(now time.Time, ttl time.Duration) time.Time {
	if ttl > 0 {
		return now.Add(ttl)
	}
	return time.Time{}
}

func (m *memoryBackend) Set(_ context.Context, id string, record []byte, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[id]; ok {
		m.rewriteLocked(r, record, expiry(now, ttl))
		return nil
	}
	for i := 0; i < sweepPerWrite && len(m.byExpiry) > 0 && expired(m.byExpiry[0].expires, now); i++ {
		m.removeLocked(m.byExpiry[0])
	}
	if m.max > 0 && len(m.records) >= m.max {
		if !m.warned {
			m.warned = true
			m.logger.Warn("session: memory storage is full; evicting the sessions closest to expiry (logged once)",
				"max_sessions", m.max)
		}
		for len(m.records) >= m.max {
			m.removeLocked(m.byExpiry[0])
		}
	}
	r := &memoryRecord{id: id, data: record, expires: expiry(now, ttl)}
	m.records[id] = r
	heap.Push(&m.byExpiry, r)
	return nil
}

func (m *memoryBackend) rewriteLocked(r *memoryRecord, record []byte, expires time.Time) {
	r.data = record
	if !r.expires.Equal(expires) {
		r.expires = expires
		heap.Fix(&m.byExpiry, r.index)
	}
}

func (m *memoryBackend) removeLocked(r *memoryRecord) {
	heap.Remove(&m.byExpiry, r.index)
	delete(m.records, r.id)
}

// Update rewrites a live record; it is how a save avoids bringing back a
// record a concurrent request deleted.
func (m *memoryBackend) Update(_ context.Context, id string, record []byte, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[id]
	if !ok || expired(r.expires, now) {
		return ErrNotFound
	}
	m.rewriteLocked(r, record, expiry(now, ttl))
	return nil
}

func (m *memoryBackend) Delete(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if r, ok := m.records[id]; ok {
		m.removeLocked(r)
	}
	return nil
}

func (m *memoryBackend) Touch(_ context.Context, id string, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[id]
	if !ok || expired(r.expires, now) {
		return ErrNotFound
	}
	m.rewriteLocked(r, r.data, expiry(now, ttl))
	return nil
}

// expiryHeap orders records by expiry, soonest first; records that never
// expire come last. It implements heap.Interface.
type expiryHeap []*memoryRecord

func (h expiryHeap) Len() int { return len(h) }

func (h expiryHeap) Less(i, j int) bool {
	a, b := h[i].expires, h[j].expires
	return !a.IsZero() && (b.IsZero() || a.Before(b))
}

func (h expiryHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].index = i
	h[j].index = j
}

func (h *expiryHeap) Push(x any) {
	r := x.(*memoryRecord)
	r.index = len(*h)
	*h = append(*h, r)
}

func (h *expiryHeap) Pop() any {
	old := *h
	r := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return r
}
