package router_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

// serve sends one request through h and returns the recorded response.
func serve(h http.Handler, method, target string) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(method, target, nil))
	return rec
}

// text answers with a fixed body.
func text(s string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, s) }
}

// echoParams answers with the pattern and the named path values.
func echoParams(names ...string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s", r.Pattern)
		for _, n := range names {
			fmt.Fprintf(w, " %s=%q", n, r.PathValue(n))
		}
	}
}

// mustPanic runs f and returns the panic message; it fails the test if f does not panic.
func mustPanic(t *testing.T, f func()) (msg string) {
	t.Helper()
	defer func() {
		v := recover()
		if v == nil {
			t.Fatalf("no panic")
		}
		msg = fmt.Sprint(v)
	}()
	f()
	return ""
}

// T-RT1: GET, POST and param routes; PathValue; %2F stays in one segment.
func TestRouting(t *testing.T) {
	r := router.New()
	r.Get("/{$}", text("home"))
	r.Get("/posts", text("list"))
	r.Post("/posts", text("create"))
	r.Get("/posts/{id}", echoParams("id"))
	r.Get("/posts/latest", text("latest"))
	r.Get("/files/{path...}", echoParams("path"))
	r.Get("/orgs/{org}/repos/{repo}", echoParams("org", "repo"))
	r.Get("/static/", text("static subtree"))

	tests := []struct {
		method, target string
		code           int
		body           string
	}{
		{"GET", "/", 200, "home"},
		{"GET", "/posts", 200, "list"},
		{"POST", "/posts", 200, "create"},
		{"GET", "/posts/7", 200, `GET /posts/{id} id="7"`},
		{"GET", "/posts/latest", 200, "latest"}, // more specific wins
		{"GET", "/posts/a%2Fb", 200, `GET /posts/{id} id="a/b"`},
		{"GET", "/posts/a%20b%C3%BC", 200, `GET /posts/{id} id="a bü"`},
		{"GET", "/posts/a.b", 200, `GET /posts/{id} id="a.b"`},
		{"GET", "/posts/7?x=1", 200, `GET /posts/{id} id="7"`}, // query ignored
		{"GET", "/files/a/b/c.txt", 200, `GET /files/{path...} path="a/b/c.txt"`},
		{"GET", "/files/", 200, `GET /files/{path...} path=""`},
		{"GET", "/orgs/acme/repos/web", 200, `GET /orgs/{org}/repos/{repo} org="acme" repo="web"`},
		{"GET", "/static/", 200, "static subtree"},
		{"GET", "/static/css/a.css", 200, "static subtree"},
		{"GET", "/Posts", 404, "404 page not found\n"}, // case-sensitive
		{"GET", "/posts/", 404, "404 page not found\n"},
		{"GET", "/posts/7/", 404, "404 page not found\n"},
		{"GET", "/nothing", 404, "404 page not found\n"},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			rec := serve(r, tc.method, tc.target)
			if rec.Code != tc.code || rec.Body.String() != tc.body {
				t.Errorf("got %d %q, want %d %q", rec.Code, rec.Body.String(), tc.code, tc.body)
			}
		})
	}
}

// The seven verbs of fetch-router's "fetches a route with specific method
// actions", plus Any, which "matches any request method".
func TestMethods(t *testing.T) {
	r := router.New()
	r.Get("/", text("GET"))
	r.Head("/", func(w http.ResponseWriter, r *http.Request) { w.Header().Set("X-Method", "HEAD") })
	r.Post("/", text("POST"))
	r.Put("/", text("PUT"))
	r.Patch("/", text("PATCH"))
	r.Delete("/", text("DELETE"))
	r.Options("/", text("OPTIONS"))
	r.Handle(router.Route{Method: "PROPFIND", Pattern: "/"}, text("PROPFIND"))
	for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"} {
		if rec := serve(r, m, "/"); rec.Code != 200 || rec.Body.String() != m {
			t.Errorf("%s: got %d %q", m, rec.Code, rec.Body.String())
		}
	}
	if rec := serve(r, "HEAD", "/"); rec.Header().Get("X-Method") != "HEAD" {
		t.Errorf("HEAD: explicit Head route not used: %v", rec.Header())
	}

	any := router.New()
	any.Any("/x", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.Method) })
	any.Get("/x", text("the GET route"))
	for _, m := range []string{"POST", "PUT", "PATCH", "DELETE", "OPTIONS", "PROPFIND"} {
		if rec := serve(any, m, "/x"); rec.Code != 200 || rec.Body.String() != m {
			t.Errorf("Any %s: got %d %q", m, rec.Code, rec.Body.String())
		}
	}
	if rec := serve(any, "GET", "/x"); rec.Body.String() != "the GET route" {
		t.Errorf("a method route must beat Any: got %q", rec.Body.String())
	}
}

