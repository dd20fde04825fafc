package router_test

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

// header returns middleware that appends name to the X-Chain response header.
func header(name string) router.Middleware {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Add("X-Chain", name)
			next.ServeHTTP(w, r)
		})
	}
}

// Sibling groups created from the same parent never see each other's
// middleware, even when the parent's slice has spare capacity.
func TestGroupsDoNotShareMiddleware(t *testing.T) {
	r := router.New()
	r.Group(func(parent *router.Router) {
		parent.Use(header("p1"), header("p2"), header("p3")) // len 3, cap 4 after append growth
		parent.Group(func(a *router.Router) {
			a.Use(header("a"))
			a.Get("/a", text("a"))
		})
		parent.Group(func(b *router.Router) {
			b.Use(header("b"))
			b.Get("/b", text("b"))
		})
		parent.Get("/p", text("p"))
	})
	for target, want := range map[string]string{
		"/a": "p1 p2 p3 a",
		"/b": "p1 p2 p3 b",
		"/p": "p1 p2 p3",
	} {
		rec := serve(r, "GET", target)
		if got := strings.Join(rec.Header().Values("X-Chain"), " "); got != want {
			t.Errorf("%s: got %q, want %q", target, got, want)
		}
	}
}

// Group returns the group, which can keep registering routes after fn returns.
func TestGroupReturnsRouter(t *testing.T) {
	r := router.New()
	g := r.Group(func(g *router.Router) { g.Use(header("g")) })
	g.Get("/late", text("late"))
	r.Get("/plain", text("plain"))
	if got := serve(r, "GET", "/late").Header().Values("X-Chain"); len(got) != 1 || got[0] != "g" {
		t.Errorf("/late: got %q", got)
	}
	if got := serve(r, "GET", "/plain").Header().Values("X-Chain"); len(got) != 0 {
		t.Errorf("/plain: got %q", got)
	}
	// A group's ServeHTTP is the whole router's.
	if rec := serve(g, "GET", "/plain"); rec.Body.String() != "plain" {
		t.Errorf("group ServeHTTP: got %q", rec.Body.String())
	}
}

// Each middleware constructor is called once per place it is used, however
// many Use calls and requests there are.
func TestMiddlewareBuiltOnce(t *testing.T) {
	built := map[string]int{}
	mw := func(name string) router.Middleware {
		return func(next http.Handler) http.Handler { built[name]++; return next }
	}
	r := router.New()
	r.Use(mw("a"))
	r.Use(mw("b"))
	r.Use(mw("c"))
	r.Get("/", text(""), mw("route"))
	for i := 0; i < 3; i++ {
		serve(r, "GET", "/")
		serve(r, "GET", "/missing")
	}
	want := map[string]int{"a": 1, "b": 1, "c": 1, "route": 1}
	if !reflect.DeepEqual(built, want) {
		t.Errorf("constructors called %v, want %v", built, want)
	}
}

// Middleware may replace the request (r.WithContext) and the writer; routing
// and handlers see the replacements.
func TestMiddlewareReplacesRequestAndWriter(t *testing.T) {
	type key struct{}
	var buf bytes.Buffer
	r := router.New()
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			req = req.WithContext(contextWith(req, key{}, "from router"))
			next.ServeHTTP(&recordingWriter{ResponseWriter: w, w: bufio.NewWriter(&buf)}, req)
		})
	})
	r.Get("/{id}", func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "%v %s %T", req.Context().Value(key{}), req.PathValue("id"), w)
	})
	serve(r, "GET", "/7")
	if got := buf.String(); got != "from router 7 *router_test.recordingWriter" {
		t.Errorf("got %q", got)
	}
}

type recordingWriter struct {
	http.ResponseWriter
	w *bufio.Writer
}

func (rw *recordingWriter) Write(b []byte) (int, error) {
	defer rw.w.Flush()
	return rw.w.Write(b)
}

func contextWith(r *http.Request, k, v any) context.Context {
	return context.WithValue(r.Context(), k, v)
}
