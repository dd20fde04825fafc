package sessionmiddleware

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/session"
)

// Re-authentication ("sudo mode"). A signed-in session is enough for most
// pages, but not for the actions that would hand the account to whoever
// holds the session (an unlocked computer, a stolen cookie): changing the
// password or the email address, deleting the account. RequireRecentAuth
// puts such routes behind a recent proof of identity: the user signs in
// again, the sign-in handler records it (session.Session.MarkAuthenticated)
// and sends the user back where they were going (SafeReturnPath).

// ReauthOptions configure RequireRecentAuth.
type ReauthOptions struct {
	// SignIn is the path of the sign-in form on this site, such as
	// "/login": a page request without a recent sign-in is redirected
	// there. Required: a path SafeReturnPath keeps, without a fragment.
	// It may carry a query of its own ("/login?again=1"), to which the
	// return parameter is added.
	SignIn string

	// Param is the query parameter that hands the sign-in form the path
	// to return to. "": "return".
	Param string
}

// defaultReturnParam is ReauthOptions.Param when it is empty.
const defaultReturnParam = "return"

// maxReturnPath bounds the return paths SafeReturnPath keeps, in bytes:
// a sign-in form's round trip needs no longer one, and the redirect's
// Location, and the sign-in form's URL that carries it, stay short.
const maxReturnPath = 2048

// RequireRecentAuth returns route middleware that runs next only for a
// request whose session's user proved who they are within the last within
// (session.Session.AuthenticatedWithin, as MarkAuthenticated recorded it),
// measured on the clock of the storage that read the session
// (session.Options.Now, ClientOptions.Now; time.Now by default), which
// the sign-in handler should give MarkAuthenticated too.
// Put it inside New's or NewToken's middleware, around the routes that
// need it; it is a func(http.Handler) http.Handler, as the router module's
// Use and Map take.
//
// Any other request does not reach next:
//
//   - A page request, one whose Accept header accepts text/html (with a
//     quality above 0), as browsers send for navigations and form posts,
//     is redirected with "303 See Other" to o.SignIn, with the path to come
//     back to in the query parameter o.Param:
//     "/login?return=%2Fsettings%3Ftab%3D2". That path is the request's
//     target as the client sent it (r.RequestURI): path and query for GET
//     and HEAD; the path alone for other methods, since the browser comes
//     back with a GET (the form's data does not survive the trip: the user
//     submits the form again); "/" when SafeReturnPath refuses it.
//   - Any other request (an API call; fetch, whose default Accept is
//     "*/*") gets "401 Unauthorized" with "Cache-Control: no-store" and
//     the text "recent sign-in required", and no WWW-Authenticate, since
//     no authentication scheme describes signing in on a form.
//
// Both responses carry "Vary: Accept, Cookie", since they depend on both.
// The sign-in handler checks the password, calls
// s.MarkAuthenticated(time.Now()) and redirects to
// SafeReturnPath(r.FormValue("return")), or the parameter o.Param names
// (see "Devices and re-authentication" in the package documentation).
//
// RequireRecentAuth panics when within is not positive (no sign-in would
// ever be recent enough) or o.SignIn is not a path on this site. A request
// that no session middleware saw panics with session.FromContext's message
// for a nil session, which names the missing middleware.
func RequireRecentAuth(within time.Duration, o ReauthOptions) func(http.Handler) http.Handler {
	ra := newReauth(within, o)
	return func(next http.Handler) http.Handler {
		if next == nil {
			panic("sessionmiddleware: RequireRecentAuth: nil handler")
		}
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ra.serve(w, r, next)
		})
	}
}

// reauth is RequireRecentAuth's configuration.
type reauth struct {
	within time.Duration
	// signIn is the start of the redirect's Location: the sign-in path
	// and its return parameter, "/login?return=".
	signIn string
}

// newReauth checks RequireRecentAuth's arguments, panicking on a mistake
// that no request could recover from.
func newReauth(within time.Duration, o ReauthOptions) *reauth {
	switch {
	case within <= 0:
		panic(fmt.Sprintf("sessionmiddleware: RequireRecentAuth: within is %v; it must be positive: how long a sign-in counts as recent", within))
	case o.SignIn == "":
		panic(`sessionmiddleware: RequireRecentAuth: ReauthOptions.SignIn is empty; set it to the path of the sign-in form, such as "/login"`)
	case SafeReturnPath(o.SignIn) != o.SignIn || strings.Contains(o.SignIn, "#"):
		panic(fmt.Sprintf(`sessionmiddleware: RequireRecentAuth: ReauthOptions.SignIn %q is not a local path: it must be a path on this site, such as "/login" (a single leading "/", no scheme, host or fragment)`, o.SignIn))
	}
	return &reauth{within: within, signIn: signInPrefix(o.SignIn, o.Param)}
}

// signInPrefix returns the sign-in path with the return parameter param
// ("" for the default) added to its query, up to the parameter's value.
func signInPrefix(signIn, param string) string {
	if param == "" {
		param = defaultReturnParam
	}
	sep := "?"
	switch {
	case strings.HasSuffix(signIn, "?") || strings.HasSuffix(signIn, "&"):
		sep = ""
	case strings.Contains(signIn, "?"):
		sep = "&"
	}
	return signIn + sep + url.QueryEscape(param) + "="
}

