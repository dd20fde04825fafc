package sessionmiddleware

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// firefoxOnLinux is the User-Agent of Firefox on Linux.
const firefoxOnLinux = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"

// signIn is a handler that signs "alice" in, as a login form does.
func signIn(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	s.RegenerateID(true)
	s.Set("user", "alice")
	s.MarkAuthenticated(time.Now())
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// clientRequest is a POST /login from a client at remoteAddr with the
// User-Agent userAgent.
func clientRequest(remoteAddr, userAgent string) *http.Request {
	req := httptest.NewRequest("POST", "/login", nil)
	req.RemoteAddr = remoteAddr
	req.Header.Set("User-Agent", userAgent)
	return req
}

// indexed returns a memory storage that keeps an index of each user's
// sessions (UserKey "user"), as the session options o (UserKey set) say,
// and its UserIndex.
func indexed(t *testing.T, o session.Options) (session.Storage, session.UserIndex) {
	t.Helper()
	o.UserKey = "user"
	o.Logger = quiet
	st := newMemory(t, o)
	ix, ok := st.(session.UserIndex)
	if !ok {
		t.Fatal("memory storage with a UserKey is not a session.UserIndex")
	}
	return st, ix
}

// wantDevice checks that alice has one session, listed with device and
// network.
func wantDevice(t *testing.T, ix session.UserIndex, device, network string) {
	t.Helper()
	infos, err := ix.Sessions(context.Background(), "alice")
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 {
		t.Fatalf("alice has %d sessions, want 1: %+v", len(infos), infos)
	}
	if infos[0].Device != device || infos[0].Network != network {
		t.Errorf("Device %q, Network %q; want %q, %q", infos[0].Device, infos[0].Network, device, network)
	}
}

// A sign-in through the middleware stores the client's device and network,
// which the user's list of sessions shows.
func TestClientFactsInUserIndex(t *testing.T) {
	st, ix := indexed(t, session.Options{})
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{})(http.HandlerFunc(signIn))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, clientRequest("203.0.113.7:1234", firefoxOnLinux))
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Set-Cookie") == "" {
		t.Fatalf("sign-in: %d, Set-Cookie %q", rec.Code, rec.Header().Get("Set-Cookie"))
	}
	wantDevice(t, ix, "Firefox on Linux", "203.0.113.0/24")
}

// The session is told its client before the handler sees it: a session
// the handler saves itself (session.Storage.Save, as a handler that must
// know the outcome of a sign-in may) carries the facts too.
func TestClientFactsBeforeHandler(t *testing.T) {
	st, ix := indexed(t, session.Options{})
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Set("user", "alice")
		if _, _, err := st.Save(r.Context(), s); err != nil {
			t.Error(err)
		}
	}))
	h.ServeHTTP(httptest.NewRecorder(), clientRequest("[2001:db8:1:2::7]:443", firefoxOnLinux))
	wantDevice(t, ix, "Firefox on Linux", "2001:db8:1::/48")
}

// Behind a proxy, Options.ClientAddr names the client; r.RemoteAddr, the
// proxy's address, is not used.
func TestClientAddrOption(t *testing.T) {
	st, ix := indexed(t, session.Options{})
	calls := 0
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{
		ClientAddr: func(r *http.Request) netip.Addr {
			calls++
			// The last address of X-Forwarded-For: the one the
			// test's proxy appended.
			xff := r.Header.Get("X-Forwarded-For")
			a, _ := netip.ParseAddr(strings.TrimSpace(xff[strings.LastIndexByte(xff, ',')+1:]))
			return a
		},
	})(http.HandlerFunc(signIn))
	req := clientRequest("10.0.0.2:40000", firefoxOnLinux)
	req.Header.Set("X-Forwarded-For", "192.0.2.200, 198.51.100.23")
	h.ServeHTTP(httptest.NewRecorder(), req)
	if calls != 1 {
		t.Errorf("ClientAddr called %d times, want once", calls)
	}
	wantDevice(t, ix, "Firefox on Linux", "198.51.100.0/24")
}

