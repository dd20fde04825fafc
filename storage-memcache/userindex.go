package memcachestorage

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
)

// The per-user index (session.Options.UserKey): one memcache item per user,
// KeyPrefix + "u" + 63 hex digits of a SHA-256 of the user name (a record's
// key is KeyPrefix + 64 hex digits, so the two never collide), holding one
// line per session: "<handle> <record key's hash> <added, Unix ms>". Like the
// record keys, it holds no session id. It is changed only with
// compare-and-swap (gets, then cas; add when absent), retried on a
// conflict, so concurrent logins of one user never lose a member. It lives
// a session lifetime from its last change, which covers every member. It
// holds at most MaxUserSessions members: past that, members whose records
// are gone are dropped, and then the oldest sessions are signed out (their
// records deleted, logged), so that no session is ever live but missing
// from the index, where it could not be revoked.
//
// A save that writes a session under a new id (RegenerateID) races a revoke
// for the old record: the save writes and indexes the new id first, then
// deletes the old record (or, for RegenerateID(false), checks it is still
// there); if it was already gone, the save removes what it wrote and
// reports session.ErrNotFound. A revoke reads the index again after its
// deletes until it finds nothing new to revoke, so a new id indexed before
// the old record was deleted is revoked too.

// MaxUserSessions is how many sessions one user's index holds at most.
const MaxUserSessions = 200

// casRetries bounds the compare-and-swap retries of one index change.
const casRetries = 32

var _ session.UserIndexBackend = (*backend)(nil)

// userKey is the key of user's index item.
func (b *backend) userKey(user string) string {
	sum := sha256.Sum256([]byte("sessionkit user index\x00" + user))
	return b.prefix + "u" + hex.EncodeToString(sum[:])[:hashLength-1]
}

// recordHash is the hex SHA-256 of id, the end of its record's key.
func recordHash(id string) string {
	sum := sha256.Sum256([]byte(id))
	return hex.EncodeToString(sum[:])
}

// indexMember is one line of an index item.
type indexMember struct {
	handle, hash string
	added        int64 // Unix ms
}

func parseIndex(v []byte) []indexMember {
	var list []indexMember
	for _, line := range strings.Split(string(v), "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || len(f[1]) != hashLength {
			continue
		}
		ms, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			continue
		}
		list = append(list, indexMember{f[0], f[1], ms})
	}
	return list
}

func formatIndex(list []indexMember) []byte {
	var buf []byte
	for _, m := range list {
		buf = append(buf, m.handle...)
		buf = append(buf, ' ')
		buf = append(buf, m.hash...)
		buf = append(buf, ' ')
		buf = strconv.AppendInt(buf, m.added, 10)
		buf = append(buf, '\n')
	}
	return buf
}

// indexTTL is how long an index item lives after a change: the session
// lifetime; 0 for no expiry.
func (b *backend) indexTTL() time.Duration {
	return b.lifetime // session.Options.LifetimeLimit
}

// changeIndex applies change to user's index with compare-and-swap,
// retrying on conflicts. change gets the current members and returns the
// new ones.
func (b *backend) changeIndex(ctx context.Context, user string, change func([]indexMember) []indexMember) error {
	key := b.userKey(user)
	for range casRetries {
		if err := ctx.Err(); err != nil {
			return err
		}
		var it *memcache.Item
		err := b.retryStale(func() (err error) { it, err = b.client.Get(key); return err })
		if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
			return err
		}
		var old []indexMember
		if it != nil {
			old = parseIndex(it.Value)
		}
		list := change(slices.Clone(old))
		if len(list) == 0 && it == nil {
			return nil
		}
		// An emptied index is written empty, not deleted: a delete is not
		// a compare-and-swap and could drop a member added meanwhile.
		next, err := b.item(ctx, key, formatIndex(list), b.indexTTL())
		if err != nil {
			return err
		}
		if it == nil {
			err = b.client.Add(next)
		} else {
			next.CasID = it.CasID
			err = b.client.CompareAndSwap(next)
		}
		if errors.Is(err, memcache.ErrNotStored) || errors.Is(err, memcache.ErrCASConflict) || errors.Is(err, memcache.ErrCacheMiss) {
			continue // changed meanwhile: read it again
		}
		return err
	}
	return fmt.Errorf("memcachestorage: a user's index kept changing during %d compare-and-swap attempts", casRetries)
}

// SaveIndexed implements session.UserIndexBackend.
func (b *backend) SaveIndexed(ctx context.Context, c *session.IndexedSave) error {
	inPlace := c.Require != "" && c.Require == c.ID
	takeOver := c.Require != "" && !inPlace
	var err error
	switch {
	case inPlace:
		err = b.Update(ctx, c.ID, c.Record, c.TTL)
	case c.ID != "":
		err = b.Set(ctx, c.ID, c.Record, c.TTL)
	}
	if err != nil {
		return err
	}
	if !takeOver {
		for _, d := range c.Delete {
			if err := b.Delete(ctx, d.ID); err != nil {
				return err
			}
		}
	}
	if err := b.moveIndex(ctx, c); err != nil {
		return fmt.Errorf("memcachestorage: index: %w", err)
	}
	if !takeOver {
		return nil
	}
	// The old record must still be there: deleted now (RegenerateID(true))
	// or kept (RegenerateID(false)).
	held := true
	for _, d := range c.Delete {
		key := b.key(d.ID)
		err := b.retryStale(func() error { return b.client.Delete(key) })
		switch {
		case errors.Is(err, memcache.ErrCacheMiss):
			if d.ID == c.Require {
				held = false
			}
		case err != nil:
			return fmt.Errorf("memcachestorage: delete: %w", err)
		}
	}
	if !slices.ContainsFunc(c.Delete, func(d session.IndexedID) bool { return d.ID == c.Require }) {
		_, err := b.Get(ctx, c.Require)
		switch {
		case errors.Is(err, session.ErrNotFound):
			held = false
		case err != nil:
			return err
		}
	}
	if held {
		return nil
	}
	// A revoke took the old record first: the session must not live on
	// under the new id.
	if err := b.Delete(ctx, c.ID); err != nil {
		return err
	}
	if c.To != "" {
		if err := b.changeIndex(ctx, c.To, func(l []indexMember) []indexMember {
			return slices.DeleteFunc(l, func(m indexMember) bool { return m.handle == c.Handle })
		}); err != nil {
			return fmt.Errorf("memcachestorage: index: %w", err)
		}
	}
	return session.ErrNotFound
}

