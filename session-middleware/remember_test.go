package sessionmiddleware

import (
	"net/http"
	"reflect"
	"strconv"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/filestorage"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// rememberApp has a login that may remember, a page that only reads, and
// routes that change the persistence choice.
func rememberApp() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.RegenerateID(true)
		s.Set("user", "alice")
		if r.URL.Query().Get("remember") == "on" {
			s.Persist(true)
		}
	})
	mux.HandleFunc("POST /forget", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Persist(false)
	})
	mux.HandleFunc("POST /remember", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Persist(true)
	})
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		session.FromContext(r.Context()).Get("user")
	})
	return mux
}

// rememberCase is one storage for the remember-me tests, on a fake clock.
type rememberCase struct {
	name       string
	serverSide bool
	new        func(t *testing.T, o session.Options) session.Storage
}

func rememberCases() []rememberCase {
	return []rememberCase{
		{"memory", true, func(t *testing.T, o session.Options) session.Storage { return newMemory(t, o) }},
		{"file", true, func(t *testing.T, o session.Options) session.Storage {
			st, err := filestorage.New(t.TempDir(), filestorage.Options{Session: o})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
		{"cookie", false, func(t *testing.T, o session.Options) session.Storage {
			st, err := cookiestorage.New(cookiestorage.Options{Session: session.ClientOptions{
				IdleTimeout: o.IdleTimeout, Lifetime: o.Lifetime, Logger: o.Logger, Now: o.Now,
			}})
			if err != nil {
				t.Fatal(err)
			}
			return st
		}},
	}
}

// setCookies runs a request with the cookie ck ("" for none) and returns
// the Set-Cookie lines and the cookie the browser holds afterwards.
func setCookies(h http.Handler, method, target, ck string) ([]string, string) {
	rec := do(h, method, target, ck)
	lines := rec.Result().Header.Values("Set-Cookie")
	if len(lines) > 0 {
		ck = pair(lines[0])
	}
	return lines, ck
}

// With MaxAge 0, a session cookie lasts for the browser session unless the
// session is persistent; a persistent session's cookie has Max-Age = the
// time the server leaves it (30 min idle, 12 h lifetime), sent again at each
// sliding refresh (every 3 min at most), and never past the lifetime.
func TestRememberMeMaxAge(t *testing.T) {
	for _, sc := range rememberCases() {
		t.Run(sc.name, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
			st := sc.new(t, session.Options{Now: clock.Now, IdleTimeout: 30 * time.Minute, Lifetime: 12 * time.Hour, Logger: quiet})
			c := newCookie(t, "sid", cookie.Options{})
			h := newMiddleware(t, c, st, Options{})(rememberApp())
			want := func(what string, got []string, ck string, maxAge int) {
				t.Helper()
				line := "sid=" + ck[len("sid="):] + "; HttpOnly"
				if maxAge > 0 {
					line += "; Max-Age=" + itoa(maxAge)
				}
				line += "; Path=/; SameSite=Lax"
				if !reflect.DeepEqual(got, []string{line}) {
					t.Errorf("%s: Set-Cookie %q\nwant %q", what, got, line)
				}
			}
			noCookie := func(what string, got []string) {
				t.Helper()
				if len(got) != 0 {
					t.Errorf("%s: Set-Cookie %q, want none", what, got)
				}
			}

			// A login without "remember me": a browser-session cookie,
			// never re-sent by a server-side storage's refresh.
			got, plain := setCookies(h, "POST", "/login", "")
			want("login", got, plain, 0)
			clock.Advance(10 * time.Minute)
			got, plain = setCookies(h, "GET", "/", plain)
			if sc.serverSide {
				noCookie("refresh of a session that is not persistent", got)
			} else {
				want("cookie storage refresh of a session that is not persistent", got, plain, 0)
			}

			// "Remember me": Max-Age is the idle timeout.
			clock.Set(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
			got, ck := setCookies(h, "POST", "/login?remember=on", "")
			want("login with remember me", got, ck, 1800)
			clock.Advance(2 * time.Minute) // under a tenth: no refresh
			got, ck = setCookies(h, "GET", "/", ck)
			noCookie("2 min later", got)
			clock.Advance(time.Minute) // 3 min since the save: refreshed
			got, ck = setCookies(h, "GET", "/", ck)
			want("refresh 3 min after the login", got, ck, 1800)
			clock.Advance(2*time.Minute + 59*time.Second)
			got, ck = setCookies(h, "GET", "/", ck)
			noCookie("2:59 after the refresh", got)
			// Kept alive to 11 h 45 min after the login: then the
			// lifetime, 15 minutes away, is the time left.
			for clock.Now().Add(27 * time.Minute).Before(time.Date(2026, 3, 4, 16, 51, 7, 0, time.UTC)) {
				clock.Advance(27 * time.Minute)
				if got, ck = setCookies(h, "GET", "/", ck); len(got) != 1 {
					t.Fatalf("no refresh at %v", clock.Now())
				}
			}
			clock.Set(time.Date(2026, 3, 4, 16, 51, 7, 0, time.UTC))
			got, ck = setCookies(h, "GET", "/", ck)
			want("refresh 15 min before the lifetime ends", got, ck, 900)
			clock.Advance(10*time.Minute + 500*time.Millisecond)
			got, ck = setCookies(h, "GET", "/", ck)
			want("refresh 4 min 59.5 s before the lifetime ends (rounded down)", got, ck, 299)

			// Persist(false): no Max-Age (and no Expires) from now on.
			got, ck = setCookies(h, "POST", "/forget", ck)
			want("Persist(false)", got, ck, 0)
			clock.Advance(4 * time.Minute)
			got, _ = setCookies(h, "GET", "/", ck)
			if sc.serverSide {
				noCookie("refresh after Persist(false)", got)
			}
		})
	}
}

// With a MaxAge, sessions start persistent, capped by MaxAge and by the
// time the server leaves them; Persist(false) opts one out. With no server
// limit at all, MaxAge is what is left.
func TestRememberMeWithCookieMaxAge(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	for _, tt := range []struct {
		name   string
		o      session.Options
		maxAge int
		want   int
	}{
		{"MaxAge below the lifetime", session.Options{Lifetime: 12 * time.Hour}, 3600, 3600},
		{"MaxAge above the idle timeout", session.Options{IdleTimeout: 20 * time.Minute}, 3600, 1200},
		{"no server limit: MaxAge", session.Options{Lifetime: -1}, 7200, 7200},
		{"no server limit, no MaxAge: 400 days", session.Options{Lifetime: -1}, 0, 400 * 24 * 3600},
		{"default lifetime (14 days), no MaxAge", session.Options{}, 0, 14 * 24 * 3600},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tt.o.Now, tt.o.Logger = clock.Now, quiet
			h := newMiddleware(t, newCookie(t, "sid", cookie.Options{MaxAge: tt.maxAge}), newMemory(t, tt.o), Options{})(rememberApp())
			target := "/login"
			if tt.maxAge == 0 {
				target += "?remember=on"
			}
			got, ck := setCookies(h, "POST", target, "")
			if want := []string{ck + "; HttpOnly; Max-Age=" + itoa(tt.want) + "; Path=/; SameSite=Lax"}; !reflect.DeepEqual(got, want) {
				t.Errorf("login: Set-Cookie %q\nwant %q", got, want)
			}
			if tt.maxAge == 0 {
				return
			}
			got, ck = setCookies(h, "POST", "/forget", ck)
			if want := []string{ck + "; HttpOnly; Path=/; SameSite=Lax"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Persist(false): Set-Cookie %q\nwant %q (no Max-Age, no Expires)", got, want)
			}
			got, ck = setCookies(h, "POST", "/remember", ck)
			if want := []string{ck + "; HttpOnly; Max-Age=" + itoa(tt.want) + "; Path=/; SameSite=Lax"}; !reflect.DeepEqual(got, want) {
				t.Errorf("Persist(true) again: Set-Cookie %q\nwant %q", got, want)
			}
		})
	}
}

