package bench

import (
	"net/http"
	"testing"

	"github.com/gorilla/sessions"
)

// TestHandlersWork runs every benchmarked handler for a few requests, so that
// a broken comparison fails in `make test` rather than in a benchmark run.
func TestHandlersWork(t *testing.T) {
	cases := []struct {
		name  string
		h     http.Handler
		write bool
	}{
		{"sessionkit memory write", sessionkitHandler(t, memoryStorage(t), true), true},
		{"sessionkit memory read", sessionkitHandler(t, memoryStorage(t), false), false},
		{"sessionkit cookie write", sessionkitHandler(t, cookieStorage(t, nil), true), true},
		{"scs write", scsHandler(true), true},
		{"scs read", scsHandler(false), false},
		{"gorilla write", gorillaHandler(sessions.NewCookieStore([]byte(secret32)), true), true},
		{"gorilla read", gorillaHandler(sessions.NewCookieStore([]byte(secret32)), false), false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cookie := firstCookie(t, c.h)
			for i := 0; i < 3; i++ {
				serve(t, c.h, cookie, c.write)
			}
		})
	}
}
