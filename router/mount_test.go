package router_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

// showURL answers with what a mounted handler sees.
func showURL(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "path=%q raw=%q pattern=%q", r.URL.Path, r.URL.RawPath, r.Pattern)
}

// T-RT6: the mounted handler sees the stripped path, as with http.StripPrefix.
func TestMountStripsPrefix(t *testing.T) {
	r := router.New()
	r.Mount("/api", http.HandlerFunc(showURL))
	r.Mount("/esc/", http.HandlerFunc(showURL)) // a trailing slash on the prefix is the same prefix

	tests := []struct{ target, want string }{
		{"/api", `path="/" raw="" pattern="/api"`},
		{"/api/", `path="/" raw="" pattern="/api/"`},
		{"/api/users", `path="/users" raw="" pattern="/api/"`},
		{"/api/users/7?x=1", `path="/users/7" raw="" pattern="/api/"`},
		{"/api/a%2Fb/c", `path="/a/b/c" raw="/a%2Fb/c" pattern="/api/"`},
		{"/api/%C3%BC", `path="/ü" raw="" pattern="/api/"`},
		{"/esc/x%2Fy", `path="/x/y" raw="/x%2Fy" pattern="/esc/"`},
		{"/esc", `path="/" raw="" pattern="/esc"`},
	}
	for _, tc := range tests {
		if rec := serve(r, "GET", tc.target); rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("%s: got %d %s, want %s", tc.target, rec.Code, rec.Body.String(), tc.want)
		}
	}
	if rec := serve(r, "GET", "/apix"); rec.Code != 404 {
		t.Errorf("/apix: got %d, want 404", rec.Code)
	}
	// Every method reaches a mount.
	for _, m := range []string{"POST", "DELETE", "PROPFIND"} {
		if rec := serve(r, m, "/api/x"); rec.Code != 200 {
			t.Errorf("%s: got %d", m, rec.Code)
		}
	}
}

// The original request is not modified: the mounted handler gets a copy.
func TestMountDoesNotModifyRequest(t *testing.T) {
	r := router.New()
	r.Mount("/api", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		req.URL.Path = "/changed"
	}))
	req := httptest.NewRequest("GET", "/api/a%2Fb", nil)
	r.ServeHTTP(httptest.NewRecorder(), req)
	if req.URL.Path != "/api/a/b" || req.URL.RawPath != "/api/a%2Fb" {
		t.Errorf("request changed: %q %q", req.URL.Path, req.URL.RawPath)
	}
}

// "registers routes below a route pattern prefix with params", "uses the
// right-most param when mounted and child routes share a param name", and a
// %2F in a parent's parameter.
func TestMountParams(t *testing.T) {
	users := router.New()
	users.Get("/users/{id}", echoParams("org", "id"))
	users.Get("/settings", echoParams("org", "id"))
	r := router.New()
	r.Mount("/orgs/{org}", users)
	r.Mount("/teams/{id}", users)
	r.Mount("/plain/{org}/x", http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "org=%q path=%q", req.PathValue("org"), req.URL.Path)
	}))

	tests := []struct{ target, want string }{
		{"/orgs/acme/users/123", `GET /users/{id} org="acme" id="123"`},
		{"/orgs/acme/settings", `GET /settings org="acme" id=""`},
		{"/orgs/a%2Fb/users/c%2Fd", `GET /users/{id} org="a/b" id="c/d"`},
		{"/teams/t1/users/u1", `GET /users/{id} org="" id="u1"`}, // the child's id wins
		{"/teams/t1/settings", `GET /settings org="" id="t1"`},   // the parent's id shows through
		{"/plain/acme/x/y", `org="acme" path="/y"`},
		{"/plain/acme/x", `org="acme" path="/"`},
	}
	for _, tc := range tests {
		if rec := serve(r, "GET", tc.target); rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("%s: got %d %s, want %s", tc.target, rec.Code, rec.Body.String(), tc.want)
		}
	}
}

// "composes nested mount prefixes" and "preserves router, controller, and
// action middleware order".
func TestNestedMounts(t *testing.T) {
	var log []string
	tag := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log = append(log, name+":"+r.URL.Path)
				next.ServeHTTP(w, r)
				log = append(log, "/"+name)
			})
		}
	}
	v1 := router.New()
	v1.Use(tag("v1"))
	v1.Get("/status/{check}", echoParams("tenant", "check"), tag("route"))
	v1.Get("/dir/", text("dir"))

	api := router.New()
	api.Use(tag("api"))
	api.Mount("/v1", v1)

	r := router.New()
	r.Use(tag("root"))
	r.Group(func(g *router.Router) {
		g.Use(tag("group"))
		g.Mount("/t/{tenant}/api", api)
	})

	rec := serve(r, "GET", "/t/acme/api/v1/status/db")
	if want := `GET /status/{check} tenant="acme" check="db"`; rec.Body.String() != want {
		t.Errorf("got %q, want %q", rec.Body.String(), want)
	}
	want := "root:/t/acme/api/v1/status/db group:/t/acme/api/v1/status/db api:/v1/status/db v1:/status/db route:/status/db /route /v1 /api /group /root"
	if got := strings.Join(log, " "); got != want {
		t.Errorf("order:\n got %s\nwant %s", got, want)
	}

	// A redirect made by the innermost ServeMux keeps both prefixes.
	rec = serve(r, "GET", "/t/a%20b/api/v1/dir?q=1")
	if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/t/a%20b/api/v1/dir/?q=1" {
		t.Errorf("redirect: got %d %q", rec.Code, rec.Header().Get("Location"))
	}
	if body := rec.Body.String(); body != "<a href=\"/t/a%20b/api/v1/dir/?q=1\">Temporary Redirect</a>.\n\n" {
		t.Errorf("redirect body: %q", body)
	}
}

