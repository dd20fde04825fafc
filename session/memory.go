package session

import (
	"container/heap"
	"context"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"
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
	// users is the per-user index (Options.UserKey): user, then handle.
	// A record knows its user, so removing it (delete, revoke, eviction,
	// expiry sweep) removes it from the index too.
	users  map[string]map[string]*memoryRecord
	warned bool // the cap was reached and logged
}

type memoryRecord struct {
	id   string
	data string // the record (see recordString)
	// decoded is data decoded, once a request read it, when its values
	// are immutable: the requests that read the record share it (see
	// readAt). A rewrite of data clears it.
	decoded atomic.Pointer[sharedDecoding]
	// readBefore: a request read data already. Only a second read shares
	// its decoding, so that a record read once and then rewritten (a
	// session that changes on every request) costs no copy.
	readBefore atomic.Bool
	expires    time.Time // zero: never
	index      int       // in byExpiry
	seen       time.Time // last write or touch
	user       string    // the index that lists it (Options.UserKey); "" for none
	handle     string    // its handle in that index
}

func newMemoryBackend(o Options) *memoryBackend {
	o = o.withDefaults()
	return &memoryBackend{
		now:     o.now,
		max:     max(o.MaxSessions, 0),
		logger:  o.logger(),
		records: make(map[string]*memoryRecord),
		users:   make(map[string]map[string]*memoryRecord),
	}
}

func (m *memoryBackend) Get(_ context.Context, id string) ([]byte, error) {
	_, data, err := m.lookup(id, m.now())
	if err != nil {
		return nil, err
	}
	return []byte(data), nil
}

// lookup returns the live record under id and its data at the time now.
func (m *memoryBackend) lookup(id string, now time.Time) (*memoryRecord, string, error) {
	m.mu.RLock()
	r, ok := m.records[id]
	var data string
	var expires time.Time
	if ok {
		data, expires = r.data, r.expires
	}
	m.mu.RUnlock()
	if !ok || expired(expires, now) {
		return nil, "", ErrNotFound
	}
	return r, data, nil
}

// readAt is Get and the record's decoding at the time now
// (decodingBackend). The decoder reads the stored string in place, and a
// record whose values and flash values are immutable (strings, numbers,
// booleans: most sessions) is decoded once more, by the second request
// that reads it, and that decoding is shared by the next ones until the
// record is rewritten. A session copies shared values before it changes
// them (Session.ownLocked), so no request sees another's changes. Same run,
// -cpu 1, three rounds each: BenchmarkStorageSessionkitMemoryRead went from
// 1.18-1.20 µs and 4 allocations to 0.82-0.83 µs and 2;
// BenchmarkStorageSessionkitMemoryWrite, which rewrites the record on every
// request, from 2.07-2.10 µs to 2.15-2.16 µs (the bookkeeping), with the
// same 7 allocations.
func (m *memoryBackend) readAt(id string, now time.Time) (decodedRecord, error) {
	r, data, err := m.lookup(id, now)
	if err != nil {
		return decodedRecord{}, err
	}
	if d := r.decoded.Load(); d != nil && d.src == data {
		return d.decodedRecord, nil
	}
	d, err := decodeRecord(data)
	if err == nil && r.readBefore.Swap(true) && d.values.Immutable() && d.flash.Immutable() {
		d.shared = true
		// Clipped, so that even an append could not write into the
		// shared array.
		d.values, d.flash = slices.Clip(d.values), slices.Clip(d.flash)
		r.decoded.Store(&sharedDecoding{decodedRecord: d, src: data})
	}
	return d, err
}

// sharedDecoding is a record's decoding that requests share, kept with the
// record string it decoded (src): a decoding stored by a request that read
// the record just before a rewrite is not taken for the new record's.
type sharedDecoding struct {
	decodedRecord
	src string
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
	m.setLocked(id, recordString(record), ttl, now)
	return nil
}

// recordString returns record as a string that shares its memory. The
// Backend contract lets a backend keep a record (its caller never writes
// it after Set or Update), so the string stays as it is; reads then hand
// it to the decoder without a copy (readAt), one allocation and a copy of
// the record fewer per request.
func recordString(record []byte) string {
	return unsafe.String(unsafe.SliceData(record), len(record))
}

