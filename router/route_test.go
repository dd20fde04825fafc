package router_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"regexp"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

func TestHref(t *testing.T) {
	tests := []struct {
		pattern string
		params  router.Params
		want    string
	}{
		{"/", nil, "/"},
		{"/{$}", nil, "/"},
		{"/posts", nil, "/posts"},
		{"/posts/", router.Params{}, "/posts/"},
		{"/posts/{$}", nil, "/posts/"},
		{"/posts/{id}", router.Params{"id": "7"}, "/posts/7"},
		{"/posts/{id}/edit", router.Params{"id": "7"}, "/posts/7/edit"},
		{"/posts/{id}", router.Params{"id": "a/b"}, "/posts/a%2Fb"},
		{"/posts/{id}", router.Params{"id": "a?b#c%d e"}, "/posts/a%3Fb%23c%25d%20e"},
		{"/posts/{id}", router.Params{"id": "ü"}, "/posts/%C3%BC"},
		{"/posts/{id}", router.Params{"id": "a;b,c"}, "/posts/a%3Bb%2Cc"},
		{"/posts/{id}", router.Params{"id": "a:b@c$d&e=f+g"}, "/posts/a:b@c$d&e=f+g"},
		{"/posts/{id}", router.Params{"id": ".x"}, "/posts/.x"},
		{"/posts/{id}", router.Params{"id": "..."}, "/posts/..."},
		{"/posts/{id}", router.Params{"id": "\x00\xff"}, "/posts/%00%FF"},
		{"/orgs/{org}/repos/{repo}", router.Params{"org": "acme", "repo": "web"}, "/orgs/acme/repos/web"},
		{"/files/{path...}", router.Params{"path": "a/b c/d.txt"}, "/files/a/b%20c/d.txt"},
		{"/files/{path...}", router.Params{"path": ""}, "/files/"},
		{"/files/{path...}", router.Params{"path": "dir/"}, "/files/dir/"},
		{"/files/{path...}", router.Params{"path": "a?/b#/ü"}, "/files/a%3F/b%23/%C3%BC"},
		{"/caf%C3%A9/{id}", router.Params{"id": "1"}, "/caf%C3%A9/1"},
		{"/café/{id}", router.Params{"id": "1"}, "/caf%C3%A9/1"},
		{"/a%2Fb", nil, "/a%2Fb"},
	}
	for _, tc := range tests {
		got, err := router.Route{Method: "GET", Pattern: tc.pattern}.Href(tc.params)
		if err != nil || got != tc.want {
			t.Errorf("Href(%q, %v) = %q, %v; want %q", tc.pattern, tc.params, got, err, tc.want)
		}
	}
}

