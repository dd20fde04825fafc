package redisstorage

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
)

// The per-user index (session.Options.UserKey): one Redis hash per user,
// KeyPrefix + "user:" + the user name, whose fields are the handles of the
// user's sessions and whose values are "<added, Unix ms> <id>". Its TTL is
// the session lifetime, restarted by every write that adds a member, so it
// outlives every member: no session can live longer than a lifetime from its
// last index write. Index commands ride in
// the same pipeline as the record's write, so a login, logout or Destroy
// costs no extra round trip, and a save that changes neither the user nor
// the id sends none at all. Pipelines, never MULTI/EXEC: the index and the
// records hash to different slots, which a transaction in a Redis Cluster
// refuses; a ClusterClient sends each node its part at once.
//
// A save that writes a session under a new id (RegenerateID) races a revoke
// for the old record. The save writes and indexes the new id in one round
// trip, then deletes the old record (DEL, or EXISTS for RegenerateID(false))
// in the next; if it was already gone (a revoke came first) the save removes
// what it wrote and reports session.ErrNotFound. A revoke reads the index
// again after its deletes, until it finds nothing new to revoke, so a new id
// indexed before the old record was deleted is revoked too. Either way the
// session does not survive the revoke. These extra round trips are paid by
// logins (a save with a new id) and revokes only.

var _ session.UserIndexBackend = (*backend)(nil)

// userKey is the Redis key of user's index. The ':' after "user" cannot
// occur in a session id, so no record key is ever an index key.
func (b *backend) userKey(user string) string { return b.prefix + "user:" + user }

// indexValue is a member's value: when it was added, and the id.
func indexValue(id string, now time.Time) string {
	return strconv.FormatInt(now.UnixMilli(), 10) + " " + id
}

func parseIndexValue(v string) (id string, added time.Time, ok bool) {
	ms, id, ok := strings.Cut(v, " ")
	n, err := strconv.ParseInt(ms, 10, 64)
	if !ok || err != nil || !session.ValidID(id) {
		return "", time.Time{}, false
	}
	return id, time.UnixMilli(n), true
}

// indexTTL is how long an index lives after a member is added: the
// session lifetime (the longest any member can live); 0 for no expiry.
func (b *backend) indexTTL() time.Duration {
	return b.lifetime // session.Options.LifetimeLimit
}

// SaveIndexed implements session.UserIndexBackend.
func (b *backend) SaveIndexed(ctx context.Context, c *session.IndexedSave) error {
	if err := ready(ctx, "save"); err != nil {
		return err
	}
	now := time.Now()
	inPlace := c.Require != "" && c.Require == c.ID
	// The old record to take over (RegenerateID), deleted in a second round
	// trip once the new id is indexed.
	takeOver := c.Require != "" && !inPlace
	var set *redis.StatusCmd
	_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		if c.ID != "" {
			set = setCmd(ctx, b.key(c.ID), c.Record, c.TTL, inPlace)
			_ = p.Process(ctx, set)
		}
		if !takeOver {
			for _, d := range c.Delete {
				p.Del(ctx, b.key(d.ID))
			}
		}
		b.indexCommands(ctx, p, c, now)
		return nil
	})
	if inPlace && errors.Is(set.Err(), redis.Nil) {
		// The record was deleted meanwhile: undo the index entry.
		if c.To != "" {
			b.c.HDel(ctx, b.userKey(c.To), c.Handle)
		}
		return session.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("redisstorage: save: %w", err)
	}
	if !takeOver {
		return nil
	}
	// The old record: deleted (RegenerateID(true)) or kept
	// (RegenerateID(false)), but in either case it must still be there.
	var held *redis.IntCmd
	_, err = b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, d := range c.Delete {
			del := p.Del(ctx, b.key(d.ID))
			if d.ID == c.Require {
				held = del
			}
		}
		if held == nil {
			held = p.Exists(ctx, b.key(c.Require))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("redisstorage: save: %w", err)
	}
	{
		if held.Val() == 0 {
			// A revoke (or expiry) took the old record first: the session
			// must not live on under the new id.
			_, err := b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
				p.Del(ctx, b.key(c.ID))
				if c.To != "" {
					p.HDel(ctx, b.userKey(c.To), c.Handle)
				}
				return nil
			})
			if err != nil {
				return fmt.Errorf("redisstorage: save: %w", err)
			}
			return session.ErrNotFound
		}
	}
	return nil
}

// indexCommands queues the index changes of c.
func (b *backend) indexCommands(ctx context.Context, p redis.Pipeliner, c *session.IndexedSave, now time.Time) {
	if c.From != "" {
		var gone []string
		for _, d := range c.Delete {
			gone = append(gone, d.Handle)
		}
		if c.From != c.To && c.Handle != "" {
			gone = append(gone, c.Handle)
		}
		if len(gone) > 0 {
			p.HDel(ctx, b.userKey(c.From), gone...)
		}
	}
	if c.To != "" && c.ID != "" {
		key := b.userKey(c.To)
		p.HSet(ctx, key, c.Handle, indexValue(c.ID, now))
		if ttl := b.indexTTL(); ttl > 0 {
			// A lifetime from now: later than the end of every member
			// (each ends at most a lifetime after its creation), and
			// later than the TTL it replaces.
			p.PExpire(ctx, key, ttl)
		}
	}
}

