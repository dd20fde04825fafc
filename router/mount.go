package router

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// Mount attaches h below prefix: requests for prefix itself and for every path
// under it, whatever their method, go to h, unless a more specific route of
// this router matches first (so a parent's GET /api/health beats Mount("/api")).
//
// h sees the path with the prefix removed, as with http.StripPrefix: for
// Mount("/api", h), "/api/users" arrives as "/users", and "/api" and "/api/"
// both arrive as "/". URL.RawPath is stripped the same way, so an escaped
// slash (%2F) stays escaped. The prefix may contain {name} wildcards
// ("/orgs/{org}"); h reads them with r.PathValue, and when h is a router whose
// own pattern uses the same name, the inner (right-most) value wins.
//
// When h is a *Router, it inherits this router's custom 404 and 405 handlers
// unless it has its own, and AutoOptions when this router has it; the
// redirects its ServeMux makes (/tree to /tree/) keep the prefix. Group
// middleware of the group Mount is called on runs before the prefix is
// stripped.
//
// Mount panics if h is nil, if prefix does not start with "/" or ends in a
// {name...} or {$} wildcard, if the prefix is already mounted or conflicts with
// a route, if a router is mounted into itself, or if either router has already
// served a request.
//
// The mounted request is a shallow copy with its own URL, as with
// http.StripPrefix, so it costs what StripPrefix costs; a mounted *Router
// also gets its mount information in the context, and a prefix with
// wildcards needs a map that carries their values.
func (r *Router) Mount(prefix string, h http.Handler) {
	where := callerLocation()
	what := fmt.Sprintf("Mount(%q)", prefix)
	if h == nil {
		panic(fmt.Sprintf("router: %s at %s: nil handler", what, where))
	}
	prefix, p := mountPrefix(prefix, what, where)
	var child *table // the mounted router's table, when h is a *Router
	if cr, ok := h.(*Router); ok {
		child = cr.t
	}
	if child == r.t {
		panic(fmt.Sprintf("router: %s at %s: cannot mount a router into itself", what, where))
	}
	r.t.begin(what, where)
	defer r.t.mu.Unlock()
	if child != nil {
		child.beginMount(what, where)
		defer child.mu.Unlock()
	}
	m := &mountHandler{h: h, parent: r.t, child: child, segments: len(p.segments)}
	r.registerMount(m, prefix, p, what, where)
	if child != nil {
		child.mounted = true
	}
	r.seal()
}

// mountPrefix drops the trailing "/" of a Mount prefix (Mount registers the
// prefix with and without it) and parses it, panicking if it is invalid or
// ends in a wildcard that would leave nothing for the mounted handler.
func mountPrefix(prefix, what, where string) (string, *pattern) {
	if prefix != "/" {
		prefix = strings.TrimSuffix(prefix, "/")
	}
	p, err := parsePattern(prefix)
	if err != nil {
		panic(fmt.Sprintf("router: %s at %s: %v", what, where, err))
	}
	if p.multi() || p.dollar {
		panic(fmt.Sprintf("router: %s at %s: a mount prefix cannot end in {name...} or {$}: the mounted handler receives the rest of the path", what, where))
	}
	return prefix, p
}

// beginMount locks the table of a router that is being mounted, whose
// mounted flag Mount sets, and panics if that router is already serving. The
// caller unlocks t.mu.
func (t *table) beginMount(what, where string) {
	t.mu.Lock()
	if t.serving.Load() {
		t.mu.Unlock()
		panic(fmt.Sprintf("router: %s at %s: the mounted router has already served a request; mount it before", what, where))
	}
}

// registerMount registers m for the prefix and every path below it: "/api"
// and "/api/", or the single catch-all "/" for the prefix "/".
func (r *Router) registerMount(m *mountHandler, prefix string, p *pattern, what, where string) {
	muxPrefix := m.muxPrefix(p)
	register := func(userPattern, muxPattern string) {
		mh := *m
		mh.pattern = userPattern
		e := &entry{what: what, mux: userPattern, where: where}
		pp, _ := parsePattern(userPattern)
		r.t.register(e, " "+pp.shape(), muxPattern, &routeHandler{chain(r.mws, &mh)})
	}
	if len(p.segments) == 0 {
		register("/", "/")
		r.t.catch = true
		return
	}
	register(prefix, muxPrefix)
	register(prefix+"/", muxPrefix+"/")
}

// muxPrefix returns the prefix pattern to register with ServeMux. ServeMux
// puts the prefix's wildcards in the request's pattern, where a mounted
// handler's own ServeMux would overwrite them, so they are registered under
// private names, recorded in m, and copied to the mounted request with
// SetPathValue, which keeps them visible below the mount.
func (m *mountHandler) muxPrefix(p *pattern) string {
	var b strings.Builder
	for _, s := range p.segments {
		b.WriteByte('/')
		if !s.wild {
			b.WriteString(url.PathEscape(s.s))
			continue
		}
		private := fmt.Sprintf("_mount%d", len(m.names))
		m.names = append(m.names, s.s)
		m.private = append(m.private, private)
		b.WriteString("{" + private + "}")
	}
	return b.String()
}

