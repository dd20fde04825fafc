package session

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Exclusive sessions: a route that reads and then writes one value (a cart,
// a counter) can hold the session's lock for the whole request, so that
// requests of one session run one at a time, across processes. Merged saves
// (see Save) already keep the changes of concurrent requests to different
// keys; a lock is for the read-modify-write of one key, where the later save
// would win. Locking is opt-in per route: every request that waits for a
// lock holds a server slot, and when every request locks, one slow request
// makes all of that user's requests queue behind it.

// ErrLockTimeout is returned (wrapped) by Locking.Lock when the session's
// lock was still held by another request after LockOptions.Wait. The
// session middleware answers it with 503 Service Unavailable and a
// Retry-After header.
var ErrLockTimeout = errors.New("session: timed out waiting for the session's lock")

// Default lock times, used when a LockOptions field is 0.
const (
	// DefaultLockTTL is how long a lock is held at most: a request that
	// runs longer loses it (and a process that died holding it blocks its
	// session this long).
	DefaultLockTTL = 30 * time.Second
	// DefaultLockWait is how long Lock waits for a lock another request
	// holds.
	DefaultLockWait = 5 * time.Second
)

// LockOptions configure Locking.Lock.
type LockOptions struct {
	// TTL is how long the lock is held at most; 0 or less:
	// DefaultLockTTL.
	TTL time.Duration
	// Wait is how long Lock waits for a lock another request holds before
	// it returns ErrLockTimeout; 0 or less: DefaultLockWait. The context's
	// deadline also ends the wait.
	Wait time.Duration
}

// Locking is a Storage that can serialize the requests of one session: the
// Storage of NewBackendStorage over a Backend that is a Locker (every
// server-side storage of sessionkit). Find it with a type assertion:
//
//	lk, ok := st.(session.Locking)
type Locking interface {
	Storage
	// Lock waits until this request holds the lock of the session that
	// cookieValue names, and returns the function that frees it (call it
	// once, after the session was saved). A cookie value that is empty or
	// not a valid id names no stored session: Lock returns at once with a
	// no-op release, since no other request can hold that session. Past
	// o.Wait it returns an error wrapping ErrLockTimeout; a backend error
	// is returned as it is. With Options.RegenerateGrace, Lock then reads
	// the record of cookieValue's id, and when it is an id that
	// RegenerateID replaced within the window, also takes the lock of the
	// id that replaced it, since the request loads that session.
	Lock(ctx context.Context, cookieValue string, o LockOptions) (release func(), err error)
}

// lockingStorage is a backendStorage over a Locker: it implements Locking.
type lockingStorage struct {
	*backendStorage
	lk Locker
}

// Lock implements Locking.
func (st *lockingStorage) Lock(ctx context.Context, cookieValue string, o LockOptions) (func(), error) {
	return st.lockSession(ctx, st.lk, cookieValue, o)
}

// lockingIndexedStorage is an indexedStorage over a Locker: it implements
// UserIndex and Locking.
type lockingIndexedStorage struct {
	indexedStorage
	lk Locker
}

// Lock implements Locking.
func (st *lockingIndexedStorage) Lock(ctx context.Context, cookieValue string, o LockOptions) (func(), error) {
	return st.lockSession(ctx, st.lk, cookieValue, o)
}

// unlockTimeout bounds the release of a lock, which runs after the
// request's context may have ended.
const unlockTimeout = 5 * time.Second

// lockSession is Lock: the lock of the cookie's id and, within a grace
// window (Options.RegenerateGrace) where that id names a forwarding
// record, also the lock of the id that replaced it, which requests with
// the new cookie take; so the requests that reach one session through its
// old and its new id run one at a time too. Both waits end at o.Wait
// after the start. A replaced id is always locked before the id that
// replaced it, and an id never forwards back to one it replaced, so two
// requests cannot each hold the lock the other waits for.
func (st *backendStorage) lockSession(ctx context.Context, lk Locker, cookieValue string, o LockOptions) (func(), error) {
	if cookieValue == "" || !ValidID(cookieValue) {
		return func() {}, nil
	}
	o = o.withDefaults()
	start := time.Now()
	release, err := st.lockID(ctx, lk, cookieValue, o, start)
	if err != nil || st.o.RegenerateGrace <= 0 {
		return release, err
	}
	// Read under the first lock: a rotation that held it has written its
	// forwarding record by now.
	target, err := st.forwardOf(ctx, cookieValue, start)
	if err == nil && target != "" {
		var second func()
		if second, err = st.lockID(ctx, lk, target, o, start); err == nil {
			first := release
			release = func() { second(); first() }
		}
	}
	if err != nil {
		release()
		return nil, err
	}
	return release, nil
}

// lockID takes the lock of session id: TryLock with a fresh token until it
// is taken, waiting longer between tries as they fail (1 ms, doubling up to
// 50 ms), until o.Wait after start (by the real clock: Options.Now may be a
// test's fake clock) or the context's end.
func (st *backendStorage) lockID(ctx context.Context, lk Locker, id string, o LockOptions, start time.Time) (func(), error) {
	token := newID()
	deadline := start.Add(o.Wait)
	pause := time.Millisecond
	for tries := 1; ; tries++ {
		ok, err := lk.TryLock(ctx, id, token, o.TTL)
		if err != nil {
			st.lockEvent(ctx, id, EventStorageError, start, err)
			return nil, fmt.Errorf("session: lock %s: %w", logID(id), err)
		}
		if ok {
			if tries > 1 {
				st.lockEvent(ctx, id, EventLockWaited, start, nil)
			}
			return st.unlocker(ctx, lk, id, token), nil
		}
		if err := waitTurn(ctx, deadline, pause); err != nil {
			st.lockEvent(ctx, id, EventLockTimeout, start, nil)
			return nil, fmt.Errorf("session: lock %s: held by another request for over %v: %w", logID(id), o.Wait, err)
		}
		pause = min(2*pause, 50*time.Millisecond)
	}
}

// forwardOf returns the id that replaced id, when id's record is a
// forwarding record within the grace window; "" when it is anything else
// (a session, absent, expired, corrupt, a forwarding record past its
// window). start is when the lock was asked for, for its event.
func (st *backendStorage) forwardOf(ctx context.Context, id string, start time.Time) (string, error) {
	now := st.o.Now()
	r, _, err := st.read(ctx, id, now)
	switch {
	case errors.Is(err, errForwarded):
		target, _ := st.forwardTarget(id, &r, now)
		return target, nil
	case err == nil, errors.Is(err, ErrNotFound), errors.Is(err, ErrCorruptRecord):
		return "", nil
	}
	st.lockEvent(ctx, id, EventStorageError, start, err)
	return "", fmt.Errorf("session: lock %s: reading its record: %w", logID(id), err)
}

// lockEvent reports a lock wait, timeout (kind) or error of session id's
// lock, taken from start.
func (st *backendStorage) lockEvent(ctx context.Context, id string, kind EventKind, start time.Time, err error) {
	if !st.ev.on() {
		return
	}
	e := Event{Kind: kind, Handle: handleOf(id), Duration: time.Since(start), Err: err}
	if kind == EventStorageError {
		e.Cause = CauseLock
	}
	st.ev.emit(ctx, e)
}

// withDefaults returns o with DefaultLockTTL and DefaultLockWait for its
// zero (or negative) fields.
func (o LockOptions) withDefaults() LockOptions {
	if o.TTL <= 0 {
		o.TTL = DefaultLockTTL
	}
	if o.Wait <= 0 {
		o.Wait = DefaultLockWait
	}
	return o
}

// waitTurn waits pause, or until deadline if that comes first, before the
// next try of a lock; ErrLockTimeout past the deadline. A request that ends
// while another holds the lock times out too, for the caller that answers
// 503.
func waitTurn(ctx context.Context, deadline time.Time, pause time.Duration) error {
	left := time.Until(deadline)
	if left <= 0 {
		return ErrLockTimeout
	}
	t := time.NewTimer(min(pause, left))
	defer t.Stop()
	select {
	case <-ctx.Done():
		return fmt.Errorf("%w: %w", ErrLockTimeout, ctx.Err())
	case <-t.C:
		return nil
	}
}

// unlocker returns the release function of a lock taken with token: it
// unlocks once, on a context that outlives the request's (bounded by
// unlockTimeout), and logs a failure (the lock then ends at its TTL).
func (st *backendStorage) unlocker(ctx context.Context, lk Locker, id, token string) func() {
	var once sync.Once
	return func() {
		once.Do(func() {
			uctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), unlockTimeout)
			defer cancel()
			if err := lk.Unlock(uctx, id, token); err != nil {
				st.o.Logger.WarnContext(ctx, "session: releasing a session's lock failed; it ends at its TTL",
					"session", logID(id), "error", err)
			}
		})
	}
}