// T-RT2: 404 and 405 are byte-for-byte ServeMux's, with Allow listing every
// method that would match, sorted and comma-joined.
func TestNotFoundAndMethodNotAllowedMatchServeMux(t *testing.T) {
	routes := []string{
		"GET /posts", "POST /posts", "GET /posts/{id}", "DELETE /posts/{id}",
		"PUT /posts/latest", "GET /tree/", "OPTIONS /opts", "PATCH /a/{x}/b",
	}
	r := router.New()
	mux := http.NewServeMux()
	for _, rt := range routes {
		method, pattern, _ := strings.Cut(rt, " ")
		r.Handle(router.Route{Method: method, Pattern: pattern}, text(rt))
		mux.Handle(rt, text(rt))
	}
	tests := []struct {
		method, target string
		code           int
		allow          string
	}{
		{"GET", "/nothing", 404, ""},
		{"PUT", "/posts", 405, "GET, HEAD, POST"},
		{"OPTIONS", "/posts", 405, "GET, HEAD, POST"},
		{"POST", "/posts/7", 405, "DELETE, GET, HEAD"},
		{"POST", "/posts/latest", 405, "DELETE, GET, HEAD, PUT"},
		{"POST", "/tree", 405, "GET, HEAD"}, // through the trailing-slash redirect
		{"POST", "/tree/x", 405, "GET, HEAD"},
		{"GET", "/opts", 405, "OPTIONS"},
		{"GET", "/a/1/b", 405, "PATCH"},
		{"PATCH", "/a/1/c", 404, ""},
		{"GET", "/tree", 307, ""},
		{"GET", "/posts/7", 200, ""},
		{"HEAD", "/posts/7", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+" "+tc.target, func(t *testing.T) {
			got, want := serve(r, tc.method, tc.target), serve(mux, tc.method, tc.target)
			if got.Code != tc.code || got.Header().Get("Allow") != tc.allow {
				t.Errorf("got %d Allow %q, want %d Allow %q", got.Code, got.Header().Get("Allow"), tc.code, tc.allow)
			}
			if got.Code != want.Code || !reflect.DeepEqual(got.Header(), want.Header()) || got.Body.String() != want.Body.String() {
				t.Errorf("differs from ServeMux:\n got %d %v %q\nwant %d %v %q",
					got.Code, got.Header(), got.Body.String(), want.Code, want.Header(), want.Body.String())
			}
		})
	}
}

func TestCustomNotFoundAndMethodNotAllowed(t *testing.T) {
	r := router.New()
	r.Get("/posts", text("list"))
	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Content-Type", "text/plain")
		w.WriteHeader(http.StatusNotFound)
		io.WriteString(w, "Not Found: "+req.URL.Path)
	})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		w.WriteHeader(http.StatusMethodNotAllowed)
		io.WriteString(w, "allowed: "+w.Header().Get("Allow"))
	})

	rec := serve(r, "GET", "/nonexistent")
	if rec.Code != 404 || rec.Body.String() != "Not Found: /nonexistent" || rec.Header().Get("Content-Type") != "text/plain" {
		t.Errorf("404: got %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	rec = serve(r, "POST", "/posts")
	if rec.Code != 405 || rec.Body.String() != "allowed: GET, HEAD" || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("405: got %d %q %v", rec.Code, rec.Body.String(), rec.Header())
	}
	// "calls defaultHandler only when no routes match"
	if rec := serve(r, "GET", "/posts"); rec.Code != 200 || rec.Body.String() != "list" {
		t.Errorf("match: got %d %q", rec.Code, rec.Body.String())
	}
}

