package sessionmiddleware

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
)

// browserAccept is the Accept header of a browser's navigation.
const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

// reauthSetup is a site behind the session middleware on memory storage,
// with "/settings/..." behind RequireRecentAuth(5 min, o) and "/signin?at="
// marking the session authenticated that long ago.
type reauthSetup struct {
	t *testing.T
	h http.Handler
}

func newReauthSetup(t *testing.T, o ReauthOptions) *reauthSetup {
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), newMemory(t, session.Options{}), Options{})
	mux := http.NewServeMux()
	mux.HandleFunc("/signin", func(w http.ResponseWriter, r *http.Request) {
		ago, err := time.ParseDuration(r.FormValue("ago"))
		if err != nil {
			panic(err)
		}
		s := session.FromContext(r.Context())
		s.RegenerateID(true)
		s.MarkAuthenticated(time.Now().Add(-ago))
	})
	mux.Handle("/settings/", RequireRecentAuth(5*time.Minute, o)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "settings")
	})))
	return &reauthSetup{t: t, h: mw(mux)}
}

// signIn returns the cookie of a session authenticated ago ago.
func (rs *reauthSetup) signIn(ago time.Duration) string {
	rs.t.Helper()
	rec := do(rs.h, "GET", "/signin?ago="+ago.String(), "")
	ck := pair(rec.Header().Get("Set-Cookie"))
	if ck == "" {
		rs.t.Fatal("no session cookie")
	}
	return ck
}

// do runs a request with the cookie ck ("" for none) and the Accept header
// accept ("" for none).
func (rs *reauthSetup) do(method, target, ck, accept string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, nil)
	if ck != "" {
		req.Header.Set("Cookie", ck)
	}
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	rec := httptest.NewRecorder()
	rs.h.ServeHTTP(rec, req)
	return rec
}

// wantVary checks that a refused request's response varies with Accept and
// Cookie, each listed once.
func wantVary(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	var tokens []string
	for _, v := range rec.Header().Values("Vary") {
		for _, tok := range strings.Split(v, ",") {
			tokens = append(tokens, strings.TrimSpace(tok))
		}
	}
	slices.Sort(tokens)
	if !slices.Equal(tokens, []string{"Accept", "Cookie"}) {
		t.Errorf("%s: Vary %q, want Accept and Cookie once each", what, rec.Header().Values("Vary"))
	}
}

// A session authenticated within the bound reaches the handler, on a page
// request as on an API call.
func TestRequireRecentAuthRecent(t *testing.T) {
	rs := newReauthSetup(t, ReauthOptions{SignIn: "/login"})
	ck := rs.signIn(time.Minute)
	for _, accept := range []string{browserAccept, "application/json", ""} {
		if rec := rs.do("POST", "/settings/password", ck, accept); rec.Code != 200 || rec.Body.String() != "settings" {
			t.Errorf("Accept %q: %d %q, want the handler's page", accept, rec.Code, rec.Body.String())
		}
	}
}

// A page request without a recent sign-in is sent to the sign-in form,
// with the path to return to: path and query for GET, the path alone for a
// form post.
func TestRequireRecentAuthPageRedirects(t *testing.T) {
	rs := newReauthSetup(t, ReauthOptions{SignIn: "/login"})
	stale := rs.signIn(10 * time.Minute)
	for _, tc := range []struct{ what, method, target, ck, want string }{
		{"never signed in", "GET", "/settings/password?tab=2&x=a%20b", "", "/login?return=%2Fsettings%2Fpassword%3Ftab%3D2%26x%3Da%2520b"},
		{"signed in 10 min ago", "GET", "/settings/password?tab=2", stale, "/login?return=%2Fsettings%2Fpassword%3Ftab%3D2"},
		{"head", "HEAD", "/settings/?q=1", stale, "/login?return=%2Fsettings%2F%3Fq%3D1"},
		{"form post", "POST", "/settings/password?tab=2", stale, "/login?return=%2Fsettings%2Fpassword"},
	} {
		rec := rs.do(tc.method, tc.target, tc.ck, browserAccept)
		if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != tc.want {
			t.Errorf("%s: %d, Location %q; want 303 to %q", tc.what, rec.Code, rec.Header().Get("Location"), tc.want)
		}
		if rec.Body.String() == "settings" {
			t.Errorf("%s: the handler ran", tc.what)
		}
		wantVary(t, tc.what, rec)
	}
}

