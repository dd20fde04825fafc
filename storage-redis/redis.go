package redisstorage

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
	"unicode/utf8"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
)

// DefaultKeyPrefix is the key prefix when Options.KeyPrefix is empty, the
// same as @remix-run/session-storage-redis: a session's record is stored
// under "session:" + its id.
const DefaultKeyPrefix = "session:"

// Options configure New. The zero value is valid: keys "session:" + id, no
// expiry, strict ids, slog.Default().
type Options struct {
	// KeyPrefix goes before each session id to make its Redis key. Empty:
	// DefaultKeyPrefix. It must be valid UTF-8 without control characters.
	// Use the prefix of a Remix app to share its sessions.
	KeyPrefix string

	// Session holds the options every storage takes: IdleTimeout (sliding
	// expiry; each write sets it as the key's TTL, and a read-only request
	// refreshes it with one PEXPIRE at most once per tenth of it),
	// Lifetime, UseUnknownIDs and Logger. Now is used for the expiry
	// metadata in the records; Redis itself expires keys by its own clock.
	Session session.Options
}

// New returns a session.Storage that keeps each session's record in Redis
// under KeyPrefix + id, with the TTL that the session's expiry allows, so
// that Redis drops it when the session ends.
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
// A read costs one command (GET), a save at most one round trip (SET … PX,
// SET … XX PX, or after RegenerateID(true) a pipeline of the SET and the old
// id's DEL), an unchanged session none, and a sliding refresh one PEXPIRE.
// New returns an error for a nil client, a negative IdleTimeout,
// or a KeyPrefix with control characters or invalid UTF-8.
func New(client redis.UniversalClient, o Options) (session.Storage, error) {
	b, err := newBackend(client, o)
	if err != nil {
		return nil, err
	}
	if !contextTimeoutEnabled(client) {
		b.logger.Warn("redisstorage: the Redis client does not stop a command at its context's deadline (ContextTimeoutEnabled is false, or an AutoPipeliner); a request's deadline will not cut a slow command short, only the client's ReadTimeout and WriteTimeout will")
	}
	return session.NewBackendStorage(b, o.Session), nil
}

// backend is the session.Backend behind New. It is also a session.Toucher
// (PEXPIRE), session.Updater (SET … XX) and session.Replacer (a pipeline).
type backend struct {
	c      redis.UniversalClient
	prefix string
	logger *slog.Logger
	// lifetime is Options.Session.LifetimeLimit(): how long a user's index
	// lives after its last new member (userindex.go); 0: no expiry.
	lifetime time.Duration
}

var (
	_ session.Backend  = (*backend)(nil)
	_ session.Toucher  = (*backend)(nil)
	_ session.Updater  = (*backend)(nil)
	_ session.Replacer = (*backend)(nil)
)

func newBackend(client redis.UniversalClient, o Options) (*backend, error) {
	if isNil(client) {
		return nil, errors.New("redisstorage: the Redis client is nil")
	}
	if o.Session.IdleTimeout < 0 {
		return nil, errors.New("redisstorage: Options.Session.IdleTimeout is negative")
	}
	prefix := o.KeyPrefix
	if prefix == "" {
		prefix = DefaultKeyPrefix
	}
	if !utf8.ValidString(prefix) {
		return nil, errors.New("redisstorage: Options.KeyPrefix is not valid UTF-8")
	}
	for _, r := range prefix {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return nil, fmt.Errorf("redisstorage: Options.KeyPrefix %q holds a control character", prefix)
		}
	}
	logger := o.Session.Logger
	if logger == nil {
		logger = slog.Default()
	}
	return &backend{c: client, prefix: prefix, logger: logger, lifetime: o.Session.LifetimeLimit()}, nil
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

// key is the Redis key of a session id. Ids are [A-Za-z0-9_-] (checked by
// the session core before any backend call), so a key under the prefix
// whose remainder holds any other character (such as ':') is never a
// session's record; that space is left for indexes.
func (b *backend) key(id string) string { return b.prefix + id }

// The command builders below return commands without running them, so a
// write can be sent alone or pipelined with other commands in one round
// trip (the old id's DEL today; index updates that must ride along with the
// record's write later).

// setCmd is SET key record [XX] [PX ms]. A ttl of 0 or less stores the
// record without expiry. With XX it answers redis.Nil when no key is there.
func setCmd(ctx context.Context, key string, record []byte, ttl time.Duration, xx bool) *redis.StatusCmd {
	args := make([]any, 3, 6)
	args[0], args[1], args[2] = "set", key, record
	if xx {
		args = append(args, "xx")
	}
	if ttl > 0 {
		args = append(args, "px", millis(ttl))
	}
	return redis.NewStatusCmd(ctx, args...)
}