// T-RT3: GET answers HEAD (ServeMux policy); OPTIONS is not automatic.
func TestHeadAndOptionsPolicy(t *testing.T) {
	r := router.New()
	r.Get("/page", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("X-Seen-Method", req.Method)
		io.WriteString(w, "body")
	})
	r.Options("/cors", func(w http.ResponseWriter, req *http.Request) {
		w.Header().Set("Access-Control-Allow-Methods", "GET")
		w.WriteHeader(http.StatusNoContent)
	})
	r.Get("/cors", text("cors"))

	rec := serve(r, "HEAD", "/page")
	if rec.Code != 200 || rec.Header().Get("X-Seen-Method") != "HEAD" {
		t.Errorf("HEAD on a GET route: got %d %v", rec.Code, rec.Header())
	}
	rec = serve(r, "OPTIONS", "/page")
	if rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("OPTIONS without a route: got %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
	rec = serve(r, "OPTIONS", "/cors")
	if rec.Code != 204 || rec.Header().Get("Access-Control-Allow-Methods") != "GET" {
		t.Errorf("OPTIONS with a route: got %d %v", rec.Code, rec.Header())
	}
	rec = serve(r, "POST", "/cors")
	if rec.Header().Get("Allow") != "GET, HEAD, OPTIONS" {
		t.Errorf("Allow: got %q", rec.Header().Get("Allow"))
	}

	// Over a real connection, HEAD gets the headers and no body.
	srv := httptest.NewServer(r)
	defer srv.Close()
	resp, err := http.Head(srv.URL + "/page")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || len(body) != 0 || resp.Header.Get("X-Seen-Method") != "HEAD" {
		t.Errorf("HEAD over HTTP: got %d %q %v", resp.StatusCode, body, resp.Header)
	}
}

