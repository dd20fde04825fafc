package memcachestorage_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/bradfitz/gomemcache/memcache"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	memcachestorage "github.com/sessionkit/sessionkit/storage-memcache"
)

// memcachedAddr is a memcached started for the examples; in a program it is
// your servers' addresses.
var memcachedAddr string

func TestMain(m *testing.M) {
	srv, err := testserver.StartMemcached()
	if err != nil {
		if errors.Is(err, testserver.ErrNotInstalled) && !testserver.Required() {
			// Run the tests (those that need a server skip themselves) but
			// not the examples. A -run on the command line still wins.
			fmt.Printf("the examples need memcached: %v\n", err)
			flag.Set("test.run", "^(Test|Fuzz)")
			os.Exit(m.Run())
		}
		fmt.Println(err)
		os.Exit(1)
	}
	memcachedAddr = srv.Addr()
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// The session middleware calls Read and Save around every request; here
// they are called directly: a first request signs in, a second one reads
// the session back by the cookie value the first one set.
func Example() {
	client := memcache.New(memcachedAddr) // or several: memcache.New("10.0.0.1:11211", "10.0.0.2:11211")
	client.Timeout = time.Second          // per command; gomemcache's default is 500 ms
	st, err := memcachestorage.New(client, memcachestorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour},
	})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()

	s, err := st.Read(ctx, "") // no cookie yet: a new session
	if err != nil {
		log.Fatal(err)
	}
	s.RegenerateID(true) // on sign-in
	s.Set("user", "alice")
	cookieValue, set, err := st.Save(ctx, s)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("Set-Cookie sent:", set)

	s, err = st.Read(ctx, cookieValue)
	if err != nil {
		log.Fatal(err) // memcached down: an error, never a signed-out user
	}
	fmt.Println("user:", s.Get("user"))
	// Output:
	// Set-Cookie sent: true
	// user: alice
}

// Save refuses a session over either size limit before anything is sent,
// and the session stored before stays as it was: Options.MaxItemSize (the
// servers' -I, or less, as here), with ErrTooLarge, and
// Options.Session.MaxRecordSize (1 MiB by default), with an error of
// package session. Both errors wrap session.ErrTooLarge.
func ExampleErrTooLarge() {
	st, err := memcachestorage.New(memcache.New(memcachedAddr), memcachestorage.Options{MaxItemSize: 64 << 10})
	if err != nil {
		log.Fatal(err)
	}
	ctx := context.Background()
	for _, size := range []int{100 << 10, 2 << 20} {
		s, err := st.Read(ctx, "")
		if err != nil {
			log.Fatal(err)
		}
		s.Set("blob", strings.Repeat("x", size))
		_, _, err = st.Save(ctx, s)
		fmt.Println(errors.Is(err, memcachestorage.ErrTooLarge), errors.Is(err, session.ErrTooLarge))
	}
	// Output:
	// true true
	// false true
}