// Any other request without a recent sign-in gets a plain 401 that no
// cache keeps, and no redirect.
func TestRequireRecentAuthAPIUnauthorized(t *testing.T) {
	rs := newReauthSetup(t, ReauthOptions{SignIn: "/login"})
	stale := rs.signIn(10 * time.Minute)
	for _, accept := range []string{"", "*/*", "application/json", "text/html;q=0, */*", "text/plain"} {
		for _, ck := range []string{"", stale} {
			rec := rs.do("POST", "/settings/password", ck, accept)
			what := fmt.Sprintf("Accept %q, cookie %v", accept, ck != "")
			if rec.Code != http.StatusUnauthorized || rec.Body.String() != "recent sign-in required\n" {
				t.Errorf("%s: %d %q, want 401 \"recent sign-in required\"", what, rec.Code, rec.Body.String())
			}
			h := rec.Header()
			if h.Get("Cache-Control") != "no-store" || h.Get("Location") != "" || h.Get("WWW-Authenticate") != "" {
				t.Errorf("%s: Cache-Control %q, Location %q, WWW-Authenticate %q", what, h.Get("Cache-Control"), h.Get("Location"), h.Get("WWW-Authenticate"))
			}
			wantVary(t, what, rec)
		}
	}
}

// A SignIn with a query of its own gets the parameter added to it, under
// the name Param says.
func TestRequireRecentAuthOptions(t *testing.T) {
	for _, tc := range []struct {
		o    ReauthOptions
		want string
	}{
		{ReauthOptions{SignIn: "/login", Param: "next"}, "/login?next=%2Fsettings%2Fa"},
		{ReauthOptions{SignIn: "/auth?again=1"}, "/auth?again=1&return=%2Fsettings%2Fa"},
		{ReauthOptions{SignIn: "/auth?"}, "/auth?return=%2Fsettings%2Fa"},
		{ReauthOptions{SignIn: "/", Param: "a b"}, "/?a+b=%2Fsettings%2Fa"},
	} {
		rec := newReauthSetup(t, tc.o).do("GET", "/settings/a", "", browserAccept)
		if got := rec.Header().Get("Location"); got != tc.want {
			t.Errorf("%+v: Location %q, want %q", tc.o, got, tc.want)
		}
	}
}

// The return path is the target the browser asked for, also behind
// http.StripPrefix, which shortens r.URL.Path, and "/" for one that
// SafeReturnPath refuses.
func TestRequireRecentAuthReturnPath(t *testing.T) {
	mw := newMiddleware(t, newCookie(t, "__sess", cookie.Options{}), newMemory(t, session.Options{}), Options{})
	inner := RequireRecentAuth(time.Minute, ReauthOptions{SignIn: "/login"})(http.HandlerFunc(bareHandler))
	h := mw(http.StripPrefix("/app", inner))
	req := httptest.NewRequest("GET", "/app/settings?x=1", nil)
	req.Header.Set("Accept", "text/html")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if got, want := rec.Header().Get("Location"), "/login?return=%2Fapp%2Fsettings%3Fx%3D1"; got != want {
		t.Errorf("Location %q, want %q", got, want)
	}
	// A request no server read has no RequestURI: its URL is used.
	req = httptest.NewRequest("GET", "/settings?x=1", nil)
	req.RequestURI = ""
	if got := returnPath(req); got != "/settings?x=1" {
		t.Errorf("returnPath without RequestURI: %q", got)
	}
	req = httptest.NewRequest("GET", "http://site.example/abs?y=2", nil)
	if got := returnPath(req); got != "/abs?y=2" {
		t.Errorf("returnPath of an absolute target %q: %q", req.RequestURI, got)
	}
	// A target that names another host, sent to a handler that does not
	// clean paths (http.ServeMux would redirect it).
	req = httptest.NewRequest("GET", "//evil.example/settings", nil)
	if got := returnPath(req); got != "/" {
		t.Errorf("returnPath of %q: %q, want \"/\"", req.RequestURI, got)
	}
}

