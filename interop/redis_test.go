package interop

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// redisSide is one redis-server shared by Go's redisstorage and Remix's
// createRedisSessionStorage (npm redis client) in the helper.
type redisSide struct {
	r   *remix
	c   *redis.Client
	url string
}

func startRedisSide(t *testing.T) *redisSide {
	t.Helper()
	return startRedisSideTB(t, startRemix(t, "session.mjs", "redis.mjs"))
}

// startRedisSideTB starts a redis-server for tb and pairs it with the
// helper r (started with redis.mjs).
func startRedisSideTB(tb testing.TB, r *remix) *redisSide {
	tb.Helper()
	srv := testserver.Redis(tb)
	c := redis.NewClient(&redis.Options{Addr: srv.Addr(), ContextTimeoutEnabled: true, PoolSize: 16})
	tb.Cleanup(func() { c.Close() })
	return &redisSide{r: r, c: c, url: "redis://" + srv.Addr()}
}

var redisPrefixSeq atomic.Int64

// redisCfg configures both sides of one redisEnv.
type redisCfg struct {
	prefix string          // "": a fresh prefix; "default": both sides' default, "session:"
	goOpts session.Options // Go's session options (Logger defaults to quiet)
	ttl    int             // Remix's ttl option in seconds; 0: none
}

// env returns a sessEnv whose Go storage is redisstorage.New and whose
// Remix storage is createRedisSessionStorage on the same server and prefix,
// and the prefix in use.
func (rs *redisSide) env(t *testing.T, cfg redisCfg) (*sessEnv, string) {
	t.Helper()
	prefix := cfg.prefix
	switch prefix {
	case "":
		prefix = fmt.Sprintf("interop%d:session:", redisPrefixSeq.Add(1))
	case "default":
		prefix = ""
	}
	o := cfg.goOpts
	if o.Logger == nil {
		o.Logger = quietLogger
	}
	st, err := redisstorage.New(rs.c, redisstorage.Options{KeyPrefix: prefix, PlainKeys: true, Session: o})
	if err != nil {
		t.Fatal(err)
	}
	spec := map[string]any{"kind": "redis", "url": rs.url}
	if prefix != "" {
		spec["keyPrefix"] = prefix
	} else {
		prefix = redisstorage.DefaultKeyPrefix
	}
	if cfg.ttl > 0 {
		spec["ttl"] = cfg.ttl
	}
	return newSessEnv(t, rs.r, st, spec), prefix
}

