package session_test

import (
	"context"
	"fmt"
	"log"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// Flash values are read on the next request only.
func ExampleSession_Flash() {
	ctx := context.Background()
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		log.Fatal(err)
	}

	s, _ := st.Read(ctx, "")
	s.Flash("notice", "Saved!")
	fmt.Println("this request:", s.Get("notice"))
	v, _, _ := st.Save(ctx, s)

	s, _ = st.Read(ctx, v)
	fmt.Println("next request:", s.Get("notice"))
	st.Save(ctx, s)

	s, _ = st.Read(ctx, v)
	fmt.Println("after that:", s.Get("notice"))
	// Output:
	// this request: <nil>
	// next request: Saved!
	// after that: <nil>
}

// Value converts what a storage's JSON gives back to the type you stored.
func ExampleValue() {
	ctx := context.Background()
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, _ := st.Read(ctx, "")
	s.Set("visits", 3)
	v, _, _ := st.Save(ctx, s)

	s, _ = st.Read(ctx, v)
	fmt.Printf("Get: %v (%T)\n", s.Get("visits"), s.Get("visits"))
	n, ok := session.Value[int](s, "visits")
	fmt.Println("Value[int]:", n, ok)
	_, ok = session.Value[string](s, "visits")
	fmt.Println("Value[string]:", ok)
	// Output:
	// Get: 3 (float64)
	// Value[int]: 3 true
	// Value[string]: false
}

// Logging in and out.
func ExampleSession_RegenerateID() {
	ctx := context.Background()
	st, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	s, _ := st.Read(ctx, "")
	s.Set("cart", "3 items")
	before, _, _ := st.Save(ctx, s)

	// Login: a new id, the data kept, the old record deleted on save.
	s, _ = st.Read(ctx, before)
	s.RegenerateID(true)
	s.Set("user", "alice")
	after, _, _ := st.Save(ctx, s)
	old, _ := st.Read(ctx, before)
	fmt.Println("new id:", after != before, "old id still works:", old.ID() == before)

	// Logout: Destroy, then a flash starts a fresh session for the message.
	s, _ = st.Read(ctx, after)
	s.Destroy()
	s.Flash("notice", "Signed out")
	fresh, _, _ := st.Save(ctx, s)
	s, _ = st.Read(ctx, fresh)
	fmt.Println(s.Get("notice"), s.Has("user"), fresh != after)
	// Output:
	// new id: true old id still works: false
	// Signed out false true
}
