package sessiontest

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Op names a Backend method, for Call and Fail.
type Op string

// The Backend operations.
const (
	OpGet    Op = "Get"
	OpSet    Op = "Set"
	OpDelete Op = "Delete"
	OpTouch  Op = "Touch"
	OpUpdate Op = "Update"

	// The session.UserIndexBackend operations.
	OpSaveIndexed       Op = "SaveIndexed"
	OpUserRecords       Op = "UserRecords"
	OpDeleteUserRecords Op = "DeleteUserRecords"
)

// Call is one call a Backend received.
type Call struct {
	Op     Op
	ID     string        // the user for UserRecords and DeleteUserRecords
	Record []byte        // Set, Update and SaveIndexed
	TTL    time.Duration // Set, Touch, Update and SaveIndexed
}

// Backend is an in-memory session.Backend, session.Toucher and
// session.UserIndexBackend that records every call and can be told to fail,
// for unit tests of session.NewBackendStorage and of code built on it.
// Records expire after their TTL by the clock given to NewBackend. It is safe
// for concurrent use.
type Backend struct {
	mu      sync.Mutex
	now     func() time.Time
	records map[string]backendRecord
	users   map[string]map[string]string // user, handle: id
	calls   []Call
	fail    map[Op]error
}

type backendRecord struct {
	data    []byte
	expires time.Time // zero: never
}

// NewBackend returns an empty Backend whose TTLs follow now (nil: time.Now).
func NewBackend(now func() time.Time) *Backend {
	if now == nil {
		now = time.Now
	}
	return &Backend{now: now, records: map[string]backendRecord{}, users: map[string]map[string]string{}, fail: map[Op]error{}}
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

// Len returns how many records are stored, expired or not.
func (b *Backend) Len() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.records)
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

// Put stores record under id with no expiry, without recording a call (a
// record written by someone else, such as Remix).
func (b *Backend) Put(id string, record []byte) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.records[id] = backendRecord{data: slices.Clone(record)}
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

func (b *Backend) record(c Call) error {
	b.calls = append(b.calls, c)
	return b.fail[c.Op]
}

// Get implements session.Backend.
func (b *Backend) Get(_ context.Context, id string) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpGet, ID: id}); err != nil {
		return nil, err
	}
	r, ok := b.records[id]
	if !ok || r.expired(b.now()) {
		return nil, session.ErrNotFound
	}
	return slices.Clone(r.data), nil
}

// Set implements session.Backend.
func (b *Backend) Set(_ context.Context, id string, record []byte, ttl time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpSet, ID: id, Record: slices.Clone(record), TTL: ttl}); err != nil {
		return err
	}
	r := backendRecord{data: slices.Clone(record)}
	if ttl > 0 {
		r.expires = b.now().Add(ttl)
	}
	b.records[id] = r
	return nil
}

// Delete implements session.Backend.
func (b *Backend) Delete(_ context.Context, id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpDelete, ID: id}); err != nil {
		return err
	}
	delete(b.records, id)
	return nil
}

// Touch implements session.Toucher: it restarts the TTL of a live record,
// or returns session.ErrNotFound.
func (b *Backend) Touch(_ context.Context, id string, ttl time.Duration) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpTouch, ID: id, TTL: ttl}); err != nil {
		return err
	}
	r, ok := b.records[id]
	if !ok || r.expired(b.now()) {
		return session.ErrNotFound
	}
	r.expires = time.Time{}
	if ttl > 0 {
		r.expires = b.now().Add(ttl)
	}
	b.records[id] = r
	return nil
}

// WithoutTouch returns b as a plain session.Backend that is not a
// session.Toucher, so that sliding expiry rewrites records.
func (b *Backend) WithoutTouch() session.Backend { return plainBackend{b} }

type plainBackend struct{ b *Backend }

func (p plainBackend) Get(ctx context.Context, id string) ([]byte, error) { return p.b.Get(ctx, id) }
func (p plainBackend) Set(ctx context.Context, id string, r []byte, ttl time.Duration) error {
	return p.b.Set(ctx, id, r, ttl)
}
func (p plainBackend) Delete(ctx context.Context, id string) error { return p.b.Delete(ctx, id) }

// Len returns how many records the Backend holds, for Config.Count.
func (p plainBackend) Len() int { return p.b.Len() }

// Updating returns b as a session.Backend that is also a session.Updater
// (and a session.Toucher): saves of loaded sessions then call Update, which
// refuses to bring back a record that was deleted meanwhile.
func (b *Backend) Updating() session.Backend { return updatingBackend{b} }

type updatingBackend struct{ *Backend }

// Update stores record under id if a live record is there, else returns
// session.ErrNotFound.
func (u updatingBackend) Update(_ context.Context, id string, record []byte, ttl time.Duration) error {
	b := u.Backend
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpUpdate, ID: id, Record: slices.Clone(record), TTL: ttl}); err != nil {
		return err
	}
	if r, ok := b.records[id]; !ok || r.expired(b.now()) {
		return session.ErrNotFound
	}
	r := backendRecord{data: slices.Clone(record)}
	if ttl > 0 {
		r.expires = b.now().Add(ttl)
	}
	b.records[id] = r
	return nil
}

// SaveIndexed implements session.UserIndexBackend, in the order that
// session.IndexedSave describes, as one step under the Backend's lock.
func (b *Backend) SaveIndexed(_ context.Context, c *session.IndexedSave) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpSaveIndexed, ID: c.ID, Record: slices.Clone(c.Record), TTL: c.TTL}); err != nil {
		return err
	}
	if c.Require != "" {
		if r, ok := b.records[c.Require]; !ok || r.expired(b.now()) {
			return session.ErrNotFound
		}
	}
	if c.ID != "" {
		r := backendRecord{data: slices.Clone(c.Record)}
		if c.TTL > 0 {
			r.expires = b.now().Add(c.TTL)
		}
		b.records[c.ID] = r
	}
	for _, d := range c.Delete {
		delete(b.records, d.ID)
		b.unindex(c.From, d.Handle)
	}
	if c.From != c.To {
		b.unindex(c.From, c.Handle)
	}
	if c.To != "" && c.ID != "" {
		if b.users[c.To] == nil {
			b.users[c.To] = map[string]string{}
		}
		b.users[c.To][c.Handle] = c.ID
	}
	return nil
}

func (b *Backend) unindex(user, handle string) {
	if idx := b.users[user]; idx != nil {
		delete(idx, handle)
		if len(idx) == 0 {
			delete(b.users, user)
		}
	}
}

// UserRecords implements session.UserIndexBackend. Seen is left zero: the
// record's save time is LastSeen.
func (b *Backend) UserRecords(_ context.Context, user string) ([]session.UserRecord, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpUserRecords, ID: user}); err != nil {
		return nil, err
	}
	var list []session.UserRecord
	for h, id := range b.users[user] {
		if r, ok := b.records[id]; ok && !r.expired(b.now()) {
			list = append(list, session.UserRecord{Handle: h, Record: slices.Clone(r.data)})
		}
	}
	return list, nil
}

// DeleteUserRecords implements session.UserIndexBackend.
func (b *Backend) DeleteUserRecords(_ context.Context, user string, revoke func(string) bool) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if err := b.record(Call{Op: OpDeleteUserRecords, ID: user}); err != nil {
		return 0, err
	}
	n := 0
	for h, id := range b.users[user] {
		if !revoke(h) {
			continue
		}
		if r, ok := b.records[id]; ok && !r.expired(b.now()) {
			n++
		}
		delete(b.records, id)
		b.unindex(user, h)
	}
	return n, nil
}
