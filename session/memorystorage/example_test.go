package memorystorage_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// A request cycle without the middleware: read by cookie value, change, save.
func ExampleNew() {
	ctx := context.Background()
	st, err := memorystorage.New(memorystorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}

	// First request: no cookie.
	s, _ := st.Read(ctx, "")
	s.Set("user", "alice")
	value, set, _ := st.Save(ctx, s)
	fmt.Println("set cookie:", set, value == s.ID())

	// Second request carries the cookie value: the same session.
	s, _ = st.Read(ctx, value)
	fmt.Println("user:", s.Get("user"))
	_, set, _ = st.Save(ctx, s)
	fmt.Println("unchanged, set cookie:", set)

	// An id the store does not know is never adopted.
	s, _ = st.Read(ctx, "attacker-chosen-id")
	fmt.Println("adopted:", s.ID() == "attacker-chosen-id")
	// Output:
	// set cookie: true true
	// user: alice
	// unchanged, set cookie: false
	// adopted: false
}
