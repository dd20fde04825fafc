package redisstorage

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// newClient connects to one real server, honouring context deadlines.
func newClient(t testing.TB, addr string) *redis.Client {
	t.Helper()
	c := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// newClusterClient connects to a real cluster, honouring context deadlines.
func newClusterClient(t testing.TB, cl *testserver.Cluster) *redis.ClusterClient {
	t.Helper()
	c := redis.NewClusterClient(&redis.ClusterOptions{Addrs: cl.Addrs(), ContextTimeoutEnabled: true})
	t.Cleanup(func() { c.Close() })
	return c
}

var prefixSeq atomic.Int64

// freshPrefix is a key prefix no other backend of this test run uses.
func freshPrefix() string { return fmt.Sprintf("t%d:session:", prefixSeq.Add(1)) }

// countedBackend is a backend with Len, for sessiontest's Config.Count: the
// number of session records under its prefix (keys whose remainder after the
// prefix holds no ':', so not the index documents and locks), over every
// master of a cluster. It keeps every method of backend, so the storage
// still sees a Toucher and a Locker.
type countedBackend struct{ *backend }

func (b countedBackend) Len() int {
	n := 0
	for _, k := range listKeys(b.c, b.prefix+"*") {
		if !strings.Contains(k[len(b.prefix):], ":") {
			n++
		}
	}
	return n
}

// countKeys counts the keys matching pattern with SCAN, on every master of
// a cluster or shard of a ring.
func countKeys(c redis.UniversalClient, pattern string) int { return len(listKeys(c, pattern)) }

// listKeys returns the keys matching pattern, found with SCAN on every
// master of a cluster or shard of a ring.
func listKeys(c redis.UniversalClient, pattern string) []string {
	var mu sync.Mutex
	var keys []string
	err := eachServer(c, func(ctx context.Context, node redis.UniversalClient) error {
		iter := node.Scan(ctx, 0, pattern, 1000).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	})
	if err != nil {
		panic(fmt.Sprintf("listing keys: %v", err))
	}
	return keys
}

// eachServer calls fn on every server behind c: every master of a cluster,
// every shard of a ring, or c itself.
func eachServer(c redis.UniversalClient, fn func(ctx context.Context, node redis.UniversalClient) error) error {
	ctx := context.Background()
	each := func(ctx context.Context, node *redis.Client) error { return fn(ctx, node) }
	switch cc := c.(type) {
	case *redis.ClusterClient:
		return cc.ForEachMaster(ctx, each)
	case *redis.Ring:
		return cc.ForEachShard(ctx, each)
	}
	return fn(ctx, c)
}

// loadScripts loads the backend's scripts on every server behind c (every
// master of a cluster, every shard of a ring), so that the next EVALSHA of
// each is one round trip.
func loadScripts(t testing.TB, c redis.UniversalClient) {
	t.Helper()
	err := eachServer(c, func(ctx context.Context, node redis.UniversalClient) error {
		for _, s := range []*redis.Script{putScript, delScript, unlockScript} {
			if err := s.Load(ctx, node).Err(); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("loading the scripts: %v", err)
	}
}

// mustBackend is newBackend that fails the test on error.
func mustBackend(t testing.TB, c redis.UniversalClient, o Options) *backend {
	t.Helper()
	b, err := newBackend(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// roundTrips is a redis.Hook that counts round trips: a command sent alone
// is one, a pipeline is one. A new connection's handshake (HELLO, CLIENT
// SETINFO) is not counted. It records each command's arguments too.
type roundTrips struct {
	mu     sync.Mutex
	rounds int
	cmds   [][]any
}

func (h *roundTrips) DialHook(next redis.DialHook) redis.DialHook { return next }

func (h *roundTrips) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if handshake(cmd) {
			return next(ctx, cmd)
		}
		h.mu.Lock()
		h.rounds++
		h.cmds = append(h.cmds, cmd.Args())
		h.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (h *roundTrips) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) > 0 && handshake(cmds[0]) {
			return next(ctx, cmds)
		}
		h.mu.Lock()
		h.rounds++
		for _, c := range cmds {
			h.cmds = append(h.cmds, c.Args())
		}
		h.mu.Unlock()
		return next(ctx, cmds)
	}
}

// handshake reports whether cmd is part of a new connection's setup (HELLO,
// CLIENT SETINFO), which go-redis sends through the hooks too.
func handshake(cmd redis.Cmder) bool {
	args := cmd.Args()
	if cmd.Name() == "hello" {
		return true
	}
	return cmd.Name() == "client" && len(args) > 1 && strings.EqualFold(fmt.Sprint(args[1]), "setinfo")
}

func (h *roundTrips) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.rounds, h.cmds = 0, nil
}

// take returns the round trips and the commands (as "name arg…" with record
// bytes shown as <record>) since the last reset, and resets.
func (h *roundTrips) take() (int, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	var names []string
	for _, args := range h.cmds {
		parts := make([]string, len(args))
		for i, a := range args {
			switch v := a.(type) {
			case []byte:
				parts[i] = "<record>"
			default:
				parts[i] = fmt.Sprint(v)
			}
		}
		names = append(names, strings.Join(parts, " "))
	}
	n := h.rounds
	h.rounds, h.cmds = 0, nil
	return n, names
}

// clock is a settable clock for Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// request plays one request (sessiontest.Request) and returns the cookie
// afterwards.
func request(t testing.TB, st session.Storage, cookie string, fn func(*session.Session)) string {
	t.Helper()
	v, _ := sessiontest.Request(t, st, cookie, fn)
	return v
}

// mustNew is New that fails the test on error.
func mustNew(t testing.TB, c redis.UniversalClient, o Options) session.Storage {
	t.Helper()
	st, err := New(c, o)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

// keyFor is the Redis key of session id's record under prefix with the
// default options: prefix + session.HashID(id).
func keyFor(prefix, id string) string { return prefix + session.HashID(id) }

// must fails the test at once on err.
func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// wantIs fails the test when err is not want and does not wrap it.
func wantIs(t testing.TB, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s: %v, want %v", what, err, want)
	}
}

// stored returns what key holds and whether it exists.
func stored(t testing.TB, c redis.UniversalClient, key string) (string, bool) {
	t.Helper()
	v, err := c.Get(context.Background(), key).Result()
	if errors.Is(err, redis.Nil) {
		return "", false
	}
	must(t, err)
	return v, true
}

// wantStored fails the test unless key holds want.
func wantStored(t testing.TB, c redis.UniversalClient, what, key, want string) {
	t.Helper()
	if v, ok := stored(t, c, key); !ok || v != want {
		t.Errorf("%s: the key holds %q (exists: %v), want %q", what, v, ok, want)
	}
}

// wantAbsent fails the test when key exists.
func wantAbsent(t testing.TB, c redis.UniversalClient, what, key string) {
	t.Helper()
	if n, err := c.Exists(context.Background(), key).Result(); err != nil || n != 0 {
		t.Errorf("%s: the key exists (%d, %v)", what, n, err)
	}
}

// pttl is key's PTTL: -1 without a TTL, -2 when the key is absent.
func pttl(t testing.TB, c redis.UniversalClient, key string) time.Duration {
	t.Helper()
	d, err := c.PTTL(context.Background(), key).Result()
	must(t, err)
	return d
}

// wantPTTL fails the test unless key's PTTL is in [lo, hi].
func wantPTTL(t testing.TB, c redis.UniversalClient, what, key string, lo, hi time.Duration) {
	t.Helper()
	if d := pttl(t, c, key); d < lo || d > hi {
		t.Errorf("%s: PTTL %v, want between %v and %v", what, d, lo, hi)
	}
}

// read is st.Read of cookie that fails the test on error.
func read(t testing.TB, st session.Storage, cookie string) *session.Session {
	t.Helper()
	s, err := st.Read(context.Background(), cookie)
	must(t, err)
	return s
}

// save is st.Save of s that fails the test on error, and returns the cookie
// value.
func save(t testing.TB, st session.Storage, s *session.Session) string {
	t.Helper()
	v, _, err := st.Save(context.Background(), s)
	must(t, err)
	return v
}
