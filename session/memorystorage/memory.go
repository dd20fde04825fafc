package memorystorage

import (
	"container/heap"
	"context"
	"log/slog"
	"sync"
	"time"
	"unsafe"

	"github.com/sessionkit/sessionkit/session"
)

// DefaultMaxSessions is how many sessions a memory storage keeps at most
// when Options.MaxSessions is 0.
const DefaultMaxSessions = 100_000

// Options configure New.
type Options struct {
	// MaxSessions bounds how many sessions the storage keeps: at the cap,
	// the sessions closest to expiry are evicted first (and a warning is
	// logged, once), so a flood of new sessions cannot exhaust memory. 0:
	// DefaultMaxSessions (100,000). Negative: no limit.
	MaxSessions int

	// Session configures expiry, unknown ids, the record size limit,
	// logging and the per-user index, as for every server-side storage.
	Session session.Options
}

// New returns a session.Storage that keeps records in this process's
// memory: for tests, development and single-process programs. It is
// session.NewBackendStorage over a backend that is a session.Backend,
// session.Toucher and session.Locker, so it is also a session.Locking, and
// a session.UserIndex when Options.Session.UserKey is set.
//
// Records are stored as encoded bytes, so no request ever shares a map or
// slice with another. Memory stays bounded: each write removes expired
// records (the ones past their expiry come first in an expiry-ordered
// heap), a record is at most Session.MaxRecordSize (1 MiB by default), and
// at most MaxSessions records are kept. No goroutine is started and nothing
// needs stopping. All data is lost when the process exits. New returns an
// error for invalid Session options.
func New(o Options) (session.Storage, error) {
	return session.NewBackendStorage(newBackend(o), o.Session)
}

// sweepPerWrite is how many expired records a write of a new record removes
// at most, so that no write pays for a pile of them at once while expired
// records still go faster than new ones arrive.
const sweepPerWrite = 16

type backend struct {
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
	expires time.Time // zero: never
	index   int       // in byExpiry
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
	_ session.Backend = (*backend)(nil)
	_ session.Toucher = (*backend)(nil)
	_ session.Locker  = (*backend)(nil)
)

func newBackend(o Options) *backend {
	so := o.Session.WithDefaults()
	if o.MaxSessions == 0 {
		o.MaxSessions = DefaultMaxSessions
	}
	return &backend{
		now:     so.Now,
		max:     max(o.MaxSessions, 0),
		logger:  so.Logger,
		records: make(map[string]*memoryRecord),
		docs:    make(map[string]*memoryDoc),
		locks:   make(map[string]memoryLock),
	}
}

// Key implements Backend: in this process's memory the id itself.
func (m *backend) Key(id string) string { return id }

// IndexKey implements Backend. Ids are [A-Za-z0-9_-], so a key that starts
// with a NUL byte is never a record's.
func (m *backend) IndexKey(user string) string { return "\x00" + user }

func isDocKey(key string) bool { return key != "" && key[0] == 0 }

// Get implements Backend.
func (m *backend) Get(_ context.Context, key string) ([]byte, session.Version, error) {
	now := m.now()
	if isDocKey(key) {
		m.mu.RLock()
		d, ok := m.docs[key]
		m.mu.RUnlock()
		if !ok || expired(d.expires, now) {
			return nil, session.Version{}, session.ErrNotFound
		}
		return readOnlyBytes(d.data), session.Version{N: d.version}, nil
	}
	_, data, v, err := m.lookup(key, now)
	if err != nil {
		return nil, session.Version{}, err
	}
	return readOnlyBytes(data), session.Version{N: v}, nil
}

// readOnlyBytes returns s as a slice that shares its memory, for Get: the
// Backend contract makes the slice Get returns read-only on both sides, so
// the record is handed over without a copy.
func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// lookup returns the live record under id, its data and its version at the
// time now.
func (m *backend) lookup(id string, now time.Time) (*memoryRecord, string, uint64, error) {
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
		return nil, "", 0, session.ErrNotFound
	}
	return r, data, v, nil
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
func (m *backend) Put(_ context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	now := m.now()
	if isDocKey(key) {
		return m.putDoc(key, data, ttl, v, now)
	}
	return m.putRecord(key, data, ttl, v, now)
}

// putRecord is Put of a session's record at the time now.
func (m *backend) putRecord(key string, record []byte, ttl time.Duration, v session.Version, now time.Time) (session.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if stale(ok && !expired(r.expires, now), r.seq(), v) {
		return session.Version{}, session.ErrConflict
	}
	m.seq++
	m.setLocked(key, recordString(record), ttl, now).version = m.seq
	return session.Version{N: m.seq}, nil
}

func (m *backend) putDoc(key string, data []byte, ttl time.Duration, v session.Version, now time.Time) (session.Version, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	d, ok := m.docs[key]
	if stale(ok && !expired(d.expires, now), d.seq(), v) {
		return session.Version{}, session.ErrConflict
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
	return session.Version{N: m.seq}, nil
}

// stale reports whether a write over version v must be refused: what is
// stored (live or not, at version cur) is not what v names.
func stale(live bool, cur uint64, v session.Version) bool {
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

// recordString returns record as a string that shares its memory: the
// Backend contract lets a backend keep a record (its caller never writes
// it after Put), so storing it costs no copy.
func recordString(record []byte) string {
	return unsafe.String(unsafe.SliceData(record), len(record))
}

func (m *backend) setLocked(id string, record string, ttl time.Duration, now time.Time) *memoryRecord {
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

func (m *backend) rewriteLocked(r *memoryRecord, record string, expires time.Time) {
	r.data = record
	if !r.expires.Equal(expires) {
		r.expires = expires
		heap.Fix(&m.byExpiry, r.index)
	}
}

func (m *backend) removeLocked(r *memoryRecord) {
	heap.Remove(&m.byExpiry, r.index)
	delete(m.records, r.id)
}

// Delete implements Backend.
func (m *backend) Delete(_ context.Context, key string, v session.Version) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if isDocKey(key) {
		d, ok := m.docs[key]
		if !v.IsZero() && stale(ok && !expired(d.expires, now), d.seq(), v) {
			return session.ErrConflict
		}
		delete(m.docs, key)
		return nil
	}
	r, ok := m.records[key]
	if !v.IsZero() && stale(ok && !expired(r.expires, now), r.seq(), v) {
		return session.ErrConflict
	}
	if ok {
		m.removeLocked(r)
	}
	return nil
}

// Touch implements Toucher.
func (m *backend) Touch(_ context.Context, key string, ttl time.Duration) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ok := m.records[key]
	if !ok || expired(r.expires, now) {
		return session.ErrNotFound
	}
	m.rewriteLocked(r, r.data, expiry(now, ttl))
	return nil
}

// TryLock implements Locker.
func (m *backend) TryLock(_ context.Context, id, token string, ttl time.Duration) (bool, error) {
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
func (m *backend) Unlock(_ context.Context, id, token string) error {
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
