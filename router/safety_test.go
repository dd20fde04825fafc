package router_test

import (
	"bufio"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

// Encoded dot segments never reach a handler: /files/%2E%2E would give
// {name} = ".." and /files/..%2F..%2Fetc%2Fpasswd would give
// "../../etc/passwd" (plain ServeMux passes both through).
func TestDotSegmentsRejected(t *testing.T) {
	var called []string
	record := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			called = append(called, name+" "+r.URL.Path)
			fmt.Fprintf(w, "%s name=%q rest=%q", name, r.PathValue("name"), r.PathValue("rest"))
		}
	}
	sub := router.New()
	sub.Get("/{name}", record("sub"))
	r := router.New()
	r.Get("/files/{name}", record("file"))
	r.Get("/raw/{rest...}", record("raw"))
	r.Mount("/sub", sub)
	r.Mount("/static", http.StripPrefix("", record("static")))

	bad := []string{
		"/files/%2E%2E",
		"/files/%2e%2e",
		"/files/%2E",
		"/files/.%2E",
		"/files/..%2F..%2Fetc%2Fpasswd",
		"/files/..%2f",
		"/files/a%2F..%2Fb",
		"/files/..%5C..%5Cwindows",
		"/files/a%5C..",
		"/files/a%5C.%5Cb",
		"/raw/a/%2E%2E/b",
		"/raw/%2E%2E",
		"/raw/a/..%2F..%2Fetc",
		"/raw/..%5Cx",
		"/sub/%2E%2E",
		"/sub/..%2Fx",
		"/static/%2E%2E/secret",
		"/static/a/..%2F..%2Fsecret",
		"/nowhere/%2E%2E",
	}
	for _, target := range bad {
		called = nil
		for _, method := range []string{"GET", "POST"} {
			rec := serve(r, method, target)
			if rec.Code != http.StatusBadRequest || called != nil {
				t.Errorf("%s %s: got %d %q, handlers %q; want 400 and no handler", method, target, rec.Code, rec.Body.String(), called)
			}
		}
	}

	good := []struct{ target, want string }{
		{"/files/a..b", `file name="a..b" rest=""`},
		{"/files/.well-known", `file name=".well-known" rest=""`},
		{"/files/v1.2", `file name="v1.2" rest=""`},
		{"/files/...", `file name="..." rest=""`},
		{"/files/..a", `file name="..a" rest=""`},
		{"/files/a.", `file name="a." rest=""`},
		{"/files/%2E%2E%2E", `file name="..." rest=""`},
		{"/files/a%2Fb..", `file name="a/b.." rest=""`},
		{"/files/a..%5Cb", `file name="a..\\b" rest=""`},
		{"/raw/.well-known/acme-challenge/x.y", `raw name="" rest=".well-known/acme-challenge/x.y"`},
		{"/raw/v1.2/a..b/", `raw name="" rest="v1.2/a..b/"`},
		{"/sub/.well-known", `sub name=".well-known" rest=""`},
	}
	for _, tc := range good {
		if rec := serve(r, "GET", tc.target); rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("GET %s: got %d %q, want 200 %q", tc.target, rec.Code, rec.Body.String(), tc.want)
		}
	}

	// Plain dot segments are still cleaned by a redirect, not rejected.
	if rec := serve(r, "GET", "/files/../files/x"); rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != "/files/x" {
		t.Errorf("plain ..: got %d %q", rec.Code, rec.Header().Get("Location"))
	}
}

// Router-wide middleware still sees a rejected request (it runs before
// routing, as for redirects), and the 400 is not the custom 404.
func TestDotSegmentsMiddlewareSeesRequest(t *testing.T) {
	var seen string
	r := router.New()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			seen = req.URL.RawPath
			next.ServeHTTP(w, req)
		})
	})
	r.NotFound(func(w http.ResponseWriter, req *http.Request) { http.Error(w, "custom", 404) })
	rec := serve(r, "GET", "/%2E%2E")
	if rec.Code != 400 || seen != "/%2E%2E" {
		t.Errorf("got %d, middleware saw %q", rec.Code, seen)
	}
}

