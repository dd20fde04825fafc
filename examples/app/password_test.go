package main

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// The User-Agent headers of two devices, as their browsers send them.
const (
	firefoxLinuxUA = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
	safariIOSUA    = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)

// epochEnded is the message of a session ended by its user's epoch, up to
// its time, which only server-side storages know.
const epochEnded = "You were signed out because the password was changed or someone chose to sign out everywhere"

var epochEndedAt = regexp.MustCompile(`^You were signed out because the password was changed or someone chose to sign out everywhere, at \d\d:\d\d UTC\.`)

// pageAccept is the Accept header of a browser's navigation:
// RequireRecentAuth sends such a request to the sign-in form, and answers
// any other one (an API call) 401.
var pageAccept = http.Header{"Accept": {"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"}}

// uaTransport sends every request with a browser's User-Agent.
type uaTransport string

func (ua uaTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("User-Agent", string(ua))
	return http.DefaultTransport.RoundTrip(r)
}

// newBrowserAs is a client with a cookie jar that says it is the browser
// of the User-Agent header ua.
func newBrowserAs(t *testing.T, ua string) *http.Client {
	cl := newBrowser(t)
	cl.Transport = uaTransport(ua)
	return cl
}

// noRedirects is cl, sharing its cookie jar, but returning redirects instead
// of following them.
func noRedirects(cl *http.Client) *http.Client {
	c := *cl
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// wantRedirect checks that resp is a 303 to the path to.
func wantRedirect(t *testing.T, what string, resp *http.Response, to string) {
	t.Helper()
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusSeeOther || loc != to {
		t.Fatalf("%s: %d to %q, want 303 to %q", what, resp.StatusCode, loc, to)
	}
}

// wantEpochMessage checks the sign-in page of a browser signed out by a
// password change: the message has the time when the storage knows it
// (server-side storages), then the form's own.
func wantEpochMessage(t *testing.T, body string, timed bool) {
	t.Helper()
	mustContain(t, body, "<h1>Sign in</h1>", " Please sign in to see your account.</p>")
	msg := between(body, `id="error">`, "</p>")
	if ok := epochEndedAt.MatchString(msg); timed && !ok || !timed && !strings.HasPrefix(msg, epochEnded+". ") {
		t.Fatalf("the sign-in page says %q, want that the password was changed", msg)
	}
}

// signInAs signs cl in with password, and fails the test unless it worked.
func signInAs(t *testing.T, srv string, cl *http.Client, password string) {
	t.Helper()
	code, body := post(t, cl, srv+"/login", url.Values{"username": {"demo"}, "password": {password}})
	if code != http.StatusOK || !strings.Contains(body, `id="user">demo<`) {
		t.Fatalf("sign-in with %q: status %d\n%s", password, code, body)
	}
}

// TestSignInReturns: the sign-in form carries the page to come back to in
// a hidden field, from its query, and goes there after signing in; a
// return that is not a path of this site goes home instead, and without one
// the account page. A signed-in user who opens the form with a return is
// asked to sign in again (re-authentication); without one they go to the
// account page.
func TestSignInReturns(t *testing.T) {
	srv, cl, _ := newTestServer(t, "memory", false)
	nr := noRedirects(cl)
	_, body := get(t, cl, srv.URL+"/login?return=%2Faccount%2Fpassword")
	mustContain(t, body, `<input type="hidden" name="return" id="return" value="/account/password">`)
	mustNotContain(t, body, `id="reauth"`)
	_, body = get(t, cl, srv.URL+"/login?return=%2F%2Fevil.example%2F")
	mustContain(t, body, `<input type="hidden" name="return" id="return" value="/">`)
	_, body = get(t, cl, srv.URL+"/login")
	mustNotContain(t, body, `name="return"`)

	// A failed attempt keeps the return.
	_, body = post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"wrong"}, "return": {"/account/password"}})
	mustContain(t, body, "Wrong username or password.", `value="/account/password"`, `id="username" autocomplete="username" value=""`)

	for _, tc := range []struct{ ret, want string }{
		{"/account/password", "/account/password"},
		{"/?tab=2", "/?tab=2"},
		{"https://evil.example/", "/"},
		{"//evil.example/", "/"},
		{"", "/account"},
	} {
		resp, _ := do(t, nr, http.MethodPost, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}, "return": {tc.ret}}, nil)
		wantRedirect(t, "sign-in with return "+tc.ret, resp, tc.want)
	}

	// Signed in now.
	resp, _ := do(t, nr, http.MethodGet, srv.URL+"/login", nil, nil)
	wantRedirect(t, "the form, signed in", resp, "/account")
	_, body = get(t, cl, srv.URL+"/login?return=%2Faccount%2Fpassword")
	mustContain(t, body, `id="reauth"`, "<code>/account/password</code>, needs a recent sign-in",
		`id="username" autocomplete="username" value="demo"`, `value="/account/password"`)
	// So is a failed attempt to.
	_, body = post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"wrong"}, "return": {"/account/password"}})
	mustContain(t, body, "Wrong username or password.", `id="reauth"`, `value="demo"`, `value="/account/password"`)
}

