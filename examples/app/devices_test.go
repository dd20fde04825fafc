package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

var handleField = regexp.MustCompile(`<tr class="device( this)?">(?s:.*?)name="handle" value="([A-Za-z0-9_-]+)"`)

// deviceHandles returns the handles on an account page: this device's, and
// the others in page order.
func deviceHandles(t *testing.T, body string) (this string, others []string) {
	t.Helper()
	for _, m := range handleField.FindAllStringSubmatch(body, -1) {
		if m[1] != "" {
			this = m[2]
		} else {
			others = append(others, m[2])
		}
	}
	return this, others
}

func signIn(t *testing.T, srv string, cl *http.Client) string {
	t.Helper()
	code, body := post(t, cl, srv+"/login", url.Values{"username": {"demo"}, "password": {"password"}})
	if code != http.StatusOK || !strings.Contains(body, `id="user">demo<`) {
		t.Fatalf("login: status %d", code)
	}
	return body
}

func newBrowser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

// TestActiveSessions: the account page lists every browser signed in as the
// user; one can sign out another, or all the others, and those browsers are
// anonymous on their next request. Cookie storage cannot list them, but can
// sign out everywhere else.
func TestActiveSessions(t *testing.T) {
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, a, rec := newTestServer(t, row.storage, row.seal)
			b, c := newBrowser(t), newBrowser(t)
			signIn(t, srv.URL, a)
			signIn(t, srv.URL, b)
			_, body := get(t, a, srv.URL+"/account")
			mustContain(t, body, "<h2>Active sessions</h2>")
			if row.storage == "cookie" {
				cookieSignOutOthers(t, srv.URL, body, a, b)
				return
			}
			this, others := deviceHandles(t, body)
			if this == "" || len(others) != 1 {
				t.Fatalf("account page lists this=%q others=%q, want this device and one other:\n%s", this, others, body)
			}
			mustContain(t, body, "This device", "Sign out everywhere else (1)")
			for _, id := range rec.seen() {
				mustNotContain(t, body, id)
			}
			// B sees itself as this device, and A as the other.
			_, bodyB := get(t, b, srv.URL+"/account")
			thisB, othersB := deviceHandles(t, bodyB)
			if thisB != others[0] || len(othersB) != 1 || othersB[0] != this {
				t.Fatalf("B's page: this=%q others=%q; A's: this=%q others=%q", thisB, othersB, this, others)
			}

			// A signs B out; B's next request is anonymous.
			_, body = post(t, a, srv.URL+"/account/sessions/sign-out", url.Values{"handle": {thisB}})
			mustContain(t, body, "That device has been signed out.")
			if _, o := deviceHandles(t, body); len(o) != 0 {
				t.Fatalf("after signing B out, A still lists %q", o)
			}
			_, bodyB = get(t, b, srv.URL+"/account")
			mustContain(t, bodyB, "<h1>Sign in</h1>", "Please sign in to see your account.")

			// An unknown handle ends nothing.
			_, body = post(t, a, srv.URL+"/account/sessions/sign-out", url.Values{"handle": {"not-a-handle"}})
			mustContain(t, body, `id="user">demo<`)

			// Sign out everywhere else: B and C go, A stays.
			signIn(t, srv.URL, b)
			signIn(t, srv.URL, c)
			_, body = post(t, a, srv.URL+"/account/sessions/sign-out-others", url.Values{})
			mustContain(t, body, "Signed out 2 other sessions.", `id="user">demo<`)
			for _, cl := range []*http.Client{b, c} {
				_, other := get(t, cl, srv.URL+"/account")
				mustContain(t, other, "Please sign in to see your account.")
			}

			// Sign out this device from its own row: a normal sign-out.
			_, body = get(t, a, srv.URL+"/account")
			this, _ = deviceHandles(t, body)
			_, body = post(t, a, srv.URL+"/account/sessions/sign-out", url.Values{"handle": {this}})
			mustContain(t, body, "You have been signed out.")
			_, body = get(t, a, srv.URL+"/account")
			mustContain(t, body, "Please sign in to see your account.")

			// The forms are for signed-in users only.
			_, body = post(t, c, srv.URL+"/account/sessions/sign-out-others", url.Values{})
			mustContain(t, body, "Please sign in to see your account.")
		})
	}
}

// cookieSignOutOthers: cookie storage lists no sessions, but sign out
// everywhere else works: B's cookie is refused on its next request, A
// stays.
func cookieSignOutOthers(t *testing.T, srv, body string, a, b *http.Client) {
	t.Helper()
	mustContain(t, body, `id="devices-unavailable"`, `id="sign-out-others"`)
	mustNotContain(t, body, `class="device`)
	_, body = post(t, a, srv+"/account/sessions/sign-out-others", nil)
	mustContain(t, body, "Every other device was signed out.", `id="user">demo<`)
	_, bodyB := get(t, b, srv+"/account")
	mustContain(t, bodyB, `id="error">`+epochEnded+`. Please sign in to see your account.</p>`)
	_, body = get(t, a, srv+"/account")
	mustContain(t, body, `id="user">demo<`)
}

// A page on another origin cannot sign devices out.
func TestActiveSessionsCrossOrigin(t *testing.T) {
	srv, a, _ := newTestServer(t, "memory", false)
	signIn(t, srv.URL, a)
	for _, path := range []string{"/account/sessions/sign-out", "/account/sessions/sign-out-others"} {
		resp, _ := do(t, a, http.MethodPost, srv.URL+path, url.Values{"handle": {"x"}}, http.Header{"Sec-Fetch-Site": {"cross-site"}})
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-site POST %s: status %d, want 403", path, resp.StatusCode)
		}
	}
	_, body := get(t, a, srv.URL+"/account")
	mustContain(t, body, `id="user">demo<`)
}