// T-RT4: misuse panics at registration, with a message naming the routes.
func TestRegistrationPanics(t *testing.T) {
	h := text("")
	mw := func(next http.Handler) http.Handler { return next }
	tests := []struct {
		name  string
		setup func(r *router.Router)
		want  []string // substrings of the panic message
	}{
		{"duplicate route", func(r *router.Router) {
			r.Get("/posts/{id}", h)
			r.Get("/posts/{id}", h)
		}, []string{`GET /posts/{id} at `, `is already registered as GET /posts/{id} at `, "router_test.go:"}},
		{"duplicate route, other wildcard name", func(r *router.Router) {
			r.Get("/posts/{id}", h)
			r.Get("/posts/{slug}", h)
		}, []string{`GET /posts/{slug}`, `already registered as GET /posts/{id}`}},
		{"conflicting patterns", func(r *router.Router) {
			r.Get("/posts/{id}", h)
			r.Get("/posts/latest", h)
			r.Get("/{resource}/latest", h)
		}, []string{`GET /{resource}/latest at `, `conflicts with GET /posts/{id} registered at `, `"/posts/latest"`}},
		{"equivalent subtree patterns", func(r *router.Router) {
			r.Any("/static/", h)
			r.Any("/static/{path...}", h)
		}, []string{`/static/{path...} at`, `conflicts with /static/ registered at`}},
		{"Use after routes", func(r *router.Router) {
			r.Get("/", h)
			r.Use(mw)
		}, []string{"Use at ", "before the routes"}},
		{"Use after routes in a group", func(r *router.Router) {
			r.Group(func(g *router.Router) { g.Get("/", h) })
			r.Use(mw)
		}, []string{"Use at ", "before the routes"}},
		{"group Use after its routes", func(r *router.Router) {
			r.Group(func(g *router.Router) {
				g.Get("/", h)
				g.Use(mw)
			})
		}, []string{"Use at ", "before the routes"}},
		{"Use after Mount", func(r *router.Router) {
			r.Mount("/api", h)
			r.Use(mw)
		}, []string{"before the routes"}},
		{"Use after serving", func(r *router.Router) {
			serve(r, "GET", "/")
			r.Use(mw)
		}, []string{"Use at ", "already served a request"}},
		{"catch-all after serving", func(r *router.Router) {
			serve(r, "GET", "/")
			r.Any("/", h)
		}, []string{"/ at ", "already served a request"}},
		{"no leading slash", func(r *router.Router) { r.Get("posts", h) }, []string{`GET posts at `, `"posts" does not start with "/"`}},
		{"method in pattern", func(r *router.Router) { r.Get("GET /posts", h) }, []string{`does not start with "/"`}},
		{"empty pattern", func(r *router.Router) { r.Get("", h) }, []string{`does not start with "/"`}},
		{"host pattern", func(r *router.Router) { r.Get("example.com/", h) }, []string{`does not start with "/"`}},
		{"non-final catch-all", func(r *router.Router) { r.Get("/files/{path...}/edit", h) }, []string{`{path...} must be the last segment`}},
		{"non-final {$}", func(r *router.Router) { r.Get("/a/{$}/b", h) }, []string{`{$} must be the last segment`}},
		{"partial wildcard", func(r *router.Router) { r.Get("/posts/p{id}", h) }, []string{`a wildcard must be a whole segment`}},
		{"bad wildcard name", func(r *router.Router) { r.Get("/posts/{1d}", h) }, []string{`wildcard name "1d"`}},
		{"duplicate wildcard", func(r *router.Router) { r.Get("/{id}/{id}", h) }, []string{`duplicate wildcard name "id"`}},
		{"empty segment", func(r *router.Router) { r.Get("/a//b", h) }, []string{`empty segment`}},
		{"dot segment", func(r *router.Router) { r.Get("/a/../b", h) }, []string{`".." segment`}},
		{"space", func(r *router.Router) { r.Get("/a b", h) }, []string{`white space`}},
		{"lower-case method", func(r *router.Router) { r.Handle(router.Route{Method: "get", Pattern: "/"}, h) }, []string{`method "get" must be upper case`}},
		{"bad method", func(r *router.Router) { r.Handle(router.Route{Method: "GE T", Pattern: "/"}, h) }, []string{`not a valid token`}},
		{"nil handler", func(r *router.Router) { r.Get("/", nil) }, []string{"nil handler"}},
		{"nil Handle handler", func(r *router.Router) { r.Handle(router.Route{Method: "GET", Pattern: "/"}, nil) }, []string{"nil handler"}},
		{"nil middleware", func(r *router.Router) { r.Use(nil) }, []string{"middleware 0 is nil"}},
		{"nil route middleware", func(r *router.Router) { r.Get("/", h, mw, nil) }, []string{"middleware 1 is nil"}},
		{"middleware returning nil", func(r *router.Router) {
			r.Get("/", h, func(http.Handler) http.Handler { return nil })
		}, []string{"returned a nil handler"}},
		{"nil group func", func(r *router.Router) { r.Group(nil) }, []string{"nil function"}},
		{"NotFound in a group", func(r *router.Router) { r.Group(func(g *router.Router) { g.NotFound(h) }) }, []string{"router-wide"}},
		{"MethodNotAllowed in a group", func(r *router.Router) {
			r.Group(func(g *router.Router) { g.MethodNotAllowed(h) })
		}, []string{"router-wide"}},
		{"nil NotFound", func(r *router.Router) { r.NotFound(nil) }, []string{"nil handler"}},
		{"duplicate mount", func(r *router.Router) {
			r.Mount("/api", h)
			r.Mount("/api/", h)
		}, []string{`Mount("/api/") at `, `already registered as Mount("/api") at `}},
		{"mount over a route", func(r *router.Router) {
			r.Any("/api/", h)
			r.Mount("/api", h)
		}, []string{`Mount("/api")`, `already registered as /api/`}},
		{"mount with catch-all prefix", func(r *router.Router) { r.Mount("/files/{p...}", h) }, []string{"cannot end in {name...}"}},
		{"mount without leading slash", func(r *router.Router) { r.Mount("api", h) }, []string{`does not start with "/"`}},
		{"mount nil", func(r *router.Router) { r.Mount("/api", nil) }, []string{"nil handler"}},
		{"mount into itself", func(r *router.Router) { r.Mount("/api", r) }, []string{"into itself"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			msg := mustPanic(t, func() { tc.setup(router.New()) })
			if !strings.HasPrefix(msg, "router: ") {
				t.Errorf("message %q does not start with \"router: \"", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
		})
	}
}

// A failed registration leaves the router usable: the panic comes before
// anything is changed.
func TestRouterUsableAfterRegistrationPanic(t *testing.T) {
	r := router.New()
	r.Get("/a", text("a"))
	mustPanic(t, func() { r.Get("/a", text("again")) })
	mustPanic(t, func() { r.Get("/{x}", text("x")); r.Get("/{y}", text("y")) })
	if rec := serve(r, "GET", "/a"); rec.Body.String() != "a" {
		t.Errorf("got %q", rec.Body.String())
	}
}

// A user catch-all takes the place of the router's internal fallback.
func TestUserCatchAll(t *testing.T) {
	for _, pattern := range []string{"/", "/{rest...}"} {
		r := router.New()
		r.Get("/posts", text("posts"))
		r.Any(pattern, echoParams("rest"))
		if rec := serve(r, "GET", "/posts"); rec.Body.String() != "posts" {
			t.Errorf("%s: got %q", pattern, rec.Body.String())
		}
		if rec := serve(r, "POST", "/x/y"); rec.Code != 200 || !strings.HasPrefix(rec.Body.String(), pattern) {
			t.Errorf("%s: got %d %q", pattern, rec.Code, rec.Body.String())
		}
	}
}

// T-RT5: router → group → route → handler, and router middleware on 404/405.
func TestMiddlewareOrder(t *testing.T) {
	var log []string
	tag := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log = append(log, name)
				next.ServeHTTP(w, r)
				log = append(log, "/"+name)
			})
		}
	}
	handler := func(w http.ResponseWriter, r *http.Request) { log = append(log, "handler") }

	r := router.New()
	r.Use(tag("router1"), tag("router2"))
	r.Get("/plain", handler)
	r.Get("/route", handler, tag("route1"), tag("route2"))
	r.Group(func(g *router.Router) {
		g.Use(tag("group"))
		g.Get("/group", handler, tag("route"))
		g.Group(func(g2 *router.Router) {
			g2.Use(tag("inner"))
			g2.Get("/inner", handler, tag("route"))
		})
		g.Get("/group-after-inner", handler)
	})
	r.Get("/after-group", handler)

	tests := []struct {
		method, target string
		want           string
	}{
		{"GET", "/plain", "router1 router2 handler /router2 /router1"},
		{"GET", "/route", "router1 router2 route1 route2 handler /route2 /route1 /router2 /router1"},
		{"GET", "/group", "router1 router2 group route handler /route /group /router2 /router1"},
		{"GET", "/inner", "router1 router2 group inner route handler /route /inner /group /router2 /router1"},
		{"GET", "/group-after-inner", "router1 router2 group handler /group /router2 /router1"},
		{"GET", "/after-group", "router1 router2 handler /router2 /router1"},
		{"GET", "/missing", "router1 router2 /router2 /router1"}, // 404
		{"POST", "/plain", "router1 router2 /router2 /router1"},  // 405
		{"GET", "//plain", "router1 router2 /router2 /router1"},  // clean-path redirect
	}
	for _, tc := range tests {
		log = nil
		serve(r, tc.method, tc.target)
		if got := strings.Join(log, " "); got != tc.want {
			t.Errorf("%s %s:\n got %s\nwant %s", tc.method, tc.target, got, tc.want)
		}
	}
}

