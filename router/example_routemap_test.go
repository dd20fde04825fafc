package router_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"github.com/sessionkit/sessionkit/router"
)

// Routes is an app's route map, the Go form of a Remix routes.ts: one value
// that the router registers and that templates link with.
var Routes = struct {
	Home  router.Route
	Login router.Form
	Posts router.Resources
}{
	Home:  router.Route{Method: "GET", Pattern: "/{$}"},
	Login: router.NewForm("/login"),
	Posts: router.NewResources("/posts", router.ResourceOptions{Except: []string{"edit"}}),
}

// PostHandlers holds the handlers of Routes.Posts, by the same field names.
// Update and Destroy are methods of a controller value, passed as method
// values.
type PostHandlers struct {
	Index, New, Show, Create, Update, Destroy http.HandlerFunc
}

type posts struct{ titles map[string]string }

func (p *posts) show(w http.ResponseWriter, r *http.Request) {
	fmt.Fprintf(w, "post %s: %s", r.PathValue("id"), p.titles[r.PathValue("id")])
}

func (p *posts) destroy(w http.ResponseWriter, r *http.Request) {
	delete(p.titles, r.PathValue("id"))
	http.Redirect(w, r, Routes.Posts.Index.MustHref(nil), http.StatusSeeOther)
}

func ExampleRouter_Map() {
	p := &posts{titles: map[string]string{"7": "Hello"}}
	stub := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, name) }
	}

	r := router.New()
	r.Use(router.MethodOverride) // lets HTML forms reach Destroy
	r.Map(Routes, struct {
		Home  http.HandlerFunc
		Login struct{ Index, Action http.HandlerFunc }
		Posts PostHandlers
	}{
		Home:  stub("home"),
		Login: struct{ Index, Action http.HandlerFunc }{stub("login form"), stub("log in")},
		Posts: PostHandlers{
			Index: stub("all posts"), New: stub("new post form"), Show: p.show,
			Create: stub("create"), Update: stub("update"), Destroy: p.destroy,
		},
	})

	for _, tc := range []struct{ method, target, form string }{
		{"GET", "/", ""},
		{"POST", "/login", ""},
		{"GET", "/posts/new", ""},
		{"GET", "/posts/7", ""},
		{"POST", "/posts/7", "_method=DELETE"},
		{"GET", "/posts/7/edit", ""},
	} {
		req := httptest.NewRequest(tc.method, tc.target, strings.NewReader(tc.form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Printf("%s %s → %d %s%s\n", tc.method, tc.target, rec.Code,
			strings.TrimSpace(rec.Body.String()), rec.Header().Get("Location"))
	}

	// A handler without a route, or a route without a handler, panics at
	// setup, naming the field.
	defer func() { fmt.Println(strings.SplitN(fmt.Sprint(recover()), ": ", 3)[2]) }()
	router.New().Map(Routes.Posts, PostHandlers{})
	// Output:
	// GET / → 200 home
	// POST /login → 200 log in
	// GET /posts/new → 200 new post form
	// GET /posts/7 → 200 post 7: Hello
	// POST /posts/7 → 303 /posts
	// GET /posts/7/edit → 404 404 page not found
	// 6 problems: nil handler for Index (GET /posts); nil handler for New (GET /posts/new); nil handler for Show (GET /posts/{id}); nil handler for Create (POST /posts); nil handler for Update (PUT /posts/{id}); nil handler for Destroy (DELETE /posts/{id})
}

func ExampleNewResources() {
	products := router.NewResources("/brands/{brand}/products", router.ResourceOptions{
		Param:  "sku",
		Except: []string{"new", "edit"},
	})
	for _, rt := range []router.Route{
		products.Index, products.New, products.Show, products.Create,
		products.Edit, products.Update, products.Destroy,
	} {
		if rt == (router.Route{}) {
			fmt.Println("(left out)")
			continue
		}
		fmt.Println(rt)
	}
	// Output:
	// GET /brands/{brand}/products
	// (left out)
	// GET /brands/{brand}/products/{sku}
	// POST /brands/{brand}/products
	// (left out)
	// PUT /brands/{brand}/products/{sku}
	// DELETE /brands/{brand}/products/{sku}
}

func ExampleNewResource() {
	profile := router.NewResource("/profile", router.ResourceOptions{Only: []string{"show", "edit", "update"}})
	fmt.Println(profile.Show, "|", profile.Edit, "|", profile.Update, "|", profile.Destroy == router.Route{})
	// Output:
	// GET /profile | GET /profile/edit | PUT /profile | true
}

func ExampleNewForm() {
	login := router.NewForm("/login")
	fmt.Println(login.Index, "|", login.Action)
	// Output:
	// GET /login | POST /login
}

func ExampleRoute_HrefWith() {
	posts := router.NewResources("/posts", router.ResourceOptions{})
	index, _ := posts.Index.HrefWith(nil, url.Values{"tag": {"go", "web"}, "page": {"2"}})
	fmt.Println(index)
	edit, _ := posts.Edit.HrefWith(router.Params{"id": "a b"}, url.Values{"return": {"/posts?page=2"}})
	fmt.Println(edit)
	show, _ := posts.Show.HrefWith(router.Params{"id": "7"}, nil)
	fmt.Println(show)
	// Output:
	// /posts?page=2&tag=go&tag=web
	// /posts/a%20b/edit?return=%2Fposts%3Fpage%3D2
	// /posts/7
}

func ExampleMethodOverride() {
	post := router.Route{Method: "GET", Pattern: "/posts/{id}"}
	r := router.New()
	r.Use(router.MethodOverride)
	r.Handle(post, http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		// The form a browser would show.
		fmt.Fprintf(w, `<form method="post" action="%s">`+
			`<input type="hidden" name="_method" value="DELETE"><button>Delete</button></form>`,
			post.MustHref(router.Params{"id": req.PathValue("id")}))
	}))
	r.Delete("/posts/{id}", func(w http.ResponseWriter, req *http.Request) {
		req.ParseForm() // the body is still there
		fmt.Fprintf(w, "%s post %s (form: %v)", req.Method, req.PathValue("id"), req.PostForm)
	})

	submit := func(body string) {
		req := httptest.NewRequest("POST", "/posts/7", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		r.ServeHTTP(rec, req)
		fmt.Printf("%d %s (Allow: %q)\n", rec.Code, strings.TrimSpace(rec.Body.String()), rec.Header().Get("Allow"))
	}
	submit("_method=delete&confirm=yes")
	submit("_method=GET") // only PUT, PATCH and DELETE: stays a POST
	// Output:
	// 200 DELETE post 7 (form: map[_method:[delete] confirm:[yes]]) (Allow: "")
	// 405 Method Not Allowed (Allow: "DELETE, GET, HEAD")
}

func ExampleRouter_AutoOptions() {
	r := router.New()
	r.AutoOptions()
	r.Get("/posts", func(w http.ResponseWriter, req *http.Request) {})
	r.Post("/posts", func(w http.ResponseWriter, req *http.Request) {})

	rec := httptest.NewRecorder()
	r.ServeHTTP(rec, httptest.NewRequest("OPTIONS", "/posts", nil))
	fmt.Println(rec.Code, rec.Header().Get("Allow"))
	// Output:
	// 204 GET, HEAD, OPTIONS, POST
}