// serve runs next for a recent sign-in, and answers any other request.
func (ra *reauth) serve(w http.ResponseWriter, r *http.Request, next http.Handler) {
	if session.FromContext(r.Context()).AuthenticatedWithin(ra.within) {
		next.ServeHTTP(w, r)
		return
	}
	h := w.Header()
	// A new slice: the old one may be shared with other requests.
	h["Vary"] = append(slices.Clip(h["Vary"]), "Accept, Cookie")
	if acceptsHTML(r.Header) {
		http.Redirect(w, r, ra.signIn+url.QueryEscape(returnPath(r)), http.StatusSeeOther)
		return
	}
	noStore(h)
	http.Error(w, "recent sign-in required", http.StatusUnauthorized)
}

// returnPath returns the path the sign-in form sends the user back to: the
// request's target as the client sent it (a handler behind
// http.StripPrefix sees r.URL.Path without the prefix), without the query
// unless the method is GET or HEAD, as SafeReturnPath keeps it.
func returnPath(r *http.Request) string {
	p := r.RequestURI
	if !strings.HasPrefix(p, "/") {
		// An absolute target ("GET http://host/path"), or a request
		// that no server read (RequestURI is empty).
		p = r.URL.RequestURI()
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		p, _, _ = strings.Cut(p, "?")
	}
	return SafeReturnPath(p)
}

// acceptsHTML reports whether the Accept header lists text/html with a
// quality above 0: a browser's navigation or form post. "*/*" alone, as
// fetch and API clients send, does not count.
func acceptsHTML(h http.Header) bool {
	for _, v := range h["Accept"] {
		for v != "" {
			var item string
			item, v = nextItem(v)
			if htmlRange(item) {
				return true
			}
		}
	}
	return false
}

// htmlRange reports whether one media range of an Accept header
// ("text/html;q=0.9") is text/html with a quality above 0.
func htmlRange(item string) bool {
	typ, params, _ := strings.Cut(item, ";")
	if !strings.EqualFold(strings.TrimSpace(typ), "text/html") {
		return false
	}
	for params != "" {
		var p string
		p, params, _ = strings.Cut(params, ";")
		name, value, _ := strings.Cut(p, "=")
		if strings.EqualFold(strings.TrimSpace(name), "q") {
			q, err := strconv.ParseFloat(strings.TrimSpace(value), 64)
			return err == nil && q > 0
		}
	}
	return true
}

// SafeReturnPath returns p when it is a path on this site that a redirect
// can send the browser to, and "/" otherwise: for the "return to" value of
// a sign-in form (see RequireRecentAuth), which anyone can set in a link,
// so that signing in never sends the user to another site (an open
// redirect).
//
// p is kept when it starts with a single "/" (not "//" nor "/\", which
// browsers read as another host), holds only printable ASCII without
// spaces or backslashes (browsers drop tabs and newlines, and read "\" as
// "/", so "/\t/evil.example" would leave the site; a browser
// percent-encodes other characters in the paths it sends), parses with
// url.Parse to a URL without scheme or host, and is at most 2048 bytes
// long. A query and a fragment may follow the path. Its decoded path
// (url.URL.Path) must also start with a single "/" and hold no control
// character or backslash: a browser keeps "/%2F%2Fevil.example" on this
// site, but code that redirects to the decoded path, or to url.URL.String()
// of a raw path that url.URL does not keep ("/%2Fevil.example/{" becomes
// "//evil.example/%7B"), would send the user to evil.example.
func SafeReturnPath(p string) string {
	if len(p) > maxReturnPath || !rootedPath(p) || !printableASCII(p) || !parsesAsPath(p) {
		return "/"
	}
	return p
}

// rootedPath reports whether p starts with a single "/": "//host" and
// "/\host" name another host.
func rootedPath(p string) bool {
	return p != "" && p[0] == '/' && (len(p) == 1 || p[1] != '/' && p[1] != '\\')
}

// printableASCII reports whether p holds only printable ASCII other than
// space and backslash.
func printableASCII(p string) bool {
	for i := 0; i < len(p); i++ {
		if c := p[i]; c == ' ' || c >= 0x80 || unsafeByte(c) {
			return false
		}
	}
	return true
}

// unsafeByte reports whether c may turn a path into another host: a
// control character, which browsers may drop ("/\t/host" becomes
// "//host"), or a backslash, which they read as "/".
func unsafeByte(c byte) bool {
	return c < ' ' || c == 0x7f || c == '\\'
}

// parsesAsPath reports whether url.Parse reads p as a reference with
// neither scheme nor host, whose decoded path starts with a single "/"
// and holds no byte that unsafeByte refuses.
func parsesAsPath(p string) bool {
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || u.User != nil {
		return false
	}
	return rootedPath(u.Path) && !hasUnsafeByte(u.Path)
}

// hasUnsafeByte reports whether p holds a byte that unsafeByte refuses.
func hasUnsafeByte(p string) bool {
	for i := 0; i < len(p); i++ {
		if unsafeByte(p[i]) {
			return true
		}
	}
	return false
}