func TestAcceptsHTML(t *testing.T) {
	for _, tc := range []struct {
		accept []string
		want   bool
	}{
		{[]string{browserAccept}, true},
		{[]string{"text/html"}, true},
		{[]string{"TEXT/HTML ; q=0.5"}, true},
		{[]string{"application/json, text/html;q=0.1"}, true},
		{[]string{"text/html;level=1;q=1"}, true},
		{[]string{"application/json", "text/html"}, true},
		{nil, false},
		{[]string{""}, false},
		{[]string{"*/*"}, false},
		{[]string{"text/*"}, false},
		{[]string{"application/json"}, false},
		{[]string{"text/html;q=0"}, false},
		{[]string{"text/html; q=0.000"}, false},
		{[]string{"text/html;q=x"}, false},
		{[]string{"text/htmlx"}, false},
	} {
		if got := acceptsHTML(http.Header{"Accept": tc.accept}); got != tc.want {
			t.Errorf("Accept %q: %v, want %v", tc.accept, got, tc.want)
		}
	}
}

// wantPanic checks that f panics with a message that contains want.
func wantPanic(t *testing.T, what, want string, f func()) {
	t.Helper()
	defer func() {
		t.Helper()
		v := recover()
		if msg := fmt.Sprint(v); v == nil || !strings.Contains(msg, want) {
			t.Errorf("%s: panic %v, want one that says %q", what, v, want)
		}
	}()
	f()
}

func TestRequireRecentAuthPanics(t *testing.T) {
	for _, tc := range []struct {
		what   string
		within time.Duration
		o      ReauthOptions
		want   string
	}{
		{"no SignIn", time.Minute, ReauthOptions{}, "ReauthOptions.SignIn is empty"},
		{"relative", time.Minute, ReauthOptions{SignIn: "login"}, `SignIn "login" is not a local path`},
		{"another host", time.Minute, ReauthOptions{SignIn: "//evil.example/login"}, "is not a local path"},
		{"a URL", time.Minute, ReauthOptions{SignIn: "https://site.example/login"}, "is not a local path"},
		{"a fragment", time.Minute, ReauthOptions{SignIn: "/login#form"}, "is not a local path"},
		{"zero within", 0, ReauthOptions{SignIn: "/login"}, "within is 0s; it must be positive"},
		{"negative within", -time.Second, ReauthOptions{SignIn: "/login"}, "must be positive"},
	} {
		wantPanic(t, tc.what, tc.want, func() { RequireRecentAuth(tc.within, tc.o) })
	}
	wantPanic(t, "nil handler", "nil handler", func() {
		RequireRecentAuth(time.Minute, ReauthOptions{SignIn: "/login"})(nil)
	})
}

// Without the session middleware in front, the request panics with
// session.FromContext's message for a nil session, which names the
// middleware.
func TestRequireRecentAuthWithoutSessionMiddleware(t *testing.T) {
	h := RequireRecentAuth(time.Minute, ReauthOptions{SignIn: "/login"})(http.HandlerFunc(bareHandler))
	wantPanic(t, "no session middleware", "install the session middleware", func() {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	})
}