// "runs router middleware even when there are no routes"
func TestRouterMiddlewareWithoutRoutes(t *testing.T) {
	ran := false
	r := router.New()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			ran = true
			next.ServeHTTP(w, req)
		})
	})
	rec := serve(r, "GET", "/nonexistent")
	if !ran || rec.Code != 404 {
		t.Errorf("ran=%v code=%d", ran, rec.Code)
	}
}

// Route and group middleware run after routing: they see r.Pattern and PathValue.
// Router middleware runs before: it does not.
func TestMiddlewareSeesRouting(t *testing.T) {
	var seen []string
	look := func(name string) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				seen = append(seen, fmt.Sprintf("%s:%q:%q", name, r.Pattern, r.PathValue("id")))
				next.ServeHTTP(w, r)
			})
		}
	}
	r := router.New()
	r.Use(look("router"))
	r.Group(func(g *router.Router) {
		g.Use(look("group"))
		g.Get("/profile/{id}", func(http.ResponseWriter, *http.Request) {}, look("route"))
	})
	serve(r, "GET", "/profile/1")
	want := []string{`router:"":""`, `group:"GET /profile/{id}":"1"`, `route:"GET /profile/{id}":"1"`}
	if !reflect.DeepEqual(seen, want) {
		t.Errorf("got %q, want %q", seen, want)
	}
}