// mountHandler strips the prefix and calls the mounted handler.
type mountHandler struct {
	h        http.Handler
	parent   *table   // the router Mount was called on
	child    *table   // the mounted router, when h is a *Router
	segments int      // path segments in the prefix
	names    []string // wildcard names in the prefix
	private  []string // the names they are registered under
	pattern  string   // the prefix pattern as the user wrote it, for r.Pattern
}

func (m *mountHandler) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	u := new(url.URL)
	*u = *req.URL
	prefixPath, prefixRaw := stripSegments(u, m.segments)

	var r2 *http.Request
	if m.child != nil {
		mi := m.parent.newMountInfo(req, prefixPath, prefixRaw)
		r2 = req.WithContext(context.WithValue(req.Context(), mountKey{}, mi))
	} else {
		r2 = new(http.Request)
		*r2 = *req
	}
	r2.URL = u
	r2.Pattern = m.pattern
	for i, name := range m.names {
		r2.SetPathValue(name, req.PathValue(m.private[i]))
	}
	m.h.ServeHTTP(w, r2)
}

// stripSegments removes the first n segments from u's path, keeping Path and
// RawPath consistent, and returns what it removed (decoded, and escaped when u
// has a RawPath). Segments are counted on the escaped path, so a %2F inside a
// segment does not shift them. What remains always starts with "/".
func stripSegments(u *url.URL, n int) (prefixPath, prefixRaw string) {
	if n == 0 {
		return "", ""
	}
	if u.RawPath == "" {
		prefixPath, u.Path = splitSegments(u.Path, n)
		return prefixPath, ""
	}
	esc := u.EscapedPath()
	prefixRaw, rest := splitSegments(esc, n)
	restPath, err := url.PathUnescape(rest)
	if err != nil { // cannot happen: EscapedPath returns a valid encoding
		restPath = rest
	}
	prefixPath, err = url.PathUnescape(prefixRaw)
	if err != nil {
		prefixPath = prefixRaw
	}
	u.Path, u.RawPath = restPath, rest
	return prefixPath, prefixRaw
}

// splitSegments splits p after its first n segments: ("/a/b/c", 2) gives
// ("/a/b", "/c"); when nothing is left the rest is "/".
func splitSegments(p string, n int) (prefix, rest string) {
	i := 0
	for ; n > 0; n-- {
		j := strings.IndexByte(p[i+1:], '/')
		if j < 0 {
			return p, "/"
		}
		i += 1 + j
	}
	return p[:i], p[i:]
}

// mountInfo travels in the context of a request that a parent router passes
// to a mounted *Router.
type mountInfo struct {
	outer                 *mountInfo  // the parent's own mount, when it is mounted too
	prefixPath, prefixRaw string      // what this mount stripped
	fallbacks                         // the parent's, completed by the routers above it
	w                     mountWriter // allocated with the info, used by the child's dispatch
}

// newMountInfo returns what t, the parent router, passes with req to the
// router mounted in it.
func (t *table) newMountInfo(req *http.Request, prefixPath, prefixRaw string) *mountInfo {
	mi := &mountInfo{outer: t.mountOf(req), prefixPath: prefixPath, prefixRaw: prefixRaw, fallbacks: t.fallbacks}
	if mi.outer != nil {
		mi.fallbacks = mi.fallbacks.under(mi.outer.fallbacks)
	}
	mi.w.info = mi
	return mi
}

// escapedPrefix is the whole path stripped above the mounted router, escaped.
func (mi *mountInfo) escapedPrefix() string {
	p := mi.prefixRaw
	if p == "" && mi.prefixPath != "" {
		p = (&url.URL{Path: mi.prefixPath}).EscapedPath()
	}
	if mi.outer != nil {
		return mi.outer.escapedPrefix() + p
	}
	return p
}

// mountWriter wraps the ResponseWriter that a mounted router gives its
// ServeMux. Route handlers and the 404/405 fallback unwrap it at once, so the
// only responses that go through it are the ones ServeMux writes itself: its
// trailing-slash redirects, whose Location ServeMux builds from the stripped
// path. mountWriter puts the prefix back, so "/api/tree" redirects to
// "/api/tree/" rather than "/tree/".
type mountWriter struct {
	http.ResponseWriter
	req        *http.Request
	info       *mountInfo
	redirected bool
}

func (w *mountWriter) WriteHeader(code int) {
	if !w.redirected && code >= 300 && code < 400 {
		if loc := w.Header().Get("Location"); strings.HasPrefix(loc, "/") {
			w.redirected = true
			w.Header().Del("Content-Type") // so that http.Redirect writes its own body
			http.Redirect(w.ResponseWriter, w.req, safeLocation(w.info.escapedPrefix()+loc), code)
			return
		}
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *mountWriter) Write(b []byte) (int, error) {
	if w.redirected { // the body ServeMux wrote names the stripped path; http.Redirect wrote ours
		return len(b), nil
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *mountWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
