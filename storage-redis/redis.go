package redisstorage

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
)

// DefaultKeyPrefix is the key prefix when Options.KeyPrefix is empty, the
// same as @remix-run/session-storage-redis's: a session's record is stored
// under "session:" + the hex SHA-256 of its id, or, with
// Options.PlainKeys, under "session:" + its id, Remix's key.
const DefaultKeyPrefix = "session:"

// Options configure New. The zero value is valid: keys "session:" + the
// hex SHA-256 of the id, and the zero session.Options (sessions end
// session.DefaultLifetime, 14 days, after they were created, so every key
// has a TTL; strict ids; slog.Default()).
type Options struct {
	// KeyPrefix goes before each session's key. Empty: DefaultKeyPrefix.
	// It must be valid UTF-8 without control characters. Use the prefix of
	// a Remix app (with PlainKeys) to share its sessions.
	KeyPrefix string

	// PlainKeys keys each session by its id in clear, KeyPrefix + id, as
	// @remix-run/session-storage-redis does, and its lock by KeyPrefix +
	// "lock:" + id: the layout of earlier versions of this package.
	// Without it (the default), the key is KeyPrefix + session.HashID(id),
	// the hex SHA-256 of the id, and the lock's KeyPrefix + "lock:" + that
	// hash, as the file and memcache storages name their records: an id
	// is a bearer credential, and whoever can list keys (KEYS, SCAN, a
	// dump, a replica, the slow log, a monitoring tool) would otherwise be
	// able to use every live session. Set it only to share sessions with a
	// Remix app, which reads and writes KeyPrefix + id, or to keep the
	// sessions stored by an earlier version readable (see the README's
	// upgrade notes): the records are the same, only their keys differ.
	PlainKeys bool

	// NoPipeline sends each command on a pooled connection of its own, as
	// the client's plain methods do. Without it (the default), the
	// commands of reads and saves go through the client's asynchronous
	// autopipeliner (AsyncAutoPipeline), which sends the commands that
	// concurrent requests have queued as one batch: several times the
	// requests per second under concurrent load, at a fraction of Redis's
	// CPU per request. Each request still waits for its command only until
	// its context's deadline. The autopipeliner is the client's own, shared
	// with the rest of the program (the first configuration it was asked
	// for wins: Options.AutoPipelineOptions of the client, or go-redis's
	// defaults). While at most 16 commands are under way they are sent
	// directly anyway: on a small machine a small batch gains less than
	// the hand-off to the autopipeliner costs. Set NoPipeline when
	// the client must not start the autopipeliner's goroutine. Locks and
	// listings are never pipelined.
	NoPipeline bool

	// Session holds the options every server-side storage takes, which
	// session.NewBackendStorage applies: IdleTimeout (sliding expiry; a
	// read-only request refreshes the key's TTL with one PEXPIRE at most
	// once per tenth of it), Lifetime, UseUnknownIDs, MaxRecordSize,
	// UserKey, MaxUserSessions and Logger. Every write sets the key's TTL
	// to what is left of the session: the smaller of the idle timeout and
	// the Lifetime left; no TTL only with no IdleTimeout and a negative
	// Lifetime. Now is used for the expiry metadata in the records; Redis
	// itself expires keys by its own clock.
	Session session.Options
}