// TestChangePassword: on every storage, a user who signed in just now opens
// "Change password" directly; a mistake (two different passwords, a short
// one) changes nothing; a change ends the other browser's session, which is
// told why on its next page, gives this one a new id and keeps it signed
// in; the old password no longer signs in, the new one does.
func TestChangePassword(t *testing.T) {
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, a, _ := newTestServer(t, row.storage, row.seal)
			b := newBrowser(t)
			signIn(t, srv.URL, a)
			signIn(t, srv.URL, b)
			_, body := get(t, a, srv.URL+"/account")
			mustContain(t, body, `<a href="/account/password" id="change-password">Change password</a>`)
			code, body := get(t, a, srv.URL+"/account/password")
			if code != http.StatusOK {
				t.Fatalf("GET /account/password: status %d", code)
			}
			mustContain(t, body, "<h1>Change password</h1>", `id="password-form"`, "who last signed in at", "more than 5 minutes old")

			_, body = post(t, a, srv.URL+"/account/password", url.Values{"password": {"new password 1"}, "confirm": {"new password 2"}})
			mustContain(t, body, `id="error">The two passwords differ: type the same new password twice.</p>`)
			_, body = post(t, a, srv.URL+"/account/password", url.Values{"password": {"short"}, "confirm": {"short"}})
			mustContain(t, body, `id="error">The new password is too short: use at least 8 characters.</p>`)
			_, body = get(t, b, srv.URL+"/account")
			mustContain(t, body, `id="user">demo<`)

			before := sessionCookie(t, a, srv)
			_, body = post(t, a, srv.URL+"/account/password", url.Values{"password": {"correct horse"}, "confirm": {"correct horse"}})
			mustContain(t, body, "<h1>Account</h1>", `id="notice">Password changed; every other device was signed out.</p>`)
			if after := sessionCookie(t, a, srv); after == before || after == "" {
				t.Fatal("the session cookie did not change with the password")
			}
			if row.storage != "cookie" {
				if this, others := deviceHandles(t, body); this == "" || len(others) != 0 {
					t.Fatalf("after the change: this=%q others=%q, want this device alone", this, others)
				}
			}

			_, bodyB := get(t, b, srv.URL+"/account")
			wantEpochMessage(t, bodyB, row.storage != "cookie")

			_, bodyB = post(t, b, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}})
			mustContain(t, bodyB, "Wrong username or password.")
			signInAs(t, srv.URL, b, "correct horse")
			_, body = get(t, a, srv.URL+"/account")
			mustContain(t, body, `id="user">demo<`)
		})
	}
}

