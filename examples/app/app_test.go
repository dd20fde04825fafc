package main

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
)

func newTestServer(t *testing.T, storage string) (*httptest.Server, *http.Client) {
	t.Helper()
	c, err := cookie.New("session", cookie.Options{Secrets: []string{"test-secret-test-secret-test-secret!"}})
	if err != nil {
		t.Fatal(err)
	}
	st, err := newStorage(config{storage: storage, dir: t.TempDir(), idle: time.Hour, lifetime: 24 * time.Hour}, "session")
	if err != nil {
		t.Fatal(err)
	}
	app, err := newApp(c, st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar}
}

func get(t *testing.T, cl *http.Client, u string) (int, string) {
	t.Helper()
	resp, err := cl.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func post(t *testing.T, cl *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	resp, err := cl.PostForm(u, form)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func sessionCookie(t *testing.T, cl *http.Client, srv *httptest.Server) string {
	u, _ := url.Parse(srv.URL)
	for _, c := range cl.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, body)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("page has %q:\n%s", w, body)
		}
	}
}

func TestLoginFlow(t *testing.T) {
	for _, storage := range []string{"memory", "file", "cookie"} {
		t.Run(storage, func(t *testing.T) {
			srv, cl := newTestServer(t, storage)

			_, body := get(t, cl, srv.URL+"/")
			mustContain(t, body, "visited this page 1 time in")
			_, body = get(t, cl, srv.URL+"/")
			mustContain(t, body, "visited this page 2 times")
			anonymous := sessionCookie(t, cl, srv)

			// The account page sends visitors to the login form, with a flash.
			_, body = get(t, cl, srv.URL+"/account")
			mustContain(t, body, "<h1>Sign in</h1>", "Please sign in to see your account.")

			// A failed login: the error shows once.
			_, body = post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"wrong"}})
			mustContain(t, body, "Wrong username or password.")
			_, body = get(t, cl, srv.URL+"/login")
			mustNotContain(t, body, "Wrong username or password.")

			// A good login: a new id, the welcome flash, the account page.
			code, body := post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}})
			if code != http.StatusOK {
				t.Fatalf("login: status %d", code)
			}
			mustContain(t, body, "Welcome, demo!", "Signed in as <strong>demo</strong>")
			signedIn := sessionCookie(t, cl, srv)
			if signedIn == anonymous || signedIn == "" {
				t.Fatal("the session cookie did not change on login")
			}
			_, body = get(t, cl, srv.URL+"/")
			mustContain(t, body, "visited this page 3 times")
			mustNotContain(t, body, "Welcome, demo!")

			if storage != "cookie" {
				// The id from before the login is dead: replaying it gives
				// a new, anonymous session.
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/account", nil)
				req.AddCookie(&http.Cookie{Name: "session", Value: anonymous})
				resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("old id after login: status %d, want a redirect to the login form", resp.StatusCode)
				}
			}

			// Logout: a new anonymous session carrying the notice.
			_, body = post(t, cl, srv.URL+"/logout", nil)
			mustContain(t, body, "You have been signed out.", "visited this page 1 time in")
			mustNotContain(t, body, "Account</a>")
			_, body = get(t, cl, srv.URL+"/account")
			mustContain(t, body, "Please sign in")
		})
	}
}

func TestStorageFlag(t *testing.T) {
	for _, s := range []string{"redis", "memcache", "nope"} {
		if _, err := newStorage(config{storage: s}, "session"); err == nil {
			t.Errorf("-storage %s: no error", s)
		}
	}
}