func (m *memoryBackend) setLocked(id string, record string, ttl time.Duration, now time.Time) *memoryRecord {
	if r, ok := m.records[id]; ok {
		m.rewriteLocked(r, record, expiry(now, ttl), now)
		return r
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
	r := &memoryRecord{id: id, data: record, expires: expiry(now, ttl), seen: now}
	m.records[id] = r
	heap.Push(&m.byExpiry, r)
	return r
}

func (m *memoryBackend) rewriteLocked(r *memoryRecord, record string, expires, now time.Time) {
	if record != r.data {
		r.decoded.Store(nil)
		r.readBefore.Store(false)
	}
	r.data = record
	r.seen = now
	if !r.expires.Equal(expires) {
		r.expires = expires
		heap.Fix(&m.byExpiry, r.index)
	}
}

func (m *memoryBackend) removeLocked(r *memoryRecord) {
	heap.Remove(&m.byExpiry, r.index)
	delete(m.records, r.id)
	m.unindexLocked(r)
}

// Update rewrites a live record; it is how a save avoids bringing back a
// record a concurrent request deleted.
func (m *memoryBackend) Update(_ context.Context, id string, record []byte, ttl time.Duration) error {
	return m.updateAt(id, record, ttl, m.now())
}

// updateAt is Update at the time now (decodingBackend).
func (m *memoryBackend) updateAt(id string, record []byte, ttl time.Duration, now time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[id]
	if !ok || expired(r.expires, now) {
		return ErrNotFound
	}
	m.rewriteLocked(r, recordString(record), expiry(now, ttl), now)
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
	m.rewriteLocked(r, r.data, expiry(now, ttl), now)
	return nil
}

// SaveIndexed implements UserIndexBackend: all of it under the one lock.
func (m *memoryBackend) SaveIndexed(_ context.Context, c *IndexedSave) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if c.Require != "" {
		if r, ok := m.records[c.Require]; !ok || expired(r.expires, now) {
			return ErrNotFound
		}
	}
	var r *memoryRecord
	if c.ID != "" {
		r = m.setLocked(c.ID, recordString(c.Record), c.TTL, now)
	}
	for _, d := range c.Delete {
		if dr, ok := m.records[d.ID]; ok && dr != r {
			m.removeLocked(dr)
		}
	}
	if r != nil && r.user != c.To {
		m.unindexLocked(r)
		if c.To != "" {
			r.user, r.handle = c.To, c.Handle
			idx := m.users[c.To]
			if idx == nil {
				idx = make(map[string]*memoryRecord, 2)
				m.users[c.To] = idx
			}
			idx[c.Handle] = r
		}
	}
	return nil
}

// unindexLocked removes r from its user's index.
func (m *memoryBackend) unindexLocked(r *memoryRecord) {
	if r.user == "" {
		return
	}
	if idx := m.users[r.user]; idx[r.handle] == r {
		delete(idx, r.handle)
		if len(idx) == 0 {
			delete(m.users, r.user)
		}
	}
	r.user, r.handle = "", ""
}

// UserRecords implements UserIndexBackend.
func (m *memoryBackend) UserRecords(_ context.Context, user string) ([]UserRecord, error) {
	now := m.now()
	m.mu.RLock()
	defer m.mu.RUnlock()
	idx := m.users[user]
	list := make([]UserRecord, 0, len(idx))
	for h, r := range idx {
		if !expired(r.expires, now) {
			list = append(list, UserRecord{Handle: h, Record: []byte(r.data), Seen: r.seen})
		}
	}
	return list, nil
}

// DeleteUserRecords implements UserIndexBackend.
func (m *memoryBackend) DeleteUserRecords(_ context.Context, user string, revoke func(string) bool) (int, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	n := 0
	for h, r := range m.users[user] {
		if revoke(h) {
			if !expired(r.expires, now) {
				n++
			}
			m.removeLocked(r)
		}
	}
	return n, nil
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