// TestRecentSignInRequired: on a clock the test moves, "Change password"
// opens directly just after signing in, and once that sign-in is older than
// five minutes a page request goes to the sign-in form with the page's path,
// an API request gets 401, and a form post changes nothing. Signing in
// again comes back to the form, which says when. The refusals are
// sessionmiddleware.RequireRecentAuth's own: the clock reaches it as the
// clock of the storage that read the session (Options.Now, or
// ClientOptions.Now for cookie storage), which the app gives its own.
func TestRecentSignInRequired(t *testing.T) {
	for _, row := range []struct {
		name, storage string
		seal          bool
	}{{"memory", "memory", false}, {"cookie-signed", "cookie", false}, {"cookie-sealed", "cookie", true}} {
		t.Run(row.name, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
			srv, cl, _ := newTestServerWith(t, testOptions{storage: row.storage, seal: row.seal, now: clock.Now})
			nr := noRedirects(cl)
			signIn(t, srv.URL, cl)
			resp, body := do(t, cl, http.MethodGet, srv.URL+"/account/password", nil, pageAccept)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("just after signing in: status %d", resp.StatusCode)
			}
			mustContain(t, body, `<span id="signed-in-at">2026-01-02 03:04:05 UTC</span>`)

			clock.Advance(6 * time.Minute)
			const back = "/login?return=%2Faccount%2Fpassword"
			resp, _ = do(t, nr, http.MethodGet, srv.URL+"/account/password", nil, pageAccept)
			wantRedirect(t, "six minutes later", resp, back)
			if resp, _ = do(t, nr, http.MethodGet, srv.URL+"/account/password", nil, nil); resp.StatusCode != http.StatusUnauthorized {
				t.Fatalf("an API request six minutes later: status %d, want 401", resp.StatusCode)
			}
			form := url.Values{"password": {"correct horse"}, "confirm": {"correct horse"}}
			resp, _ = do(t, nr, http.MethodPost, srv.URL+"/account/password", form, pageAccept)
			wantRedirect(t, "a post six minutes later", resp, back)

			_, body = get(t, cl, srv.URL+back)
			mustContain(t, body, `id="reauth"`, `value="/account/password"`, `value="demo"`)
			resp, _ = do(t, nr, http.MethodPost, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}, "return": {"/account/password"}}, nil)
			wantRedirect(t, "signing in again", resp, "/account/password")
			resp, body = do(t, cl, http.MethodGet, srv.URL+"/account/password", nil, pageAccept)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("after signing in again: status %d", resp.StatusCode)
			}
			mustContain(t, body, `id="password-form"`, `<span id="signed-in-at">2026-01-02 03:10:05 UTC</span>`)
			// The refused post changed nothing: the old password still works.
			signInAs(t, srv.URL, newBrowser(t), "password")
		})
	}
}

// TestDevicesNamed: "Active sessions" names each session by the device and
// network its browser last used, this device first and marked; cookie
// storage lists nothing.
func TestDevicesNamed(t *testing.T) {
	for _, storage := range []string{"memory", "cookie"} {
		t.Run(storage, func(t *testing.T) {
			srv, _, _ := newTestServer(t, storage, false)
			a, b := newBrowserAs(t, firefoxLinuxUA), newBrowserAs(t, safariIOSUA)
			signIn(t, srv.URL, a)
			signIn(t, srv.URL, b)
			_, body := get(t, a, srv.URL+"/account")
			if storage == "cookie" {
				mustContain(t, body, "Listing is not available with cookie storage")
				mustNotContain(t, body, `class="device`)
				return
			}
			rows := strings.Split(between(body, `<table class="devices">`, "</table>"), `<tr class="device`)
			if len(rows) != 3 {
				t.Fatalf("%d rows, want 2:\n%s", len(rows)-1, body)
			}
			mustContain(t, rows[1], ` this">`, `<span class="device-name">Firefox on Linux</span> <strong class="this-device">This device</strong>`,
				`<span class="muted network">127.0.0.0/24</span>`)
			mustContain(t, rows[2], `<span class="device-name">Safari on iOS</span>`, "127.0.0.0/24", "just now")
			mustNotContain(t, rows[2], "This device")
		})
	}
}

