package redisstorage

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// roundTripIdle is the idle timeout of roundTripCases' storage.
const roundTripIdle = time.Hour

// roundTripCases counts, with a go-redis hook, the round trips and commands
// of each kind of request, on one node and on a Cluster, once the scripts
// are loaded (the first run of a script on a server costs one more round
// trip: see backendContract). The cases run in order on one session.
type roundTripCases struct {
	ctx    context.Context
	c      redis.UniversalClient
	st     session.Storage
	h      *roundTrips
	clk    *clock
	prefix string
	id     string // the session the cases share
}

func runRoundTripCases(t *testing.T, c redis.UniversalClient) {
	k := &roundTripCases{ctx: context.Background(), c: c, h: &roundTrips{}, clk: newClock(), prefix: freshPrefix()}
	c.AddHook(k.h)
	k.st = mustNew(t, c, Options{KeyPrefix: k.prefix, Session: session.Options{IdleTimeout: roundTripIdle, Now: k.clk.Now}})
	// Warm up: the cluster client loads its slot map and command table.
	must(t, c.Ping(k.ctx).Err())
	loadScripts(t, c)
	k.h.reset()
	t.Run("new session", k.newSession)
	t.Run("read-only request", k.readOnly)
	t.Run("changed session", k.changed)
	t.Run("sliding refresh", k.slidingRefresh)
	t.Run("login", k.login)
	t.Run("logout", k.logout)
	t.Run("a conflict", k.conflict)
}

// key is the Redis key of session id.
func (k *roundTripCases) key(id string) string { return keyFor(k.prefix, id) }

// put and del are the start of a save's and a compare-and-delete's
// command on session id, up to the version argument; get is a read's.
func (k *roundTripCases) put(id string) string {
	return "evalsha " + putScript.Hash() + " 1 " + k.key(id) + " "
}

func (k *roundTripCases) del(id string) string {
	return "evalsha " + delScript.Hash() + " 1 " + k.key(id) + " "
}

func (k *roundTripCases) get(id string) string { return "get " + k.key(id) }

// pxIdle is the TTL argument of a write with the idle timeout.
var pxIdle = strconv.FormatInt(roundTripIdle.Milliseconds(), 10)

// expect checks the round trips and the commands since the last check;
// each wanted command is a prefix of the one sent, in order.
func (k *roundTripCases) expect(t *testing.T, what string, wantRounds int, want ...string) {
	t.Helper()
	n, cmds := k.h.take()
	ok := n == wantRounds && len(cmds) == len(want)
	for i := 0; ok && i < len(want); i++ {
		ok = strings.HasPrefix(cmds[i], want[i])
	}
	if !ok {
		t.Errorf("%s: %d round trips %q, want %d %q", what, n, cmds, wantRounds, want)
	}
}

func (k *roundTripCases) newSession(t *testing.T) {
	s := read(t, k.st, "")
	k.expect(t, "Read without a cookie", 0)
	s.Set("user", "ada")
	v, set, err := k.st.Save(k.ctx, s)
	if err != nil || !set || v != s.ID() {
		t.Fatalf("Save = %q, %v, %v", v, set, err)
	}
	k.id = v
	k.expect(t, "Save of a new session", 1, k.put(k.id)+" <record> "+pxIdle)
}

func (k *roundTripCases) readOnly(t *testing.T) {
	s := read(t, k.st, k.id)
	if s.ID() != k.id {
		t.Fatal("Read returned a new session")
	}
	k.expect(t, "Read", 1, k.get(k.id))
	if _, set, err := k.st.Save(k.ctx, s); err != nil || set {
		t.Fatalf("Save of an unchanged session: set %v, %v", set, err)
	}
	k.expect(t, "Save of an unchanged session", 0)
}

func (k *roundTripCases) changed(t *testing.T) {
	s := read(t, k.st, k.id)
	k.h.reset()
	s.Set("n", 1)
	save(t, k.st, s)
	k.expect(t, "Save of a changed session", 1, k.put(k.id))
}

func (k *roundTripCases) slidingRefresh(t *testing.T) {
	k.clk.Advance(roundTripIdle/10 + time.Second)
	if _, set, err := k.st.Save(k.ctx, read(t, k.st, k.id)); err != nil || set {
		t.Fatalf("refresh: set %v, %v", set, err)
	}
	k.expect(t, "a read-only request after a tenth of the idle timeout", 2, k.get(k.id), "pexpire "+k.key(k.id)+" "+pxIdle)
	save(t, k.st, read(t, k.st, k.id))
	k.expect(t, "the next read-only request (throttled)", 1, k.get(k.id))
}

