package memcachestorage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
	"syscall"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
)

// backend is the session.Backend (with session.Toucher and session.Locker)
// that New wraps in session.NewBackendStorage. It stores bytes under keys
// and changes them only by compare-and-set; everything else (records, the
// per-user index document, merging concurrent saves) is package session's.
// Nothing it sends or returns holds a raw id: keys hold the id's SHA-256,
// and errors no key.
//
// Versions. A Get is a memcache gets, and the version it returns is the
// item's CAS id (Version.N). gomemcache does not return the CAS id a store
// gave the item, so Put returns Version{Tag: the bytes it wrote}; a later
// Put or Delete at such a version reads the item (gets), compares its bytes
// with Tag and swaps at the CAS id it read: two round trips instead of one,
// and a rewrite with the same bytes goes unnoticed, which the session
// package allows (see session.Version).
//
// Tombstones. memcache has no conditional delete, so Delete at a version
// swaps the item (cas) for an empty value whose expiration is already past:
// memcached drops it at once, and nothing can be written between the check
// and the removal (a cas and then a plain delete could remove a value
// another request wrote over the first one). A stored empty value is a
// tombstone: Get reads it as absent, and Put at the zero version writes
// over it (an add, then a gets and a cas). The session package never writes
// empty data; if it did, that would be a tombstone too, and Put returns the
// zero Version ("absent") for it.
type backend struct {
	client      *memcache.Client
	prefix      string
	maxItemSize int
	// now is the wall clock for absolute expiration times, which memcached
	// compares with its own clock: never session.Options.Now.
	now func() time.Time
}

var (
	_ session.Backend     = (*backend)(nil)
	_ session.Toucher     = (*backend)(nil)
	_ session.Locker      = (*backend)(nil)
	_ session.MultiGetter = (*backend)(nil)
)

// digestLength is the number of hex digits of the SHA-256 in the keys of
// index documents and locks: one less than a record key's, so that no such
// key equals a record's.
const digestLength = hashLength - 1

// Key implements session.Backend: prefix + session.HashID(id), the hex
// SHA-256 of the id, as Remix.
func (b *backend) Key(id string) string { return b.prefix + session.HashID(id) }

// IndexKey implements session.Backend: prefix + "u" + 63 hex digits of a
// SHA-256 of the user name, separated from every other hash of the package.
// It holds no user name, and never equals a record's key (64 hex digits
// after the prefix).
func (b *backend) IndexKey(user string) string {
	return b.digestKey('u', "sessionkit user index\x00"+user)
}

// Kind names the storage in session events (session.Event.Storage).
func (b *backend) Kind() string { return "memcache" }

// lockKey is the key of session id's lock (Locker): prefix + "l" + 63 hex
// digits of a domain-separated SHA-256 of the id.
func (b *backend) lockKey(id string) string {
	return b.digestKey('l', "sessionkit session lock\x00"+id)
}

func (b *backend) digestKey(kind byte, s string) string {
	sum := sha256.Sum256([]byte(s))
	var digits [hashLength]byte
	hex.Encode(digits[:], sum[:])
	var k strings.Builder
	k.Grow(len(b.prefix) + 1 + digestLength)
	k.WriteString(b.prefix)
	k.WriteByte(kind)
	k.Write(digits[:digestLength])
	return k.String()
}

// errNoCAS is returned when the server gives an item without a CAS id: a
// memcached started with -C, which this storage cannot use.
var errNoCAS = errors.New("memcachestorage: the server returned an item without a CAS id (memcached -C disables them; this storage needs them)")

// gets reads the item under key: nil and no error when there is none.
func (b *backend) gets(ctx context.Context, key string) (*memcache.Item, error) {
	var it *memcache.Item
	err := b.send(ctx, func() (err error) {
		it, err = b.client.Get(key)
		return err
	})
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if it.CasID == 0 {
		return nil, errNoCAS
	}
	return it, nil
}

// Get implements session.Backend with one gets. A tombstone (an empty
// value) is absent.
func (b *backend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	it, err := b.gets(ctx, key)
	if err != nil {
		return nil, session.Version{}, fmt.Errorf("memcachestorage: get: %w", err)
	}
	if it == nil || len(it.Value) == 0 {
		return nil, session.Version{}, session.ErrNotFound
	}
	return it.Value, session.Version{N: it.CasID}, nil
}

