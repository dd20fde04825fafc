// Package router is a small HTTP router on top of net/http.ServeMux: the
// matching, the precedence rules and the r.PathValue parameters are ServeMux's
// own, and the router adds what ServeMux leaves out: middleware (router-wide,
// per group and per route), groups, mounting of sub-handlers, custom 404 and
// 405 handlers, named routes that build their own links, route maps in the
// shape of Remix's fetch-router (forms and resources, paired with their
// handlers by field name), HTML-form method override, opt-in OPTIONS
// answering, rejection of encoded dot segments, and setup-time panics with
// clear messages. Only standard types cross its boundary: http.Handler,
// http.HandlerFunc and func(http.Handler) http.Handler.
//
// # Tutorial
//
// A complete program:
//
//	package main
//
//	import (
//		"fmt"
//		"log"
//		"net/http"
//
//		"github.com/sessionkit/sessionkit/router"
//	)
//
//	func main() {
//		r := router.New()
//
//		// Router-wide middleware: runs first, on every request, even 404s and 405s.
//		r.Use(func(next http.Handler) http.Handler {
//			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
//				log.Println(req.Method, req.URL.Path)
//				next.ServeHTTP(w, req)
//			})
//		})
//
//		r.Get("/{$}", func(w http.ResponseWriter, req *http.Request) { // exactly "/"
//			fmt.Fprintln(w, "home")
//		})
//		r.Get("/posts/{id}", func(w http.ResponseWriter, req *http.Request) {
//			fmt.Fprintln(w, "post", req.PathValue("id"))
//		})
//
//		// A group shares the routes but has its own middleware.
//		r.Group(func(g *router.Router) {
//			g.Use(func(next http.Handler) http.Handler {
//				return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
//					if req.Header.Get("Authorization") == "" {
//						http.Error(w, "login first", http.StatusUnauthorized)
//						return
//					}
//					next.ServeHTTP(w, req)
//				})
//			})
//			g.Delete("/posts/{id}", func(w http.ResponseWriter, req *http.Request) {
//				fmt.Fprintln(w, "deleted", req.PathValue("id"))
//			})
//		})
//
//		// A mounted handler sees the path below its prefix: /api/users/ada → /users/ada.
//		api := router.New()
//		api.Get("/users/{name}", func(w http.ResponseWriter, req *http.Request) {
//			fmt.Fprintln(w, "user", req.PathValue("name"))
//		})
//		r.Mount("/api", api)
//
//		r.NotFound(func(w http.ResponseWriter, req *http.Request) {
//			http.Error(w, "nothing at "+req.URL.Path, http.StatusNotFound)
//		})
//
//		log.Fatal(http.ListenAndServe("localhost:8080", r))
//	}
//
// The package examples run the same kind of router and check its responses.
//
// # Patterns
//
// A pattern is a net/http.ServeMux path pattern; the method goes in its own
// argument (Get, Post, …, or [Route.Method]) and hosts are not supported, so
// every pattern starts with "/":
//
//	/posts          exactly /posts (and /posts/ is a 404)
//	/posts/{id}     one non-empty segment; r.PathValue("id") is unescaped
//	/files/{p...}   the rest of the path, slashes included; last segment only
//	/posts/         /posts/ and everything below it; /posts redirects to /posts/
//	/posts/{$}      exactly /posts/
//	/{$}            exactly /; a bare "/" would match every path
//
// The most specific pattern wins whatever the order of registration: /posts/new
// beats /posts/{id}, and a route with a method beats one without. Two patterns
// that overlap without one being more specific panic at registration, naming
// both. Matching is case-sensitive, the query string is ignored, and %2F inside
// a segment does not split it.
//
// A GET route also answers HEAD (as ServeMux does; net/http drops the body).
// OPTIONS is not answered automatically unless [Router.AutoOptions] is on
// (204 with Allow): otherwise register an Options route, or handle preflight
// requests in a router-wide middleware, which runs before routing.
// A request whose path matches a route but not its method gets 405 Method Not
// Allowed with an Allow header listing the methods that would match
// ("GET, HEAD, POST"); anything else that matches nothing gets 404. Both can be
// replaced with [Router.NotFound] and [Router.MethodNotAllowed].
//
// # Middleware
//
// Middleware nests in this order, outermost first:
//
//	router (Use on the root) → group (Use in Group) → route (the mw arguments) → handler
//
// Router-wide middleware runs before routing, so it sees every request,
// including 404s, 405s and path-cleaning redirects, but r.Pattern and
// r.PathValue are not set yet. Group and route middleware run after routing
// and see them. All middleware must be added before the routes it should wrap:
// Use after a route is registered panics.
//
// Set the router up completely before it serves: once it has served a
// request, every setup method (Use, Handle, Get and the other method
// helpers, Map, Group, Mount, NotFound, MethodNotAllowed, AutoOptions,
// AllowDotSegments) panics instead of racing with the requests in flight.
//
// # Sessions
//
// Session middleware from this repository's session-middleware module is an
// ordinary func(http.Handler) http.Handler, so it plugs in with Use (the router
// module itself depends on nothing but the standard library):
//
//	mw, err := sessionmiddleware.New(cookie, storage, sessionmiddleware.Options{})
//	if err != nil { … }
//	r.Use(mw)
//
// and handlers read the session with session.FromContext(r.Context()). To keep
// sessions off some routes (static files, health checks), add it in a Group
// instead of on the root.
//
// # Mounting
//
// [Router.Mount] attaches any http.Handler below a prefix, which may contain
// wildcards ("/orgs/{org}"). The handler sees the path with the prefix removed
// and can still read the prefix's wildcards with r.PathValue. A mounted *Router
// inherits the parent's custom 404 and 405 handlers unless it sets its own, and
// its trailing-slash redirects keep the prefix.
//
// # Links
//
// A [Route] value names a method and pattern; [Router.Handle] registers it and
// [Route.Href] builds a path to it, escaping each parameter, so links cannot
// drift from the routes they point at. [Route.HrefWith] adds a query string.
//
// # Route maps
//
// A route map is a plain Go struct of Route values, nested structs allowed:
// the Go form of a Remix routes.ts. Links go through the compiler
// (Routes.Posts.Show.Href), and [Router.Map] registers the whole map at once,
// pairing each route with the handler of the same field name in a struct of
// handlers and panicking, naming the field ("Posts.Destroy"), when a route has
// no handler or a handler has no route. The helpers build fetch-router's maps
// with its methods and patterns, in ServeMux syntax: [NewForm] (Index GET,
// Action POST), [NewResources] (Index, New, Show, Create, Edit, Update,
// Destroy on /posts and /posts/{id}) and [NewResource] for a singular
// resource; [ResourceOptions] picks the id wildcard's name and the routes to
// keep (Only) or leave out (Except).
//
//	var Routes = struct {
//		Home  router.Route
//		Login router.Form
//		Posts router.Resources
//	}{
//		Home:  router.Route{Method: "GET", Pattern: "/{$}"},
//		Login: router.NewForm("/login"),
//		Posts: router.NewResources("/posts", router.ResourceOptions{Only: []string{"index", "show"}}),
//	}
//
//	r.Map(Routes, struct {
//		Home  http.HandlerFunc
//		Login struct{ Index, Action http.HandlerFunc }
//		Posts struct{ Index, Show http.HandlerFunc }
//	}{…})
//
// HTML forms can only GET and POST; [MethodOverride], added with Use, routes
// a POST whose form has _method=PUT, PATCH or DELETE as that method, so forms
// reach Update and Destroy.
//
// # Dot segments
//
// A path segment that is "." or ".." after decoding (/files/%2E%2E,
// /files/..%2F..%2Fetc%2Fpasswd) gets 400 Bad Request before routing, so no
// handler and no r.PathValue value ever holds one (a handler that joins a
// path value to a directory cannot be walked out of it). Plain dot segments
// are cleaned by a redirect first; names such as ".well-known", "a..b" or
// "v1.2" pass. [Router.AllowDotSegments] turns the check off.
//
// # Redirects
//
// The router never builds a redirect from the Host header or from anything but
// the request path. Paths that need cleaning ("//evil.com/", "/a/../b") are
// redirected (307) to the cleaned path, which always starts with a single "/";
// backslashes stay percent-encoded, so "/\evil.com" can never become a
// protocol-relative URL.
//
// # Performance
//
// The router adds no allocations per request to ServeMux's own and does not
// call r.WithContext; mounted handlers pay for a shallow copy of the request,
// as with http.StripPrefix, and so do requests that [MethodOverride] reads.
package router

