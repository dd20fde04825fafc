package memcachestorage

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
)

// prefixes gives every backend of a test run its own key prefix, so that
// backends sharing one server never see each other's items.
var prefixes atomic.Int64

func testPrefix() string {
	return fmt.Sprintf("sktest:%d:", prefixes.Add(1))
}

// trackingBackend is a backend that remembers the record keys written
// through it, so that the conformance suite can count the records still
// stored (memcached cannot list keys by prefix).
type trackingBackend struct {
	*backend
	mu   sync.Mutex
	keys map[string]bool
}

func newTrackingBackend(t testing.TB, client *memcache.Client, o Options) *trackingBackend {
	return &trackingBackend{backend: newTestBackend(t, client, o), keys: map[string]bool{}}
}

func (b *trackingBackend) Put(ctx context.Context, key string, data []byte, ttl time.Duration, v session.Version) (session.Version, error) {
	if b.isRecordKey(key) {
		b.mu.Lock()
		b.keys[key] = true
		b.mu.Unlock()
	}
	return b.backend.Put(ctx, key, data, ttl, v)
}

// isRecordKey reports whether key is a record's (prefix + 64 hex digits),
// not an index document's or a lock's (prefix + a letter + 63 digits).
func (b *backend) isRecordKey(key string) bool {
	rest, ok := strings.CutPrefix(key, b.prefix)
	return ok && len(rest) == hashLength && strings.IndexByte("0123456789abcdef", rest[0]) >= 0
}

// Len counts the written records still on the server (tombstones left out).
func (b *trackingBackend) Len() int {
	b.mu.Lock()
	keys := make([]string, 0, len(b.keys))
	for k := range b.keys {
		keys = append(keys, k)
	}
	b.mu.Unlock()
	if len(keys) == 0 {
		return 0
	}
	items, err := b.client.GetMulti(keys)
	if err != nil {
		panic(fmt.Sprintf("GetMulti: %v", err))
	}
	n := 0
	for _, it := range items {
		if len(it.Value) > 0 {
			n++
		}
	}
	return n
}

func newTestBackend(t testing.TB, client *memcache.Client, o Options) *backend {
	t.Helper()
	if o.KeyPrefix == "" {
		o.KeyPrefix = testPrefix()
	}
	b, err := newBackend(client, o)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// newStorage returns a storage on client with a fresh key prefix, and its
// backend.
func newStorage(t testing.TB, client *memcache.Client, o Options) (session.Storage, *backend) {
	t.Helper()
	b := newTestBackend(t, client, o)
	st, err := session.NewBackendStorage(b, o.Session)
	if err != nil {
		t.Fatal(err)
	}
	return st, b
}

// command sends one raw memcached command and returns the answer's lines up
// to the line for which last reports true (END, STORED...).
func command(t testing.TB, addr, cmd string, last func(string) bool) []string {
	t.Helper()
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Write([]byte(cmd + "\r\n")); err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(c)
	var lines []string
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("%q: %v after %q", cmd, err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if last(line) {
			return lines
		}
	}
}

func isEnd(line string) bool {
	return line == "END" || strings.HasPrefix(line, "ERROR") || strings.Contains(line, "_ERROR")
}

// stats returns the server's general counters (cmd_get, cmd_set,
// cmd_touch, ...).
func stats(t testing.TB, addr string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, line := range command(t, addr, "stats", isEnd) {
		f := strings.Fields(line)
		if len(f) == 3 && f[0] == "STAT" {
			if n, err := strconv.ParseInt(f[2], 10, 64); err == nil {
				m[f[1]] = n
			}
		}
	}
	return m
}

// expirations returns, for every item on the server, its absolute
// expiration time in Unix seconds (-1: never), from lru_crawler metadump.
func expirations(t testing.TB, addr string) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, line := range command(t, addr, "lru_crawler metadump all", isEnd) {
		if line == "END" {
			break
		}
		var key string
		exp := int64(-2)
		for _, f := range strings.Fields(line) {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "key":
				key, _ = url.QueryUnescape(v)
			case "exp":
				exp, _ = strconv.ParseInt(v, 10, 64)
			}
		}
		if key == "" || exp == -2 {
			t.Fatalf("metadump line %q", line)
		}
		m[key] = exp
	}
	return m
}

// expirationOf is the expiration of the item under key, which must exist.
// The LRU crawler can miss an item that moves between LRU segments while it
// walks them (a touch bumps it), so a miss is asked again.
func expirationOf(t testing.TB, addr, key string) int64 {
	t.Helper()
	for try := 0; try < 20; try++ {
		if exp, ok := expirations(t, addr)[key]; ok {
			return exp
		}
	}
	t.Fatalf("lru_crawler metadump does not list %s", key)
	return 0
}

// serverOf reports which of the servers holds key (-1: none); each client
// in singles talks to one server.
func serverOf(t testing.TB, singles []*memcache.Client, key string) int {
	t.Helper()
	at := -1
	for i, c := range singles {
		_, err := c.Get(key)
		if err == memcache.ErrCacheMiss {
			continue
		}
		if err != nil {
			t.Fatalf("server %d: %v", i, err)
		}
		if at >= 0 {
			t.Fatalf("key on servers %d and %d", at, i)
		}
		at = i
	}
	return at
}

func startMemcached(t testing.TB, extra ...string) (*testserver.Server, *memcache.Client) {
	t.Helper()
	srv := testserver.Memcached(t, extra...)
	return srv, newClient(srv.Addr())
}

// pool is a client over several memcached processes, with a client for
// each of them alone and the selector that maps keys to them.
type pool struct {
	srvs    []*testserver.Server
	addrs   []string
	singles []*memcache.Client
	sel     *memcache.ServerList
	client  *memcache.Client
}

// startPool starts n memcached processes and a client over all of them.
func startPool(t testing.TB, n int) *pool {
	t.Helper()
	p := &pool{sel: new(memcache.ServerList)}
	for i := 0; i < n; i++ {
		srv := testserver.Memcached(t)
		p.srvs = append(p.srvs, srv)
		p.addrs = append(p.addrs, srv.Addr())
		p.singles = append(p.singles, newClient(srv.Addr()))
	}
	if err := p.sel.SetServers(p.addrs...); err != nil {
		t.Fatal(err)
	}
	p.client = memcache.NewFromSelector(p.sel)
	p.client.Timeout = 5 * time.Second
	p.client.MaxIdleConns = 16
	return p
}

// serverFor is the index of the server that key maps to, stored or not.
func (p *pool) serverFor(t testing.TB, key string) int {
	t.Helper()
	addr, err := p.sel.PickServer(key)
	if err != nil {
		t.Fatal(err)
	}
	for i, srv := range p.srvs {
		if addr.String() == srv.Addr() {
			return i
		}
	}
	t.Fatalf("%s is none of the servers", addr)
	return -1
}

// newClient is a client whose timeout leaves room for a loaded test
// machine (gomemcache's default is 500 ms).
func newClient(addrs ...string) *memcache.Client {
	c := memcache.New(addrs...)
	c.Timeout = 5 * time.Second
	return c
}