func TestHrefErrors(t *testing.T) {
	tests := []struct {
		pattern string
		params  router.Params
		err     error
		msg     string
	}{
		{"/posts/{id}", nil, router.ErrMissingParam, `router: href "/posts/{id}": missing parameter "id"`},
		{"/a/{x}/{y}", router.Params{"x": "1"}, router.ErrMissingParam, `router: href "/a/{x}/{y}": missing parameter "y"`},
		{"/posts", router.Params{"id": "1"}, router.ErrUnknownParam, `router: href "/posts": unknown parameter "id"`},
		{"/posts/{id}", router.Params{"id": "1", "b": "", "a": ""}, router.ErrUnknownParam, `router: href "/posts/{id}": unknown parameter "a", "b"`},
		{"/posts/{id}", router.Params{"id": ""}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: empty segment`},
		{"/posts/{id}", router.Params{"id": "."}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: "." segment`},
		{"/posts/{id}", router.Params{"id": ".."}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: ".." segment`},
		{"/posts/{id}", router.Params{"id": "/"}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: a segment of just "/"`},
		{"/a/%2F", nil, router.ErrInvalidPattern, `router: href "/a/%2F": invalid pattern: "/a/%2F" has a segment of just %2F, which ServeMux reads as a trailing slash`},
		{"/files/{p...}", router.Params{"p": "/abs"}, router.ErrInvalidParam, `router: href "/files/{p...}": parameter "p": invalid parameter value: empty segment`},
		{"/files/{p...}", router.Params{"p": "a//b"}, router.ErrInvalidParam, `router: href "/files/{p...}": parameter "p": invalid parameter value: empty segment`},
		{"/files/{p...}", router.Params{"p": "a/../b"}, router.ErrInvalidParam, `router: href "/files/{p...}": parameter "p": invalid parameter value: ".." segment`},
		{"/posts/{id}", router.Params{"id": "a/../b"}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: ".." segment`},
		{"/posts/{id}", router.Params{"id": `..\x`}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: ".." segment`},
		{"/posts/{id}", router.Params{"id": "./"}, router.ErrInvalidParam, `router: href "/posts/{id}": parameter "id": invalid parameter value: "." segment`},
		{"/files/{p...}", router.Params{"p": `a/x\.\y`}, router.ErrInvalidParam, `router: href "/files/{p...}": parameter "p": invalid parameter value: "." segment`},
		{"/files/{p...}", router.Params{"p": "./a"}, router.ErrInvalidParam, `router: href "/files/{p...}": parameter "p": invalid parameter value: "." segment`},
		{"/files/{p...}", router.Params{"p": "/"}, router.ErrInvalidParam, `router: href "/files/{p...}": parameter "p": invalid parameter value: empty segment`},
		{"posts", nil, router.ErrInvalidPattern, `router: href "posts": invalid pattern: "posts" does not start with "/" (put the method in Route.Method; hosts are not supported)`},
		{"/{a...}/b", nil, router.ErrInvalidPattern, `router: href "/{a...}/b": invalid pattern: "/{a...}/b": {a...} must be the last segment`},
		{"/x{a}", nil, router.ErrInvalidPattern, `router: href "/x{a}": invalid pattern: "/x{a}": a wildcard must be a whole segment, as in /{name}`},
	}
	for _, tc := range tests {
		_, err := router.Route{Pattern: tc.pattern}.Href(tc.params)
		if !errors.Is(err, tc.err) || err.Error() != tc.msg {
			t.Errorf("Href(%q, %v):\n got %v\nwant %s (%v)", tc.pattern, tc.params, err, tc.msg, tc.err)
		}
	}
	func() {
		defer func() {
			if v := recover(); v == nil || !errors.Is(v.(error), router.ErrMissingParam) {
				t.Errorf("MustHref: recovered %v", v)
			}
		}()
		router.Route{Pattern: "/{id}"}.MustHref(nil)
	}()
}

func TestRouteString(t *testing.T) {
	if s := (router.Route{Method: "GET", Pattern: "/posts/{id}"}).String(); s != "GET /posts/{id}" {
		t.Errorf("got %q", s)
	}
	if s := (router.Route{Pattern: "/x"}).String(); s != "/x" {
		t.Errorf("got %q", s)
	}
}

// wildcardRE finds the names in a pattern; enough for the patterns used here.
var wildcardRE = regexp.MustCompile(`\{([A-Za-z_][A-Za-z0-9_]*)(?:\.\.\.)?\}`)

// roundTrip registers route on a fresh router, requests href through a real
// request parser, and returns the path values the handler saw, or ok=false if
// the route's handler did not run.
func roundTrip(t testing.TB, route router.Route, href string) (router.Params, bool) {
	t.Helper()
	var got router.Params
	r := router.New()
	r.Handle(route, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		got = router.Params{}
		for _, m := range wildcardRE.FindAllStringSubmatch(route.Pattern, -1) {
			got[m[1]] = req.PathValue(m[1])
		}
	}))
	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest(route.Method, href, nil))
	return got, got != nil
}

