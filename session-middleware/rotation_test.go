package sessionmiddleware

import (
	"net/http"
	"reflect"
	"testing"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

const (
	oldSecret = "old-secret-0123456789abcdefghijk"
	newSecret = "new-secret-0123456789abcdefghijk"
)

// A cookie signed with an older secret is signed again with Secrets[0] on
// the next response, even one that only reads the session, so that the old
// secret can be retired later without logging anyone out.
func TestRotatedSecretIsResigned(t *testing.T) {
	for _, sc := range storageCases() {
		t.Run(sc.name, func(t *testing.T) {
			st := sc.new(t, "__sess")
			mux := http.NewServeMux()
			mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
				session.FromContext(r.Context()).Set("user", "alice")
			})
			mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
				user, _ := session.Value[string](session.FromContext(r.Context()), "user")
				w.Write([]byte("user=" + user))
			})

			// Before the rotation: the old secret alone.
			before := newMiddleware(t, newCookie(t, "__sess", cookie.Options{Secrets: []string{oldSecret}}), st, Options{})(mux)
			oldPair := pair(do(before, "POST", "/login", "").Result().Header.Get("Set-Cookie"))

			// The rotation: the new secret signs, the old one verifies.
			rotating := newMiddleware(t, newCookie(t, "__sess", cookie.Options{Secrets: []string{newSecret, oldSecret}}), st, Options{})(mux)
			rec := do(rotating, "GET", "/", oldPair)
			if rec.Body.String() != "user=alice" {
				t.Fatalf("body %q: the old cookie did not load the session", rec.Body.String())
			}
			value, ok := expectedCookie(t, "__sess", cookie.Options{Secrets: []string{oldSecret}}, false).Parse(oldPair)
			if !ok {
				t.Fatal("the old cookie does not parse")
			}
			want := http.Header{
				"Set-Cookie":    {serialize(t, expectedCookie(t, "__sess", cookie.Options{Secrets: []string{newSecret}}, false), value)},
				"Vary":          {"Cookie"},
				"Cache-Control": {`no-cache="Set-Cookie"`},
				"Content-Type":  {"text/plain; charset=utf-8"},
			}
			if got := rec.Result().Header; !reflect.DeepEqual(got, want) {
				t.Fatalf("read-only response with an old-secret cookie: headers %q, want %q", got, want)
			}
			newPair := pair(want["Set-Cookie"][0])

			// A cookie signed with Secrets[0] is not sent again.
			rec = do(rotating, "GET", "/", newPair)
			if rec.Body.String() != "user=alice" {
				t.Fatalf("body %q with the re-signed cookie", rec.Body.String())
			}
			assertVaryOnly(t, "current secret", rec)

			// After the rotation the old secret is gone, and the re-signed
			// cookie still holds the session.
			after := newMiddleware(t, newCookie(t, "__sess", cookie.Options{Secrets: []string{newSecret}}), st, Options{})(mux)
			if rec := do(after, "GET", "/", newPair); rec.Body.String() != "user=alice" {
				t.Errorf("body %q after the old secret was retired", rec.Body.String())
			}
			if rec := do(after, "GET", "/", oldPair); rec.Body.String() != "user=" {
				t.Errorf("body %q: the retired secret still verifies", rec.Body.String())
			}
		})
	}
}

// A session that changes is written with Secrets[0] anyway: one Set-Cookie,
// not a re-signed old one as well; a destroyed one is deleted.
func TestRotatedSecretWithChangedSession(t *testing.T) {
	st := newMemory(t, session.Options{})
	before := newMiddleware(t, newCookie(t, "__sess", cookie.Options{Secrets: []string{oldSecret}}), st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Set("n", 1)
	}))
	oldPair := pair(do(before, "GET", "/", "").Result().Header.Get("Set-Cookie"))
	exp := expectedCookie(t, "__sess", cookie.Options{Secrets: []string{newSecret}}, false)
	var id string
	destroy := false
	rotating := newMiddleware(t, newCookie(t, "__sess", cookie.Options{Secrets: []string{newSecret, oldSecret}}), st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if destroy {
			s.Destroy()
			return
		}
		s.Set("n", 2)
		id = s.ID()
	}))
	if got, want := do(rotating, "GET", "/", oldPair).Result().Header.Values("Set-Cookie"), []string{serialize(t, exp, id)}; !reflect.DeepEqual(got, want) {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
	destroy = true
	if got, want := do(rotating, "GET", "/", oldPair).Result().Header.Values("Set-Cookie"), []string{exp.Expire()}; !reflect.DeepEqual(got, want) {
		t.Errorf("Set-Cookie = %q, want %q", got, want)
	}
}