import (
	"fmt"
	"net/http"
	"path"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
)

// Router is an http.Handler that dispatches requests to the handlers registered
// for their method and path. Create one with [New]; the zero value is not usable.
// Configure it completely (routes, middleware, 404/405 handlers) before it serves
// its first request; after that it is safe for concurrent use, and every setup
// method panics.
type Router struct {
	t      *table
	group  bool         // created by Group: Use is scoped, NotFound belongs to the root
	mws    []Middleware // group middleware (nil for the root, whose middleware is in t.mws)
	parent *Router      // the router or group this group was created from
	sealed bool         // a route was registered here or in a nested group: Use would be too late
}

// table is the state shared by a router and its groups.
type table struct {
	mux     *http.ServeMux
	mws     []Middleware // router-wide
	handler http.Handler // mws wrapped around dispatch, built by prepare; nil without mws

	fallbacks // the 404 and 405 handlers and AutoOptions

	methods []string          // every method registered, sorted; GET brings HEAD
	entries []*entry          // in registration order, for conflict messages
	shapes  map[string]*entry // method + " " + pattern shape → first registration
	catch   bool              // a method-less pattern matches every path
	once    sync.Once         // registers the fallback before the first request
	serving atomic.Bool       // prepare has run: setup calls now are mistakes
	mounted bool              // this router was passed to Mount: look for mount info

	allowDots bool // AllowDotSegments: let "." and ".." path segments through

	// mu orders every setup call before prepare: a setup call either finishes
	// before the first request starts routing or panics.
	mu sync.Mutex
}

