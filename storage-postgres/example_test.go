package postgresstorage_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	postgresstorage "github.com/sessionkit/sessionkit/storage-postgres"
)

// databaseURL is a PostgreSQL server started for the examples and tests; in
// a program it is your server's URL.
var databaseURL string

func TestMain(m *testing.M) {
	srv, err := testserver.StartPostgres()
	postgresstorage.UseTestServer(srv, err)
	if err != nil {
		if errors.Is(err, testserver.ErrNotInstalled) && !testserver.Required() {
			// Run the tests (those that need a server skip themselves) but
			// not the examples. A -run on the command line still wins.
			fmt.Printf("the examples need PostgreSQL: %v\n", err)
			flag.Set("test.run", "^(Test|Fuzz)")
			os.Exit(m.Run())
		}
		fmt.Println(err)
		os.Exit(1)
	}
	databaseURL = srv.URL()
	code := m.Run()
	srv.Stop()
	os.Exit(code)
}

// The session middleware calls Read and Save around every request; here
// they are called directly: a first request signs in, a second one reads
// the session back by the cookie value the first one set.
func Example() {
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, databaseURL) // e.g. "postgres://app@db.internal:5432/app"
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	// Once, at start: creates the table "sessions" and its index when missing.
	if err := postgresstorage.Migrate(ctx, pool, postgresstorage.DefaultTable); err != nil {
		log.Fatal(err)
	}
	st, err := postgresstorage.New(pool, postgresstorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour},
	})
	if err != nil {
		log.Fatal(err)
	}

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
		log.Fatal(err) // PostgreSQL down: an error, never a signed-out user
	}
	fmt.Println("user:", s.Get("user"))
	// Output:
	// Set-Cookie sent: true
	// user: alice
}

// New checks the table, and names Migrate when it is missing.
func ExampleNew_missingTable() {
	pool, err := pgxpool.New(context.Background(), databaseURL)
	if err != nil {
		log.Fatal(err)
	}
	defer pool.Close()
	_, err = postgresstorage.New(pool, postgresstorage.Options{Table: "no_such_table"})
	fmt.Println(err)
	// Output:
	// postgresstorage: the table no_such_table does not exist: create it with postgresstorage.Migrate(ctx, pool, "no_such_table") before New
}
