package redisstorage

import (
	"context"
	"testing"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// conformance runs the whole session conformance suite through c, each
// scenario on a fresh key prefix. Redis expires keys by its own clock, so
// the scenarios that need the store to follow the suite's fake clock are
// left out (ClockControlsExpiry false); sliding refresh against the real
// server is tested in TestRoundTrips and TestTTL. With Backend the suite
// also runs its per-user, merged-save and exclusive-lock scenarios.
func conformance(t *testing.T, c redis.UniversalClient) {
	sessiontest.Run(t, sessiontest.Config{
		Backend: func(t *testing.T, _ session.Options) session.Backend {
			return countedBackend{mustBackend(t, c, Options{KeyPrefix: freshPrefix()})}
		},
	})
}

func TestConformance(t *testing.T) {
	conformance(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestConformanceCluster(t *testing.T) {
	cl := testserver.RedisCluster(t, 3)
	c := newClusterClient(t, cl)
	conformance(t, c)
}

// pipelineAll makes the storage pipeline every command, also one request
// at a time, until the test ends (see directInFlight).
func pipelineAll(t *testing.T) {
	old := directInFlight
	directInFlight = 0
	t.Cleanup(func() { directInFlight = old })
}

// The suite again with every read and save through the autopipeliner, on
// one node and on a Cluster.
func TestConformancePipelined(t *testing.T) {
	pipelineAll(t)
	conformance(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestConformanceClusterPipelined(t *testing.T) {
	pipelineAll(t)
	conformance(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}

// TestClusterSpreadsSessions checks that sessions written through a
// ClusterClient land on more than one master, and that regenerating an id
// (old and new key in different slots, usually on different nodes: each
// one-key script runs on its key's node) works.
func TestClusterSpreadsSessions(t *testing.T) {
	cl := testserver.RedisCluster(t, 3)
	c := newClusterClient(t, cl)
	prefix := freshPrefix()
	st := mustNew(t, c, Options{KeyPrefix: prefix})
	var cookies []string
	for i := 0; i < 60; i++ {
		cookies = append(cookies, request(t, st, "", func(s *session.Session) { s.Set("n", i) }))
	}
	masters, total := 0, 0
	for _, n := range cl.Nodes {
		keys := countKeys(newClient(t, n.Addr()), prefix+"*")
		if keys > 0 {
			masters++
		}
		total += keys
	}
	if total != 60 {
		t.Errorf("%d keys over the masters, want 60", total)
	}
	if masters < 2 {
		t.Errorf("60 sessions landed on %d master(s), want them spread over more than one", masters)
	}
	// Regenerate every one: the new key's write and the old key's delete
	// go to different slots and nodes.
	for i, ck := range cookies {
		regenerate(t, st, ck, i)
	}
	if n := countKeys(c, prefix+"*"); n != 60 {
		t.Errorf("%d keys after regenerating 60 sessions, want 60 (old ids deleted)", n)
	}
}

// regenerate gives session cookie a new id and sets "m" to i, and checks
// that the new id reads with its "n" (i too).
func regenerate(t *testing.T, st session.Storage, cookie string, i int) {
	t.Helper()
	nv := request(t, st, cookie, func(s *session.Session) { s.RegenerateID(true); s.Set("m", i) })
	if nv == cookie {
		t.Fatal("the id did not change")
	}
	s := read(t, st, nv)
	if n, _ := session.Value[int](s, "n"); n != i || s.ID() != nv {
		t.Fatalf("after regeneration: id %v n %d, want %d", s.ID() == nv, n, i)
	}
}

// TestConformanceRing runs the suite through a *redis.Ring over two
// servers (client-side sharding), and checks that a regeneration works when
// the old and new keys live on different shards.
func TestConformanceRing(t *testing.T) {
	a, b := testserver.Redis(t), testserver.Redis(t)
	ring := redis.NewRing(&redis.RingOptions{
		Addrs:                 map[string]string{"a": a.Addr(), "b": b.Addr()},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { ring.Close() })
	conformance(t, ring)

	prefix := freshPrefix()
	st := mustNew(t, ring, Options{KeyPrefix: prefix})
	for i := 0; i < 20; i++ {
		ck := request(t, st, "", func(s *session.Session) { s.Set("n", i) })
		request(t, st, ck, func(s *session.Session) { s.RegenerateID(true); s.Set("m", i) })
	}
	ctx := context.Background()
	na, _ := newClient(t, a.Addr()).DBSize(ctx).Result()
	nb, _ := newClient(t, b.Addr()).DBSize(ctx).Result()
	if na+nb < 20 || na == 0 || nb == 0 {
		t.Errorf("shards hold %d and %d keys; want 20 sessions over both (and more from the suite)", na, nb)
	}
	if n := countKeys(ring, prefix+"*"); n != 20 {
		t.Errorf("%d keys after regenerating 20 sessions, want 20", n)
	}
}

// TestConformanceSentinel runs the suite through a failover client that
// finds the master through a real Redis Sentinel.
func TestConformanceSentinel(t *testing.T) {
	master := testserver.Redis(t)
	sentinel := testserver.RedisSentinel(t, "sessions", master.Addr())
	c := redis.NewFailoverClient(&redis.FailoverOptions{
		MasterName:            "sessions",
		SentinelAddrs:         []string{sentinel.Addr()},
		ContextTimeoutEnabled: true,
	})
	t.Cleanup(func() { c.Close() })
	conformance(t, c)
	if n := countKeys(newClient(t, master.Addr()), "*"); n == 0 {
		t.Error("the master the Sentinel names holds no keys")
	}
}
