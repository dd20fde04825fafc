package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/cookiejar"
	"regexp"
	"strings"
	"testing"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

var locatedAddr = regexp.MustCompile(`127\.0\.0\.1:\d+`)

// TestPageSaysWhereSessionLives: with a Redis Cluster the page names the
// master that holds the session's key, with a memcached pool the server its
// key hashes to, and with PostgreSQL the table; the named server really
// holds the record (and, for the cluster and the pool, sessions land on more
// than one server).
func TestPageSaysWhereSessionLives(t *testing.T) {
	for _, storage := range []string{"redis-cluster", "memcache", "postgres"} {
		t.Run(storage, func(t *testing.T) {
			srv, _, rec := newTestServer(t, storage, false)
			ctx := context.Background()
			seen := map[string]bool{}
			for i := 0; i < 12; i++ {
				jar, _ := cookiejar.New(nil)
				cl := &http.Client{Jar: jar}
				get(t, cl, srv.URL+"/") // creates the session
				_, body := get(t, cl, srv.URL+"/")
				located := between(body, `<td id="located">`, "</td>")
				ids := rec.seen()
				id := ids[len(ids)-1]
				mustContain(t, body, `<code id="sid">`+shortID(id)+"</code>")
				if storage == "postgres" {
					mustContain(t, located, "a row of the table sessions (database postgres, at 127.0.0.1:")
					return
				}
				addr := locatedAddr.FindString(located)
				if addr == "" {
					t.Fatalf("the page names no server: %q", located)
				}
				seen[addr] = true
				switch storage {
				case "redis-cluster":
					mustContain(t, located, "on the master at "+addr+", which serves the hash slot of its key")
					c := redis.NewClient(&redis.Options{Addr: addr})
					n, err := c.Exists(ctx, redisstorage.DefaultKeyPrefix+session.HashID(id)).Result()
					c.Close()
					if err != nil || n != 1 {
						t.Fatalf("the master %s the page names: EXISTS = %d, %v", addr, n, err)
					}
				case "memcache":
					mustContain(t, located, "on the memcached at "+addr+", which its key hashes to")
					sum := sha256.Sum256([]byte(id))
					key := memcachestorage.DefaultKeyPrefix + hex.EncodeToString(sum[:])
					for _, server := range strings.Split(addrsOf(t, body), ",") {
						_, err := memcache.New(server).Get(key)
						if holds := err == nil; holds != (server == addr) {
							if err != nil && !errors.Is(err, memcache.ErrCacheMiss) {
								t.Fatal(err)
							}
							t.Fatalf("memcached %s holds the record: %v; the page names %s", server, holds, addr)
						}
					}
				}
			}
			if len(seen) < 2 {
				t.Errorf("12 sessions all on %v: want them spread over the servers", seen)
			}
		})
	}
}

// addrsOf reads the pool's addresses from the page's storage line.
func addrsOf(t *testing.T, body string) string {
	t.Helper()
	list := between(body, "in a pool of memcached (", ")")
	if list == "" {
		t.Fatalf("no pool on the page")
	}
	return list
}