// GetMulti implements session.MultiGetter with one get of several keys per
// server (gomemcache asks the servers at once), for listing and revoking a
// user's sessions. A missing key or a tombstone reads as nil.
func (b *backend) GetMulti(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	var items map[string]*memcache.Item
	err := b.send(ctx, func() (err error) {
		items, err = b.client.GetMulti(keys)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("memcachestorage: get: %w", err)
	}
	for i, k := range keys {
		if it := items[k]; it != nil && len(it.Value) > 0 {
			out[i] = it.Value
		}
	}
	return out, nil
}

// Put implements session.Backend: at the zero version one add, at a version
// Get returned one cas, at a version Put returned a gets and a cas. The size
// check comes first, before anything is sent: memcached answers an oversized
// store by deleting what the key held.
//
// add and cas are sent again, like every command (see send), when they fail
// on a connection the server had closed. If the first one was carried out
// and only its reply was lost, the second answers "not stored" (add: the
// key now holds our item) or "exists" (cas: the CAS id moved on), and Put
// returns session.ErrConflict although its bytes are stored. That is
// safe: a conflict writes nothing, and the session package answers it by
// reading the key again and re-applying its own changes to what it finds,
// which are then already there. The replay never writes over another
// request's item (its CAS id or the add's "absent" no longer holds), so the
// worst it does is make this request act as if it had lost a race it won.
func (b *backend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	it, err := b.item(key, data, ttl)
	if err != nil {
		return session.Version{}, err
	}
	if err := b.store(ctx, it, v); err != nil {
		return session.Version{}, err
	}
	return session.Version{Tag: string(data)}, nil
}

// store writes it if what is stored under its key is still at version v
// (see Put).
func (b *backend) store(ctx context.Context, it *memcache.Item, v session.Version) error {
	switch {
	case v.N != 0:
		it.CasID = v.N
		return b.cas(ctx, it)
	case v.Tag != "":
		return b.swapIf(ctx, it, func(cur []byte) bool { return string(cur) == v.Tag })
	}
	return b.add(ctx, it)
}

// add stores it under a key that holds nothing, or a tombstone: one add,
// and when that finds something stored, a gets and a cas over the
// tombstone. Anything else stored there is session.ErrConflict, as is a
// tombstone gone again by the time it is read: the caller reads again and
// decides.
func (b *backend) add(ctx context.Context, it *memcache.Item) error {
	err := b.send(ctx, func() error { return b.client.Add(it) })
	switch {
	case err == nil:
		return nil
	case !errors.Is(err, memcache.ErrNotStored):
		return fmt.Errorf("memcachestorage: add: %w", err)
	}
	return b.swapIf(ctx, it, func(cur []byte) bool { return len(cur) == 0 })
}

// swapIf is a compare-and-set on the stored bytes, which memcache lacks:
// one gets of it.Key and, when match accepts the value found there, one cas
// of it at the CAS id that gets returned, so that a write in between is a
// conflict. Nothing stored, a value match refuses, or a changed item is
// session.ErrConflict.
func (b *backend) swapIf(ctx context.Context, it *memcache.Item, match func(cur []byte) bool) error {
	cur, err := b.gets(ctx, it.Key)
	if err != nil {
		return fmt.Errorf("memcachestorage: get: %w", err)
	}
	if cur == nil || !match(cur.Value) {
		return session.ErrConflict
	}
	it.CasID = cur.CasID
	return b.cas(ctx, it)
}

// cas sends one compare-and-swap. Every refusal is session.ErrConflict: the
// item changed (exists), or is gone (not found; gomemcache may also say not
// stored).
func (b *backend) cas(ctx context.Context, it *memcache.Item) error {
	err := b.send(ctx, func() error { return b.client.CompareAndSwap(it) })
	switch {
	case err == nil:
		return nil
	case errors.Is(err, memcache.ErrCASConflict), errors.Is(err, memcache.ErrNotStored), errors.Is(err, memcache.ErrCacheMiss):
		return session.ErrConflict
	}
	return fmt.Errorf("memcachestorage: cas: %w", err)
}

// tombstoneGone is the expiration of a tombstone written by a conditional
// delete: a negative expiration, which memcached reads as already expired,
// so the swap removes the item.
const tombstoneGone = -1

// Delete implements session.Backend. At the zero version it is one delete
// (nothing stored is not an error; whether it was there is not reported,
// and the session package decides nothing from it). At a version it is one
// cas of a tombstone that expires at once, at that version (a gets first
// for a version Put returned): the conditional delete memcache lacks.
// ErrConflict when the item changed or is gone.
func (b *backend) Delete(ctx context.Context, key string, v session.Version) error {
	if v.IsZero() {
		err := b.send(ctx, func() error { return b.client.Delete(key) })
		if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
			return fmt.Errorf("memcachestorage: delete: %w", err)
		}
		return nil
	}
	return b.store(ctx, &memcache.Item{Key: key, Expiration: tombstoneGone}, v)
}

// Touch implements session.Toucher with one touch, which moves the item's
// expiration and leaves its CAS id (the version) as it is.
func (b *backend) Touch(ctx context.Context, key string, ttl time.Duration) error {
	exp := expiration(ttl, b.now())
	err := b.send(ctx, func() error { return b.client.Touch(key, exp) })
	if errors.Is(err, memcache.ErrCacheMiss) {
		return session.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("memcachestorage: touch: %w", err)
	}
	return nil
}