func (rs *redisSide) get(t *testing.T, key string) (string, bool) {
	t.Helper()
	v, err := rs.c.Get(context.Background(), key).Result()
	if err == redis.Nil {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return v, true
}

func (rs *redisSide) pttl(t *testing.T, key string) time.Duration {
	t.Helper()
	d, err := rs.c.PTTL(context.Background(), key).Result()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// TestRedisVersions pins the npm packages the Redis tests run against.
func TestRedisVersions(t *testing.T) {
	r := startRemix(t, "session.mjs", "redis.mjs")
	var v struct{ Storage, Redis string }
	r.mustCall(map[string]any{"op": "redisVersions"}, &v)
	if v.Storage != "0.1.1" || v.Redis != "5.12.1" {
		t.Errorf("@remix-run/session-storage-redis %q, redis %q; want 0.1.1 and 5.12.1 (package-lock.json)", v.Storage, v.Redis)
	}
}

// TestSessionRedisStorage: Go's redisstorage and Remix's
// createRedisSessionStorage on one redis-server read and write each other's
// sessions: values and flash both ways, regenerated and destroyed sessions,
// the records and keys, and the TTL each side sets.
func TestSessionRedisStorage(t *testing.T) {
	rs := startRedisSide(t)
	storageRoundTrips(t, func(t *testing.T) *sessEnv { e, _ := rs.env(t, redisCfg{}); return e })

	t.Run("DefaultPrefixAndRecords", func(t *testing.T) {
		e, prefix := rs.env(t, redisCfg{prefix: "default"})
		if prefix != "session:" {
			t.Fatalf("default prefix %q", prefix)
		}
		rx := e.remix("", rxSet("a", `1`), rxFlash("f", `"x"`))
		rid := rx.id()
		if got, ok := rs.get(t, "session:"+rid); !ok || got != `[{"a":1},{"f":"x"}]` {
			t.Errorf("Remix's record under session:<id>: %q, %v", got, ok)
		}
		// Go reads it, consumes the flash, adds a value: its record keeps
		// [values, flash] first, with its metadata after.
		gs, _ := e.goReq(rx.header(), func(s *session.Session) {
			if s.ID() != rid || s.Get("f") != "x" {
				t.Errorf("Go read id %v flash %#v", s.ID() == rid, s.Get("f"))
			}
			s.Set("b", 2)
		})
		got, _ := rs.get(t, "session:"+rid)
		elems := recordElems(t, got)
		if len(elems) != 3 || string(elems[0]) != `{"a":1,"b":2}` || string(elems[1]) != `{}` {
			t.Errorf("Go's record for Remix's id: %s", got)
		}
		// Remix reads Go's record (ignoring the metadata) and, when it
		// saves, writes [values, flash] without it.
		line, _ := e.c.Serialize(gs.ID())
		rx = e.remix(requestHeader(line), rxGet("a"), rxGet("b"), rxSet("c", `3`))
		if g := rx.got(t, 1); !jsonEqual(g.Value, 2) {
			t.Errorf("Remix get(b) = %+v", g)
		}
		if got, _ := rs.get(t, "session:"+rid); got != `[{"a":1,"b":2,"c":3},{}]` {
			t.Errorf("Remix's rewrite: %q", got)
		}
		// And Go still reads that.
		e.goReq(requestHeader(line), func(s *session.Session) {
			if n, _ := session.Value[int](s, "c"); n != 3 || s.ID() != rid {
				t.Errorf("Go after Remix's rewrite: c=%d", n)
			}
		})
	})

	t.Run("Regenerate", func(t *testing.T) {
		e, prefix := rs.env(t, redisCfg{})
		_, line := e.goReq("", func(s *session.Session) { s.Set("u", "ada") })
		a := e.cookieValueOf(line)
		// Go: RegenerateID(true) deletes A's key in the same round trip.
		_, line = e.goReq(requestHeader(line), func(s *session.Session) { s.RegenerateID(true); s.Set("login", true) })
		b := e.cookieValueOf(line)
		if _, ok := rs.get(t, prefix+a); ok || b == a {
			t.Errorf("after Go's RegenerateID(true) A's key is still there (or the id did not change)")
		}
		rx := e.remix(requestHeader(line), rxGet("u"), rxGet("login"), rxRegen(true))
		if rx.loadedID() != b || rx.got(t, 0).Value != "ada" || rx.got(t, 1).Value != true {
			t.Errorf("Remix after Go's regeneration: id %v, %s", rx.loadedID() == b, rx.Results)
		}
		c := rx.id()
		if c == b || rx.DeleteID == nil || *rx.DeleteID != b {
			t.Fatalf("Remix regenerateId(true): id %q deleteId %v", c, rx.DeleteID)
		}
		if _, ok := rs.get(t, prefix+b); ok {
			t.Error("after Remix's regenerateId(true) B's key is still there")
		}
		if _, ok := rs.get(t, prefix+c); !ok {
			t.Error("Remix's new id has no key")
		}
		// The old cookies give fresh sessions on both sides.
		for _, old := range []string{a, b} {
			ol, _ := e.c.Serialize(old)
			s, _ := e.goReq(requestHeader(ol), nil)
			if s.ID() == old || s.Len() != 0 {
				t.Errorf("Go adopted a regenerated-away id")
			}
			if rx := e.remix(requestHeader(ol)); rx.loadedID() == old {
				t.Errorf("Remix adopted a regenerated-away id")
			}
		}
		// Go reads the session under Remix's new id.
		e.goReq(rx.header(), func(s *session.Session) {
			if s.ID() != c || s.Get("u") != "ada" {
				t.Errorf("Go after Remix's regeneration: id %v u %#v", s.ID() == c, s.Get("u"))
			}
		})
	})

	t.Run("Destroy", func(t *testing.T) {
		e, prefix := rs.env(t, redisCfg{})
		rx := e.remix("", rxSet("u", `"ada"`))
		rid := rx.id()
		// Go's Destroy deletes Remix's key; Remix then starts fresh.
		_, line := e.goReq(rx.header(), func(s *session.Session) { s.Destroy() })
		if line != e.c.Expire() {
			t.Errorf("Go's destroy sent %q", short(line))
		}
		if _, ok := rs.get(t, prefix+rid); ok {
			t.Error("Go's Destroy left Remix's key")
		}
		if rx2 := e.remix(rx.header(), rxGet("u")); rx2.loadedID() == rid || rx2.got(t, 0).Present {
			t.Error("Remix still reads the session Go destroyed")
		}
		// Remix's destroy deletes Go's key; Go then starts fresh.
		gs, line := e.goReq("", func(s *session.Session) { s.Set("u", "grace") })
		rx3 := e.remix(requestHeader(line), rxDestroy())
		if rx3.Saved == nil || *rx3.Saved != "" {
			t.Errorf("Remix destroy saved %v", rx3.Saved)
		}
		if _, ok := rs.get(t, prefix+gs.ID()); ok {
			t.Error("Remix's destroy left Go's key")
		}
		s, _ := e.goReq(requestHeader(line), nil)
		if s.ID() == gs.ID() || s.Len() != 0 {
			t.Error("Go still reads the session Remix destroyed")
		}
		// Go's Destroy then Flash: a new session whose flash Remix reads.
		_, line = e.goReq("", func(s *session.Session) { s.Set("u", "x") })
		old := e.cookieValueOf(line)
		_, line = e.goReq(requestHeader(line), func(s *session.Session) { s.Destroy(); s.Flash("msg", "signed out") })
		nv := e.cookieValueOf(line)
		if nv == old {
			t.Fatal("Destroy then Flash kept the id")
		}
		if _, ok := rs.get(t, prefix+old); ok {
			t.Error("the destroyed session's key is still there")
		}
		if rx := e.remix(requestHeader(line), rxGet("msg"), rxGet("u")); rx.got(t, 0).Value != "signed out" || rx.got(t, 1).Present {
			t.Errorf("Remix reads %s after Go's Destroy+Flash", rx.Results)
		}
	})

	t.Run("TTL", func(t *testing.T) {
		near := func(t *testing.T, what string, got, want time.Duration) {
			t.Helper()
			if got > want || got < want-5*time.Second {
				t.Errorf("%s: PTTL %v, want %v (or a little less)", what, got, want)
			}
		}
		const idle = 30 * time.Minute
		e, prefix := rs.env(t, redisCfg{ttl: 3600, goOpts: session.Options{IdleTimeout: idle}})
		// Remix's ttl (seconds, SET EX via setEx) is read by Go and
		// replaced with the idle timeout when Go writes.
		rx := e.remix("", rxSet("a", `1`))
		near(t, "Remix ttl 3600", rs.pttl(t, prefix+rx.id()), time.Hour)
		e.goReq(rx.header(), func(s *session.Session) { s.Set("a", 2) })
		near(t, "Go's write of Remix's session", rs.pttl(t, prefix+rx.id()), idle)
		// Go's TTL (SET PX) is replaced by Remix's when Remix writes.
		gs, line := e.goReq("", func(s *session.Session) { s.Set("b", 1) })
		near(t, "Go idle timeout", rs.pttl(t, prefix+gs.ID()), idle)
		e.remix(requestHeader(line), rxSet("b", `2`))
		near(t, "Remix's write of Go's session", rs.pttl(t, prefix+gs.ID()), time.Hour)
		// A session Remix stored without a ttl never expires in Redis; Go
		// reading it with an idle timeout gives it one with a PEXPIRE,
		// without rewriting it.
		e2, prefix2 := rs.env(t, redisCfg{goOpts: session.Options{IdleTimeout: idle}})
		rx = e2.remix("", rxSet("a", `1`))
		key := prefix2 + rx.id()
		if d := rs.pttl(t, key); d != -1 {
			t.Errorf("Remix without ttl: PTTL %v, want -1", d)
		}
		before, _ := rs.get(t, key)
		_, line = e2.goReq(rx.header(), nil)
		if line != "" {
			t.Errorf("Go's refresh sent a Set-Cookie")
		}
		near(t, "Go's sliding refresh of Remix's session", rs.pttl(t, key), idle)
		if after, _ := rs.get(t, key); after != before {
			t.Errorf("the refresh rewrote the record: %q → %q", before, after)
		}
		// Remix reads the refreshed session as before.
		if rx := e2.remix(rx.header(), rxGet("a")); !jsonEqual(rx.got(t, 0).Value, 1) {
			t.Errorf("Remix after Go's refresh: %s", rx.Results)
		}
		// Go's Lifetime counts from Go's first load of a Remix session
		// (Remix records carry no creation time): the TTL is the smaller
		// of the idle timeout and the lifetime left.
		e3, prefix3 := rs.env(t, redisCfg{goOpts: session.Options{IdleTimeout: time.Hour, Lifetime: 10 * time.Minute}})
		rx = e3.remix("", rxSet("a", `1`))
		e3.goReq(rx.header(), func(s *session.Session) { s.Set("a", 2) })
		near(t, "Go's write with a 10-minute lifetime", rs.pttl(t, prefix3+rx.id()), 10*time.Minute)
	})

	t.Run("UnknownIDs", func(t *testing.T) {
		e, prefix := rs.env(t, redisCfg{})
		id := strings.Repeat("u", 43)
		rx := e.remix(requestHeader(mustSerialize(t, e, id)), rxSet("a", `1`))
		if rx.id() == id {
			t.Error("Remix adopted an unknown id by default")
		}
		s, _ := e.goReq(requestHeader(mustSerialize(t, e, id)), func(s *session.Session) { s.Set("a", 1) })
		if s.ID() == id {
			t.Error("Go adopted an unknown id by default")
		}
		if _, ok := rs.get(t, prefix+id); ok {
			t.Error("an unknown id got a key")
		}
	})
}

func mustSerialize(t *testing.T, e *sessEnv, v string) string {
	t.Helper()
	line, err := e.c.Serialize(v)
	if err != nil {
		t.Fatal(err)
	}
	return line
}