// pexpireCmd is PEXPIRE key ms: true when the key exists.
func pexpireCmd(ctx context.Context, key string, ttl time.Duration) *redis.BoolCmd {
	return redis.NewBoolCmd(ctx, "pexpire", key, millis(ttl))
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

// Get implements session.Backend with one GET. A key that holds another
// Redis type than a string is logged and read as absent, as the core treats
// a record it cannot parse.
func (b *backend) Get(ctx context.Context, id string) ([]byte, error) {
	if err := ready(ctx, "get"); err != nil {
		return nil, err
	}
	rec, err := b.c.Get(ctx, b.key(id)).Bytes()
	switch {
	case err == nil:
		return rec, nil
	case errors.Is(err, redis.Nil):
		return nil, session.ErrNotFound
	case redis.HasErrorPrefix(err, "WRONGTYPE"):
		b.logger.WarnContext(ctx, "redisstorage: a key under the session prefix holds another Redis type than a string record; treated as absent",
			"prefix", b.prefix)
		return nil, session.ErrNotFound
	}
	return nil, fmt.Errorf("redisstorage: get: %w", err)
}

// Set implements session.Backend with one SET … PX, so the TTL is set with
// the write and a crash cannot leave a record without expiry.
func (b *backend) Set(ctx context.Context, id string, record []byte, ttl time.Duration) error {
	if err := ready(ctx, "set"); err != nil {
		return err
	}
	cmd := setCmd(ctx, b.key(id), record, ttl, false)
	_ = b.c.Process(ctx, cmd)
	if err := cmd.Err(); err != nil {
		return fmt.Errorf("redisstorage: set: %w", err)
	}
	return nil
}

// Update implements session.Updater with one SET … XX PX: the record is
// written only while the key exists, so a request that loaded a session
// before a concurrent logout or login cannot bring it back.
func (b *backend) Update(ctx context.Context, id string, record []byte, ttl time.Duration) error {
	if err := ready(ctx, "update"); err != nil {
		return err
	}
	cmd := setCmd(ctx, b.key(id), record, ttl, true)
	_ = b.c.Process(ctx, cmd)
	switch err := cmd.Err(); {
	case errors.Is(err, redis.Nil):
		return session.ErrNotFound
	case err != nil:
		return fmt.Errorf("redisstorage: update: %w", err)
	}
	return nil
}

// Delete implements session.Backend with one DEL.
func (b *backend) Delete(ctx context.Context, id string) error {
	if err := ready(ctx, "delete"); err != nil {
		return err
	}
	if err := b.c.Del(ctx, b.key(id)).Err(); err != nil {
		return fmt.Errorf("redisstorage: delete: %w", err)
	}
	return nil
}

// Touch implements session.Toucher with one PEXPIRE, which restarts the
// key's TTL without rewriting the record. The session core decides when
// (at most once per tenth of the idle timeout). A ttl of 0 or less removes
// the expiry (PERSIST, with an EXISTS in the same pipeline to tell an
// absent key).
func (b *backend) Touch(ctx context.Context, id string, ttl time.Duration) error {
	if err := ready(ctx, "touch"); err != nil {
		return err
	}
	key := b.key(id)
	if ttl <= 0 {
		var exists *redis.IntCmd
		_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			p.Persist(ctx, key)
			exists = p.Exists(ctx, key)
			return nil
		})
		if err != nil {
			return fmt.Errorf("redisstorage: touch: %w", err)
		}
		if exists.Val() == 0 {
			return session.ErrNotFound
		}
		return nil
	}
	cmd := pexpireCmd(ctx, key, ttl)
	_ = b.c.Process(ctx, cmd)
	ok, err := cmd.Result()
	if err != nil {
		return fmt.Errorf("redisstorage: touch: %w", err)
	}
	if !ok {
		return session.ErrNotFound
	}
	return nil
}

// Replace implements session.Replacer: the new record's SET … PX and the
// old ids' DELs go out in one pipeline, one round trip. It is a pipeline,
// not MULTI/EXEC: the old and new keys hash to different slots, which a
// transaction in a Redis Cluster refuses (CROSSSLOT), while a pipeline
// works on one node, Sentinel, Ring and Cluster alike (a ClusterClient
// sends each node its part at the same time). Without a transaction the
// commands are not atomic: the SET goes first so that a connection lost
// midway leaves the user signed in under the new id, never signed out, and
// an error from any command is returned.
func (b *backend) Replace(ctx context.Context, deleteIDs []string, id string, record []byte, ttl time.Duration) error {
	if err := ready(ctx, "replace"); err != nil {
		return err
	}
	set := setCmd(ctx, b.key(id), record, ttl, false)
	_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		_ = p.Process(ctx, set)
		for _, d := range deleteIDs {
			p.Del(ctx, b.key(d))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstorage: replace: %w", err)
	}
	return nil
}