// TryLock implements session.Locker: one add of the lock item (prefix + "l"
// + a hash of the id) holding token, expiring after ttl rounded up to whole
// seconds (at least one). A lock item that is there means another holder.
func (b *backend) TryLock(ctx context.Context, id, token string, ttl time.Duration) (bool, error) {
	if token == "" {
		return false, errors.New("memcachestorage: empty lock token")
	}
	if ttl < time.Second {
		ttl = time.Second
	}
	it, err := b.item(b.lockKey(id), []byte(token), ttl)
	if err != nil {
		return false, err
	}
	switch err := b.add(ctx, it); {
	case err == nil:
		return true, nil
	case errors.Is(err, session.ErrConflict):
		return false, nil
	default:
		return false, err
	}
}

// Unlock implements session.Locker: a gets of the lock item and, when token
// still holds it, a cas of a tombstone that expires at once, so that a lock
// taken by another holder in between is never removed. A lock that expired,
// and perhaps was taken by another holder, is left alone.
func (b *backend) Unlock(ctx context.Context, id, token string) error {
	tomb := &memcache.Item{Key: b.lockKey(id), Expiration: tombstoneGone}
	err := b.swapIf(ctx, tomb, func(cur []byte) bool { return string(cur) == token })
	if err != nil && !errors.Is(err, session.ErrConflict) {
		return fmt.Errorf("memcachestorage: unlock: %w", err)
	}
	return nil
}

// item builds the item for an add or a compare-and-swap, refusing one the
// server would refuse. The check must come first: memcached answers an
// oversized store by deleting what the key held.
func (b *backend) item(key string, value []byte, ttl time.Duration) (*memcache.Item, error) {
	if n := itemSize(len(key), len(value)); n > b.maxItemSize {
		return nil, fmt.Errorf("%w: %d bytes of session data make a %d-byte item, over the %d-byte limit (Options.MaxItemSize, memcached -I); the stored session is unchanged",
			ErrTooLarge, len(value), n, b.maxItemSize)
	}
	return &memcache.Item{Key: key, Value: value, Expiration: expiration(ttl, b.now())}, nil
}

// itemOverhead is what memcached adds to a key and a value when it sizes an
// item against -I: in 1.6 a 48-byte header, 8 bytes of CAS, the key's NUL,
// the value's CRLF and up to 4 bytes of flags (63 bytes), rounded up so that
// a build with a larger header is still covered. TestItemSizeLimit checks it
// against the real server.
const itemOverhead = 80

// itemSize is the size memcached counts for an item with this key and value.
func itemSize(keyLen, valueLen int) int { return keyLen + valueLen + itemOverhead }

// maxRelativeExpiration is the longest expiration memcached reads as seconds
// from now (30 days); larger numbers are absolute Unix times.
const maxRelativeExpiration = 30 * 24 * 60 * 60

// expiration converts a TTL into memcache's expiration field: 0 for none,
// whole seconds rounded up (never 0, which would mean no expiry) up to 30
// days, and the absolute Unix time after that, capped at the largest int32
// (January 2038), the field's range.
func expiration(ttl time.Duration, now time.Time) int32 {
	if ttl <= 0 {
		return 0
	}
	secs := int64(ttl / time.Second)
	if ttl%time.Second != 0 {
		secs++
	}
	if secs <= maxRelativeExpiration {
		return int32(secs)
	}
	at := now.Unix() + secs
	if at > math.MaxInt32 {
		return math.MaxInt32
	}
	return int32(at)
}

// send runs op, which sends one memcache command, unless ctx is already
// done: gomemcache takes no context, so a done context fails a call before
// anything is sent, but cannot interrupt a command under way (client.Timeout
// bounds it).
//
// send runs op again while it fails on a connection the server had closed:
// gomemcache keeps up to MaxIdleConns idle connections per server, and
// after a memcached restart the first command on each of them fails
// although the server is back. Each failure discards that connection, so
// MaxIdleConns+1 attempts reach a new one. A server that is down refuses
// the new connection, which ends the retries, as does ctx ending.
//
// get, gets, touch and delete are idempotent, so sending one again is safe
// (a delete sent twice may answer "not found" the second time, which Delete
// does not report, and from which nothing is decided). add and cas are not:
// when the first one was carried out and only its reply was lost, the second
// answers "not stored", "exists" or "not found", which Put and Delete return
// as session.ErrConflict; see Put for why that is safe.
func (b *backend) send(ctx context.Context, op func() error) error {
	retries := b.client.MaxIdleConns
	if retries < 1 {
		retries = memcache.DefaultMaxIdleConns
	}
	for i := 0; ; i++ {
		if err := ctx.Err(); err != nil {
			return err
		}
		err := op()
		if !staleConn(err) || i == retries {
			return err // nil, or an error that sending again would not mend
		}
	}
}

func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
