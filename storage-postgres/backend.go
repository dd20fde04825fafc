package postgresstorage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
)

// backend is the session.Backend behind New, with session.Toucher,
// session.Locker and session.MultiGetter. It stores bytes under keys, one
// row per key, and changes them only by compare-and-set; everything else
// (records, the per-user index document, merging concurrent saves) is
// package session's.
//
// Keys. A session's record is the row hex(SHA-256(id)) (64 hex digits): no
// row, statement or error holds a session id. A user's index document is the
// row "u" + 63 hex digits of a SHA-256 of the user name, and a session's
// lock the row "l" + 63 hex digits of another, in the same table: neither is
// ever a record's key (those are 64 hex digits, and "u" and "l" are not hex).
//
// Versions. The version column takes a new value from the table's identity
// sequence on every write (insert or update), and the Version is {N: it}. A
// per-row counter would restart at 1 when a key is deleted and written
// again, and a request still holding the deleted row's version 1 could then
// write over the new row; values from one sequence never repeat.
//
// Expiry. expires_at is set by the server's clock (now() + the time to
// live), and every statement treats a row past it as absent; expired rows
// are deleted in small batches on the write path (see sweep).
type backend struct {
	pool   *pgxpool.Pool
	table  table
	q      statements
	logger *slog.Logger

	// writes counts the writes that may sweep; behind is set when a sweep
	// deleted a full batch, so that the next write sweeps again.
	writes     atomic.Uint64
	behind     atomic.Bool
	sweepEvery uint64

	// attempts bounds how many connections a statement is tried on when
	// the one it ran on turns out closed (see run): the pool's size + 1.
	attempts int
}

var (
	_ session.Backend     = (*backend)(nil)
	_ session.Toucher     = (*backend)(nil)
	_ session.Locker      = (*backend)(nil)
	_ session.MultiGetter = (*backend)(nil)
)

// hashLength is the number of hex digits of a record's key; index and lock
// keys have a letter and one digit fewer.
const hashLength = 2 * sha256.Size

// Key implements session.Backend: session.HashID(id), the hex SHA-256 of the
// id.
func (b *backend) Key(id string) string { return session.HashID(id) }

// IndexKey implements session.Backend: "u" + 63 hex digits of a SHA-256 of
// the user name, separated from every other hash of the package. It holds no
// user name, and never equals a record's key.
func (b *backend) IndexKey(user string) string {
	return digestKey('u', "sessionkit user index\x00"+user)
}

// Kind names the storage in session events (session.Event.Storage).
func (b *backend) Kind() string { return "postgres" }

// lockKey is the row of session id's lock: "l" + 63 hex digits of a
// domain-separated SHA-256 of the id.
func (b *backend) lockKey(id string) string {
	return digestKey('l', "sessionkit session lock\x00"+id)
}

func digestKey(kind byte, s string) string {
	sum := sha256.Sum256([]byte(s))
	var k [1 + hashLength]byte
	k[0] = kind
	hex.Encode(k[1:], sum[:])
	return string(k[:hashLength]) // the letter and 63 digits
}

// micros is ttl in whole microseconds (PostgreSQL's resolution), rounded up
// so that a row never expires early, or nil (SQL NULL: no expiry) for a ttl
// of 0 or less.
func micros(ttl time.Duration) any {
	if ttl <= 0 {
		return nil
	}
	us := int64(ttl / time.Microsecond)
	if ttl%time.Microsecond != 0 {
		us++
	}
	return us
}

// run runs f on a connection of the pool. When f fails and the connection it
// ran on is now closed, which is how the connections of a pool find out
// that the server restarted (or a proxy or the network dropped them), f runs
// again on another connection, up to the pool's size + 1 times in all: a new
// connection to a server that is down fails to connect, which ends it. A
// context that is done ends it too.
//
// Every statement of the backend is safe to send again when its first run
// may or may not have been carried out: reads and deletes by key are
// idempotent; a write is a compare-and-set, which the second time finds the
// version moved on (its own write) and returns session.ErrConflict, which
// package session answers by reading the row again and re-applying the
// request's changes, already there; and a lock row is taken again by the
// token that holds it.
func (b *backend) run(ctx context.Context, f func(c *pgxpool.Conn) error) error {
	for try := 1; ; try++ {
		c, err := b.pool.Acquire(ctx)
		if err != nil {
			return err
		}
		err = f(c)
		lost := err != nil && c.Conn().IsClosed()
		c.Release()
		if !lost || ctx.Err() != nil || try >= b.attempts {
			return err
		}
	}
}

// Get implements session.Backend with one SELECT of a live row.
func (b *backend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	var data []byte
	var version int64
	err := b.run(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, b.q.get, key).Scan(&data, &version)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, session.Version{}, session.ErrNotFound
	case err != nil:
		return nil, session.Version{}, fmt.Errorf("postgresstorage: get: %w", err)
	}
	return data, session.Version{N: uint64(version)}, nil
}

