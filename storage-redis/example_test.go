package redisstorage_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// A request cycle without the middleware, against the redis-server that
// TestMain started:
// read by cookie value, change, save; then a login and a logout.
func ExampleNew() {
	client := redis.NewClient(&redis.Options{Addr: redisAddr, ContextTimeoutEnabled: true})
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
	// The key is "session:" + the SHA-256 of the id, never the id itself.
	ttl, _ := client.PTTL(ctx, "session:"+session.HashID(cookieValue)).Result()
	fmt.Println("TTL:", ttl.Round(time.Minute))

	// Second request: one GET; the user signs in, so the id changes: the
	// new key is written and the old one deleted.
	s, _ = st.Read(ctx, cookieValue)
	fmt.Println("visits:", s.Get("visits"))
	s.RegenerateID(true)
	s.Set("user", "ada")
	newValue, _, _ := st.Save(ctx, s)
	n, _ := client.Exists(ctx, "session:"+session.HashID(cookieValue), "session:"+session.HashID(newValue)).Result()
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

// redisAddr is a redis-server started for the examples (TestMain); in a
// program it is your server's address.
var redisAddr string

func TestMain(m *testing.M) {
	srv, err := testserver.StartRedis()
	if err != nil {
		if errors.Is(err, testserver.ErrNotInstalled) && !testserver.Required() {
			// Run the tests (those that need a server skip themselves) but
			// not the examples. A -run on the command line still wins.
			fmt.Printf("the examples need redis-server: %v\n", err)
			flag.Set("test.run", "^(Test|Fuzz)")
			os.Exit(m.Run())
		}
		fmt.Println(err)
		os.Exit(1)
	}
	redisAddr = srv.Addr()
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}