// "shares matcher specificity between parent and mounted routes" and "lets
// existing middleware short-circuit mounted handlers".
func TestMountSpecificityAndShortCircuit(t *testing.T) {
	child := router.New()
	child.Get("/{id}", echoParams("id"))
	r := router.New()
	r.Get("/api/health", text("healthy"))
	r.Group(func(g *router.Router) {
		g.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.Header.Get("Authorization") == "" {
					http.Error(w, "Unauthorized", http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, req)
			})
		})
		g.Mount("/api", child)
	})
	if rec := serve(r, "GET", "/api/health"); rec.Body.String() != "healthy" {
		t.Errorf("static parent route: got %d %q", rec.Code, rec.Body.String())
	}
	if rec := serve(r, "GET", "/api/7"); rec.Code != 401 {
		t.Errorf("short-circuit: got %d %q", rec.Code, rec.Body.String())
	}
	req := httptest.NewRequest("GET", "/api/7", nil)
	req.Header.Set("Authorization", "x")
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, req)
	if rec.Body.String() != `GET /{id} id="7"` {
		t.Errorf("mounted: got %d %q", rec.Code, rec.Body.String())
	}
}

// T-RT2 for mounts: "uses the parent default handler for unknown mounted paths",
// through two levels, and a child's own handler wins.
func TestMountInheritsNotFound(t *testing.T) {
	inner := router.New()
	inner.Get("/only-get", text("inner"))
	mid := router.New()
	mid.Mount("/inner", inner)
	own := router.New()
	own.Get("/x", text("x"))
	own.NotFound(func(w http.ResponseWriter, req *http.Request) {
		http.Error(w, "own 404 "+req.URL.Path, http.StatusNotFound)
	})

	r := router.New()
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		http.Error(w, "Not Found: "+req.URL.Path, http.StatusNotFound)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		http.Error(w, "parent 405 "+w.Header().Get("Allow"), http.StatusMethodNotAllowed)
	})
	r.Mount("/mid", mid)
	r.Mount("/own", own)

	tests := []struct {
		method, target string
		code           int
		body, allow    string
	}{
		{"GET", "/nope", 404, "Not Found: /nope\n", ""},
		{"GET", "/mid/nope", 404, "Not Found: /nope\n", ""},
		{"GET", "/mid/inner/nope", 404, "Not Found: /nope\n", ""},
		{"POST", "/mid/inner/only-get", 405, "parent 405 GET, HEAD\n", "GET, HEAD"},
		{"GET", "/own/nope", 404, "own 404 /nope\n", ""},
		{"POST", "/own/x", 405, "parent 405 GET, HEAD\n", "GET, HEAD"},
	}
	for _, tc := range tests {
		rec := serve(r, tc.method, tc.target)
		if rec.Code != tc.code || rec.Body.String() != tc.body || rec.Header().Get("Allow") != tc.allow {
			t.Errorf("%s %s: got %d %q Allow %q", tc.method, tc.target, rec.Code, rec.Body.String(), rec.Header().Get("Allow"))
		}
	}
	// The same child served on its own uses the defaults.
	if rec := serve(inner, "GET", "/nope"); rec.Body.String() != "404 page not found\n" {
		t.Errorf("unmounted: got %q", rec.Body.String())
	}
}

// A ServeMux, an http.StripPrefix-style handler and a file server mount as well.
func TestMountPlainHandlers(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /hello/{name}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello %s (%s)", r.PathValue("name"), r.PathValue("v"))
	})
	r := router.New()
	r.Mount("/mux/{v}", mux)
	rec := serve(r, "GET", "/mux/v2/hello/ada")
	if rec.Body.String() != "hello ada (v2)" {
		t.Errorf("ServeMux: got %d %q", rec.Code, rec.Body.String())
	}

	// The root mount receives everything no route matches, unchanged.
	root := router.New()
	root.Get("/api", text("api"))
	root.Mount("/", http.HandlerFunc(showURL))
	if rec := serve(root, "GET", "/a/b"); rec.Body.String() != `path="/a/b" raw="" pattern="/"` {
		t.Errorf("root mount: got %q", rec.Body.String())
	}
	if rec := serve(root, "GET", "/api"); rec.Body.String() != "api" {
		t.Errorf("root mount route: got %q", rec.Body.String())
	}
}

// A mounted router's writer reaches route handlers untouched, so type
// assertions such as http.Flusher keep working below a mount.
func TestMountKeepsResponseWriter(t *testing.T) {
	var got http.ResponseWriter
	child := router.New()
	child.Get("/x", func(w http.ResponseWriter, r *http.Request) { got = w; io.WriteString(w, "x") })
	r := router.New()
	r.Mount("/c", child)
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/c/x", nil))
	if got != http.ResponseWriter(rec) {
		t.Errorf("handler got %T, want the recorder", got)
	}
}

// A mount costs what http.StripPrefix below a ServeMux costs: the router adds
// no allocations of its own to a mounted plain handler.
func TestMountAllocationsMatchStripPrefix(t *testing.T) {
	nop := http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})
	r := router.New()
	r.Mount("/plain", nop)
	mux := http.NewServeMux()
	mux.Handle("/plain/", http.StripPrefix("/plain", nop))
	w := httptest.NewRecorder()
	req := httptest.NewRequest("GET", "/plain/x", nil)
	r.ServeHTTP(w, req)
	got := testing.AllocsPerRun(100, func() { r.ServeHTTP(w, req) })
	want := testing.AllocsPerRun(100, func() { mux.ServeHTTP(w, req) })
	if got != want {
		t.Errorf("Mount: %v allocs, ServeMux + StripPrefix: %v", got, want)
	}
}
