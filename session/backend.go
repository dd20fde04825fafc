package session

import (
	"context"
	"errors"
	"time"
)

// The contract between NewBackendStorage and the stores under it. A Backend
// keeps bytes under keys it names, each with a version, and changes them
// only by compare-and-set; everything else (ids, expiry, flash, merging
// concurrent saves, the per-user index, revocation) lives in this package,
// once, and every Backend reuses it.

// ErrConflict is what a Backend's Put and Delete return when what is stored
// under the key is no longer at the version the caller named: another
// request (or another program, such as a Remix app) changed it since it was
// read. Nothing is written. NewBackendStorage answers it by reading the
// record again and re-applying the request's own changes (see Save).
var ErrConflict = errors.New("session: stored record changed since it was read")

// Version names one stored state of what a Backend keeps under a key, as its
// Get returned it or its Put wrote it. The zero Version means "absent": a
// Backend never returns it with something stored. Its fields are the
// backend's own, opaque to the caller: a counter or a compare-and-swap id
// (N), or a digest or copy of the stored bytes (Tag). Two Versions of one key
// are equal exactly when nothing was written in between, as far as the
// backend can tell (a version derived from the bytes cannot tell a rewrite
// with the same bytes).
type Version struct {
	N   uint64
	Tag string
}

// IsZero reports whether v is the zero Version ("absent").
func (v Version) IsZero() bool { return v == Version{} }

// Backend stores what NewBackendStorage keeps: session records, and the
// per-user index documents of Options.UserKey. Each lives under a key that
// the backend names (Key, IndexKey) and is read with its Version and
// written only by compare-and-set, so that concurrent requests never
// silently overwrite each other. Each method is one step: one round trip
// where the engine allows it (a Redis script on one key, memcache gets and
// cas, a file under its shard's lock, a map under a mutex).
//
// Ids reaching a Backend have passed ValidID. sessiontest.Run is the
// conformance suite a Backend must pass.
type Backend interface {
	// Key returns the key of session id's record: the backend's own name
	// for it (a Redis key, a memcache key, a path below a directory). The
	// per-user index keeps it to delete a revoked session, so it should
	// reveal the id only when the backend's keys already do (Redis keys
	// shared with Remix hold the id; memcache and file keys hold its
	// SHA-256).
	Key(id string) string
	// IndexKey returns the key of user's index document. It never equals
	// the key of a record.
	IndexKey(user string) string
	// Get returns what is stored under key and its version: ErrNotFound
	// when nothing is (or it expired), an error wrapping ErrCorruptRecord
	// when what is there is not a value the backend can return (a
	// directory, a Redis key of another type). The returned slice is
	// read-only for both sides: the caller does not modify it, and the
	// backend does not modify it once returned. So a backend may return
	// bytes it keeps (memory storage does), and the caller may keep them
	// (the decoded values share them) without a copy.
	Get(ctx context.Context, key string) ([]byte, Version, error)
	// Put stores data under key with the time to live ttl (0: no expiry)
	// if what is stored there is still at version v; the zero v requires
	// that nothing is stored there. Otherwise it returns ErrConflict (or
	// an error wrapping it) and writes nothing. It returns the version it
	// wrote. The caller does not modify data after the call, so a backend
	// may keep it.
	Put(ctx context.Context, key string, data []byte, ttl time.Duration, v Version) (Version, error)
	// Delete removes what is stored under key if it is still at version
	// v, or whatever is there when v is zero; ErrConflict when it changed.
	// Nothing stored there is not an error.
	Delete(ctx context.Context, key string, v Version) error
}

// Toucher is a Backend that can extend a record's time to live without
// rewriting it (Redis PEXPIRE, memcache touch, a file's mtime), and without
// changing its version. Sliding expiry uses it when present; otherwise it
// rewrites the record. Touch returns ErrNotFound when nothing is stored
// under key.
type Toucher interface {
	Touch(ctx context.Context, key string, ttl time.Duration) error
}

// Locker is a Backend that can hold one lock per session id, for exclusive
// sessions (Storage's Lock; the session middleware's Exclusive option). A
// lock is held by a token for a time to live, after which it is free again
// whoever held it, so a process that dies holding a lock blocks that session
// for at most the time to live.
type Locker interface {
	// TryLock takes the lock of session id for token, for ttl, when
	// nobody holds it, and reports whether it did. It does not wait.
	TryLock(ctx context.Context, id, token string, ttl time.Duration) (bool, error)
	// Unlock frees the lock of session id if token still holds it, and
	// leaves it alone otherwise (it expired and another holder took it).
	Unlock(ctx context.Context, id, token string) error
}

// MultiGetter is a Backend that reads several keys in one round trip (a
// Redis pipeline, memcache's get of several keys). UserIndex's Sessions and
// RevokeAll read a user's records with it when present; otherwise one Get
// per record.
type MultiGetter interface {
	// GetMulti returns what is stored under each of keys, in their order:
	// nil for a key with nothing stored (or expired), or with something
	// that is not a value the backend can return (as Get's
	// ErrCorruptRecord). An error fails the whole call. The caller does
	// not modify the returned slices.
	GetMulti(ctx context.Context, keys []string) ([][]byte, error)
}