// fallbacks are the settings for requests that match no route. A mounted
// *Router inherits from its parent each one it does not set itself.
type fallbacks struct {
	notFound         http.Handler // nil: inherited when mounted, else http.NotFound
	methodNotAllowed http.Handler // nil: inherited when mounted, else a plain 405
	autoOptions      bool         // AutoOptions: answer OPTIONS with 204 and Allow
}

// defaultFallbacks are ServeMux's own responses.
var defaultFallbacks = fallbacks{
	notFound:         http.NotFoundHandler(),
	methodNotAllowed: http.HandlerFunc(methodNotAllowed),
}

// under returns f with each handler it does not set taken from parent, and
// AutoOptions on when either has it.
func (f fallbacks) under(parent fallbacks) fallbacks {
	if f.notFound == nil {
		f.notFound = parent.notFound
	}
	if f.methodNotAllowed == nil {
		f.methodNotAllowed = parent.methodNotAllowed
	}
	f.autoOptions = f.autoOptions || parent.autoOptions
	return f
}

func methodNotAllowed(w http.ResponseWriter, _ *http.Request) {
	http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
}

// entry records one registration, for error messages.
type entry struct {
	what  string // `GET /posts/{id}` or `Mount("/api")`
	mux   string // the pattern as written by the user, with method
	where string // file:line of the user's call
}

// New returns an empty router.
func New() *Router {
	t := &table{
		mux:    http.NewServeMux(),
		shapes: map[string]*entry{},
	}
	return &Router{t: t}
}