// New returns a session.Storage that keeps each session's record in Redis
// under KeyPrefix + session.HashID(id) (KeyPrefix + id with
// Options.PlainKeys), with the TTL that the session's expiry allows, so
// that Redis drops it when the session ends. The Storage is
// session.NewBackendStorage over a backend that is a session.Backend,
// session.Toucher and session.Locker, so it is also a session.Locking, and
// a session.UserIndex when Options.Session.UserKey is set.
//
// client may be any go-redis v9 client: *redis.Client (one node, or
// Sentinel through redis.NewFailoverClient), *redis.ClusterClient or
// *redis.Ring. Create it with ContextTimeoutEnabled: true so that a
// request's context deadline also cuts short a command already sent;
// otherwise the client's ReadTimeout and WriteTimeout bound it, a canceled
// or expired context still fails before a command is sent, and New logs a
// warning (for the clients whose options it can see, and for a
// *redis.AutoPipeliner, which never honours per-command deadlines).
//
// With a *redis.ClusterClient (also when redis.NewUniversalClient returns
// one), a command that fails in a way that says the client's slot map may
// be stale (a refused or broken connection, a timeout, CLUSTERDOWN,
// TRYAGAIN, MOVED, ASK, MASTERDOWN, READONLY, LOADING) makes the storage
// ask the client to reload the map (ClusterClient.ReloadState), in the
// background, one reload at a time and at most four a second: so once a
// replica has taken over a dead master, requests find it after the next
// failing one, whatever the client's ClusterStateReloadInterval.
//
// A read costs one command (GET), a save one round trip (EVALSHA of a
// compare-and-set script), an unchanged session none, and a sliding
// refresh one PEXPIRE. A login or logout that changes the per-user index
// costs a few more, made by package session on the index document. New
// returns an error for a nil client, a KeyPrefix with control characters
// or invalid UTF-8, and the options session.NewBackendStorage refuses (a
// negative IdleTimeout).
func New(client redis.UniversalClient, o Options) (session.Storage, error) {
	b, err := newBackend(client, o)
	if err != nil {
		return nil, err
	}
	st, err := session.NewBackendStorage(b, o.Session)
	if err != nil {
		return nil, fmt.Errorf("redisstorage: %w", err)
	}
	if !contextTimeoutEnabled(client) {
		o.Session.WithDefaults().Logger.Warn("redisstorage: the Redis client does not stop a command at its context's deadline (ContextTimeoutEnabled is false, or an AutoPipeliner); a request's deadline will not cut a slow command short, only the client's ReadTimeout and WriteTimeout will")
	}
	return st, nil
}

// backend is the session.Backend behind New. It is also a session.Toucher
// (PEXPIRE) and a session.Locker (SET … NX PX).
//
// Its keys, all under the prefix: a session's record is prefix +
// session.HashID(id), or prefix + id with plain (as Remix's); user's index
// document, which package session writes, is prefix + "index:" + user; the
// lock of session id is prefix + "lock:" + the same hash or id. A hash is
// hex and ids are [A-Za-z0-9_-] (checked by package session before any
// backend call), so a record key never holds a ':' after the prefix and is
// never an index or lock key, and "index:" and "lock:" keep those two
// apart.
//
// A key's version is its bytes: Get returns them as the Version's Tag, and
// Put and Delete send them (their SHA-1 above 4 KiB, see expectation) to a
// script that compares them with what is stored, on the server, in the
// same round trip as the write. Any write in between, by this package or
// by another program (a Remix app's plain SET), changes the bytes and so
// is a conflict, unless it wrote the very same bytes.
type backend struct {
	c      redis.UniversalClient
	s      *sender // the commands of reads and saves (pipeline.go)
	prefix string
	plain  bool      // keys hold the id itself (Options.PlainKeys)
	reload *reloader // nil unless c is a Cluster client
}

var (
	_ session.Backend     = (*backend)(nil)
	_ session.Toucher     = (*backend)(nil)
	_ session.Locker      = (*backend)(nil)
	_ session.MultiGetter = (*backend)(nil)
)

func newBackend(client redis.UniversalClient, o Options) (*backend, error) {
	if isNil(client) {
		return nil, errors.New("redisstorage: the Redis client is nil")
	}
	prefix := o.KeyPrefix
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	if err := checkKeyPrefix(prefix); err != nil {
		return nil, err
	}
	s, err := newSender(client, o.NoPipeline)
	if err != nil {
		return nil, fmt.Errorf("redisstorage: the client's autopipeliner: %w", err)
	}
	b := &backend{c: client, s: s, prefix: prefix, plain: o.PlainKeys}
	if r, ok := client.(stateReloader); ok {
		b.reload = &reloader{c: r}
	}
	return b, nil
}

// checkKeyPrefix refuses a prefix that is not valid UTF-8 or holds a
// control character (C0, DEL or C1), as Options.KeyPrefix says.
func checkKeyPrefix(prefix string) error {
	if !utf8.ValidString(prefix) {
		return errors.New("redisstorage: Options.KeyPrefix is not valid UTF-8")
	}
	for _, r := range prefix {
		if unicode.IsControl(r) {
			return fmt.Errorf("redisstorage: Options.KeyPrefix %q holds a control character", prefix)
		}
	}
	return nil
}

// isNil reports whether client is nil or a nil pointer of a go-redis client
// type, which would panic on first use.
func isNil(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case nil:
		return true
	case *redis.Client:
		return c == nil
	case *redis.ClusterClient:
		return c == nil
	case *redis.Ring:
		return c == nil
	}
	return false
}

