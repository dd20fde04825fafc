package sessiontest

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Op names a Backend method, for Call, Fail and Before.
type Op string

// The Backend operations.
const (
	OpGet      Op = "Get"
	OpGetMulti Op = "GetMulti"
	OpPut      Op = "Put"
	OpDelete   Op = "Delete"
	OpTouch    Op = "Touch"
	OpTryLock  Op = "TryLock"
	OpUnlock   Op = "Unlock"
)

// Call is one call a Backend received.
type Call struct {
	Op      Op
	Key     string          // the key (a session id, or IndexKey's "user:" + name); the id for TryLock and Unlock; GetMulti's keys, joined by spaces
	Record  []byte          // Put
	TTL     time.Duration   // Put, Touch, TryLock
	Version session.Version // Put, Delete
}

// Backend is an in-memory session.Backend, session.Toucher,
// session.Locker and session.MultiGetter that records every call and can be told to fail, or to run
// a function before a call (a concurrent request at an exact moment), for
// unit tests of session.NewBackendStorage and of code built on it. A
// record's key is its id; a user's index document is under "user:" + the
// name. Records expire after their TTL by the clock given to NewBackend.
// It is safe for concurrent use.
type Backend struct {
	mu      sync.Mutex
	now     func() time.Time
	records map[string]backendRecord
	locks   map[string]string // id: token
	seq     uint64
	calls   []Call
	fail    map[Op]error
	failKey map[failOn]error
	before  map[Op]func(key string)
}

type failOn struct {
	op  Op
	key string
}

type backendRecord struct {
	data    []byte
	version uint64
	expires time.Time // zero: never
}

var (
	_ session.Backend     = (*Backend)(nil)
	_ session.Toucher     = (*Backend)(nil)
	_ session.Locker      = (*Backend)(nil)
	_ session.MultiGetter = (*Backend)(nil)
)

// NewBackend returns an empty Backend whose TTLs follow now (nil: time.Now).
func NewBackend(now func() time.Time) *Backend {
	if now == nil {
		now = time.Now
	}
	return &Backend{now: now, records: map[string]backendRecord{}, locks: map[string]string{},
		fail: map[Op]error{}, failKey: map[failOn]error{}, before: map[Op]func(string){}}
}

// Fail makes every later call of op return err (nil: succeed again). The
// failing call is still recorded and changes nothing.
func (b *Backend) Fail(op Op, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.fail, op)
	} else {
		b.fail[op] = err
	}
}

// FailKey makes every later call of op on key (a session id, or IndexKey's
// "user:" + name) return err (nil: succeed again), as a store whose server
// holding that key is down would.
func (b *Backend) FailKey(op Op, key string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err == nil {
		delete(b.failKey, failOn{op, key})
	} else {
		b.failKey[failOn{op, key}] = err
	}
}

// Before makes every later call of op run fn with the call's key first,
// outside the Backend's lock, so fn may call the Backend or a storage on it
// (nil: no longer). It plays a concurrent request at an exact step of a
// save.
func (b *Backend) Before(op Op, fn func(key string)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fn == nil {
		delete(b.before, op)
	} else {
		b.before[op] = fn
	}
}

// Calls returns the calls received so far, oldest first.
func (b *Backend) Calls() []Call {
	b.mu.Lock()
	defer b.mu.Unlock()
	return slices.Clone(b.calls)
}

// CallCount returns how many calls of op were received.
func (b *Backend) CallCount(op Op) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for _, c := range b.calls {
		if c.Op == op {
			n++
		}
	}
	return n
}

// ResetCalls forgets the calls received so far.
func (b *Backend) ResetCalls() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = nil
}

// Len returns how many session records are stored, expired or not (index
// documents not counted).
func (b *Backend) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	n := 0
	for k := range b.records {
		if !isIndexKey(k) {
			n++
		}
	}
	return n
}

// Record returns the live record stored under id, without recording a call.
func (b *Backend) Record(id string) ([]byte, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[id]
	if !ok || r.expired(b.now()) {
		return nil, false
	}
	return slices.Clone(r.data), true
}

// Store stores record under id with no expiry and a new version, without
// recording a call (a record written by someone else, such as Remix's
// plain SET).
func (b *Backend) Store(id string, record []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	b.records[id] = backendRecord{data: slices.Clone(record), version: b.seq}
}

// Expiry returns when the record under id expires (zero: never) and whether
// there is one.
func (b *Backend) Expiry(id string) (time.Time, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	r, ok := b.records[id]
	return r.expires, ok
}

func (r backendRecord) expired(now time.Time) bool {
	return !r.expires.IsZero() && !now.Before(r.expires)
}

func isIndexKey(key string) bool { return strings.HasPrefix(key, "user:") }

// call runs the Before hook of c.Op, then locks b and records c; the
// caller unlocks b. It returns the error Fail set for c.Op.
func (b *Backend) call(c Call) error {
	b.mu.Lock()
	fn := b.before[c.Op]
	b.mu.Unlock()
	if fn != nil {
		fn(c.Key)
	}
	b.mu.Lock()
	b.calls = append(b.calls, c)
	if err := b.failKey[failOn{c.Op, c.Key}]; err != nil {
		return err
	}
	return b.fail[c.Op]
}

