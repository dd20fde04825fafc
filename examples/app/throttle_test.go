package main

import (
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	"github.com/sessionkit/sessionkit/session/sessiontest"
)

// throttledApp is the app on a storage whose records can be counted, with
// the throttle on a fake clock. Its requests go straight to the handler, so
// that each can come from the client address the test names.
type throttledApp struct {
	t       *testing.T
	h       http.Handler
	clock   *sessiontest.FakeClock
	records *sessiontest.Backend
}

func newThrottledApp(t *testing.T) *throttledApp {
	t.Helper()
	c, err := cookie.New("session", cookie.Options{Secrets: []string{testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	clock := sessiontest.NewFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	// One clock for the app and its storage, as run and newTestServerWith
	// give them.
	b := sessiontest.NewBackend(clock.Now)
	st, err := session.NewBackendStorage(b, session.Options{UserKey: userKey, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	h, err := newApp(c, st, appConfig{storage: storageInfo{Name: "memory"}, idle: time.Hour, lifetime: 24 * time.Hour,
		logger: slog.New(slog.NewTextHandler(io.Discard, nil)), now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	return &throttledApp{t: t, h: h, clock: clock, records: b}
}

// signIn posts the sign-in form as a client without a cookie (a script) at
// the address client, with extra headers.
func (a *throttledApp) signIn(client, user, password string, header ...string) *httptest.ResponseRecorder {
	form := url.Values{"username": {user}, "password": {password}}
	r := httptest.NewRequest(http.MethodPost, "/login", strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for i := 0; i+1 < len(header); i += 2 {
		r.Header.Set(header[i], header[i+1])
	}
	r.RemoteAddr = client
	w := httptest.NewRecorder()
	a.h.ServeHTTP(w, r)
	return w
}

// want checks a sign-in's answer: its status, its Retry-After ("" for
// none) and a part of its page.
func (a *throttledApp) want(what string, w *httptest.ResponseRecorder, status int, retryAfter, page string) {
	a.t.Helper()
	if w.Code != status || w.Header().Get("Retry-After") != retryAfter || !strings.Contains(w.Body.String(), page) {
		a.t.Fatalf("%s: status %d, Retry-After %q, want %d, %q and a page with %q; page:\n%s",
			what, w.Code, w.Header().Get("Retry-After"), status, retryAfter, page, w.Body)
	}
}

const (
	wrongPassword = "Wrong username or password."
	mallory       = "192.0.2.1:4000"
	alice         = "198.51.100.7:5000"
)

// Issue 22.7: 300 wrong passwords used to be answered alike, each storing a
// session for its flash, and the right one signed in. Now the 5th failure
// locks the account out for 30 seconds (429, Retry-After, a message saying
// when), the password is not checked while it lasts, the right one signs in
// once it ends, and not one session was stored.
func TestSignInThrottlePerAccount(t *testing.T) {
	a := newThrottledApp(t)
	for i := 1; i <= 4; i++ {
		a.want(fmt.Sprint("failure ", i), a.signIn(mallory, "demo", "guess"+strconv.Itoa(i)), http.StatusOK, "", wrongPassword)
	}
	a.want("failure 5", a.signIn(mallory, "demo", "guess5"), http.StatusTooManyRequests, "30",
		wrongPassword+" Too many failed sign-ins: try again in 30 seconds, after 2026-01-02 03:04:35 UTC.")
	for i := 6; i <= 300; i++ {
		w := a.signIn(mallory, "demo", "guess"+strconv.Itoa(i))
		if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "30" {
			t.Fatalf("attempt %d: status %d, Retry-After %q; want 429, 30", i, w.Code, w.Header().Get("Retry-After"))
		}
		if sc := w.Header().Values("Set-Cookie"); len(sc) > 0 {
			t.Fatalf("attempt %d set a cookie: %q", i, sc)
		}
	}
	if n := a.records.Len(); n != 0 {
		t.Fatalf("%d sessions stored after 300 failed sign-ins, want 0", n)
	}

	// The right password, from anywhere, waits for the lockout to end.
	a.want("the right password, locked", a.signIn(alice, "demo", "password"), http.StatusTooManyRequests, "30",
		"Too many failed sign-ins: try again in 30 seconds")
	a.clock.Advance(29*time.Second + time.Millisecond)
	a.want("the right password, a second before", a.signIn(alice, "demo", "password"), http.StatusTooManyRequests, "1",
		"try again in 1 second, after 2026-01-02 03:04:35 UTC.")
	a.clock.Advance(time.Second)
	w := a.signIn(alice, "demo", "password")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/account" || len(w.Header().Values("Set-Cookie")) != 1 {
		t.Fatalf("the right password after the lockout: status %d, headers %v", w.Code, w.Header())
	}
}

// From the fifth failure in a row, each one locks the account out twice as
// long as the one before, up to 15 minutes; a successful sign-in clears the
// account's count.
func TestSignInThrottleBackoffAndReset(t *testing.T) {
	a := newThrottledApp(t)
	for range 4 {
		a.signIn(mallory, "demo", "guess")
	}
	for _, lock := range []int{30, 60, 120, 240, 480, 900, 900} {
		a.want(fmt.Sprint("lockout of ", lock, "s"), a.signIn(mallory, "demo", "guess"), http.StatusTooManyRequests, strconv.Itoa(lock), wrongPassword)
		a.clock.Advance(time.Duration(lock) * time.Second)
	}
	if w := a.signIn(alice, "demo", "password"); w.Code != http.StatusSeeOther {
		t.Fatalf("the right password after the lockout: status %d", w.Code)
	}
	// Counted from zero again: four failures go before a lockout.
	for i := 1; i <= 4; i++ {
		a.want(fmt.Sprint("failure ", i, " after the sign-in"), a.signIn(alice, "demo", "typo"), http.StatusOK, "", wrongPassword)
	}
	a.want("failure 5 after the sign-in", a.signIn(alice, "demo", "typo"), http.StatusTooManyRequests, "30", wrongPassword)
}

// One client trying many accounts, each fewer times than the account limit,
// is stopped by the client limit (20 failures), for every account, the
// right password included; another client is not. X-Forwarded-For is not
// trusted: the app is behind no proxy of its own.
func TestSignInThrottlePerClient(t *testing.T) {
	a := newThrottledApp(t)
	for i := 1; i <= 19; i++ {
		a.want(fmt.Sprint("account ", i), a.signIn(mallory, fmt.Sprint("user", i), "123456"), http.StatusOK, "", wrongPassword)
	}
	a.want("failure 20 of the client", a.signIn(mallory, "user20", "123456"), http.StatusTooManyRequests, "30", wrongPassword)
	a.want("another account", a.signIn(mallory, "user21", "123456"), http.StatusTooManyRequests, "30", "Too many failed sign-ins")
	a.want("the right password", a.signIn(mallory, "demo", "password"), http.StatusTooManyRequests, "30", "Too many failed sign-ins")
	a.want("a forged X-Forwarded-For", a.signIn(mallory, "demo", "password", "X-Forwarded-For", "203.0.113.9"),
		http.StatusTooManyRequests, "30", "Too many failed sign-ins")
	a.want("an IPv6 client", a.signIn("[2001:db8::1]:1", "demo", "password"), http.StatusSeeOther, "", "")
	if w := a.signIn(alice, "demo", "password"); w.Code != http.StatusSeeOther {
		t.Fatalf("another client: status %d, want the sign-in's 303", w.Code)
	}
	if n := a.records.Len(); n != 2 {
		t.Errorf("%d sessions stored, want the two sign-ins' only", n)
	}
}

func TestClientKey(t *testing.T) {
	for remote, want := range map[string]string{
		"192.0.2.1:4000":             "192.0.2.1",
		"[::ffff:192.0.2.1]:4000":    "192.0.2.1",
		"[2001:db8:1:2:3:4:5:6]:443": "2001:db8:1:2::/64",
		"[2001:db8:1:2::9]:1":        "2001:db8:1:2::/64",
		"[fe80::1%eth0]:1":           "fe80::/64",
		"not an address":             "not an address",
	} {
		r := httptest.NewRequest(http.MethodPost, "/login", nil)
		r.RemoteAddr = remote
		if got := clientKey(r); got != want {
			t.Errorf("clientKey(%q) = %q, want %q", remote, got, want)
		}
	}
}

// The throttle's table stays bounded: quiet keys are forgotten, and at the
// cap the key whose last failure is the oldest makes room.
func TestThrottleBounded(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	l := throttleLimits{LockAfter: 2, Lockout: time.Minute, MaxLockout: 4 * time.Minute, Forget: time.Hour, MaxEntries: 100}
	th := newThrottle(l, clock.Now)
	for i := range 1000 {
		th.fail(fmt.Sprint("key", i))
		clock.Advance(time.Second)
	}
	if n := th.size(); n != l.MaxEntries {
		t.Fatalf("%d keys remembered, want the cap %d", n, l.MaxEntries)
	}
	if d := th.fail("key999"); d != time.Minute { // the newest: kept
		t.Error("the newest key was forgotten")
	}
	clock.Advance(time.Hour + time.Minute)
	for range l.MaxEntries/maxDropsPerCall + 1 {
		th.wait("any")
	}
	if n := th.size(); n != 0 {
		t.Errorf("%d keys remembered an hour after their last failure, want 0", n)
	}
	if th.fail("key999") != 0 {
		t.Error("a forgotten key's count did not start over")
	}
}

// Concurrent sign-ins (run with -race): every failure is counted.
func TestThrottleConcurrent(t *testing.T) {
	clock := sessiontest.NewFakeClock(time.Time{})
	th := newThrottle(throttleLimits{LockAfter: 1000, Lockout: time.Minute, MaxLockout: time.Hour, Forget: time.Hour, MaxEntries: 10}, clock.Now)
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				th.fail("shared")
				th.wait(fmt.Sprint("key", g, i%20))
				th.fail(fmt.Sprint("key", g, i%20))
			}
		}()
	}
	wg.Wait()
	if d := th.fail("shared"); d != 0 {
		t.Fatalf("failure 801, locking after 1000: locked for %v", d)
	}
	for range 198 {
		th.fail("shared")
	}
	if d := th.fail("shared"); d != time.Minute {
		t.Errorf("failure 1000, locking after 1000: locked for %v, want a minute", d)
	}
}