// listScript reads a user's index and the records of its members in one
// round trip, on a single Redis node (a *redis.Client: one server, or
// Sentinel), where a script may read keys it was not given. It returns
// handle, value, record (nil when absent or not a string) for each member.
var listScript = redis.NewScript(`
local m = redis.call('HGETALL', KEYS[1])
local out = {}
for i = 1, #m, 2 do
  local v = m[i + 1]
  local sp = string.find(v, ' ', 1, true)
  local rec = false
  if sp then
    local ok, r = pcall(redis.call, 'GET', ARGV[1] .. string.sub(v, sp + 1))
    if ok and r then rec = r end
  end
  out[#out + 1] = m[i]
  out[#out + 1] = v
  out[#out + 1] = rec
end
return out
`)

// indexEntry is one member of a user's index with its record, as listed.
type indexEntry struct {
	handle, value string
	record        []byte
	found         bool
}

// listIndex returns the members of the index at key with their records: one
// round trip on a single node (listScript), two on a Cluster or Ring
// (HGETALL, then the GETs in one pipeline, which a ClusterClient sends to
// every node at once).
func (b *backend) listIndex(ctx context.Context, key string) ([]indexEntry, error) {
	if _, single := b.c.(*redis.Client); single {
		res, err := listScript.Run(ctx, b.c, []string{key}, b.prefix).Slice()
		if err != nil {
			return nil, err
		}
		list := make([]indexEntry, 0, len(res)/3)
		for i := 0; i+2 < len(res); i += 3 {
			h, _ := res[i].(string)
			v, _ := res[i+1].(string)
			rec, found := res[i+2].(string)
			list = append(list, indexEntry{h, v, []byte(rec), found})
		}
		return list, nil
	}
	members, err := b.c.HGetAll(ctx, key).Result()
	if err != nil || len(members) == 0 {
		return nil, err
	}
	list := make([]indexEntry, 0, len(members))
	gets := make([]*redis.StringCmd, 0, len(members))
	_, err = b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
		for h, v := range members {
			list = append(list, indexEntry{handle: h, value: v})
			var get *redis.StringCmd
			if id, _, ok := parseIndexValue(v); ok {
				get = p.Get(ctx, b.key(id))
			}
			gets = append(gets, get)
		}
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) && !redis.HasErrorPrefix(err, "WRONGTYPE") {
		return nil, err
	}
	for i, get := range gets {
		if get != nil {
			if rec, err := get.Bytes(); err == nil {
				list[i].record, list[i].found = rec, true
			}
		}
	}
	return list, nil
}

// UserRecords implements session.UserIndexBackend, in one round trip on a
// single node and two on a Cluster or Ring (listIndex). Members whose
// records are gone are dropped from the index, once they are older than a
// minute (a younger one may belong to a save still in flight).
func (b *backend) UserRecords(ctx context.Context, user string) ([]session.UserRecord, error) {
	if err := ready(ctx, "list"); err != nil {
		return nil, err
	}
	key := b.userKey(user)
	list, err := b.listIndex(ctx, key)
	if err != nil {
		return nil, fmt.Errorf("redisstorage: list: %w", err)
	}
	recs := make([]session.UserRecord, 0, len(list))
	var stale []string
	now := time.Now()
	for _, m := range list {
		_, added, ok := parseIndexValue(m.value)
		switch {
		case !ok:
			stale = append(stale, m.handle)
		case m.found:
			recs = append(recs, session.UserRecord{Handle: m.handle, Record: m.record})
		case now.Sub(added) > time.Minute:
			stale = append(stale, m.handle)
		}
	}
	if len(stale) > 0 {
		if err := b.c.HDel(ctx, key, stale...).Err(); err != nil {
			b.logger.WarnContext(ctx, "redisstorage: dropping ended sessions from a user's index", "error", err)
		}
	}
	return recs, nil
}

// DeleteUserRecords implements session.UserIndexBackend: HGETALL, then the
// records' DELs and the members' HDEL in one pipeline, then HGETALL again
// until it shows no member to revoke that was not seen before (a save that
// moved a session to a new id meanwhile; see the comment at the top). So a
// revoke costs three round trips when nothing races it.
func (b *backend) DeleteUserRecords(ctx context.Context, user string, revoke func(string) bool) (int, error) {
	if err := ready(ctx, "revoke"); err != nil {
		return 0, err
	}
	key := b.userKey(user)
	seen := map[string]bool{}
	n := 0
	for range 8 {
		members, err := b.c.HGetAll(ctx, key).Result()
		if err != nil {
			return n, fmt.Errorf("redisstorage: revoke: %w", err)
		}
		var handles []string
		var dels []*redis.IntCmd
		_, err = b.c.Pipelined(ctx, func(p redis.Pipeliner) error {
			for h, v := range members {
				if seen[h] || !revoke(h) {
					continue
				}
				seen[h] = true
				handles = append(handles, h)
				if id, _, ok := parseIndexValue(v); ok {
					dels = append(dels, p.Del(ctx, b.key(id)))
				}
			}
			if len(handles) > 0 {
				p.HDel(ctx, key, handles...)
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("redisstorage: revoke: %w", err)
		}
		for _, d := range dels {
			n += int(d.Val())
		}
		if len(handles) == 0 {
			return n, nil
		}
	}
	return n, nil
}