// ServeHTTP dispatches the request: router-wide middleware first, then the
// route's handler wrapped in its group and route middleware, or the 404/405
// handler, or a redirect to the cleaned path.
func (r *Router) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	t := r.t
	t.once.Do(t.prepare)
	if t.handler == nil { // no router-wide middleware
		t.dispatch(w, req)
		return
	}
	t.handler.ServeHTTP(w, req)
}

// Get registers h for GET (and HEAD) requests whose path matches pattern, wrapped
// in the optional route middleware mw.
func (r *Router) Get(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("GET", pattern, h, mw)
}

// Post registers h for POST requests whose path matches pattern.
func (r *Router) Post(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("POST", pattern, h, mw)
}

// Put registers h for PUT requests whose path matches pattern.
func (r *Router) Put(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("PUT", pattern, h, mw)
}

// Patch registers h for PATCH requests whose path matches pattern.
func (r *Router) Patch(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("PATCH", pattern, h, mw)
}

// Delete registers h for DELETE requests whose path matches pattern.
func (r *Router) Delete(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("DELETE", pattern, h, mw)
}

// Head registers h for HEAD requests whose path matches pattern. It takes
// precedence over the GET route of the same pattern for HEAD requests.
func (r *Router) Head(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("HEAD", pattern, h, mw)
}

// Options registers h for OPTIONS requests whose path matches pattern. Without
// one, OPTIONS gets 405 with an Allow header (see the package documentation).
func (r *Router) Options(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("OPTIONS", pattern, h, mw)
}

// Any registers h for requests of every method whose path matches pattern. A
// route for a specific method on the same pattern takes precedence.
func (r *Router) Any(pattern string, h http.HandlerFunc, mw ...Middleware) {
	r.handleFunc("", pattern, h, mw)
}

// handleFunc is Handle for the method helpers. A nil func is passed on as a
// nil http.Handler, so that Handle reports it.
func (r *Router) handleFunc(method, pattern string, h http.HandlerFunc, mw []Middleware) {
	var handler http.Handler
	if h != nil {
		handler = h
	}
	r.Handle(Route{Method: method, Pattern: pattern}, handler, mw...)
}

// Handle registers h for route, wrapped in the optional route middleware mw
// (innermost, after router and group middleware).
//
// Handle panics, at registration and never during a request, if the method is
// not an upper-case token, the pattern is invalid (no leading "/", a wildcard
// that is not a whole segment, {name...} or {$} not last, …), the route was
// already registered, its pattern conflicts with another one (they overlap
// and neither is more specific), or the router has already served a request;
// the message names both routes and where they were registered.
func (r *Router) Handle(route Route, h http.Handler, mw ...Middleware) {
	where := callerLocation()
	if h == nil {
		panic(fmt.Sprintf("router: %s at %s: nil handler", route, where))
	}
	r.t.begin(route.String(), where)
	defer r.t.mu.Unlock()
	r.handle(route, h, mw, route.String(), where)
}

// handle registers one route; the caller holds t.mu. what names the route in
// messages.
func (r *Router) handle(route Route, h http.Handler, mw []Middleware, what, where string) {
	p := r.checkRoute(route, mw, what, where)
	final := chain(concat(r.mws, mw), h)
	e := &entry{what: what, mux: route.String(), where: where}
	r.t.register(e, route.Method+" "+p.shape(), route.String(), &routeHandler{final})
	if route.Method == "" && p.catchAll() {
		r.t.catch = true
	}
	r.t.addMethod(route.Method)
	r.seal()
}

// checkRoute validates a route and its middleware without registering
// anything, and returns the parsed pattern.
func (r *Router) checkRoute(route Route, mw []Middleware, what, where string) *pattern {
	checkMiddleware(what, where, mw)
	if err := checkMethod(route.Method); err != nil {
		panic(fmt.Sprintf("router: %s at %s: %v", what, where, err))
	}
	p, err := parsePattern(route.Pattern)
	if err != nil {
		panic(fmt.Sprintf("router: %s at %s: %v", what, where, err))
	}
	return p
}