// "handles middleware that returns a response (short-circuits)"
func TestMiddlewareShortCircuit(t *testing.T) {
	var log []string
	mw := func(name string, block bool) func(http.Handler) http.Handler {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log = append(log, name)
				if block {
					http.Error(w, "Blocked", http.StatusForbidden)
					return
				}
				next.ServeHTTP(w, r)
			})
		}
	}
	r := router.New()
	r.Get("/", func(w http.ResponseWriter, r *http.Request) { log = append(log, "handler") },
		mw("m1", false), mw("m2", true), mw("m3", false))
	r.Get("/other", func(w http.ResponseWriter, r *http.Request) { log = append(log, "other") })
	rec := serve(r, "GET", "/")
	if rec.Code != 403 || rec.Body.String() != "Blocked\n" || strings.Join(log, " ") != "m1 m2" {
		t.Errorf("got %d %q log %v", rec.Code, rec.Body.String(), log)
	}
	// "runs only on the route it is defined on"
	log = nil
	serve(r, "GET", "/other")
	if strings.Join(log, " ") != "other" {
		t.Errorf("log %v", log)
	}
}

// "propagates errors thrown in request handlers" / "allows middleware to catch
// and handle errors from downstream": in Go, a panic.
func TestPanicsPropagate(t *testing.T) {
	r := router.New()
	r.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("Action error") })
	msg := mustPanic(t, func() { serve(r, "GET", "/boom") })
	if msg != "Action error" {
		t.Errorf("got %q", msg)
	}

	caught := router.New()
	caught.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			defer func() {
				if v := recover(); v != nil {
					http.Error(w, fmt.Sprintf("Caught: %v", v), http.StatusInternalServerError)
				}
			}()
			next.ServeHTTP(w, req)
		})
	})
	caught.Get("/boom", func(http.ResponseWriter, *http.Request) { panic("Action error") })
	rec := serve(caught, "GET", "/boom")
	if rec.Code != 500 || rec.Body.String() != "Caught: Action error\n" {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}

// fetch-router "trailing slash handling", in ServeMux terms: "/about" is exact,
// "/contact/{$}" is exact with the slash, and "/{$}" is the root alone.
func TestTrailingSlash(t *testing.T) {
	r := router.New()
	r.Get("/{$}", text("root"))
	r.Get("/about", text("about"))
	r.Get("/contact/{$}", text("contact"))
	tests := []struct {
		target   string
		code     int
		location string
	}{
		{"/", 200, ""},
		{"/about", 200, ""},
		{"/about/", 404, ""},
		{"/contact/", 200, ""},
		{"/contact", 307, "/contact/"}, // ServeMux's trailing-slash redirect
		{"/contact?q=1", 307, "/contact/?q=1"},
	}
	for _, tc := range tests {
		rec := serve(r, "GET", tc.target)
		if rec.Code != tc.code || rec.Header().Get("Location") != tc.location {
			t.Errorf("%s: got %d %q, want %d %q", tc.target, rec.Code, rec.Header().Get("Location"), tc.code, tc.location)
		}
	}
}