// AllowDotSegments is the documented opt-out: the values pass as ServeMux
// decodes them.
func TestAllowDotSegments(t *testing.T) {
	r := router.New()
	r.AllowDotSegments()
	r.Get("/files/{name}", echoParams("name"))
	r.Get("/raw/{rest...}", echoParams("rest"))
	for _, tc := range []struct{ target, want string }{
		{"/files/%2E%2E", `GET /files/{name} name=".."`},
		{"/files/..%2F..%2Fetc%2Fpasswd", `GET /files/{name} name="../../etc/passwd"`},
		{"/raw/a/%2E%2E/b", `GET /raw/{rest...} rest="a/../b"`},
	} {
		if rec := serve(r, "GET", tc.target); rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("GET %s: got %d %q, want %q", tc.target, rec.Code, rec.Body.String(), tc.want)
		}
	}
	// A mounted router keeps its own (default) setting.
	sub := router.New()
	sub.Get("/{name}", echoParams("name"))
	r2 := router.New()
	r2.AllowDotSegments()
	r2.Mount("/sub", sub)
	if rec := serve(r2, "GET", "/sub/%2E%2E"); rec.Code != 400 {
		t.Errorf("mounted router: got %d %q", rec.Code, rec.Body.String())
	}
	mustPanic(t, func() { r.Group(func(g *router.Router) { g.AllowDotSegments() }) })
}

// The path check adds no allocations, whether or not the path has dots.
func TestDotCheckNoAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	h := func(http.ResponseWriter, *http.Request) {}
	r := router.New()
	r.Get("/files/{name}", h)
	mux := http.NewServeMux()
	mux.HandleFunc("GET /files/{name}", h)
	w := httptest.NewRecorder()
	for _, target := range []string{"/files/v1.2", "/files/.well-known", "/files/a..b"} {
		req := httptest.NewRequest("GET", target, nil)
		r.ServeHTTP(w, req)
		got := testing.AllocsPerRun(100, func() { r.ServeHTTP(w, req) })
		want := testing.AllocsPerRun(100, func() { mux.ServeHTTP(w, req) })
		if got != want {
			t.Errorf("%s: %v allocs, ServeMux %v", target, got, want)
		}
	}
}

// Every setup method panics once the router has served a request, with the
// same message style as Use.
func TestSetupAfterServingPanics(t *testing.T) {
	h := text("late")
	mw := func(next http.Handler) http.Handler { return next }
	type routes struct{ Late router.Route }
	type handlers struct{ Late http.HandlerFunc }
	late := router.Route{Method: "GET", Pattern: "/late"}
	calls := []struct {
		name string
		call func(r *router.Router)
		what string
	}{
		{"Use", func(r *router.Router) { r.Use(mw) }, "Use"},
		{"Handle", func(r *router.Router) { r.Handle(late, h) }, "GET /late"},
		{"Get", func(r *router.Router) { r.Get("/late", h) }, "GET /late"},
		{"Post", func(r *router.Router) { r.Post("/late", h) }, "POST /late"},
		{"Put", func(r *router.Router) { r.Put("/late", h) }, "PUT /late"},
		{"Patch", func(r *router.Router) { r.Patch("/late", h) }, "PATCH /late"},
		{"Delete", func(r *router.Router) { r.Delete("/late", h) }, "DELETE /late"},
		{"Head", func(r *router.Router) { r.Head("/late", h) }, "HEAD /late"},
		{"Options", func(r *router.Router) { r.Options("/late", h) }, "OPTIONS /late"},
		{"Any", func(r *router.Router) { r.Any("/late", h) }, "/late"},
		{"Group", func(r *router.Router) { r.Group(func(*router.Router) {}) }, "Group"},
		{"Mount", func(r *router.Router) { r.Mount("/late", h) }, `Mount("/late")`},
		{"NotFound", func(r *router.Router) { r.NotFound(h) }, "NotFound"},
		{"MethodNotAllowed", func(r *router.Router) { r.MethodNotAllowed(h) }, "MethodNotAllowed"},
		{"AutoOptions", func(r *router.Router) { r.AutoOptions() }, "AutoOptions"},
		{"AllowDotSegments", func(r *router.Router) { r.AllowDotSegments() }, "AllowDotSegments"},
		{"Map", func(r *router.Router) { r.Map(routes{late}, handlers{h}) }, "Map"},
	}
	for _, tc := range calls {
		t.Run(tc.name, func(t *testing.T) {
			r := router.New()
			r.Get("/a", text("a"))
			var g *router.Router
			r.Group(func(x *router.Router) { g = x })
			serve(r, "GET", "/a")
			for _, target := range []*router.Router{r, g} {
				if target == g && (tc.name == "NotFound" || tc.name == "MethodNotAllowed" || tc.name == "AutoOptions" || tc.name == "AllowDotSegments") {
					continue // root only, a different panic
				}
				msg := mustPanic(t, func() { tc.call(target) })
				want := "router: " + tc.what + " at "
				if !strings.HasPrefix(msg, want) || !strings.Contains(msg, "safety_test.go:") ||
					!strings.Contains(msg, ": the router has already served a request; ") {
					t.Errorf("message %q, want %q…safety_test.go:…: the router has already served a request; …", msg, want)
				}
			}
			// Nothing was changed.
			if rec := serve(r, "GET", "/late"); rec.Code != 404 {
				t.Errorf("late route answered: %d %q", rec.Code, rec.Body.String())
			}
		})
	}

	// A router that has served cannot be mounted, and a router cannot be
	// set up through a parent after it has served alone.
	sub := router.New()
	sub.Get("/x", h)
	serve(sub, "GET", "/x")
	msg := mustPanic(t, func() { router.New().Mount("/sub", sub) })
	if !strings.Contains(msg, "the mounted router has already served a request") {
		t.Errorf("mounting a serving router: %q", msg)
	}
}