// A link built by Href routes back to its route with the same parameters.
func TestHrefRoundTrip(t *testing.T) {
	tests := []struct {
		pattern string
		params  router.Params
	}{
		{"/posts/{id}", router.Params{"id": "7"}},
		{"/posts/{id}", router.Params{"id": "a/b?c#d%e f ü"}},
		{"/posts/{id}", router.Params{"id": "%2F"}},
		{"/posts/{id}", router.Params{"id": "/a"}},
		{"/posts/{id}", router.Params{"id": "a/"}},
		{"/posts/{id}", router.Params{"id": "a/..b/c."}},
		{"/posts/{id}", router.Params{"id": ".well-known"}},
		{"/posts/{id}", router.Params{"id": "//evil.com"}},
		{"/posts/{id}", router.Params{"id": `\evil.com`}},
		{"/posts/{id}", router.Params{"id": "\x00\x7f\xff"}},
		{"/posts/{id}", router.Params{"id": "+&=;,:@$!*'()[]"}},
		{"/orgs/{org}/repos/{repo}/edit", router.Params{"org": "a b", "repo": "c/d"}},
		{"/files/{path...}", router.Params{"path": "a/b c/d?.txt"}},
		{"/files/{path...}", router.Params{"path": "a%2Fb/ü/"}},
		{"/files/{path...}", router.Params{"path": ""}},
		{"/x/{a}/{rest...}", router.Params{"a": "?", "rest": "#/%/ "}},
		{"/caf%C3%A9/{id}/{$}", router.Params{"id": "é"}},
	}
	for _, tc := range tests {
		route := router.Route{Method: "GET", Pattern: tc.pattern}
		href, err := route.Href(tc.params)
		if err != nil {
			t.Errorf("%s %v: %v", tc.pattern, tc.params, err)
			continue
		}
		got, ok := roundTrip(t, route, href)
		if !ok || !reflect.DeepEqual(got, tc.params) {
			t.Errorf("%s: Href %q routed to %v (handler ran: %v), want %v", tc.pattern, href, got, ok, tc.params)
		}
	}
}

// FuzzHref: Href never panics, and whatever it builds routes back to the same
// route with the same parameters.
func FuzzHref(f *testing.F) {
	seeds := []struct{ pattern, a, b string }{
		{"/posts/{a}", "7", ""},
		{"/posts/{a}", "a/b?c#d%e f ü", ""},
		{"/posts/{a}", ".", ""},
		{"/posts/{a}", "..", ""},
		{"/posts/{a}", "", ""},
		{"/posts/{a}", "%2F%2E%2E", ""},
		{"/{b}", "", "/"},
		{"/a/%2F/{a}", "x", ""},
		{"/posts/{a}/c/{b}", "x", "y"},
		{"/files/{b...}", "", "a/b/c"},
		{"/files/{b...}", "", "a//b"},
		{"/files/{b...}", "", "/etc/passwd"},
		{"/files/{b...}", "", "a/./b/"},
		{"/files/{b...}", "", "\\evil.com/"},
		{"/{a}/{b...}", "ü", "ü/ü"},
		{"/{a}/{$}", "x", ""},
		{"/", "", ""},
		{"/static/", "", ""},
		{"/x{a}", "1", ""},
		{"/{a...}/b", "1", ""},
		{"/{$}/{a}", "", ""},
		{"//", "", ""},
		{"/a b/{a}", "", ""},
		{"/%zz/{a}", "x", ""},
		{"/{a}/{a}", "1", "2"},
		{"", "", ""},
		{"/\x00/{a}", "\xff", ""},
	}
	for _, s := range seeds {
		f.Add(s.pattern, s.a, s.b)
	}
	f.Fuzz(func(t *testing.T, pattern, a, b string) {
		route := router.Route{Method: "GET", Pattern: pattern}
		all := router.Params{"a": a, "b": b}
		params := router.Params{}
		for _, m := range wildcardRE.FindAllStringSubmatch(pattern, -1) {
			if v, ok := all[m[1]]; ok {
				params[m[1]] = v
			}
		}
		href, err := route.Href(params) // must not panic
		if err != nil {
			return
		}
		// Only patterns that the router accepts can be routed back.
		registered := func() (ok bool) {
			defer func() {
				if recover() != nil {
					ok = false
				}
			}()
			router.New().Handle(route, http.NotFoundHandler())
			return true
		}()
		if !registered {
			return
		}
		if len(params) != len(wildcardRE.FindAllString(pattern, -1)) {
			return // a wildcard name outside a and b: Href must have failed
		}
		got, ok := roundTrip(t, route, href)
		if !ok || !reflect.DeepEqual(got, params) {
			t.Fatalf("pattern %q params %q: Href %q routed to %q (handler ran: %v)", pattern, params, href, got, ok)
		}
	})
}