// A request whose handler never asks for its session does not ask
// ClientAddr either: the facts go with loading the session.
func TestClientAddrOnlyWhenLoaded(t *testing.T) {
	calls := 0
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), newMemory(t, session.Options{}), Options{
		ClientAddr: func(*http.Request) netip.Addr { calls++; return netip.Addr{} },
	})(http.HandlerFunc(bareHandler))
	h.ServeHTTP(httptest.NewRecorder(), clientRequest("203.0.113.7:1234", firefoxOnLinux))
	if calls != 0 {
		t.Errorf("ClientAddr called %d times for a request that never loads its session", calls)
	}
}

// Exclusive reads the session again under its lock: that session is told
// its client too.
func TestClientFactsUnderExclusive(t *testing.T) {
	st, ix := indexed(t, session.Options{})
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{})
	ck, _ := newSession(t, mw, 1)
	h := mw(newExclusive(t, ExclusiveOptions{})(http.HandlerFunc(signIn)))
	req := clientRequest("203.0.113.7:1234", firefoxOnLinux)
	req.Header.Set("Cookie", ck)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Fatalf("sign-in under Exclusive: %d %q", rec.Code, rec.Body.String())
	}
	wantDevice(t, ix, "Firefox on Linux", "203.0.113.0/24")
}

// NewToken tells its sessions their client as New does, with its own
// ClientAddr.
func TestClientFactsToken(t *testing.T) {
	st, ix := indexed(t, session.Options{})
	mw, err := NewToken(newCookie(t, "api", cookie.Options{}), st, TokenOptions{
		Logger:     quiet,
		ClientAddr: func(*http.Request) netip.Addr { return netip.MustParseAddr("192.0.2.77") },
	})
	if err != nil {
		t.Fatal(err)
	}
	mw(http.HandlerFunc(signIn)).ServeHTTP(httptest.NewRecorder(), clientRequest("10.0.0.2:40000", "curl/8.5.0"))
	wantDevice(t, ix, "curl", "192.0.2.0/24")
}

func TestRemoteAddr(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"203.0.113.7:1234", "203.0.113.7"},
		{"[2001:db8::1]:443", "2001:db8::1"},
		{"[fe80::1%eth0]:80", "fe80::1%eth0"},
		{"[::ffff:203.0.113.7]:80", "::ffff:203.0.113.7"},
		{"203.0.113.7", "203.0.113.7"}, // a bare address, as chi's RealIP leaves it
		{"2001:db8::1", "2001:db8::1"},
		{"::1", "::1"},
		{"", ""},
		{"@", ""}, // a Unix socket
		{"pipe", ""},
		{"[::1]", ""},
		{"203.0.113.7:99999", ""},
		{"example.com:80", ""},
		{"1.2.3", ""},
	} {
		got := remoteAddr(tc.in)
		want := netip.Addr{}
		if tc.want != "" {
			want = netip.MustParseAddr(tc.want)
		}
		if got != want {
			t.Errorf("remoteAddr(%q) = %v, want %v", tc.in, got, want)
		}
	}
}

// Telling a session its client costs no allocation: parsing the usual
// forms of RemoteAddr allocates nothing, and a request that reads its
// session allocates no more with a User-Agent and an address than with
// neither (the storage summarises them only when it writes anyway).
func TestClientFactsAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector makes sync.Pool drop items")
	}
	for _, in := range []string{"203.0.113.7:1234", "[2001:db8::1]:443", "203.0.113.7", "2001:db8::1", "", "@"} {
		if n := testing.AllocsPerRun(100, func() { remoteAddr(in) }); n != 0 {
			t.Errorf("remoteAddr(%q): %v allocations", in, n)
		}
	}
	allocs := func(o Options, remoteAddr, userAgent string) float64 {
		mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), newMemory(t, session.Options{}), o)
		ck, _ := newSession(t, mw, 1)
		h := mw(http.HandlerFunc(readHandler))
		req := cookieRequest(ck)
		req.RemoteAddr = remoteAddr
		if userAgent != "" {
			req.Header.Set("User-Agent", userAgent)
		}
		return testing.AllocsPerRun(1000, func() { h.ServeHTTP(httptest.NewRecorder(), req) })
	}
	without := allocs(Options{}, "", "")
	if with := allocs(Options{}, "203.0.113.7:1234", firefoxOnLinux); with > without {
		t.Errorf("%v allocations per reading request with client facts, %v without", with, without)
	}
	proxy := Options{ClientAddr: func(*http.Request) netip.Addr { return netip.AddrFrom4([4]byte{198, 51, 100, 23}) }}
	if with := allocs(proxy, "10.0.0.2:40000", firefoxOnLinux); with > without {
		t.Errorf("%v allocations per reading request with Options.ClientAddr, %v without client facts", with, without)
	}
}