func TestSafeReturnPath(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"/", "/"},
		{"/ok?x=1", "/ok?x=1"},
		{"/settings/password?tab=2#form", "/settings/password?tab=2#form"},
		{"/a:b", "/a:b"},
		{"/a%2Fb", "/a%2Fb"},
		{"/%2F%2Fevil.com", "/"}, // a path to browsers, but "//evil.com" decoded
		{"/%2Fevil.com/{", "/"},  // url.URL.String() gives "//evil.com/%7B"
		{"/%5Cevil.com", "/"},    // "/\evil.com" decoded
		{"/a%09/b", "/"},         // a tab, decoded
		{"/%0d%0aLocation:x", "/"},
		{"/caf%C3%A9", "/caf%C3%A9"},
		{"/" + strings.Repeat("a", maxReturnPath-1), "/" + strings.Repeat("a", maxReturnPath-1)},
		{"/" + strings.Repeat("a", maxReturnPath), "/"},
		{"", "/"},
		{"//evil.com", "/"},
		{"///evil.com", "/"},
		{`/\evil.com`, "/"},
		{`/a\b`, "/"},
		{"https://evil.com", "/"},
		{"javascript:alert(1)", "/"},
		{"evil.com", "/"},
		{"\t//evil", "/"},
		{"/\t/evil", "/"},
		{"/a\r\nLocation: x", "/"},
		{"/a b", "/"},
		{"/caf\u00e9", "/"},
		{"/\x7f", "/"},
		{"/%zz", "/"},
	} {
		if got := SafeReturnPath(tc.in); got != tc.want {
			t.Errorf("SafeReturnPath(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

// FuzzSafeReturnPath checks that SafeReturnPath keeps a redirect on the
// site: its result is "/" or p itself, which resolves against a page of
// the site to a URL on the site (url.Parse and ResolveReference, also
// after http.Redirect), and which a browser, which drops tabs and newlines
// and reads "\" as "/", does not read as another host either, nor its
// decoded path, nor url.URL's serialization of it.
func FuzzSafeReturnPath(f *testing.F) {
	for _, s := range []string{
		"/", "", "//evil.com", `/\evil.com`, "/%2F%2Fevil.com", "https://evil.com",
		"javascript:alert(1)", "/ok?x=1", "\t//evil", "/a\r\nLocation: x",
		"/a/..//evil.com", "/%5C%5Cevil.com", "/%2Fevil.com/{", "/%09/evil.com", "/%2F\"",
		"/ok#frag", "/caf\u00e9", "///x", "/./", "?x", "#x",
	} {
		f.Add(s)
	}
	base, err := url.Parse("https://site.example/base/")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, p string) {
		got := SafeReturnPath(p)
		if got == "/" {
			return
		}
		if got != p {
			t.Fatalf("SafeReturnPath(%q) = %q: neither p nor \"/\"", p, got)
		}
		ref, err := url.Parse(got)
		if err != nil {
			t.Fatalf("SafeReturnPath(%q) kept a path url.Parse refuses: %v", p, err)
		}
		if u := base.ResolveReference(ref); u.Host != "site.example" {
			t.Fatalf("SafeReturnPath(%q) kept a path that resolves to host %q (%s)", p, u.Host, u)
		}
		// What code may redirect to instead of p: the decoded path, or
		// the URL serialized again.
		for _, form := range []string{got, ref.Path, ref.String()} {
			if browserHostRelative(form) {
				t.Fatalf("SafeReturnPath(%q) kept a path whose form %q a browser reads as another host", p, form)
			}
		}
		wantRedirectOnSite(t, base, got)
	})
}

// browserHostRelative reports whether a browser reads ref as a reference
// to another host: it drops leading controls and spaces, and tabs and
// newlines anywhere, and reads "\" as "/".
func browserHostRelative(ref string) bool {
	ref = strings.TrimLeftFunc(ref, func(r rune) bool { return r <= ' ' })
	ref = strings.NewReplacer("\t", "", "\n", "", "\r", "", `\`, "/").Replace(ref)
	return strings.HasPrefix(ref, "//")
}

// wantRedirectOnSite checks that http.Redirect to p, from a page of base,
// sends the browser to base's host.
func wantRedirectOnSite(t *testing.T, base *url.URL, p string) {
	t.Helper()
	rec := httptest.NewRecorder()
	http.Redirect(rec, httptest.NewRequest("POST", "/login", nil), p, http.StatusSeeOther)
	location := rec.Header().Get("Location")
	loc, err := url.Parse(location)
	if err != nil {
		t.Fatalf("http.Redirect(%q): Location %q: %v", p, location, err)
	}
	if u := base.ResolveReference(loc); u.Host != "site.example" || browserHostRelative(location) {
		t.Fatalf("http.Redirect(%q): Location %q leaves the site (%s)", p, location, u)
	}
}
