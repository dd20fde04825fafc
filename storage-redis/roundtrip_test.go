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

// roundTripCases counts, with a go-redis hook, the round trips and commands
// of each kind of request, on one node and on a Cluster, once the scripts
// are loaded (the first run of a script on a server costs one more round
// trip: see backendContract).
func roundTripCases(t *testing.T, c redis.UniversalClient) {
	h := &roundTrips{}
	c.AddHook(h)
	clk := newClock()
	const idle = time.Hour
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{IdleTimeout: idle, Now: clk.Now}})
	pxIdle := strconv.FormatInt(idle.Milliseconds(), 10)
	put := "evalsha " + putScript.Hash() + " 1 "
	del := "evalsha " + delScript.Hash() + " 1 "
	ctx := context.Background()
	// Warm up: the cluster client loads its slot map and command table.
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	loadScripts(t, c)
	h.reset()

	// expect checks the round trips and the commands since the last check;
	// each wanted command is a prefix of the one sent, in order.
	expect := func(t *testing.T, what string, wantRounds int, want ...string) {
		t.Helper()
		n, cmds := h.take()
		ok := n == wantRounds && len(cmds) == len(want)
		for i := 0; ok && i < len(want); i++ {
			ok = strings.HasPrefix(cmds[i], want[i])
		}
		if !ok {
			t.Errorf("%s: %d round trips %q, want %d %q", what, n, cmds, wantRounds, want)
		}
	}

	var id string
	t.Run("new session", func(t *testing.T) {
		s, err := st.Read(ctx, "")
		if err != nil {
			t.Fatal(err)
		}
		expect(t, "Read without a cookie", 0)
		s.Set("user", "ada")
		v, set, err := st.Save(ctx, s)
		if err != nil || !set || v != s.ID() {
			t.Fatalf("Save = %q, %v, %v", v, set, err)
		}
		id = v
		expect(t, "Save of a new session", 1, put+prefix+id+"  <record> "+pxIdle)
	})
	t.Run("read-only request", func(t *testing.T) {
		s, err := st.Read(ctx, id)
		if err != nil || s.ID() != id {
			t.Fatalf("Read: %v", err)
		}
		expect(t, "Read", 1, "get "+prefix+id)
		if _, set, err := st.Save(ctx, s); err != nil || set {
			t.Fatalf("Save of an unchanged session: set %v, %v", set, err)
		}
		expect(t, "Save of an unchanged session", 0)
	})
	t.Run("changed session", func(t *testing.T) {
		s, _ := st.Read(ctx, id)
		h.reset()
		s.Set("n", 1)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, "Save of a changed session", 1, put+prefix+id+" ")
	})
	t.Run("sliding refresh", func(t *testing.T) {
		clk.Advance(idle/10 + time.Second)
		s, _ := st.Read(ctx, id)
		if _, set, err := st.Save(ctx, s); err != nil || set {
			t.Fatalf("refresh: set %v, %v", set, err)
		}
		expect(t, "a read-only request after a tenth of the idle timeout", 2, "get "+prefix+id, "pexpire "+prefix+id+" "+pxIdle)
		s, _ = st.Read(ctx, id)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, "the next read-only request (throttled)", 1, "get "+prefix+id)
	})
	t.Run("login", func(t *testing.T) {
		s, _ := st.Read(ctx, id)
		h.reset()
		s.RegenerateID(true)
		s.Set("user", "grace")
		v, _, err := st.Save(ctx, s)
		if err != nil {
			t.Fatal(err)
		}
		expect(t, "Save after RegenerateID(true)", 2, put+prefix+v+"  <record> "+pxIdle, del+prefix+id+" ")
		id = v
	})
	t.Run("logout", func(t *testing.T) {
		s, _ := st.Read(ctx, id)
		h.reset()
		s.Destroy()
		if v, set, err := st.Save(ctx, s); err != nil || !set || v != "" {
			t.Fatalf("Save after Destroy = %q, %v, %v", v, set, err)
		}
		expect(t, "Save after Destroy", 1, "del "+prefix+id)
	})
	t.Run("a conflict", func(t *testing.T) {
		// Another program rewrites the record between this request's read
		// and save: the save's compare-and-set fails, package session reads
		// again and re-applies the change.
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		s, _ := st.Read(ctx, id)
		if err := c.Set(ctx, prefix+id, `[{"a":1,"remix":true},{}]`, 0).Err(); err != nil {
			t.Fatal(err)
		}
		h.reset()
		s.Set("b", 2)
		if _, _, err := st.Save(ctx, s); err != nil {
			t.Fatal(err)
		}
		expect(t, "Save after a concurrent write", 3, put+prefix+id+" ", "get "+prefix+id, put+prefix+id+" ")
		s, _ = st.Read(ctx, id)
		if s.Get("remix") != true || s.Get("b") != 2.0 && s.Get("b") != 2 {
			t.Errorf("after the merged save: remix %v, b %v", s.Get("remix"), s.Get("b"))
		}
	})
}