// TestDeviceRowUnknown: a session saved without the facts of its client
// (before its first write of them, or by another program) is an unknown
// device on an unknown network.
func TestDeviceRowUnknown(t *testing.T) {
	row := newDeviceRow(session.SessionInfo{Handle: "h"}, false)
	if row.Device != "Unknown device" || row.Network != "unknown network" || row.Created != "unknown" {
		t.Fatalf("%+v", row)
	}
}

// TestTooManyDevices: the eleventh browser signed in as one user ends the
// session of the first, which is told why; the others stay.
func TestTooManyDevices(t *testing.T) {
	srv, _, _ := newTestServer(t, "memory", false)
	clients := make([]*http.Client, maxUserSessions+1)
	for i := range clients {
		clients[i] = newBrowser(t)
		signIn(t, srv.URL, clients[i])
	}
	_, body := get(t, clients[0], srv.URL+"/account")
	mustContain(t, body, `id="error">You were signed out because this account signed in on too many devices. Please sign in to see your account.</p>`)
	for _, cl := range clients[1:] {
		_, body = get(t, cl, srv.URL+"/account")
		mustContain(t, body, `id="user">demo<`)
	}
}

// TestMaxUserSessionsFlag: the cap is 10 unless -max-user-sessions says
// otherwise.
func TestMaxUserSessionsFlag(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want int
	}{{nil, 10}, {[]string{"-max-user-sessions", "500"}, 500}} {
		cfg, err := parseFlags(tc.args, io.Discard)
		if err != nil || cfg.maxUserSessions != tc.want {
			t.Errorf("%q: %d, %v; want %d", tc.args, cfg.maxUserSessions, err, tc.want)
		}
	}
}