func (k *roundTripCases) login(t *testing.T) {
	s := read(t, k.st, k.id)
	k.h.reset()
	s.RegenerateID(true)
	s.Set("user", "grace")
	v := save(t, k.st, s)
	k.expect(t, "Save after RegenerateID(true)", 2, k.put(v)+" <record> "+pxIdle, k.del(k.id))
	k.id = v
}

func (k *roundTripCases) logout(t *testing.T) {
	s := read(t, k.st, k.id)
	k.h.reset()
	s.Destroy()
	if v, set, err := k.st.Save(k.ctx, s); err != nil || !set || v != "" {
		t.Fatalf("Save after Destroy = %q, %v, %v", v, set, err)
	}
	k.expect(t, "Save after Destroy", 1, "del "+k.key(k.id))
}

// conflict: another program rewrites the record between a request's read
// and save: the save's compare-and-set fails, package session reads again
// and re-applies the change.
func (k *roundTripCases) conflict(t *testing.T) {
	id := request(t, k.st, "", func(s *session.Session) { s.Set("a", 1) })
	s := read(t, k.st, id)
	must(t, k.c.Set(k.ctx, k.key(id), `[{"a":1,"remix":true},{}]`, 0).Err())
	k.h.reset()
	s.Set("b", 2)
	save(t, k.st, s)
	k.expect(t, "Save after a concurrent write", 3, k.put(id), k.get(id), k.put(id))
	s = read(t, k.st, id)
	if b, _ := session.Value[int](s, "b"); s.Get("remix") != true || b != 2 {
		t.Errorf("after the merged save: remix %v, b %v", s.Get("remix"), s.Get("b"))
	}
}

func TestRoundTrips(t *testing.T) {
	runRoundTripCases(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestRoundTripsCluster(t *testing.T) {
	runRoundTripCases(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}

// TestTTL checks the TTL Redis holds after each kind of write: the idle
// timeout, or the Lifetime left when that is shorter; none without expiry.
func TestTTL(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	t.Run("idle timeout", func(t *testing.T) { ttlIdle(t, c) })
	t.Run("lifetime left", func(t *testing.T) { ttlLifetimeLeft(t, c) })
	t.Run("default lifetime", func(t *testing.T) {
		prefix := freshPrefix()
		st := mustNew(t, c, Options{KeyPrefix: prefix})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		near(t, c, "zero options", keyFor(prefix, id), session.DefaultLifetime)
	})
	t.Run("no expiry", func(t *testing.T) {
		prefix := freshPrefix()
		st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{Lifetime: -1}})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		wantPTTL(t, c, "no expiry", keyFor(prefix, id), -1, -1)
	})
	t.Run("sub-millisecond TTLs round up", func(t *testing.T) {
		for d, want := range map[time.Duration]int64{1500 * time.Microsecond: 2, time.Nanosecond: 1, time.Hour: 3600000} {
			if got := millis(d); got != want {
				t.Errorf("millis(%v) = %d, want %d", d, got, want)
			}
		}
	})
}

// near checks that key's PTTL is want, or a little less: the TTL counts
// down in real time between the write and PTTL.
func near(t *testing.T, c redis.UniversalClient, what, key string, want time.Duration) {
	t.Helper()
	wantPTTL(t, c, what, key, want-5*time.Second, want)
}

func ttlIdle(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	clk := newClock()
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{IdleTimeout: 30 * time.Minute, Now: clk.Now}})
	id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	key := keyFor(prefix, id)
	near(t, c, "new session", key, 30*time.Minute)
	// Shorten the TTL behind the storage's back, then let a refresh
	// restore it.
	c.PExpire(ctx, key, time.Minute)
	clk.Advance(4 * time.Minute)
	request(t, st, id, nil)
	near(t, c, "after a sliding refresh", key, 30*time.Minute)
	c.PExpire(ctx, key, time.Minute)
	request(t, st, id, func(s *session.Session) { s.Set("a", 2) })
	near(t, c, "after an update", key, 30*time.Minute)
}

func ttlLifetimeLeft(t *testing.T, c redis.UniversalClient) {
	clk := newClock()
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{IdleTimeout: time.Hour, Lifetime: 2 * time.Hour, Now: clk.Now}})
	id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
	near(t, c, "new session", keyFor(prefix, id), time.Hour)
	clk.Advance(100 * time.Minute)
	request(t, st, id, func(s *session.Session) { s.Set("a", 2) })
	near(t, c, "20 minutes before the end of its lifetime", keyFor(prefix, id), 20*time.Minute)
}