func TestRoundTrips(t *testing.T) {
	roundTripCases(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestRoundTripsCluster(t *testing.T) {
	roundTripCases(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}

// TestTTL checks the TTL Redis holds after each kind of write: the idle
// timeout, or the Lifetime left when that is shorter; none without expiry.
func TestTTL(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	ctx := context.Background()
	pttl := func(t *testing.T, prefix, id string) time.Duration {
		t.Helper()
		d, err := c.PTTL(ctx, prefix+id).Result()
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	near := func(t *testing.T, what string, got, want time.Duration) {
		t.Helper()
		// The TTL counts down in real time between the write and PTTL.
		if got > want || got < want-5*time.Second {
			t.Errorf("%s: PTTL %v, want %v (or a little less)", what, got, want)
		}
	}

	t.Run("idle timeout", func(t *testing.T) {
		clk := newClock()
		prefix := freshPrefix()
		st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{IdleTimeout: 30 * time.Minute, Now: clk.Now}})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		near(t, "new session", pttl(t, prefix, id), 30*time.Minute)
		// Shorten the TTL behind the storage's back, then let a refresh
		// restore it.
		c.PExpire(ctx, prefix+id, time.Minute)
		clk.Advance(4 * time.Minute)
		request(t, st, id, nil)
		near(t, "after a sliding refresh", pttl(t, prefix, id), 30*time.Minute)
		c.PExpire(ctx, prefix+id, time.Minute)
		request(t, st, id, func(s *session.Session) { s.Set("a", 2) })
		near(t, "after an update", pttl(t, prefix, id), 30*time.Minute)
	})
	t.Run("lifetime left", func(t *testing.T) {
		clk := newClock()
		prefix := freshPrefix()
		st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{IdleTimeout: time.Hour, Lifetime: 2 * time.Hour, Now: clk.Now}})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		near(t, "new session", pttl(t, prefix, id), time.Hour)
		clk.Advance(100 * time.Minute)
		request(t, st, id, func(s *session.Session) { s.Set("a", 2) })
		near(t, "20 minutes before the end of its lifetime", pttl(t, prefix, id), 20*time.Minute)
	})
	t.Run("default lifetime", func(t *testing.T) {
		prefix := freshPrefix()
		st := mustNew(t, c, Options{KeyPrefix: prefix})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		near(t, "zero options", pttl(t, prefix, id), session.DefaultLifetime)
	})
	t.Run("no expiry", func(t *testing.T) {
		prefix := freshPrefix()
		st := mustNew(t, c, Options{KeyPrefix: prefix, Session: session.Options{Lifetime: -1}})
		id := request(t, st, "", func(s *session.Session) { s.Set("a", 1) })
		if d := pttl(t, prefix, id); d != -1 {
			t.Errorf("PTTL %v, want -1 (no expiry)", d)
		}
	})
	t.Run("sub-millisecond TTLs round up", func(t *testing.T) {
		if got := millis(1500 * time.Microsecond); got != 2 {
			t.Errorf("millis(1.5ms) = %d, want 2", got)
		}
		if got := millis(time.Nanosecond); got != 1 {
			t.Errorf("millis(1ns) = %d, want 1", got)
		}
		if got := millis(time.Hour); got != 3600000 {
			t.Errorf("millis(1h) = %d", got)
		}
	})
}

// TestKeysAreRemixKeys checks the key and value layout against the Remix
// storage's: prefix + id, a JSON string record.
func TestKeysAreRemixKeys(t *testing.T) {
	c := newClient(t, testserver.Redis(t).Addr())
	ctx := context.Background()
	st := mustNew(t, c, Options{})
	id := request(t, st, "", func(s *session.Session) { s.Set("name", "ada"); s.Flash("msg", "hi") })
	v, err := c.Get(ctx, "session:"+id).Result()
	if err != nil {
		t.Fatalf("GET session:<id>: %v", err)
	}
	if !strings.HasPrefix(v, `[{"name":"ada"},{"msg":"hi"}`) {
		t.Errorf("record %q does not start with the Remix [values, flash]", v)
	}
	if err := c.Set(ctx, "session:remix-id", `[{"count":3},{}]`, 0).Err(); err != nil {
		t.Fatal(err)
	}
	s, err := st.Read(ctx, "remix-id")
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := session.Value[int](s, "count"); n != 3 || s.ID() != "remix-id" {
		t.Errorf("read a Remix record as id %q count %d", s.ID(), n)
	}
}
