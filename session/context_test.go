package session_test

import (
	"context"
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