// routeHandler is what the ServeMux calls for a route. It strips the writer
// that a mounted router puts around ServeMux (see mountWriter), so that route
// middleware and handlers always get the writer they were given.
type routeHandler struct{ h http.Handler }

func (rh *routeHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	if mw, ok := w.(*mountWriter); ok {
		w = mw.ResponseWriter
	}
	rh.h.ServeHTTP(w, req)
}

// Group calls fn with a router that shares this router's routes, 404/405
// handlers and router-wide middleware, but has its own middleware stack: Use
// inside fn applies only to the routes that fn registers, after the middleware
// of the enclosing groups. Groups nest. It returns the group, which stays usable
// after fn returns.
func (r *Router) Group(fn func(g *Router)) *Router {
	where := callerLocation()
	if fn == nil {
		panic(fmt.Sprintf("router: Group at %s: nil function", where))
	}
	r.t.begin("Group", where)
	r.t.mu.Unlock() // fn's own setup calls lock the table
	g := &Router{t: r.t, group: true, mws: concat(r.mws, nil), parent: r}
	fn(g)
	return g
}

// NotFound sets the handler for requests that match no route (default:
// http.NotFound, "404 page not found"). Router-wide middleware runs around it.
// A mounted *Router without its own NotFound handler uses its parent's. It
// applies to the whole router: calling it on a group panics.
func (r *Router) NotFound(h http.HandlerFunc) {
	r.setRouterWide("NotFound", "the 404 handler", h == nil, func(t *table) { t.notFound = h })
}

// MethodNotAllowed sets the handler for requests whose path matches a route but
// whose method does not. The Allow header is already set when h runs, listing
// the methods that would match, sorted and comma-separated ("GET, HEAD, POST");
// h should write the status (405). The default writes 405 "Method Not Allowed",
// as ServeMux does. A mounted *Router without its own handler uses its
// parent's. Calling it on a group panics.
func (r *Router) MethodNotAllowed(h http.HandlerFunc) {
	r.setRouterWide("MethodNotAllowed", "the 405 handler", h == nil, func(t *table) { t.methodNotAllowed = h })
}

// AutoOptions makes the router answer an OPTIONS request for a path that has
// routes, but no OPTIONS route of its own, with 204 No Content and an Allow
// header listing the methods of that path, OPTIONS included
// ("GET, HEAD, OPTIONS, POST"). The Allow header of 405 responses then lists
// OPTIONS too. A path without routes still gets 404, and an Options or Any
// route for the path still takes precedence. Off by default: OPTIONS gets 405
// like any other method without a route.
//
// Router-wide middleware runs before routing, so a CORS middleware added with
// Use still answers preflight requests itself. A mounted *Router without
// AutoOptions inherits it from its parent. Calling it on a group panics.
func (r *Router) AutoOptions() {
	r.setRouterWide("AutoOptions", "OPTIONS answering", false, func(t *table) { t.autoOptions = true })
}

// AllowDotSegments turns off the router's rejection of dot segments. By
// default a request whose decoded path has a segment that is "." or ".."
// (reached only through percent-encoding, as in /files/%2E%2E or
// /files/..%2F..%2Fetc%2Fpasswd, since plain dot segments are cleaned by a
// redirect first) gets 400 Bad Request before routing, so that no handler and
// no r.PathValue value ever sees one. Backslashes count as separators for this
// check ("..\x" and "%2E%2E%5Cx" are rejected too), because Windows file APIs
// treat them so. Values such as "a..b", ".well-known", "v1.2" and "..." pass.
//
// Call it only when every handler treats path values as opaque text and never
// as file names. Each router checks the paths it routes: a mounted *Router
// keeps its own setting. Calling it on a group panics.
func (r *Router) AllowDotSegments() {
	r.setRouterWide("AllowDotSegments", "the path check", false, func(t *table) { t.allowDots = true })
}