// userLimitStorage is a memory storage that lets alice have one session
// and refuses her second sign-in.
func userLimitStorage(t *testing.T) (session.Storage, session.UserIndex) {
	return indexed(t, session.Options{MaxUserSessions: 1, UserLimit: session.LimitRefuse})
}

// signInWithCookie is signIn that also sets a cookie of its own, which a
// refused sign-in must not send.
func signInWithCookie(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: "remember", Value: "alice"})
	signIn(w, r)
}

// A sign-in refused because the user has as many sessions as
// MaxUserSessions allows (LimitRefuse) is answered 409 Conflict, without
// any cookie, and stores nothing; it is logged as a warning, not an error.
func TestUserLimitConflict(t *testing.T) {
	st, ix := userLimitStorage(t)
	logger, logs := newLogger()
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{Logger: logger})(http.HandlerFunc(signInWithCookie))
	first := httptest.NewRecorder()
	h.ServeHTTP(first, clientRequest("203.0.113.7:1234", firefoxOnLinux))
	if first.Code != http.StatusSeeOther || len(first.Header().Values("Set-Cookie")) != 2 {
		t.Fatalf("first sign-in: %d, Set-Cookie %q", first.Code, first.Header().Values("Set-Cookie"))
	}
	second := httptest.NewRecorder()
	h.ServeHTTP(second, clientRequest("198.51.100.9:1234", "curl/8.5.0"))
	if second.Code != http.StatusConflict || second.Body.String() != "too many sessions for this user\n" {
		t.Errorf("second sign-in: %d %q, want 409 \"too many sessions for this user\"", second.Code, second.Body.String())
	}
	for _, k := range []string{"Set-Cookie", "Location"} {
		if v := second.Header().Values(k); len(v) > 0 {
			t.Errorf("second sign-in: %s %q", k, v)
		}
	}
	if cc := second.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("second sign-in: Cache-Control %q, want no-store", cc)
	}
	wantDevice(t, ix, "Firefox on Linux", "203.0.113.0/24")
	if l := logs.String(); !strings.Contains(l, "level=WARN") || !strings.Contains(l, "sign-in was refused") || strings.Contains(l, "level=ERROR") {
		t.Errorf("log: %s", l)
	}
}

// An ErrorHandler gets the refused sign-in's error, for which
// errors.Is(err, session.ErrUserLimit) holds, and writes the response.
func TestUserLimitErrorHandler(t *testing.T) {
	st, _ := userLimitStorage(t)
	var got error
	h := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), st, Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			got = err
			http.Error(w, "sign out on another device first", http.StatusForbidden)
		},
	})(http.HandlerFunc(signIn))
	h.ServeHTTP(httptest.NewRecorder(), clientRequest("203.0.113.7:1234", firefoxOnLinux))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, clientRequest("203.0.113.7:1234", firefoxOnLinux))
	if !errors.Is(got, session.ErrUserLimit) {
		t.Errorf("ErrorHandler got %v, want an error wrapping session.ErrUserLimit", got)
	}
	if rec.Code != http.StatusForbidden || rec.Header().Get("Set-Cookie") != "" {
		t.Errorf("%d, Set-Cookie %q: want ErrorHandler's 403 and no cookie", rec.Code, rec.Header().Get("Set-Cookie"))
	}
}

// NewToken answers a refused sign-in with 409 too, and sends no token.
func TestUserLimitConflictToken(t *testing.T) {
	st, _ := userLimitStorage(t)
	mw, err := NewToken(newCookie(t, "api", cookie.Options{}), st, TokenOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	h := mw(http.HandlerFunc(signIn))
	h.ServeHTTP(httptest.NewRecorder(), clientRequest("203.0.113.7:1234", "curl/8.5.0"))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, clientRequest("203.0.113.7:1234", "curl/8.5.0"))
	if _, sent := rec.Header()[DefaultResponseHeader]; rec.Code != http.StatusConflict || sent {
		t.Errorf("%d, token sent %v: want 409 and no token", rec.Code, sent)
	}
}