// contextTimeoutEnabled reports whether client honours context deadlines on
// commands in flight; true when it cannot tell.
func contextTimeoutEnabled(client redis.UniversalClient) bool {
	switch c := client.(type) {
	case *redis.AutoPipeliner:
		return false // batches run on its own context (see its doc)
	case *redis.Client:
		return c.Options().ContextTimeoutEnabled
	case *redis.ClusterClient:
		return c.Options().ContextTimeoutEnabled
	case *redis.Ring:
		return c.Options().ContextTimeoutEnabled
	}
	return true
}

// Key implements session.Backend: the Redis key of session id's record,
// prefix + session.HashID(id), or prefix + id (as Remix's) with plain.
func (b *backend) Key(id string) string { return b.keyOf("", id) }

// IndexKey implements session.Backend: the Redis key of user's index
// document, a string that package session reads and writes with Get, Put
// and Delete. The ':' after "index" cannot occur in an id, so it is never
// a record's key.
func (b *backend) IndexKey(user string) string { return b.prefix + "index:" + user }

// Kind names the storage in session events (session.Event.Storage).
func (b *backend) Kind() string { return "redis" }

// lockKey is the Redis key of session id's lock: it names the id the way
// the record's key does.
func (b *backend) lockKey(id string) string { return b.keyOf("lock:", id) }

// keyOf is prefix + kind + id with plain, otherwise prefix + kind +
// session.HashID(id). Every request computes one or two keys, so the hashed
// key costs one allocation: the id is hashed from the key's own buffer,
// where its hex then overwrites it.
func (b *backend) keyOf(kind, id string) string {
	if b.plain {
		return b.prefix + kind + id
	}
	n := len(b.prefix) + len(kind)
	k := make([]byte, n, n+max(hex.EncodedLen(sha256.Size), len(id)))
	copy(k[copy(k, b.prefix):], kind)
	sum := sha256.Sum256(append(k, id...)[n:])
	k = hex.AppendEncode(k, sum[:])
	return unsafe.String(unsafe.SliceData(k), len(k)) // k is never written again
}

// millis is ttl in whole milliseconds, rounded up so that a positive ttl
// never becomes 0 (which PX refuses) and a key never expires early.
func millis(ttl time.Duration) int64 {
	ms := int64(ttl / time.Millisecond)
	if ttl%time.Millisecond != 0 {
		ms++
	}
	return ms
}

// ready fails fast with ctx's error when it is already done, so that a
// request past its deadline sends nothing even when the client does not
// honour context deadlines.
func ready(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("redisstorage: %s: %w", op, err)
	}
	return nil
}

// versionOf is the Version of a key that holds s: s itself as the Tag. N is
// 1 only for an empty value, whose Version would otherwise be the zero
// Version ("absent").
func versionOf(s string) session.Version {
	if s == "" {
		return session.Version{N: 1}
	}
	return session.Version{Tag: s}
}

// How the scripts compare what is stored with the version the caller read
// (the last argument of putScript and delScript): "absent" requires that
// nothing is stored; "bytes" compares the stored bytes with the argument
// itself (one comparison, as Lua interns both strings); "sha1" compares
// their SHA-1 (hex) with it. Redis spends less on sending a small record
// twice than on hashing it, and a large record's SHA-1 keeps the command
// small.
const (
	expectAbsent = "absent"
	expectBytes  = "bytes"
	expectSHA1   = "sha1"
)

// maxExpectBytes is the largest record that is compared as its bytes;
// above it, by its SHA-1.
const maxExpectBytes = 4 << 10

// expectation returns the scripts' arguments for the version v the caller
// read: what to compare the stored value with, and how (see expectBytes).
func expectation(v session.Version) (expect, how string) {
	switch {
	case v.IsZero():
		return "", expectAbsent
	case len(v.Tag) <= maxExpectBytes:
		return v.Tag, expectBytes
	}
	sum := sha1.Sum([]byte(v.Tag))
	return hex.EncodeToString(sum[:]), expectSHA1
}

// wrongType reports whether err is Redis's answer for a key of another
// type than a string (from a command, or from redis.call in a script).
func wrongType(err error) bool { return redis.HasErrorPrefix(err, "WRONGTYPE") }