// setRouterWide runs set on the table under the setup lock, after checking
// that r is not a group (what names the setting in the panic message) and,
// with nilHandler, that the handler given is not nil.
func (r *Router) setRouterWide(call, what string, nilHandler bool, set func(t *table)) {
	where := callerLocation()
	if r.group {
		panic(fmt.Sprintf("router: %s at %s: %s is router-wide; set it on the router returned by New", call, where, what))
	}
	if nilHandler {
		panic(fmt.Sprintf("router: %s at %s: nil handler", call, where))
	}
	r.t.begin(call, where)
	defer r.t.mu.Unlock()
	set(r.t)
}

// begin starts a setup call: it locks the table, so that the first request
// waits for the call to finish, and panics if the router has already served a
// request (the call would race with requests, and routes registered late would
// be missed by the catch-all set up at the first request). The caller unlocks
// t.mu.
func (t *table) begin(what, where string) {
	t.mu.Lock()
	if t.serving.Load() {
		t.mu.Unlock()
		panic(fmt.Sprintf("router: %s at %s: the router has already served a request; set it up completely before the first request", what, where))
	}
}

// seal marks r and the routers it was grouped from as having routes.
func (r *Router) seal() {
	for g := r; g != nil; g = g.parent {
		g.sealed = true
	}
}

func checkMethod(m string) error {
	for i := 0; i < len(m); i++ {
		c := m[i]
		if c >= 'a' && c <= 'z' {
			return fmt.Errorf("method %q must be upper case (methods are case-sensitive)", m)
		}
		if !isTokenChar(c) {
			return fmt.Errorf("method %q is not a valid token", m)
		}
	}
	return nil
}

// tchars are the characters of an RFC 9110 token (section 5.6.2), which a
// method is.
const tchars = "!#$%&'*+-.^_`|~0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func isTokenChar(c byte) bool { return strings.IndexByte(tchars, c) >= 0 }

// addMethod records a registered method for the Allow header; a GET route
// also answers HEAD.
func (t *table) addMethod(m string) {
	if m == "" {
		return
	}
	t.methods = insertSorted(t.methods, m)
	if m == "GET" {
		t.methods = insertSorted(t.methods, "HEAD")
	}
}

// insertSorted adds s to the sorted list, unless it is there already.
func insertSorted(list []string, s string) []string {
	i, found := slices.BinarySearch(list, s)
	if found {
		return list
	}
	return slices.Insert(list, i, s)
}

// register adds one ServeMux pattern, turning ServeMux's panics into messages
// that name the user's routes and where they were registered.
func (t *table) register(e *entry, shape, muxPattern string, h http.Handler) {
	t.checkShape(e, shape)
	if msg := tryRegister(t.mux, muxPattern, h); msg != "" {
		panic(conflictMessage(t.entries, e, msg))
	}
	t.shapes[shape] = e
	t.entries = append(t.entries, e)
}

// checkShape panics if a route of the same method and shape is registered
// already: ServeMux would call it a conflict, but it is the same route.
func (t *table) checkShape(e *entry, shape string) {
	if prev := t.shapes[shape]; prev != nil {
		panic(fmt.Sprintf("router: %s at %s is already registered as %s at %s", e.what, e.where, prev.what, prev.where))
	}
}

// conflictMessage finds which of entries e conflicts with, by registering the
// two alone in a scratch ServeMux, and keeps ServeMux's explanation (an
// example path that both match).
func conflictMessage(entries []*entry, e *entry, muxMsg string) string {
	nop := http.NotFoundHandler()
	for _, prev := range entries {
		m := http.NewServeMux()
		m.Handle(prev.mux, nop)
		if msg := tryRegister(m, e.mux, nop); msg != "" {
			return fmt.Sprintf("router: %s at %s conflicts with %s registered at %s: %s", e.what, e.where, prev.what, prev.where, explanation(msg))
		}
	}
	return fmt.Sprintf("router: %s at %s: %s", e.what, e.where, explanation(muxMsg))
}

