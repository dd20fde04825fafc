package router

import (
	"fmt"
	"net/http"
)

// Middleware is the standard net/http middleware shape: it takes the next
// handler and returns a handler that runs code around it. Any middleware written
// for net/http works here unchanged, session middleware included.
type Middleware = func(http.Handler) http.Handler

// Use appends router-wide middleware when called on the router returned by
// [New]: it runs first, before routing, on every request, including those that
// end in 404, 405 or a path-cleaning redirect. Called on a group (see
// [Router.Group]) it appends middleware for the routes of that group only.
//
// Middleware runs in the order given: the first one is the outermost. Each
// constructor is called once: a group's when a route is registered, the
// router-wide ones when the router serves its first request (a constructor
// that returns nil panics then).
//
// Use panics if a route has already been registered on this router or group
// (the route would silently miss the middleware), if the router has already
// served a request, or if a middleware is nil.
func (r *Router) Use(mw ...Middleware) {
	where := callerLocation()
	checkMiddleware("Use", where, mw)
	r.t.begin("Use", where)
	defer r.t.mu.Unlock()
	if r.sealed {
		panic(fmt.Sprintf("router: Use at %s: all middleware must be added before the routes of this router or group are registered", where))
	}
	if r.group {
		r.mws = append(r.mws, mw...)
		return
	}
	r.t.mws = append(r.t.mws, mw...)
}

// checkMiddleware panics if one of mws is nil; what names the setup call and
// where is the user's call site.
func checkMiddleware(what, where string, mws []Middleware) {
	for i, m := range mws {
		if m == nil {
			panic(fmt.Sprintf("router: %s at %s: middleware %d is nil", what, where, i))
		}
	}
}

// chain wraps h in mws so that mws[0] runs first. Each middleware is called
// once: route and group middleware when the route is registered, router-wide
// middleware when the router serves its first request.
func chain(mws []Middleware, h http.Handler) http.Handler {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
		if h == nil {
			panic(fmt.Sprintf("router: middleware %d returned a nil handler", i))
		}
	}
	return h
}

// concat returns a new slice holding a then b, never sharing a's array, so that
// groups created from the same parent cannot overwrite each other's middleware.
func concat(a, b []Middleware) []Middleware {
	out := make([]Middleware, 0, len(a)+len(b))
	return append(append(out, a...), b...)
}