// corrupt returns the error for a key that holds another Redis type than a
// string: no record (or index document) can be read from it. The session
// core logs it (once, naming neither the key nor the id) and treats the
// record as absent, or replaces the index document.
func corrupt(op string) error {
	return fmt.Errorf("redisstorage: %s: %w: the key holds another Redis type than a string", op, session.ErrCorruptRecord)
}

// Get implements session.Backend with one GET. The Version is the bytes
// themselves.
func (b *backend) Get(ctx context.Context, key string) ([]byte, session.Version, error) {
	if err := ready(ctx, "get"); err != nil {
		return nil, session.Version{}, err
	}
	cmd := redis.NewStringCmd(ctx, "get", key)
	err := b.s.run(ctx, cmd)
	switch {
	case err == nil:
		s := cmd.Val()
		// go-redis reads the reply into a string, which is never changed:
		// the returned slice shares its bytes instead of copying them, as
		// the Backend contract allows (the caller does not modify the
		// returned slice), and the Version's Tag is that same string.
		return unsafe.Slice(unsafe.StringData(s), len(s)), versionOf(s), nil
	case errors.Is(err, redis.Nil):
		return nil, session.Version{}, session.ErrNotFound
	case wrongType(err):
		return nil, session.Version{}, corrupt("get")
	}
	return nil, session.Version{}, b.fail("get", err)
}

// putScript is Put's compare-and-set on one key (KEYS[1]), so it runs on
// the one node that owns the key (Cluster-safe). ARGV[1] and ARGV[4] say
// what must be stored for the write to happen (expectation); ARGV[2] is
// the new value, ARGV[3] its TTL in milliseconds, or 0 for none. It
// returns 1 when it wrote, 0 on a conflict (nothing written).
var putScript = redis.NewScript(putScriptSource)

const putScriptSource = `local cur = redis.call('GET', KEYS[1])
local how = ARGV[4]
if how == '` + expectAbsent + `' then
  if cur then return 0 end
elseif not cur then
  return 0
elseif how == '` + expectBytes + `' then
  if cur ~= ARGV[1] then return 0 end
elseif redis.sha1hex(cur) ~= ARGV[1] then
  return 0
end
if ARGV[3] == '0' then
  redis.call('SET', KEYS[1], ARGV[2])
else
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[3])
end
return 1`

// delScript is Delete's compare-and-delete on one key: ARGV[1] and ARGV[2]
// say what must be stored (expectation, never "absent"). 1: deleted; 0: a
// conflict.
var delScript = redis.NewScript(delScriptSource)

const delScriptSource = `local cur = redis.call('GET', KEYS[1])
if not cur then return 0 end
if ARGV[2] == '` + expectBytes + `' then
  if cur ~= ARGV[1] then return 0 end
elseif redis.sha1hex(cur) ~= ARGV[1] then
  return 0
end
redis.call('DEL', KEYS[1])
return 1`

// unlockScript deletes a lock key (KEYS[1]) only while it holds the token
// ARGV[1].
var unlockScript = redis.NewScript(`if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
end
return 0`)

// GetMulti implements session.MultiGetter: one GET per key in one pipeline,
// one round trip (a ClusterClient sends each node its part at once), for
// listing and revoking a user's sessions. A key that is absent or holds
// another Redis type reads as nil.
func (b *backend) GetMulti(ctx context.Context, keys []string) ([][]byte, error) {
	if err := ready(ctx, "get"); err != nil {
		return nil, err
	}
	out := make([][]byte, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	cmds := make([]*redis.StringCmd, len(keys))
	_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, k := range keys {
			cmds[i] = p.Get(ctx, k)
		}
		return nil
	})
	for i, cmd := range cmds {
		switch s, cerr := cmd.Result(); {
		case cerr == nil:
			out[i] = []byte(s)
		case errors.Is(cerr, redis.Nil), wrongType(cerr):
		default:
			return nil, b.fail("get", cerr)
		}
	}
	if err != nil && !errors.Is(err, redis.Nil) && !wrongType(err) {
		return nil, b.fail("get", err)
	}
	return out, nil
}

