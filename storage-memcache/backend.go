package memcachestorage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"strings"
	"syscall"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
)

// backend is the session.Backend (with session.Toucher and session.Updater)
// that New wraps in session.NewBackendStorage. Nothing it sends or returns
// holds a raw id: keys hold the id's SHA-256, and errors no key.
type backend struct {
	client      *memcache.Client
	prefix      string
	maxItemSize int
	// now is the wall clock for absolute expiration times, which memcached
	// compares with its own clock: never session.Options.Now.
	now func() time.Time
	// For the per-user index (userindex.go): how long an index item lives
	// after a change (Options.Session.LifetimeLimit(), 0: no expiry), and
	// where evictions are logged.
	lifetime time.Duration
	logger   *slog.Logger
}

var (
	_ session.Backend = (*backend)(nil)
	_ session.Toucher = (*backend)(nil)
	_ session.Updater = (*backend)(nil)
)

// key is the memcache key of id: prefix + hex(SHA-256(id)), as Remix.
func (b *backend) key(id string) string {
	sum := sha256.Sum256([]byte(id))
	var digits [hashLength]byte
	hex.Encode(digits[:], sum[:])
	var k strings.Builder
	k.Grow(len(b.prefix) + hashLength)
	k.WriteString(b.prefix)
	k.Write(digits[:])
	return k.String()
}

// Get implements session.Backend.
func (b *backend) Get(ctx context.Context, id string) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := b.key(id)
	var it *memcache.Item
	err := b.retryStale(func() (err error) {
		it, err = b.client.Get(key)
		return err
	})
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, session.ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("memcachestorage: get: %w", err)
	}
	return it.Value, nil
}

// Set implements session.Backend with a memcache set.
func (b *backend) Set(ctx context.Context, id string, record []byte, ttl time.Duration) error {
	it, err := b.item(ctx, b.key(id), record, ttl)
	if err != nil {
		return err
	}
	if err := b.retryStale(func() error { return b.client.Set(it) }); err != nil {
		return fmt.Errorf("memcachestorage: set: %w", err)
	}
	return nil
}

// Update implements session.Updater with a memcache replace, which stores
// only over a live item: a save never brings back a session that a
// concurrent logout deleted.
func (b *backend) Update(ctx context.Context, id string, record []byte, ttl time.Duration) error {
	it, err := b.item(ctx, b.key(id), record, ttl)
	if err != nil {
		return err
	}
	err = b.retryStale(func() error { return b.client.Replace(it) })
	if errors.Is(err, memcache.ErrNotStored) {
		return session.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("memcachestorage: replace: %w", err)
	}
	return nil
}

// Touch implements session.Toucher with a memcache touch.
func (b *backend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key, exp := b.key(id), expiration(ttl, b.now())
	err := b.retryStale(func() error { return b.client.Touch(key, exp) })
	if errors.Is(err, memcache.ErrCacheMiss) {
		return session.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("memcachestorage: touch: %w", err)
	}
	return nil
}

// Delete implements session.Backend.
func (b *backend) Delete(ctx context.Context, id string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	key := b.key(id)
	err := b.retryStale(func() error { return b.client.Delete(key) })
	if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
		return fmt.Errorf("memcachestorage: delete: %w", err)
	}
	return nil
}

// item builds the item for a set, replace or compare-and-swap of any item
// of the storage, refusing one the server would refuse. The check must come
// first: memcached answers an oversized set by deleting what the key held.
func (b *backend) item(ctx context.Context, key string, record []byte, ttl time.Duration) (*memcache.Item, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if n := itemSize(len(key), len(record)); n > b.maxItemSize {
		return nil, fmt.Errorf("%w: %d bytes of session data make a %d-byte item, over the %d-byte limit (Options.MaxItemSize, memcached -I); the stored session is unchanged",
			ErrTooLarge, len(record), n, b.maxItemSize)
	}
	return &memcache.Item{Key: key, Value: record, Expiration: expiration(ttl, b.now())}, nil
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

// retryStale runs op, and again while it fails on a connection the server
// had closed: gomemcache keeps up to MaxIdleConns idle connections per
// server, and after a memcached restart the first command on each of them
// fails although the server is back. Each failure discards that connection,
// so MaxIdleConns+1 attempts reach a new one. Every command the backend
// sends is idempotent (get, set, replace of the same bytes, touch, delete),
// so sending it again is safe. A server that is down refuses the new
// connection, which ends the retries.
func (b *backend) retryStale(op func() error) error {
	idle := b.client.MaxIdleConns
	if idle < 1 {
		idle = memcache.DefaultMaxIdleConns
	}
	err := op()
	for i := 0; i < idle && err != nil && staleConn(err); i++ {
		err = op()
	}
	return err
}

func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