// GetMulti implements session.MultiGetter with one SELECT … WHERE key =
// ANY($1), for listing and revoking a user's sessions.
func (b *backend) GetMulti(ctx context.Context, keys []string) ([][]byte, error) {
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	found := make(map[string][]byte, len(keys))
	err := b.run(ctx, func(c *pgxpool.Conn) error {
		clear(found)
		rows, err := c.Query(ctx, b.q.getMulti, keys)
		if err != nil {
			return err
		}
		var key string
		var data []byte
		_, err = pgx.ForEachRow(rows, []any{&key, &data}, func() error {
			found[key] = data
			data = nil
			return nil
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgresstorage: get: %w", err)
	}
	for i, k := range keys {
		out[i] = found[k]
	}
	return out, nil
}

// version is the version column's value that v names, and false when v is
// not a version this backend returns (the zero Version included).
func version(v session.Version) (int64, bool) {
	if v.Tag != "" || v.N == 0 || v.N > math.MaxInt64 {
		return 0, false
	}
	return int64(v.N), true
}

// Put implements session.Backend with one statement: at the zero version an
// INSERT that writes over an expired row and nothing else (ON CONFLICT … DO
// UPDATE … WHERE expired), otherwise an UPDATE of the row at that version
// while it is live. Either returns the new version; no row is a conflict.
// One write in sweepEvery is followed by a sweep of expired rows.
func (b *backend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	var stmt string
	var args []any
	if v.IsZero() {
		stmt, args = b.q.insert, []any{key, data, micros(ttl)}
	} else {
		n, ok := version(v)
		if !ok {
			return session.Version{}, session.ErrConflict
		}
		stmt, args = b.q.update, []any{key, data, micros(ttl), n}
	}
	var nv int64
	err := b.run(ctx, func(c *pgxpool.Conn) error {
		return c.QueryRow(ctx, stmt, args...).Scan(&nv)
	})
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return session.Version{}, session.ErrConflict
	case err != nil:
		return session.Version{}, fmt.Errorf("postgresstorage: put: %w", err)
	}
	b.maybeSweep(ctx)
	return session.Version{N: uint64(nv)}, nil
}

// Delete implements session.Backend: at the zero version a DELETE of the row
// whatever it holds, otherwise a DELETE of the live row at that version; no
// such row is a conflict (it changed, expired or is gone).
func (b *backend) Delete(ctx context.Context, key string, v session.Version) error {
	if v.IsZero() {
		_, err := b.exec(ctx, "delete", b.q.deleteAny, key)
		return err
	}
	n, ok := version(v)
	if !ok {
		return session.ErrConflict
	}
	deleted, err := b.exec(ctx, "delete", b.q.deleteVersion, key, n)
	if err != nil {
		return err
	}
	if deleted == 0 {
		return session.ErrConflict
	}
	return nil
}

// Touch implements session.Toucher with one UPDATE of the live row's
// expires_at (NULL for a ttl of 0 or less), which leaves its data and
// version as they are.
func (b *backend) Touch(ctx context.Context, key string, ttl time.Duration) error {
	touched, err := b.exec(ctx, "touch", b.q.touch, key, micros(ttl))
	if err != nil {
		return err
	}
	if touched == 0 {
		return session.ErrNotFound
	}
	return nil
}

// TryLock implements session.Locker with one INSERT of the lock row holding
// token, that writes over an expired lock row and nothing else: no row
// inserted or updated means another token holds it. ttl must be positive: a
// lock without expiry would block its session for good if its holder died.
func (b *backend) TryLock(ctx context.Context, id, token string, ttl time.Duration) (bool, error) {
	if ttl <= 0 {
		return false, errors.New("postgresstorage: lock: the lock's time to live is not positive")
	}
	if token == "" {
		return false, errors.New("postgresstorage: lock: empty token")
	}
	taken, err := b.exec(ctx, "lock", b.q.lock, b.lockKey(id), []byte(token), micros(ttl))
	if err != nil {
		return false, err
	}
	if taken == 0 {
		return false, nil
	}
	b.maybeSweep(ctx)
	return true, nil
}

// Unlock implements session.Locker with one DELETE of the lock row while it
// holds token: a lock that expired and was taken by another request is left
// to it.
func (b *backend) Unlock(ctx context.Context, id, token string) error {
	_, err := b.exec(ctx, "unlock", b.q.unlock, b.lockKey(id), []byte(token))
	return err
}

// exec runs a statement that returns no rows, and returns how many rows it
// affected. Its error names op.
func (b *backend) exec(ctx context.Context, op, stmt string, args ...any) (int64, error) {
	var n int64
	err := b.run(ctx, func(c *pgxpool.Conn) error {
		tag, err := c.Exec(ctx, stmt, args...)
		n = tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("postgresstorage: %s: %w", op, err)
	}
	return n, nil
}

// maybeSweep runs sweep after one write in sweepEvery, and after every write
// while the last sweep found a full batch. The write is done whatever the
// sweep does: after an error the rows wait for the next sweep, with a
// warning unless the request's context ended (a request that ended is not
// worth one; the pool hands out no connection for a done context).
func (b *backend) maybeSweep(ctx context.Context) {
	if b.writes.Add(1)%b.sweepEvery != 0 && !b.behind.Load() {
		return
	}
	n, err := b.sweep(ctx)
	switch {
	case err == nil:
		b.behind.Store(n >= sweepBatch)
	case ctx.Err() == nil:
		b.logger.WarnContext(ctx, "postgresstorage: deleting expired sessions failed; the next sweep tries again", "error", err)
	}
}

// sweep deletes up to sweepBatch expired rows (records, index documents and
// locks), in one short statement by the primary key, skipping rows that
// another transaction holds, and returns how many it deleted. Expired rows
// are invisible to every other statement already; this only frees their
// space.
func (b *backend) sweep(ctx context.Context) (int64, error) {
	return b.exec(ctx, "sweep", b.q.sweep)
}