// explanation drops ServeMux's first line, which names the call sites inside
// this package, and keeps the reason.
func explanation(msg string) string {
	if _, rest, ok := strings.Cut(msg, ":\n"); ok {
		return strings.ReplaceAll(strings.TrimSpace(rest), "\n", " ")
	}
	return msg
}

func tryRegister(m *http.ServeMux, pattern string, h http.Handler) (msg string) {
	defer func() {
		if v := recover(); v != nil {
			msg = fmt.Sprint(v)
		}
	}()
	m.Handle(pattern, h)
	return ""
}

// prepare runs once, before the first request. It wraps the router-wide
// middleware around dispatch (once, rather than at every Use, so that each
// middleware constructor runs once) and, unless some pattern already matches
// every path, registers a catch-all so that requests that match no route reach
// t.fallback instead of ServeMux's own 404 and 405, which cannot be
// customised. The catch-all is registered late so that a user's catch-all
// ("/", "/{path...}" or Mount("/")) does not conflict with it.
func (t *table) prepare() {
	// From here on every setup call panics, so the table is frozen; the lock
	// only waits for a setup call in progress. It is released before the
	// middleware constructors run, so that one calling a setup method panics
	// rather than deadlocks.
	t.mu.Lock()
	t.serving.Store(true)
	t.mu.Unlock()
	if len(t.mws) > 0 {
		t.handler = chain(t.mws, http.HandlerFunc(t.dispatch))
	}
	if !t.catch {
		t.mux.Handle("/", http.HandlerFunc(t.fallback))
	}
}

// dispatch runs inside the router-wide middleware.
func (t *table) dispatch(w http.ResponseWriter, req *http.Request) {
	if p := req.URL.Path; strings.Contains(p, "//") || strings.IndexByte(p, '.') >= 0 {
		if !t.checkPath(w, req) {
			return
		}
	}
	// The mount check is written out rather than calling mountOf, which is
	// too big to inline: every request of every router passes here.
	if t.mounted {
		if mi, ok := req.Context().Value(mountKey{}).(*mountInfo); ok {
			mi.w.ResponseWriter, mi.w.req = w, req
			w = &mi.w
		}
	}
	t.mux.ServeHTTP(w, req)
}

// mountOf returns the mount information the parent router passed with req,
// or nil when t is not a mounted router.
func (t *table) mountOf(req *http.Request) *mountInfo {
	if !t.mounted {
		return nil
	}
	mi, _ := req.Context().Value(mountKey{}).(*mountInfo)
	return mi
}