// Registering while requests are served used to race on the method table
// (addMethod against allowed) and on the 404/405 handlers; now the setup call
// panics before it writes anything, so -race has nothing to report. Run with
// -race, this test failed before the fix.
func TestSetupWhileServingDoesNotRace(t *testing.T) {
	r := router.New()
	r.Get("/posts", text("posts"))
	serve(r, "GET", "/posts") // the router is now serving

	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 4; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				serve(r, "PUT", "/posts")   // 405: reads the method table
				serve(r, "GET", "/nowhere") // 404: reads the 404 handler
			}
		}()
	}
	for i := 0; i < 200; i++ {
		mustPanic(t, func() { r.Post(fmt.Sprintf("/p%d", i), text("x")) })
		mustPanic(t, func() { r.Delete("/posts", text("x")) })
		mustPanic(t, func() { r.NotFound(text("x")) })
		mustPanic(t, func() { r.MethodNotAllowed(text("x")) })
	}
	close(stop)
	wg.Wait()
	if rec := serve(r, "PUT", "/posts"); rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("Allow changed: %q", rec.Header().Get("Allow"))
	}
}

// A setup call that runs at the same time as the first request either
// finishes before the request is routed or panics; it never races.
func TestSetupConcurrentWithFirstRequest(t *testing.T) {
	for i := 0; i < 20; i++ {
		r := router.New()
		r.Get("/a", text("a"))
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			serve(r, "PUT", "/a")
		}()
		go func() {
			defer wg.Done()
			defer func() { recover() }()
			r.Post("/a", text("post"))
		}()
		wg.Wait()
	}
}

// FuzzNoDotSegments: whatever the request target, a handler that runs sees no
// "." or ".." segment (between slashes or backslashes) in its path values or
// in the path, directly or below a mount; and a target whose decoded path has
// none is never refused for one (ServeMux's own 400 for "*" aside).
func FuzzNoDotSegments(f *testing.F) {
	for _, s := range []string{
		"/files/%2E%2E", "/files/..%2F..%2Fetc%2Fpasswd", "/raw/a/%2E%2E/b", "/sub/x/%2e", "/files/a..b",
		"/files/.well-known", "/raw/v1.2/x", "/files/..%5Cx", "/files/%2E%2E%2E", "/raw/a%5C.%5Cb", "/a/../b", "/%2E",
	} {
		f.Add(s)
	}
	var bad string
	check := func(w http.ResponseWriter, r *http.Request) {
		for _, v := range []string{r.PathValue("name"), r.PathValue("rest"), r.URL.Path} {
			for _, seg := range strings.FieldsFunc(v, func(c rune) bool { return c == '/' || c == '\\' }) {
				if seg == "." || seg == ".." {
					bad = v
				}
			}
		}
	}
	sub := router.New()
	sub.Get("/x/{rest...}", check)
	r := router.New()
	r.Get("/files/{name}", check)
	r.Get("/raw/{rest...}", check)
	r.Mount("/sub", sub)
	r.Mount("/plain", http.HandlerFunc(check))
	f.Fuzz(func(t *testing.T, target string) {
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader("GET " + target + " HTTP/1.1\r\nHost: x\r\n\r\n")))
		if err != nil {
			return
		}
		bad = ""
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if bad != "" {
			t.Fatalf("%q: a handler saw %q", target, bad)
		}
		hasDots := false
		for _, seg := range strings.FieldsFunc(req.URL.Path, func(c rune) bool { return c == '/' || c == '\\' }) {
			hasDots = hasDots || seg == "." || seg == ".."
		}
		if rec.Code == http.StatusBadRequest && strings.Contains(rec.Body.String(), "dot segment") && !hasDots {
			t.Fatalf("%q (path %q): 400 without a dot segment", target, req.URL.Path)
		}
	})
}