// T-RT7: no redirect the router makes can leave the site.
func TestNoOpenRedirect(t *testing.T) {
	sub := router.New()
	sub.Get("/tree/", text("sub tree"))
	r := router.New()
	r.Get("/tree/", text("tree"))
	r.Get("/{$}", text("root"))
	r.Get("/evil.com/", text("local evil.com"))
	r.Mount("/sub", sub)

	targets := []string{
		"//evil.com/", "//evil.com", "///evil.com/", "/\\evil.com/", "/\\evil.com", "/%5Cevil.com",
		"/%5Cevil.com/", "/%2F%2Fevil.com", "/./evil.com", "/../evil.com", "/.//evil.com",
		"/\\/evil.com/", "/%5C%5Cevil.com/", "/a/..//evil.com", "/tree", "/tree?next=//evil.com",
		"/sub/tree", "/sub//evil.com/", "/sub/%5Cevil.com", "/sub/\\evil.com", "//sub/tree",
		"/a//b%20c", "/a/./b",
	}
	check := func(t *testing.T, target string, code int, loc string) {
		t.Helper()
		if code < 300 || code > 399 {
			if loc != "" {
				t.Errorf("%s: Location %q on a %d", target, loc, code)
			}
			return
		}
		if !strings.HasPrefix(loc, "/") || strings.HasPrefix(loc, "//") || strings.HasPrefix(loc, "/\\") ||
			strings.Contains(loc, "evil.com") && strings.Contains(loc, "://") {
			t.Errorf("%s: unsafe Location %q", target, loc)
		}
	}
	for _, target := range targets {
		for _, method := range []string{"GET", "POST"} {
			req := httptest.NewRequest(method, target, nil)
			req.Host = "evil.com"
			rec := httptest.NewRecorder()
			r.ServeHTTP(rec, req)
			check(t, method+" "+target, rec.Code, rec.Header().Get("Location"))
		}
	}

	// Exact Locations: path only, cleaned, escaped once, prefix kept below a mount.
	exact := []struct{ target, location string }{
		{"//evil.com/", "/evil.com/"},
		{"///evil.com/", "/evil.com/"},
		{"/./evil.com", "/evil.com"},
		{"/tree", "/tree/"},
		{"/tree?next=//evil.com", "/tree/?next=//evil.com"},
		{"/sub/tree", "/sub/tree/"},
		{"/sub//tree/", "/sub/tree/"},
		{"/a//b%20c", "/a/b%20c"},
		{"/a/b/../c?x=1", "/a/c?x=1"},
	}
	for _, tc := range exact {
		req := httptest.NewRequest("GET", tc.target, nil)
		req.Host = "evil.com"
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		if rec.Code != http.StatusTemporaryRedirect || rec.Header().Get("Location") != tc.location {
			t.Errorf("%s: got %d %q, want 307 %q", tc.target, rec.Code, rec.Header().Get("Location"), tc.location)
		}
	}
	// Backslashes never redirect: they are not path separators to Go.
	for _, target := range []string{"/\\evil.com/", "/%5Cevil.com", "/sub/%5Cevil.com"} {
		if rec := serve(r, "GET", target); rec.Code != 404 {
			t.Errorf("%s: got %d %q", target, rec.Code, rec.Header().Get("Location"))
		}
	}

	// The same over a real connection, with raw request lines that no client
	// library would normalise.
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, target := range targets {
		code, loc := rawGet(t, srv.Listener.Addr().String(), target, "evil.com")
		check(t, "raw "+target, code, loc)
	}
}

// rawGet sends a hand-written HTTP/1.1 request and returns status and Location.
func rawGet(t *testing.T, addr, target, host string) (int, string) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprintf(conn, "GET %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n\r\n", target, host)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatalf("%s: %v", target, err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header.Get("Location")
}

// T-RT8: concurrent requests never see each other's parameters.
func TestConcurrentRequests(t *testing.T) {
	sub := router.New()
	sub.Get("/items/{item}", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "%s/%s/%s", r.PathValue("org"), r.PathValue("item"), r.URL.Path)
	})
	r := router.New()
	r.Use(func(next http.Handler) http.Handler { return next })
	r.Get("/posts/{id}", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, r.PathValue("id")) })
	r.Mount("/orgs/{org}", sub)

	var wg sync.WaitGroup
	errs := make(chan string, 100)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 300; i++ {
				id := fmt.Sprintf("%d-%d", g, i)
				if rec := serve(r, "GET", "/posts/"+id); rec.Body.String() != id {
					errs <- fmt.Sprintf("posts: got %q want %q", rec.Body.String(), id)
					return
				}
				want := fmt.Sprintf("o%d/%s//items/%s", g, id, id)
				if rec := serve(r, "GET", fmt.Sprintf("/orgs/o%d/items/%s", g, id)); rec.Body.String() != want {
					errs <- fmt.Sprintf("mount: got %q want %q", rec.Body.String(), want)
					return
				}
				if rec := serve(r, "PUT", "/posts/"+id); rec.Code != 405 {
					errs <- fmt.Sprintf("405: got %d", rec.Code)
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// The first request registers the router's fallback; racing first requests
// must not trip the race detector or double-register.
func TestConcurrentFirstRequests(t *testing.T) {
	r := router.New()
	r.Get("/a", text("a"))
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := serve(r, "GET", "/b"); rec.Code != 404 {
				t.Errorf("got %d", rec.Code)
			}
		}()
	}
	wg.Wait()
}

