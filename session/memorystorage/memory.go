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
	// MaxSessions bounds how many sessions the storage keeps, so that a
	// flood of new sessions cannot exhaust memory. At the cap a write of a
	// new session evicts one (and a warning is logged, once): an expired
	// session, else the oldest session that was never used again after
	// it was stored, else the session closest to expiry (see the package
	// doc), so that a flood evicts its own sessions and not those of the
	// users who come back. 0: DefaultMaxSessions (100,000). Negative: no
	// limit.
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
// slice with another. Memory stays bounded: each write of a new session
// removes a few expired records (the ones past their expiry come first in
// an expiry-ordered heap), a record is at most Session.MaxRecordSize (1 MiB
// by default), and at most MaxSessions records are kept. At the cap, a new
// session enters on probation and evicts, in this order: an expired
// record; the probationary record stored longest ago (a session nobody
// used again: one anonymous request, a failed sign-in); and only when no
// record is on probation, the record closest to expiry. A record leaves
// probation for good when it is read, touched or written over again (the
// next request of its user). The per-user index documents are never
// evicted. No goroutine is started and nothing needs stopping. All data is
// lost when the process exits. New returns an error for invalid Session
// options.
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
	// probation holds the records stored once and not used since, oldest
	// first: the first to go at the cap (see victimLocked).
	probation probation
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
	// onProbation: the record is in backend.probation, linked by prev
	// and next.
	onProbation bool
	prev, next  *memoryRecord
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

// Kind names the storage in session events (session.Event.Storage).
func (m *backend) Kind() string { return "memory" }

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
	r, data, v, err := m.lookup(key, now)
	if err != nil {
		return nil, session.Version{}, err
	}
	if r != nil {
		m.promote(key, r)
	}
	return readOnlyBytes(data), session.Version{N: v}, nil
}

// readOnlyBytes returns s as a slice that shares its memory, for Get: the
// Backend contract makes the slice Get returns read-only on both sides, so
// the record is handed over without a copy.
func readOnlyBytes(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// lookup returns the data and the version of the live record under id at
// the time now, and the record itself when it is on probation (nil when
// not), for Get to promote.
func (m *backend) lookup(id string, now time.Time) (*memoryRecord, string, uint64, error) {
	m.mu.RLock()
	r, ok := m.records[id]
	var data string
	var expires time.Time
	var v uint64
	var onProbation bool
	if ok {
		data, expires, v, onProbation = r.data, r.expires, r.version, r.onProbation
	}
	m.mu.RUnlock()
	if !ok || expired(expires, now) {
		return nil, "", 0, session.ErrNotFound
	}
	if !onProbation {
		r = nil
	}
	return r, data, v, nil
}

// promote takes r, read under id, off probation: its session came back.
// It is the only step of a read that takes the write lock, once in a
// record's life, so reads of the sessions in use share the read lock.
func (m *backend) promote(id string, r *memoryRecord) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.records[id] == r {
		m.probation.remove(r)
	}
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
	data, expires := recordString(record), expiry(now, ttl)
	if ok && v.IsZero() {
		// The id of an expired record, stored anew: a new session.
		m.removeLocked(r)
		ok = false
	}
	if ok {
		// A write over the live version read: the session came back.
		m.rewriteLocked(r, data, expires)
		m.probation.remove(r)
	} else {
		r = m.insertLocked(key, data, expires, now)
	}
	r.version = m.seq
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

// insertLocked stores a new record, on probation, after removing at most
// sweepPerWrite expired records and, at the cap, evicting one. Expired
// records go before any live one: the sweep stops either at a live record
// or after sweepPerWrite removals, which leave the storage below the cap.
func (m *backend) insertLocked(id string, record string, expires time.Time, now time.Time) *memoryRecord {
	m.sweepLocked(now)
	m.makeRoomLocked()
	r := &memoryRecord{id: id, data: record, expires: expires}
	m.records[id] = r
	heap.Push(&m.byExpiry, r)
	m.probation.push(r)
	return r
}

// sweepLocked removes at most sweepPerWrite expired records, soonest
// expired first.
func (m *backend) sweepLocked(now time.Time) {
	for i := 0; i < sweepPerWrite && len(m.byExpiry) > 0 && expired(m.byExpiry[0].expires, now); i++ {
		m.removeLocked(m.byExpiry[0])
	}
}

// makeRoomLocked evicts a record when the storage is at the cap, so that
// one more fits; the first time, it logs that the storage is full.
func (m *backend) makeRoomLocked() {
	if m.max <= 0 || len(m.records) < m.max {
		return
	}
	if !m.warned {
		m.warned = true
		m.logger.Warn("session: memory storage is full; evicting sessions, those never used again first (logged once)",
			"max_sessions", m.max)
	}
	for len(m.records) >= m.max {
		m.removeLocked(m.victimLocked())
	}
}

// victimLocked is the live record to evict at the cap: the one on
// probation the longest, whose session never came back after the request
// that stored it; else, every record having come back, the one closest to
// expiry, so that the least of a session's life is lost, and under sliding
// expiry the session idle the longest. A flood of new sessions thus only
// ever evicts its own kind: they all wait on probation, behind nothing but
// each other.
//
// The records that came back are ordered by expiry, not by last use, so
// that a read never needs the write lock to reorder them (see promote).
func (m *backend) victimLocked() *memoryRecord {
	if m.probation.head != nil {
		return m.probation.head
	}
	return m.byExpiry[0]
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
	m.probation.remove(r)
}

// Delete implements Backend.
func (m *backend) Delete(_ context.Context, key string, v session.Version) error {
	now := m.now()
	m.mu.Lock()
	defer m.mu.Unlock()
	if isDocKey(key) {
		return m.deleteDocLocked(key, v, now)
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

func (m *backend) deleteDocLocked(key string, v session.Version, now time.Time) error {
	d, ok := m.docs[key]
	if !v.IsZero() && stale(ok && !expired(d.expires, now), d.seq(), v) {
		return session.ErrConflict
	}
	delete(m.docs, key)
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
	m.probation.remove(r) // a touch is a request of the session's user
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