// TestRegenerateGrace: what the grace window the app sets
// (regenerateGrace) does in this app. The library gives the window only to
// a rotation of a signed-in session's id that changes no privilege (the
// same user before and after, no MarkAuthenticated in the request, no
// Epochs.Bump that kept the session), and every id this app replaces is
// replaced by a change of privilege. So, on every server-side storage, on
// a clock that stands still (well within the window), the id from before a
// sign-in, from before signing in again, and from before a password change
// are each dead at once: sent alone, each gets a new, anonymous session and
// the sign-in form, never the signed-in session or its cookie, and the
// browser that moved on stays signed in. The app has no request that
// rotates a signed-in session's id alone, so for it the window changes
// nothing: it matters only to an app that rotates ids periodically, which
// the last part plays on the app's storage directly: that old id leads to
// the session for the window, and not after it. Cookie storage has no
// window (no record to forward; an old cookie is ended by its epoch, see
// TestChangePassword).
func TestRegenerateGrace(t *testing.T) {
	for _, row := range storageRows {
		if row.storage == "cookie" {
			continue
		}
		t.Run(row.name, func(t *testing.T) {
			clock := sessiontest.NewFakeClock(time.Now().UTC().Truncate(time.Second))
			srv, cl, st := newTestServerWith(t, testOptions{storage: row.storage, now: clock.Now})
			u, _ := url.Parse(srv.URL)
			stillSignedIn := func(what string) {
				t.Helper()
				if _, body := get(t, cl, srv.URL+"/account"); !strings.Contains(body, `id="user">demo<`) {
					t.Fatalf("%s: the browser is no longer signed in:\n%s", what, body)
				}
			}
			// dead checks that the cookie value old, sent by another
			// browser, leads to no signed-in session.
			dead := func(what, old string) {
				t.Helper()
				replay := newBrowser(t)
				replay.Jar.SetCookies(u, []*http.Cookie{{Name: "session", Value: old}})
				resp, _ := do(t, noRedirects(replay), http.MethodGet, srv.URL+"/account", nil, nil)
				wantRedirect(t, what, resp, "/login")
				if got := sessionCookie(t, replay, srv); got == old || got == sessionCookie(t, cl, srv) {
					t.Fatalf("%s: the replay kept its cookie or got the signed-in session's", what)
				}
				stillSignedIn(what)
			}

			get(t, cl, srv.URL+"/")
			anonymous := sessionCookie(t, cl, srv)
			signIn(t, srv.URL, cl)
			dead("the id from before the sign-in", anonymous)

			signedIn := sessionCookie(t, cl, srv)
			resp, _ := do(t, noRedirects(cl), http.MethodPost, srv.URL+"/login",
				url.Values{"username": {"demo"}, "password": {"password"}, "return": {"/account/password"}}, nil)
			wantRedirect(t, "signing in again", resp, "/account/password")
			if sessionCookie(t, cl, srv) == signedIn {
				t.Fatal("signing in again kept the id")
			}
			dead("the id from before signing in again", signedIn)

			before := sessionCookie(t, cl, srv)
			_, body := post(t, cl, srv.URL+"/account/password", url.Values{"password": {"correct horse"}, "confirm": {"correct horse"}})
			mustContain(t, body, `id="notice">Password changed; every other device was signed out.</p>`)
			if sessionCookie(t, cl, srv) == before {
				t.Fatal("the password change kept the id")
			}
			dead("the id from before the password change", before)

			// A rotation alone, as an app that rotates ids periodically
			// makes it, on the app's storage with its options: the window
			// is there. The clock moves on first: the password change's
			// Bump ended the windows of rotations up to its millisecond.
			clock.Advance(time.Millisecond)
			ctx := context.Background()
			s, err := st.Read(ctx, "")
			if err != nil {
				t.Fatal(err)
			}
			s.Set(userKey, "demo")
			s.MarkAuthenticated(clock.Now())
			old, _, err := st.Save(ctx, s)
			if err != nil {
				t.Fatal(err)
			}
			if s, err = st.Read(ctx, old); err != nil || !s.Has(userKey) {
				t.Fatalf("reading the signed-in session: %v", err)
			}
			s.RegenerateID(true)
			rotated, _, err := st.Save(ctx, s)
			if err != nil || rotated == old {
				t.Fatalf("rotation: %q, %v", rotated, err)
			}
			if s, err = st.Read(ctx, old); err != nil || s.ID() != rotated || !s.Has(userKey) {
				t.Fatalf("the old id within the window: err %v, the rotated session %t", err, err == nil && s.ID() == rotated)
			}
			clock.Advance(regenerateGrace)
			if s, err = st.Read(ctx, old); err != nil || s.ID() == rotated || s.Has(userKey) {
				t.Fatalf("the old id after the window: err %v, the rotated session %t", err, err == nil && s.ID() == rotated)
			}
		})
	}
}

// TestDemoAccountsConcurrent: passwords change while others sign in (run
// with -race).
func TestDemoAccountsConcurrent(t *testing.T) {
	d := newDemoAccounts()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for range 100 {
				if i%2 == 0 {
					d.setPassword("demo", "password")
				} else {
					d.check("demo", "password")
				}
			}
		})
	}
	wg.Wait()
	if !d.check("demo", "password") || d.check("demo", "wrong") || d.check("nobody", "\x00") {
		t.Fatal("check")
	}
	if err := d.setPassword("nobody", "x"); err == nil {
		t.Fatal("setPassword of an unknown user: no error")
	}
}

// TestPasswordProblem: the rules of a new password.
func TestPasswordProblem(t *testing.T) {
	for _, tc := range []struct{ password, again, want string }{
		{"correct horse", "correct horse", ""},
		{"12345678", "12345678", ""},
		{"1234567", "1234567", "too short"},
		{"ééééééé", "ééééééé", "too short"}, // characters, not bytes
		{strings.Repeat("x", maxPasswordLen+1), strings.Repeat("x", maxPasswordLen+1), "too long"},
		{"correct horse", "correct house", "differ"},
	} {
		got := passwordProblem(tc.password, tc.again)
		if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
			t.Errorf("%q, %q: %q, want %q", tc.password, tc.again, got, tc.want)
		}
	}
}