// A cookie signed with an older secret is re-signed on a read-only request;
// a persistent session's re-signed cookie carries the time left as loaded.
func TestRememberMeResignKeepsMaxAge(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC))
	st := newMemory(t, session.Options{Now: clock.Now, Lifetime: time.Hour, Logger: quiet})
	old := newMiddleware(t, newCookie(t, "sid", cookie.Options{Secrets: []string{testSecret}}), st, Options{})(rememberApp())
	_, ck := setCookies(old, "POST", "/login?remember=on", "")
	clock.Advance(10 * time.Minute)
	rotated := newCookie(t, "sid", cookie.Options{Secrets: []string{testSecret + "-new", testSecret}})
	got, ck2 := setCookies(newMiddleware(t, rotated, st, Options{})(rememberApp()), "GET", "/", ck)
	if want := []string{ck2 + "; HttpOnly; Max-Age=3000; Path=/; SameSite=Lax"}; ck2 == ck || !reflect.DeepEqual(got, want) {
		t.Errorf("re-signed: Set-Cookie %q\nwant %q, signed with the new secret", got, want)
	}
}

// New refuses a session cookie with a fixed Expires or a negative MaxAge.
func TestNewRefusesCookieLifetimes(t *testing.T) {
	st := newMemory(t, session.Options{})
	for _, tt := range []struct {
		o    cookie.Options
		want string
	}{
		{cookie.Options{Expires: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
			`sessionmiddleware: session cookie "sid": cookie.Options.Expires is a fixed date, which no session's lifetime follows; leave it zero and set MaxAge for persistent sessions, or call Session.Persist`},
		{cookie.Options{MaxAge: -1},
			`sessionmiddleware: session cookie "sid": cookie.Options.MaxAge -1 would delete the cookie at once; use 0 (a browser-session cookie unless the session is persistent) or a number of seconds`},
	} {
		if _, err := New(newCookie(t, "sid", tt.o), st, Options{}); err == nil || err.Error() != tt.want {
			t.Errorf("New(%+v) = %v\nwant %s", tt.o, err, tt.want)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