// Put implements session.Backend with one round trip: putScript, sent as
// EVALSHA (go-redis falls back to EVAL, which loads it, the first time a
// server sees it). The TTL is set with the write (PX), so a crash cannot
// leave a record without expiry; a ttl of 0 or less stores it without one.
func (b *backend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	if err := ready(ctx, "put"); err != nil {
		return session.Version{}, err
	}
	var ms int64
	if ttl > 0 {
		ms = millis(ttl)
	}
	expect, how := expectation(v)
	if err := b.compareAndSet(ctx, "put", putScript, key, expect, data, ms, how); err != nil {
		return session.Version{}, err
	}
	// The caller does not modify data after Put (the Backend contract), so
	// the new Version's Tag shares its bytes instead of copying them.
	return versionOf(unsafe.String(unsafe.SliceData(data), len(data))), nil
}

// Delete implements session.Backend: one DEL for the zero Version (whatever
// is there), otherwise one round trip of delScript, which deletes only
// while the key still holds the bytes that v names. With a non-zero v, a
// key that is absent (deleted or expired since) is a conflict too.
func (b *backend) Delete(ctx context.Context, key string, v session.Version) error {
	if err := ready(ctx, "delete"); err != nil {
		return err
	}
	if v.IsZero() {
		if err := b.s.run(ctx, redis.NewIntCmd(ctx, "del", key)); err != nil {
			return b.fail("delete", err)
		}
		return nil
	}
	expect, how := expectation(v)
	return b.compareAndSet(ctx, "delete", delScript, key, expect, how)
}

// compareAndSet runs script (putScript or delScript) on key, one round
// trip, and turns its answer into Put's and Delete's error: nil when it
// wrote (1), session.ErrConflict when the key no longer held the version
// (0, nothing written), a corrupt record for a key of another type.
func (b *backend) compareAndSet(ctx context.Context, op string, script *redis.Script, key string, args ...any) error {
	n, err := b.s.eval(ctx, script, key, args...)
	switch {
	case wrongType(err):
		return corrupt(op)
	case err != nil:
		return b.fail(op, err)
	case n == 0:
		return session.ErrConflict
	}
	return nil
}

// Touch implements session.Toucher with one PEXPIRE, which restarts the
// key's TTL without rewriting the record (so without changing its
// Version). The session core decides when (at most once per tenth of the
// idle timeout). A ttl of 0 or less removes the expiry (PERSIST, with an
// EXISTS in the same pipeline to tell an absent key).
func (b *backend) Touch(ctx context.Context, key string, ttl time.Duration) error {
	if err := ready(ctx, "touch"); err != nil {
		return err
	}
	if ttl <= 0 {
		var exists *redis.IntCmd
		_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Persist(ctx, key)
			exists = p.Exists(ctx, key)
			return nil
		})
		if err != nil {
			return b.fail("touch", err)
		}
		if exists.Val() == 0 {
			return session.ErrNotFound
		}
		return nil
	}
	cmd := redis.NewBoolCmd(ctx, "pexpire", key, millis(ttl))
	if err := b.s.run(ctx, cmd); err != nil {
		return b.fail("touch", err)
	}
	if !cmd.Val() {
		return session.ErrNotFound
	}
	return nil
}

// TryLock implements session.Locker with one SET lock token NX PX: the lock
// is a key of its own, lockKey(id), that Redis drops after ttl
// whoever holds it. ttl must be positive: a lock without expiry would block
// its session for good if its holder died.
func (b *backend) TryLock(ctx context.Context, id, token string, ttl time.Duration) (bool, error) {
	if err := ready(ctx, "lock"); err != nil {
		return false, err
	}
	if ttl <= 0 {
		return false, errors.New("redisstorage: lock: the lock's time to live is not positive")
	}
	cmd := redis.NewStatusCmd(ctx, "set", b.lockKey(id), token, "nx", "px", millis(ttl))
	_ = b.c.Process(ctx, cmd)
	switch err := cmd.Err(); {
	case err == nil:
		return true, nil
	case errors.Is(err, redis.Nil):
		return false, nil // held by another token
	default:
		return false, b.fail("lock", err)
	}
}

// Unlock implements session.Locker with one round trip of unlockScript,
// which deletes the lock only while token still holds it: a lock that
// expired and was taken by another request is left to that request.
func (b *backend) Unlock(ctx context.Context, id, token string) error {
	if err := ready(ctx, "unlock"); err != nil {
		return err
	}
	if err := unlockScript.Run(ctx, b.c, []string{b.lockKey(id)}, token).Err(); err != nil {
		return b.fail("unlock", err)
	}
	return nil
}