// The router adds no allocations to a matched request.
func TestNoAllocations(t *testing.T) {
	if testing.Short() {
		t.Skip("allocation counts")
	}
	r := router.New()
	r.Use(func(next http.Handler) http.Handler { return next })
	r.Get("/user/repos", func(http.ResponseWriter, *http.Request) {})
	r.Group(func(g *router.Router) {
		g.Get("/repos/{owner}/{repo}", func(http.ResponseWriter, *http.Request) {})
	})
	mux := http.NewServeMux()
	mux.HandleFunc("GET /user/repos", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /repos/{owner}/{repo}", func(http.ResponseWriter, *http.Request) {})
	w := httptest.NewRecorder()
	for _, target := range []string{"/user/repos", "/repos/a/b"} {
		req := httptest.NewRequest("GET", target, nil)
		r.ServeHTTP(w, req)
		got := testing.AllocsPerRun(100, func() { r.ServeHTTP(w, req) })
		want := testing.AllocsPerRun(100, func() { mux.ServeHTTP(w, req) })
		if got != want {
			t.Errorf("%s: %v allocs, ServeMux %v", target, got, want)
		}
	}
}

// FuzzNoOpenRedirect: whatever the request target, a redirect from the router
// (its own clean-path redirect, ServeMux's trailing-slash redirect, or one from
// a mounted router) points at a path on the same site.
func FuzzNoOpenRedirect(f *testing.F) {
	for _, s := range []string{
		"//evil.com/", "/\\evil.com/", "/%5Cevil.com", "/%2F%2Fevil.com", "/tree", "/sub/tree",
		"/sub//evil.com", "/sub/..//evil.com/", "/./\\evil.com", "/tree?//evil.com", "/%09/evil.com",
		"/sub/%2F/tree", "/ü//x", "/x/a/b", "/x/%2F%2Fevil.com/b", "/tree?\\", "http://evil.com/tree", "//", "/..", "*",
	} {
		f.Add(s)
	}
	sub := router.New()
	sub.Get("/tree/", text("sub tree"))
	sub.Get("/{x}/", text("sub x"))
	r := router.New()
	r.Get("/tree/", text("tree"))
	r.Get("/x/{a}/{b}/", text("ab"))
	r.Mount("/sub", sub)
	f.Fuzz(func(t *testing.T, target string) {
		raw := "GET " + target + " HTTP/1.1\r\nHost: evil.com\r\n\r\n"
		req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		loc := rec.Header().Get("Location")
		if rec.Code >= 300 && rec.Code < 400 || loc != "" {
			path, _, _ := strings.Cut(loc, "?")
			if !strings.HasPrefix(path, "/") || strings.HasPrefix(path, "//") || strings.ContainsAny(path, "\\\t ") ||
				strings.ContainsAny(loc, "\r\n") {
				t.Fatalf("%q: %d unsafe Location %q", target, rec.Code, loc)
			}
		}
	})
}

// "uses a Request input directly": outside a mount, the handler gets the very
// request the server passed in; the router never calls r.WithContext.
func TestHandlerGetsSameRequest(t *testing.T) {
	var got *http.Request
	r := router.New()
	r.Group(func(g *router.Router) {
		g.Use(func(next http.Handler) http.Handler { return next })
		g.Get("/posts/{id}", func(w http.ResponseWriter, req *http.Request) { got = req })
	})
	req := httptest.NewRequest("GET", "/posts/7", nil)
	r.ServeHTTP(httptest.NewRecorder(), req)
	if got != req {
		t.Errorf("handler got a different *http.Request")
	}
}
