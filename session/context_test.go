package session_test

import (
	"context"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/session"
)

func TestContext(t *testing.T) {
	if session.FromContext(context.Background()) != nil {
		t.Error("FromContext of an empty context is not nil")
	}
	s := session.New()
	ctx := session.NewContext(context.Background(), s)
	if session.FromContext(ctx) != s {
		t.Error("FromContext did not return the session")
	}
	// The same session again is fine (idempotent), a different one panics.
	if session.FromContext(session.NewContext(ctx, s)) != s {
		t.Error("re-adding the same session")
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("NewContext replaced a session without panicking")
			}
		}()
		session.NewContext(ctx, session.New())
	}()
	// A derived context still carries it.
	child, cancel := context.WithCancel(ctx)
	defer cancel()
	if session.FromContext(child) != s {
		t.Error("a derived context lost the session")
	}
}

// Issue 8.11: a handler that the session middleware does not wrap gets nil
// from FromContext, and its first use of the session panics with a message
// that names the missing middleware, not a nil dereference.
func TestNilSessionPanicNamesTheMiddleware(t *testing.T) {
	s := session.FromContext(context.Background())
	for name, use := range map[string]func(){
		"ID":               func() { s.ID() },
		"Get":              func() { s.Get("user") },
		"Has":              func() { s.Has("user") },
		"Set":              func() { s.Set("user", "ada") },
		"Unset":            func() { s.Unset("user") },
		"Flash":            func() { s.Flash("msg", "hi") },
		"RegenerateID":     func() { s.RegenerateID(true) },
		"Destroy":          func() { s.Destroy() },
		"State":            func() { s.State() },
		"Len":              func() { s.Len() },
		"Data":             func() { s.Data() },
		"Value":            func() { session.Value[int](s, "n") },
		"Persist":          func() { s.Persist(true) },
		"Persistent":       func() { s.Persistent() },
		"PersistByDefault": func() { s.PersistByDefault(true) },
		"Created":          func() { s.Created() },
		"ExpiresAt":        func() { s.ExpiresAt() },
		"ExpiresIn":        func() { s.ExpiresIn() },
	} {
		func() {
			defer func() {
				msg, _ := recover().(string)
				if !strings.Contains(msg, "sessionmiddleware.New") || !strings.Contains(msg, "FromContext") {
					t.Errorf("%s on the nil session of a request without the middleware: panic %q, want one naming the session middleware", name, msg)
				}
			}()
			use()
		}()
	}
}
