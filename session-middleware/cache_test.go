package sessionmiddleware

import (
	"errors"
	"net/http"
	"reflect"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

var errTest = errors.New("store down")

// A handler may assign header slices it shares between requests (a package
// variable); the middleware must copy before adding to them, never write
// into their backing arrays. Run with -race: writing in place is a data race
// between the parallel requests, and the shared values change.
func TestSharedHeaderSlicesAreNotWritten(t *testing.T) {
	// Spare capacity, so that an append in place would not reallocate.
	sharedCC := make([]string, 1, 4)
	sharedCC[0] = "max-age=60"
	sharedVary := make([]string, 1, 4)
	sharedVary[0] = "Accept-Encoding"
	sharedCookies := make([]string, 1, 4)
	sharedCookies[0] = "theme=dark"

	c := newCookie(t, "__sess", cookie.Options{})
	h := newMiddleware(t, c, newMemory(t, session.Options{}), Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Cache-Control"] = sharedCC
		w.Header()["Vary"] = sharedVary
		w.Header()["Set-Cookie"] = sharedCookies
		session.FromContext(r.Context()).Set("k", "v")
		w.Write([]byte("ok"))
	}))
	const parallel = 8
	results := make([]http.Header, parallel)
	var wg sync.WaitGroup
	for i := range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = do(h, "GET", "/", "").Result().Header
		}()
	}
	wg.Wait()
	if got, want := sharedCC[:cap(sharedCC)], []string{"max-age=60", "", "", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("the handler's Cache-Control slice became %q, want %q", got, want)
	}
	if got, want := sharedVary[:cap(sharedVary)], []string{"Accept-Encoding", "", "", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("the handler's Vary slice became %q, want %q", got, want)
	}
	if got, want := sharedCookies[:cap(sharedCookies)], []string{"theme=dark", "", "", ""}; !reflect.DeepEqual(got, want) {
		t.Errorf("the handler's Set-Cookie slice became %q, want %q", got, want)
	}
	for i, hdr := range results {
		if got, want := hdr.Values("Cache-Control"), []string{`max-age=60, no-cache="Set-Cookie"`}; !reflect.DeepEqual(got, want) {
			t.Errorf("response %d: Cache-Control = %q, want %q", i, got, want)
		}
		if got, want := hdr.Values("Vary"), []string{"Accept-Encoding", "Cookie"}; !reflect.DeepEqual(got, want) {
			t.Errorf("response %d: Vary = %q, want %q", i, got, want)
		}
		if got := hdr.Values("Set-Cookie"); len(got) != 2 || got[0] != "theme=dark" {
			t.Errorf("response %d: Set-Cookie = %q, want theme=dark and the session cookie", i, got)
		}
	}
}

// A response whose handler read the session may depend on it even when the
// visitor sent no cookie (a "you are not signed in" page differs from a
// signed-in one at the same URL), so it gets Vary: Cookie (Flask's rule).
// Handlers that do not read the session's content leave the response alone.
func TestVaryWhenTheHandlerReadsTheSession(t *testing.T) {
	tests := []struct {
		name     string
		read     func(s *session.Session)
		wantVary []string
	}{
		{"Get", func(s *session.Session) { s.Get("user") }, []string{"Cookie"}},
		{"Has", func(s *session.Session) { s.Has("user") }, []string{"Cookie"}},
		{"Value", func(s *session.Session) { session.Value[string](s, "user") }, []string{"Cookie"}},
		{"Len", func(s *session.Session) { s.Len() }, []string{"Cookie"}},
		{"Data", func(s *session.Session) { s.Data() }, []string{"Cookie"}},
		{"ID only", func(s *session.Session) { s.ID() }, nil},
		{"State only", func(s *session.Session) { s.State() }, nil},
		{"untouched", func(s *session.Session) {}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCookie(t, "__sess", cookie.Options{})
			h := newMiddleware(t, c, newMemory(t, session.Options{}), Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Cache-Control", "public, max-age=60")
				tt.read(session.FromContext(r.Context()))
				w.Write([]byte("page"))
			}))
			got := do(h, "GET", "/", "").Result().Header
			want := http.Header{
				"Cache-Control": {"public, max-age=60"}, // no cookie set: kept
				"Content-Type":  {"text/plain; charset=utf-8"},
			}
			if tt.wantVary != nil {
				want["Vary"] = tt.wantVary
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("headers %q, want %q", got, want)
			}
		})
	}
}

// A failed save with the default error handler: a plain 500 that no cache
// keeps, without the handler's cache headers or cookies.
func TestFailedSaveDefaultErrorResponse(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	st := &fakeStorage{Storage: newMemory(t, session.Options{}), saveErr: errTest}
	h := newMiddleware(t, c, st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Set-Cookie", "remember_me=alice; Max-Age=2592000; HttpOnly")
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Expires", "Thu, 01 Jan 2037 00:00:00 GMT")
		w.Header().Set("Vary", "Accept-Language")
		session.FromContext(r.Context()).Set("user", "alice")
		w.Write([]byte("welcome"))
	}))
	rec := do(h, "GET", "/", "")
	want := http.Header{
		"Cache-Control":          {"no-store"},
		"Content-Type":           {"text/plain; charset=utf-8"},
		"X-Content-Type-Options": {"nosniff"},
		"Vary":                   {"Accept-Language"},
	}
	if got := rec.Result().Header; rec.Code != 500 || !reflect.DeepEqual(got, want) {
		t.Errorf("response %d, headers %q; want 500, %q", rec.Code, got, want)
	}
	if rec.Body.String() != "Internal Server Error\n" {
		t.Errorf("body %q", rec.Body.String())
	}
}

// A failed read is an error response too, and no cache may keep it.
func TestFailedReadIsNotCached(t *testing.T) {
	c := newCookie(t, "__sess", cookie.Options{})
	st := &fakeStorage{Storage: newMemory(t, session.Options{}), readErr: errTest}
	inner := newMiddleware(t, c, st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "max-age=60") // the handler's own, dropped too
		session.FromContext(r.Context())
		t.Error("the handler got past session.FromContext")
	}))
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Middleware outside set a long cache lifetime.
		w.Header().Set("Cache-Control", "public, max-age=600")
		w.Header().Set("Expires", "Thu, 01 Jan 2037 00:00:00 GMT")
		inner.ServeHTTP(w, r)
	})
	rec := do(h, "GET", "/", "")
	want := http.Header{
		"Cache-Control":          {"no-store"},
		"Content-Type":           {"text/plain; charset=utf-8"},
		"X-Content-Type-Options": {"nosniff"},
	}
	if got := rec.Result().Header; rec.Code != 500 || !reflect.DeepEqual(got, want) {
		t.Errorf("response %d, headers %q; want 500, %q", rec.Code, got, want)
	}
}
