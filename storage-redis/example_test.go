package redisstorage_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/alicebob/miniredis/v2"
	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// A request cycle without the middleware, against a throwaway redis-server:
// read by cookie value, change, save; then a login and a logout.
func ExampleNew() {
	addr, stop := exampleRedis()
	defer stop()

	client := redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
	defer client.Close()
	st, err := redisstorage.New(client, redisstorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	// First request: no cookie; one EVALSHA (a compare-and-set script that
	// requires the key to be absent, then SET … PX) stores the new session.
	s, _ := st.Read(ctx, "")
	s.Set("visits", 1)
	cookieValue, set, _ := st.Save(ctx, s)
	fmt.Println("set cookie:", set)
	ttl, _ := client.PTTL(ctx, "session:"+cookieValue).Result()
	fmt.Println("TTL:", ttl.Round(time.Minute))

	// Second request: one GET; the user signs in, so the id changes: the
	// new key is written and the old one deleted.
	s, _ = st.Read(ctx, cookieValue)
	fmt.Println("visits:", s.Get("visits"))
	s.RegenerateID(true)
	s.Set("user", "ada")
	newValue, _, _ := st.Save(ctx, s)
	n, _ := client.Exists(ctx, "session:"+cookieValue, "session:"+newValue).Result()
	fmt.Println("keys:", n)

	// Third request: sign out.
	s, _ = st.Read(ctx, newValue)
	s.Destroy()
	cookieValue, set, _ = st.Save(ctx, s)
	fmt.Printf("expire cookie: %v %q\n", set, cookieValue)
	// Output:
	// set cookie: true
	// TTL: 30m0s
	// visits: 1
	// keys: 1
	// expire cookie: true ""
}

// exampleRedis starts a redis-server on a free loopback port for the
// example, or an in-process miniredis when redis-server is not installed
// (and SESSIONKIT_REQUIRE_SERVERS is not set), so the example runs
// everywhere.
func exampleRedis() (addr string, stop func()) {
	srv, err := testserver.StartRedis()
	if err == nil {
		return srv.Addr(), func() { srv.Stop() }
	}
	if !errors.Is(err, testserver.ErrNotInstalled) || testserver.Required() {
		log.Fatal(err)
	}
	m, err := miniredis.Run()
	if err != nil {
		log.Fatal(err)
	}
	return m.Addr(), m.Close
}