// moveIndex makes the index changes of c.
func (b *backend) moveIndex(ctx context.Context, c *session.IndexedSave) error {
	gone := func(m indexMember) bool {
		return slices.ContainsFunc(c.Delete, func(d session.IndexedID) bool { return d.Handle == m.handle }) ||
			c.From != c.To && m.handle == c.Handle
	}
	if c.From != "" && c.From != c.To {
		if err := b.changeIndex(ctx, c.From, func(l []indexMember) []indexMember { return slices.DeleteFunc(l, gone) }); err != nil {
			return err
		}
	}
	if c.To == "" || c.ID == "" {
		return nil
	}
	added := b.now().UnixMilli()
	var evict []indexMember
	err := b.changeIndex(ctx, c.To, func(l []indexMember) []indexMember {
		if c.From == c.To {
			l = slices.DeleteFunc(l, gone)
		}
		l = slices.DeleteFunc(l, func(m indexMember) bool { return m.handle == c.Handle })
		evict = nil
		if len(l) >= MaxUserSessions {
			l = b.pruneIndex(ctx, l)
		}
		for len(l) >= MaxUserSessions {
			evict = append(evict, l[0]) // the oldest: members are appended
			l = l[1:]
		}
		return append(l, indexMember{c.Handle, recordHash(c.ID), added})
	})
	if err != nil {
		return err
	}
	for _, m := range evict {
		key := b.prefix + m.hash
		if err := b.retryStale(func() error { return b.client.Delete(key) }); err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
			return err
		}
	}
	if len(evict) > 0 {
		b.logger.WarnContext(ctx, "memcachestorage: a user has more sessions than MaxUserSessions; the oldest were signed out",
			"signed_out", len(evict), "max", MaxUserSessions)
	}
	return nil
}

// pruneIndex returns the members of l whose records are still there.
func (b *backend) pruneIndex(ctx context.Context, l []indexMember) []indexMember {
	keys := make([]string, len(l))
	for i, m := range l {
		keys[i] = b.prefix + m.hash
	}
	found, err := b.client.GetMulti(keys)
	if err != nil {
		return l // keep them all: the caller evicts the oldest
	}
	cutoff := b.now().Add(-time.Minute).UnixMilli()
	return slices.DeleteFunc(l, func(m indexMember) bool {
		_, ok := found[b.prefix+m.hash]
		return !ok && m.added < cutoff
	})
}

// UserRecords implements session.UserIndexBackend: the index item, then the
// records in one GetMulti.
func (b *backend) UserRecords(ctx context.Context, user string) ([]session.UserRecord, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	key := b.userKey(user)
	var it *memcache.Item
	err := b.retryStale(func() (err error) { it, err = b.client.Get(key); return err })
	if errors.Is(err, memcache.ErrCacheMiss) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("memcachestorage: list: %w", err)
	}
	list := parseIndex(it.Value)
	keys := make([]string, len(list))
	for i, m := range list {
		keys[i] = b.prefix + m.hash
	}
	found, err := b.client.GetMulti(keys)
	if err != nil {
		return nil, fmt.Errorf("memcachestorage: list: %w", err)
	}
	recs := make([]session.UserRecord, 0, len(list))
	for _, m := range list {
		if r, ok := found[b.prefix+m.hash]; ok {
			recs = append(recs, session.UserRecord{Handle: m.handle, Record: r.Value})
		}
	}
	return recs, nil
}

// DeleteUserRecords implements session.UserIndexBackend: it deletes the
// records of the members revoke accepts and removes them from the index,
// then reads the index again until it finds nothing new to revoke (see the
// comment at the top).
func (b *backend) DeleteUserRecords(ctx context.Context, user string, revoke func(string) bool) (int, error) {
	seen := map[string]bool{}
	n := 0
	for range 8 {
		if err := ctx.Err(); err != nil {
			return n, err
		}
		var it *memcache.Item
		key := b.userKey(user)
		err := b.retryStale(func() (err error) { it, err = b.client.Get(key); return err })
		if errors.Is(err, memcache.ErrCacheMiss) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("memcachestorage: revoke: %w", err)
		}
		var handles []string
		for _, m := range parseIndex(it.Value) {
			if seen[m.handle] || !revoke(m.handle) {
				continue
			}
			seen[m.handle] = true
			handles = append(handles, m.handle)
			rk := b.prefix + m.hash
			err := b.retryStale(func() error { return b.client.Delete(rk) })
			switch {
			case err == nil:
				n++
			case !errors.Is(err, memcache.ErrCacheMiss):
				return n, fmt.Errorf("memcachestorage: revoke: %w", err)
			}
		}
		if len(handles) == 0 {
			return n, nil
		}
		err = b.changeIndex(ctx, user, func(l []indexMember) []indexMember {
			return slices.DeleteFunc(l, func(m indexMember) bool { return slices.Contains(handles, m.handle) })
		})
		if err != nil {
			return n, fmt.Errorf("memcachestorage: revoke: %w", err)
		}
	}
	return n, nil
}
