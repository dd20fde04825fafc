package router_test

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/sessionkit/sessionkit/router"
)

// ShowPost is a named route: registered with Handle, linked to with Href.
var ShowPost = router.Route{Method: "GET", Pattern: "/posts/{id}"}

func ExampleRouter() {
	r := router.New()

	// Router-wide middleware runs first, on every request, even a 404.
	r.Use(func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			w.Header().Set("X-Frame-Options", "DENY")
			next.ServeHTTP(w, req)
		})
	})

	r.Get("/{$}", func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprint(w, "home")
	})
	r.Handle(ShowPost, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "post %s", req.PathValue("id"))
	}))

	// Routes in a group get the group's middleware; the others do not.
	r.Group(func(g *router.Router) {
		g.Use(func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
				if req.Header.Get("Authorization") == "" {
					http.Error(w, "login first", http.StatusUnauthorized)
					return
				}
				next.ServeHTTP(w, req)
			})
		})
		g.Delete("/posts/{id}", func(w http.ResponseWriter, req *http.Request) {
			fmt.Fprintf(w, "deleted %s", req.PathValue("id"))
		})
	})

	// A mounted handler sees the path below its prefix.
	api := router.New()
	api.Get("/users/{name}", func(w http.ResponseWriter, req *http.Request) {
		fmt.Fprintf(w, "user %s at %s", req.PathValue("name"), req.URL.Path)
	})
	r.Mount("/api", api)

	r.NotFound(func(w http.ResponseWriter, req *http.Request) {
		http.Error(w, "no page at "+req.URL.Path, http.StatusNotFound)
	})

	for _, tc := range []struct{ method, target string }{
		{"GET", "/"},
		{"GET", "/posts/7"},
		{"DELETE", "/posts/7"},
		{"PUT", "/posts/7"},
		{"GET", "/api/users/ada"},
		{"GET", "/nowhere"},
	} {
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, httptest.NewRequest(tc.method, tc.target, nil))
		body, _ := io.ReadAll(rec.Body)
		fmt.Printf("%s %s → %d %q Allow=%q\n", tc.method, tc.target, rec.Code, body, rec.Header().Get("Allow"))
	}
	// Output:
	// GET / → 200 "home" Allow=""
	// GET /posts/7 → 200 "post 7" Allow=""
	// DELETE /posts/7 → 401 "login first\n" Allow=""
	// PUT /posts/7 → 405 "Method Not Allowed\n" Allow="DELETE, GET, HEAD"
	// GET /api/users/ada → 200 "user ada at /users/ada" Allow=""
	// GET /nowhere → 404 "no page at /nowhere\n" Allow=""
}

func ExampleRoute_Href() {
	fmt.Println(ShowPost.MustHref(router.Params{"id": "7"}))
	fmt.Println(ShowPost.MustHref(router.Params{"id": "a/b?c#d ü"}))

	files := router.Route{Method: "GET", Pattern: "/files/{path...}"}
	fmt.Println(files.MustHref(router.Params{"path": "docs/read me.txt"}))

	_, err := ShowPost.Href(router.Params{})
	fmt.Println(err)
	_, err = ShowPost.Href(router.Params{"id": "7", "slug": "x"})
	fmt.Println(err)
	// Output:
	// /posts/7
	// /posts/a%2Fb%3Fc%23d%20%C3%BC
	// /files/docs/read%20me.txt
	// router: href "/posts/{id}": missing parameter "id"
	// router: href "/posts/{id}": unknown parameter "slug"
}

func ExampleRouter_Mount() {
	users := router.New()
	users.Get("/{id}", func(w http.ResponseWriter, req *http.Request) {
		// The parent's {org} is still visible below the mount.
		fmt.Fprintf(w, "org=%s user=%s path=%s", req.PathValue("org"), req.PathValue("id"), req.URL.Path)
	})

	r := router.New()
	r.Mount("/orgs/{org}/users", users)

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("GET", "/orgs/acme/users/123", nil))
	fmt.Println(rec.Body.String())
	// Output:
	// org=acme user=123 path=/123
}

func ExampleRouter_MethodNotAllowed() {
	r := router.New()
	r.Get("/posts", func(w http.ResponseWriter, req *http.Request) {})
	r.Post("/posts", func(w http.ResponseWriter, req *http.Request) {})
	r.MethodNotAllowed(func(w http.ResponseWriter, req *http.Request) {
		// Allow is already set.
		w.WriteHeader(http.StatusMethodNotAllowed)
		fmt.Fprintf(w, "use one of: %s", w.Header().Get("Allow"))
	})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("DELETE", "/posts", nil))
	fmt.Println(rec.Code, rec.Body.String())
	// Output:
	// 405 use one of: GET, HEAD, POST
}