// fallback answers requests that match no route: 405 with Allow when the path
// matches a route of another method (204 with Allow for OPTIONS when
// AutoOptions is on), else 404.
func (t *table) fallback(w http.ResponseWriter, req *http.Request) {
	if mw, ok := w.(*mountWriter); ok {
		w = mw.ResponseWriter
	}
	f := t.fallbacks
	if mi := t.mountOf(req); mi != nil {
		f = f.under(mi.fallbacks)
	}
	f = f.under(defaultFallbacks)
	allow := t.allowed(req)
	if allow == "" {
		f.notFound.ServeHTTP(w, req)
		return
	}
	if f.autoOptions {
		allow = withOptions(allow)
	}
	w.Header().Set("Allow", allow)
	if f.autoOptions && req.Method == "OPTIONS" {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	f.methodNotAllowed.ServeHTTP(w, req)
}

// withOptions adds OPTIONS to an Allow value, keeping it sorted.
func withOptions(allow string) string {
	methods := strings.Split(allow, ", ")
	i, found := slices.BinarySearch(methods, "OPTIONS")
	if found {
		return allow
	}
	return strings.Join(slices.Insert(methods, i, "OPTIONS"), ", ")
}

// allowed lists, as an Allow header value, the methods for which ServeMux would
// match the request's path (directly or through its trailing-slash redirect),
// sorted as ServeMux sorts them. It asks the ServeMux itself, one method at a
// time, so that it agrees with the routing exactly.
func (t *table) allowed(req *http.Request) string {
	var allow []string
	probe := *req
	for _, m := range t.methods {
		probe.Method = m
		if _, p := t.mux.Handler(&probe); p != "" && p != "/" {
			allow = append(allow, m)
		}
	}
	return strings.Join(allow, ", ")
}

// checkPath handles a path that may need cleaning or may hold dot segments:
// it redirects to the cleaned path, or answers 400 for a dot segment, and
// reports whether routing should go on.
func (t *table) checkPath(w http.ResponseWriter, req *http.Request) bool {
	p := req.URL.Path
	if mayNeedCleaning(p) && req.Method != "CONNECT" {
		if loc, ok := cleanedLocation(req); ok {
			http.Redirect(w, req, loc, http.StatusTemporaryRedirect)
			return false
		}
	}
	if !t.allowDots && hasDotSegment(p) {
		http.Error(w, "Bad Request: dot segment in path", http.StatusBadRequest)
		return false
	}
	return true
}

// hasDotSegment reports whether the decoded path p has a segment that is "."
// or "..", counting both "/" and the backslash as separators. Such a segment
// survives path cleaning only when it was percent-encoded, and a handler that
// joins a path value to a directory would climb out of it.
func hasDotSegment(p string) bool { return dotPiece(p) != "" }

// mayNeedCleaning is a fast check: a path that ServeMux would clean contains
// "//" or "/." (in its decoded form too, since a '/' or '.' in the escaped path
// is one in the decoded path).
func mayNeedCleaning(p string) bool {
	return strings.Contains(p, "//") || strings.IndexByte(p, '.') >= 0 && strings.Contains(p, "/.")
}

// cleanedLocation returns the redirect target for a request whose path is not
// clean: the cleaned, still-escaped path plus the query. It is built from the
// path alone, never from the Host header, and it cannot start with "//" or "/\"
// (path.Clean collapses slashes and backslashes stay escaped as %5C), so it is
// never an open redirect. Unlike ServeMux's own clean-path redirect it does
// not escape the escaped path a second time ("/a//b%20c" → "/a/b%20c").
func cleanedLocation(req *http.Request) (string, bool) {
	esc := req.URL.EscapedPath()
	clean := cleanPath(esc)
	if clean == esc {
		return "", false
	}
	if req.URL.RawQuery != "" {
		clean += "?" + req.URL.RawQuery
	}
	return safeLocation(clean), true
}

// cleanPath is ServeMux's: path.Clean, keeping a trailing slash.
func cleanPath(p string) string {
	if p == "" {
		return "/"
	}
	if p[0] != '/' {
		p = "/" + p
	}
	np := path.Clean(p)
	if p[len(p)-1] == '/' && np != "/" {
		if len(p) == len(np)+1 && strings.HasPrefix(p, np) {
			np = p
		} else {
			np += "/"
		}
	}
	return np
}

// safeLocation is the last guard on every Location this package writes: it
// must be a path that starts with exactly one "/" and is not followed by a
// backslash, which browsers treat as a second slash.
func safeLocation(loc string) string {
	for len(loc) > 1 && loc[0] == '/' && (loc[1] == '/' || loc[1] == '\\') {
		loc = loc[1:]
	}
	if loc == "" || loc[0] != '/' {
		return "/"
	}
	return loc
}

// callerLocation returns file:line of the first caller outside this package
// (test files of the package count as outside), for registration messages.
func callerLocation() string {
	var pcs [16]uintptr
	n := runtime.Callers(2, pcs[:])
	frames := runtime.CallersFrames(pcs[:n])
	for {
		f, more := frames.Next()
		inPackage := strings.HasPrefix(f.Function, "github.com/sessionkit/sessionkit/router.") &&
			!strings.HasSuffix(f.File, "_test.go")
		if !inPackage && f.File != "" {
			return fmt.Sprintf("%s:%d", f.File, f.Line)
		}
		if !more {
			return "unknown"
		}
	}
}

// mountKey is the context key under which a parent router passes *mountInfo to
// a mounted *Router.
type mountKey struct{}
