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
	// seq numbers the versions: every write takes the next one.
	seq uint64
	// docs are the per-user index documents (IndexKey), apart from the
	// records so that MaxSessions never evicts one (a session missing from
	// its index could not be revoked). Expired documents are dropped when
	// read and swept when there are more documents than records.
	docs map[string]*memoryDoc
	// locks are the exclusive-session locks (Locker), by id.
	locks  map[string]memoryLock
	warned bool // the cap was reached and logged
}

type memoryRecord struct {
	id   string
	data string // the record (see recordString)
	// version is the seq of the write that stored data.
	version uint64
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
}

type memoryDoc struct {
	data    string
	version uint64
	expires time.Time
}

type memoryLock struct {
	token   string
	expires time.Time
}

var (
	_ Backend = (*memoryBackend)(nil)
	_ Toucher = (*memoryBackend)(nil)
	_ Locker  = (*memoryBackend)(nil)
)

func newMemoryBackend(o Options) *memoryBackend {
	o = o.withDefaults()
	return &memoryBackend{
		now:     o.now,
		max:     max(o.MaxSessions, 0),
		logger:  o.logger(),
		records: make(map[string]*memoryRecord),
		docs:    make(map[string]*memoryDoc),
		locks:   make(map[string]memoryLock),
	}
}

// Key implements Backend: in this process's memory the id itself.
func (m *memoryBackend) Key(id string) string { return id }

// IndexKey implements Backend. Ids are [A-Za-z0-9_-], so a key that starts
// with a NUL byte is never a record's.
func (m *memoryBackend) IndexKey(user string) string { return "\x00" + user }

func isDocKey(key string) bool { return key != "" && key[0] == 0 }

// Get implements Backend.
func (m *memoryBackend) Get(_ context.Context, key string) ([]byte, Version, error) {
	now := m.now()
	if isDocKey(key) {
		m.mu.RLock()
		d, ok := m.docs[key]
		m.mu.RUnlock()
		if !ok || expired(d.expires, now) {
			return nil, Version{}, ErrNotFound
		}
		return []byte(d.data), Version{N: d.version}, nil
	}
	_, data, v, err := m.lookup(key, now)
	if err != nil {
		return nil, Version{}, err
	}
	return []byte(data), Version{N: v}, nil
}

// lookup returns the live record under id, its data and its version at the
// time now.
func (m *memoryBackend) lookup(id string, now time.Time) (*memoryRecord, string, uint64, error) {
	m.mu.RLock()
	r, ok := m.records[id]
	var data string
	var expires time.Time
	var v uint64
	if ok {
		data, expires, v = r.data, r.expires, r.version
	}
	m.mu.RUnlock()
	if !ok || expired(expires, now) {
		return nil, "", 0, ErrNotFound
	}
	return r, data, v, nil
}