// live returns the live record under key.
func (b *Backend) live(key string) (backendRecord, bool) {
	r, ok := b.records[key]
	if !ok || r.expired(b.now()) {
		return backendRecord{}, false
	}
	return r, true
}

// Key implements session.Backend: the id itself.
func (b *Backend) Key(id string) string { return id }

// IndexKey implements session.Backend: "user:" + user (ids hold no ':').
func (b *Backend) IndexKey(user string) string { return "user:" + user }

// Kind names the storage in session events (session.Event.Storage).
func (b *Backend) Kind() string { return "sessiontest" }

// Get implements session.Backend.
func (b *Backend) Get(_ context.Context, key string) ([]byte, session.Version, error) {
	err := b.call(Call{Op: OpGet, Key: key})
	defer b.mu.Unlock()
	if err != nil {
		return nil, session.Version{}, err
	}
	r, ok := b.live(key)
	if !ok {
		return nil, session.Version{}, session.ErrNotFound
	}
	return slices.Clone(r.data), session.Version{N: r.version}, nil
}

// GetMulti implements session.MultiGetter.
func (b *Backend) GetMulti(_ context.Context, keys []string) ([][]byte, error) {
	err := b.call(Call{Op: OpGetMulti, Key: strings.Join(keys, " ")})
	defer b.mu.Unlock()
	if err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	for i, k := range keys {
		if r, ok := b.live(k); ok {
			out[i] = slices.Clone(r.data)
		}
	}
	return out, nil
}

// Put implements session.Backend.
func (b *Backend) Put(_ context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	err := b.call(Call{Op: OpPut, Key: key, Record: slices.Clone(data), TTL: ttl, Version: v})
	defer b.mu.Unlock()
	if err != nil {
		return session.Version{}, err
	}
	if r, ok := b.live(key); ok && r.version != v.N || !ok && !v.IsZero() {
		return session.Version{}, session.ErrConflict
	}
	b.seq++
	r := backendRecord{data: slices.Clone(data), version: b.seq}
	if ttl > 0 {
		r.expires = b.now().Add(ttl)
	}
	b.records[key] = r
	return session.Version{N: b.seq}, nil
}

// Delete implements session.Backend.
func (b *Backend) Delete(_ context.Context, key string, v session.Version) error {
	err := b.call(Call{Op: OpDelete, Key: key, Version: v})
	defer b.mu.Unlock()
	if err != nil {
		return err
	}
	if r, ok := b.live(key); !v.IsZero() && (!ok || r.version != v.N) {
		return session.ErrConflict
	}
	delete(b.records, key)
	return nil
}

// Touch implements session.Toucher: it restarts the TTL of a live record,
// or returns session.ErrNotFound.
func (b *Backend) Touch(_ context.Context, key string, ttl time.Duration) error {
	err := b.call(Call{Op: OpTouch, Key: key, TTL: ttl})
	defer b.mu.Unlock()
	if err != nil {
		return err
	}
	r, ok := b.live(key)
	if !ok {
		return session.ErrNotFound
	}
	r.expires = time.Time{}
	if ttl > 0 {
		r.expires = b.now().Add(ttl)
	}
	b.records[key] = r
	return nil
}

// TryLock implements session.Locker. Locks do not expire (a test releases
// them).
func (b *Backend) TryLock(_ context.Context, id, token string, ttl time.Duration) (bool, error) {
	err := b.call(Call{Op: OpTryLock, Key: id, TTL: ttl})
	defer b.mu.Unlock()
	if err != nil {
		return false, err
	}
	if _, held := b.locks[id]; held {
		return false, nil
	}
	b.locks[id] = token
	return true, nil
}

// Unlock implements session.Locker.
func (b *Backend) Unlock(_ context.Context, id, token string) error {
	err := b.call(Call{Op: OpUnlock, Key: id})
	defer b.mu.Unlock()
	if err != nil {
		return err
	}
	if b.locks[id] == token {
		delete(b.locks, id)
	}
	return nil
}

// WithoutTouch returns b as a session.Backend that is not a
// session.Toucher (nor a session.Locker or session.MultiGetter), so that
// sliding expiry rewrites records.
func (b *Backend) WithoutTouch() session.Backend { return plainBackend{b} }

type plainBackend struct{ b *Backend }

func (p plainBackend) Key(id string) string        { return p.b.Key(id) }
func (p plainBackend) IndexKey(user string) string { return p.b.IndexKey(user) }
func (p plainBackend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	return p.b.Get(ctx, key)
}
func (p plainBackend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	return p.b.Put(ctx, key, data, ttl, v)
}
func (p plainBackend) Delete(ctx context.Context, key string, v session.Version) error {
	return p.b.Delete(ctx, key, v)
}

// Len returns how many records the Backend holds, for Config.Count.
func (p plainBackend) Len() int { return p.b.Len() }
