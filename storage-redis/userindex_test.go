package redisstorage

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// userIndexRoundTrips counts the round trips of the per-user index: a save
// that keeps the user costs what it costs without UserKey, a login or logout
// carries its index commands in the same round trip, a login with a new id
// one more, and the index key gets the lifetime as its TTL.
func userIndexRoundTrips(t *testing.T, c redis.UniversalClient) {
	h := &roundTrips{}
	c.AddHook(h)
	ctx := context.Background()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	prefix := freshPrefix()
	lifetime := 2 * time.Hour
	st, err := New(c, Options{KeyPrefix: prefix, Session: session.Options{UserKey: "user", Lifetime: lifetime}})
	if err != nil {
		t.Fatal(err)
	}
	ix, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("the Redis storage with UserKey does not implement session.UserIndex")
	}
	expect := func(what string, wantRounds int, wantCmds ...string) {
		t.Helper()
		n, cmds := h.take()
		joined := strings.Join(cmds, "\n")
		if n != wantRounds {
			t.Errorf("%s: %d round trips, want %d:\n%s", what, n, wantRounds, joined)
		}
		for _, w := range wantCmds {
			if !strings.Contains(joined, w) {
				t.Errorf("%s: no %q in:\n%s", what, w, joined)
			}
		}
	}
	h.reset()
	anon := request(t, st, "", func(s *session.Session) { s.Set("n", 1) })
	expect("anonymous new session", 1, "set "+prefix+anon)
	in := request(t, st, anon, func(s *session.Session) { s.Set("user", "ada") })
	expect("login in place (GET, then SET XX with HSET in one pipeline)", 2, "hset "+prefix+"user:ada", "xx")
	request(t, st, in, func(s *session.Session) { s.Set("n", 2) })
	expect("a change, same user (GET, SET XX)", 2)
	request(t, st, in, func(s *session.Session) { s.Set("n", 3) })
	_, cmds := h.take()
	for _, c := range cmds {
		if strings.Contains(c, "user:") {
			t.Errorf("a save that keeps the user sent %q", c)
		}
	}
	other := request(t, st, in, func(s *session.Session) { s.RegenerateID(true) })
	expect("regeneration (GET, SET+HSET+HDEL, DEL)", 3, "del "+prefix+in)
	ttl, err := c.PTTL(ctx, prefix+"user:ada").Result()
	if err != nil || ttl <= lifetime-time.Minute || ttl > lifetime {
		t.Errorf("index TTL %v, %v; want about %v", ttl, err, lifetime)
	}
	h.reset()
	if _, err := ix.Sessions(ctx, "ada"); err != nil { // loads the script on a single node
		t.Fatal(err)
	}
	h.reset()
	list, err := ix.Sessions(ctx, "ada")
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions = %v, %v", list, err)
	}
	if _, single := c.(*redis.Client); single {
		expect("listing (one script)", 1, "evalsha")
	} else {
		expect("listing (HGETALL, then the GETs in one pipeline)", 2, "hgetall "+prefix+"user:ada")
	}
	if err := ix.Revoke(ctx, "ada", list[0].Handle); err != nil {
		t.Fatal(err)
	}
	expect("revoke (HGETALL, DEL+HDEL, HGETALL)", 3)
	if n, _ := c.Exists(ctx, prefix+other, prefix+"user:ada").Result(); n != 0 {
		t.Errorf("%d keys left after the revoke, want 0 (record and index)", n)
	}
}

func TestUserIndexRoundTrips(t *testing.T) {
	userIndexRoundTrips(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestUserIndexRoundTripsCluster(t *testing.T) {
	userIndexRoundTrips(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}

// Listing skips members whose records are absent or not strings (which no
// session can load), and drops from the index those older than a minute, on
// one node and on a Cluster.
func userIndexListsOnlyRecords(t *testing.T, c redis.UniversalClient) {
	ctx := context.Background()
	prefix := freshPrefix()
	st, err := New(c, Options{KeyPrefix: prefix, Session: session.Options{UserKey: "user"}})
	if err != nil {
		t.Fatal(err)
	}
	ix := st.(session.UserIndex)
	request(t, st, "", func(s *session.Session) { s.Set("user", "ada") })
	key := prefix + "user:ada"
	old := strconv.FormatInt(time.Now().Add(-time.Hour).UnixMilli(), 10)
	young := strconv.FormatInt(time.Now().UnixMilli(), 10)
	if err := c.HSet(ctx, key, "gone-old", old+" goneOld", "gone-young", young+" goneYoung",
		"wrong-type", old+" wrongType", "malformed", "not a value").Err(); err != nil {
		t.Fatal(err)
	}
	if err := c.HSet(ctx, prefix+"wrongType", "a", "b").Err(); err != nil {
		t.Fatal(err)
	}
	list, err := ix.Sessions(ctx, "ada")
	if err != nil || len(list) != 1 {
		t.Fatalf("Sessions = %+v, %v; want the one real session", list, err)
	}
	left, err := c.HKeys(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(left)
	want := []string{list[0].Handle, "gone-young"}
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Errorf("index after listing: %q; want the session and the young member (a save may still be writing it)", left)
	}
}

func TestUserIndexListsOnlyRecords(t *testing.T) {
	userIndexListsOnlyRecords(t, newClient(t, testserver.Redis(t).Addr()))
}

func TestUserIndexListsOnlyRecordsCluster(t *testing.T) {
	userIndexListsOnlyRecords(t, newClusterClient(t, testserver.RedisCluster(t, 3)))
}