// readAt is Get and the record's decoding at the time now
// (decodingBackend). The decoder reads the stored string in place, and a
// record whose values and flash values are immutable (strings, numbers,
// booleans: most sessions) is decoded once more, by the second request
// that reads it, and that decoding is shared by the next ones until the
// record is rewritten. A session copies shared values before it changes
// them (Session.ownLocked), so no request sees another's changes. A
// record read once and then rewritten pays only the bookkeeping; the
// figures are in the session README.
func (m *memoryBackend) readAt(key string, now time.Time) (decodedRecord, Version, error) {
	r, data, v, err := m.lookup(key, now)
	if err != nil {
		return decodedRecord{}, Version{}, err
	}
	if d := r.decoded.Load(); d != nil && d.src == data {
		return d.decodedRecord, Version{N: v}, nil
	}
	d, err := decodeRecord(data)
	if err == nil && r.readBefore.Swap(true) && d.values.Immutable() && d.flash.Immutable() {
		d.shared = true
		// Clipped, so that even an append could not write into the
		// shared array.
		d.values, d.flash = slices.Clip(d.values), slices.Clip(d.flash)
		r.decoded.Store(&sharedDecoding{decodedRecord: d, src: data})
	}
	return d, Version{N: v}, err
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

// Put implements Backend: the version check and the write under one lock.
func (m *memoryBackend) Put(_ context.Context, key string, data []byte, ttl time.Duration, v Version) (Version, error) {
	now := m.now()
	if isDocKey(key) {
		return m.putDoc(key, data, ttl, v, now)
	}
	return m.putAt(key, data, ttl, v, now)
}

// putAt is Put of a record at the time now (decodingBackend).
func (m *memoryBackend) putAt(key string, record []byte, ttl time.Duration, v Version, now time.Time) (Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if stale(ok && !expired(r.expires, now), r.seq(), v) {
		return Version{}, ErrConflict
	}
	m.seq++
	m.setLocked(key, recordString(record), ttl, now).version = m.seq
	return Version{N: m.seq}, nil
}

func (m *memoryBackend) putDoc(key string, data []byte, ttl time.Duration, v Version, now time.Time) (Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[key]
	if stale(ok && !expired(d.expires, now), d.seq(), v) {
		return Version{}, ErrConflict
	}
	if len(m.docs) > len(m.records)+1024 {
		for k, d := range m.docs {
			if expired(d.expires, now) {
				delete(m.docs, k)
			}
		}
	}
	m.seq++
	m.docs[key] = &memoryDoc{data: string(data), version: m.seq, expires: expiry(now, ttl)}
	return Version{N: m.seq}, nil
}

// stale reports whether a write over version v must be refused: what is
// stored (live or not, at version cur) is not what v names.
func stale(live bool, cur uint64, v Version) bool {
	if !live {
		return !v.IsZero()
	}
	return cur != v.N
}

// seq is the version of r; 0 for none.
func (r *memoryRecord) seq() uint64 {
	if r == nil {
		return 0
	}
	return r.version
}

// seq is the version of d; 0 for none.
func (d *memoryDoc) seq() uint64 {
	if d == nil {
		return 0
	}
	return d.version
}

// recordString returns record as a string that shares its memory. The
// Backend contract lets a backend keep a record (its caller never writes
// it after Put), so the string stays as it is; reads then hand it to the
// decoder without a copy (readAt), one allocation and a copy of the record
// fewer per request.
func recordString(record []byte) string {
	return unsafe.String(unsafe.SliceData(record), len(record))
}

func (m *memoryBackend) setLocked(id string, record string, ttl time.Duration, now time.Time) *memoryRecord {
	if r, ok := m.records[id]; ok {
		m.rewriteLocked(r, record, expiry(now, ttl))
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
	r := &memoryRecord{id: id, data: record, expires: expiry(now, ttl)}
	m.records[id] = r
	heap.Push(&m.byExpiry, r)
	return r
}

func (m *memoryBackend) rewriteLocked(r *memoryRecord, record string, expires time.Time) {
	if record != r.data {
		r.decoded.Store(nil)
		r.readBefore.Store(false)
	}
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

// Delete implements Backend.
func (m *memoryBackend) Delete(_ context.Context, key string, v Version) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if isDocKey(key) {
		d, ok := m.docs[key]
		if !v.IsZero() && stale(ok && !expired(d.expires, now), d.seq(), v) {
			return ErrConflict
		}
		delete(m.docs, key)
		return nil
	}
	r, ok := m.records[key]
	if !v.IsZero() && stale(ok && !expired(r.expires, now), r.seq(), v) {
		return ErrConflict
	}
	if ok {
		m.removeLocked(r)
	}
	return nil
}

// Touch implements Toucher.
func (m *memoryBackend) Touch(_ context.Context, key string, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if !ok || expired(r.expires, now) {
		return ErrNotFound
	}
	m.rewriteLocked(r, r.data, expiry(now, ttl))
	return nil
}

// TryLock implements Locker.
func (m *memoryBackend) TryLock(_ context.Context, id, token string, ttl time.Duration) (bool, error) {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.locks[id]; ok && !expired(l.expires, now) {
		return false, nil
	}
	m.locks[id] = memoryLock{token: token, expires: expiry(now, ttl)}
	return true, nil
}

// Unlock implements Locker.
func (m *memoryBackend) Unlock(_ context.Context, id, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if l, ok := m.locks[id]; ok && l.token == token {
		delete(m.locks, id)
	}
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
