package router_test

import (
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

// route is shorthand for the expected routes below.
func route(method, pattern string) router.Route {
	return router.Route{Method: method, Pattern: pattern}
}

// fieldNames lists a struct's field names in declaration order.
func fieldNames(v any) []string {
	t := reflect.TypeOf(v)
	var names []string
	for i := 0; i < t.NumField(); i++ {
		names = append(names, t.Field(i).Name)
	}
	return names
}

// form.test.ts: "creates a route map with index and action routes".
func TestNewForm(t *testing.T) {
	login := router.NewForm("login")
	if want := (router.Form{Index: route("GET", "/login"), Action: route("POST", "/login")}); login != want {
		t.Errorf("got %+v, want %+v", login, want)
	}
	if got := fieldNames(login); !reflect.DeepEqual(got, []string{"Index", "Action"}) {
		t.Errorf("field order %v", got)
	}
	for _, tc := range []struct{ in, want string }{
		{"/login", "/login"},
		{"/", "/{$}"},
		{"", "/{$}"},
		{"/account/", "/account/{$}"},
		{"/orgs/{org}/settings", "/orgs/{org}/settings"},
	} {
		if f := router.NewForm(tc.in); f.Index.Pattern != tc.want || f.Action.Pattern != tc.want {
			t.Errorf("NewForm(%q) = %+v, want pattern %q", tc.in, f, tc.want)
		}
	}
	msg := mustPanic(t, func() { router.NewForm("/a/{b...}/{$}") })
	if !strings.HasPrefix(msg, `router: NewForm("/a/{b...}/{$}"): invalid pattern`) {
		t.Errorf("bad pattern: %q", msg)
	}
}

// form.test.ts: "supports a custom form method" and the custom names: in Go
// the method is a field and names are the fields of your own struct.
func TestFormCustomMethodAndNames(t *testing.T) {
	settings := router.NewForm("settings")
	settings.Action.Method = "PUT"
	if settings.Index != route("GET", "/settings") || settings.Action != route("PUT", "/settings") {
		t.Errorf("got %+v", settings)
	}
	account := router.NewForm("account")
	renamed := struct{ Edit, Update router.Route }{account.Index, account.Action}
	renamed.Update.Method = "PATCH"
	if renamed.Edit != route("GET", "/account") || renamed.Update != route("PATCH", "/account") {
		t.Errorf("got %+v", renamed)
	}
}

// AccountRoutes is form.test.ts's "creates nested forms":
//
//	account: { ...form('account'), settings: form('account/settings') }
//
// Embedding is Go's spread: Index and Action are promoted into Account.
type AccountRoutes struct {
	router.Form
	Settings router.Form
}

func TestNestedForms(t *testing.T) {
	routes := struct{ Account AccountRoutes }{
		Account: AccountRoutes{Form: router.NewForm("account"), Settings: router.NewForm("account/settings")},
	}
	if routes.Account.Index != route("GET", "/account") || routes.Account.Action != route("POST", "/account") {
		t.Errorf("account: %+v", routes.Account.Form)
	}
	if routes.Account.Settings.Index != route("GET", "/account/settings") ||
		routes.Account.Settings.Action != route("POST", "/account/settings") {
		t.Errorf("settings: %+v", routes.Account.Settings)
	}

	// Map sees the promoted fields. The handler struct may embed too (here
	// an unexported type, whose exported fields Go promotes) or name the
	// fields directly.
	type formHandlers struct{ Index, Action http.HandlerFunc }
	var handlers struct {
		Account struct {
			formHandlers
			Settings formHandlers
		}
	}
	handlers.Account.formHandlers = formHandlers{text("account index"), text("account action")}
	handlers.Account.Settings = formHandlers{text("settings index"), text("settings action")}
	r := router.New()
	r.Map(routes, handlers)
	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/account", "account index"},
		{"POST", "/account", "account action"},
		{"GET", "/account/settings", "settings index"},
		{"POST", "/account/settings", "settings action"},
	} {
		if rec := serve(r, tc.method, tc.target); rec.Body.String() != tc.want {
			t.Errorf("%s %s: got %d %q", tc.method, tc.target, rec.Code, rec.Body.String())
		}
	}
}

// resources.test.ts: "creates resources with index route", with its key order.
func TestNewResources(t *testing.T) {
	books := router.NewResources("books", router.ResourceOptions{})
	want := router.Resources{
		Index:   route("GET", "/books"),
		New:     route("GET", "/books/new"),
		Show:    route("GET", "/books/{id}"),
		Create:  route("POST", "/books"),
		Edit:    route("GET", "/books/{id}/edit"),
		Update:  route("PUT", "/books/{id}"),
		Destroy: route("DELETE", "/books/{id}"),
	}
	if books != want {
		t.Errorf("got %+v\nwant %+v", books, want)
	}
	// "Key order is important. new must come before show."
	if got := fieldNames(books); !reflect.DeepEqual(got, []string{"Index", "New", "Show", "Create", "Edit", "Update", "Destroy"}) {
		t.Errorf("field order %v", got)
	}
	if got := router.NewResources("/books", router.ResourceOptions{}); got != want {
		t.Errorf("leading slash: %+v", got)
	}
}

// resources.test.ts: custom param, only, exclude, param with only.
func TestNewResourcesOptions(t *testing.T) {
	tests := []struct {
		name string
		base string
		o    router.ResourceOptions
		want router.Resources
	}{
		{"custom param", "posts", router.ResourceOptions{Param: "slug"}, router.Resources{
			Index: route("GET", "/posts"), New: route("GET", "/posts/new"), Show: route("GET", "/posts/{slug}"),
			Create: route("POST", "/posts"), Edit: route("GET", "/posts/{slug}/edit"),
			Update: route("PUT", "/posts/{slug}"), Destroy: route("DELETE", "/posts/{slug}"),
		}},
		{"only", "books", router.ResourceOptions{Only: []string{"index", "show", "create"}}, router.Resources{
			Index: route("GET", "/books"), Show: route("GET", "/books/{id}"), Create: route("POST", "/books"),
		}},
		{"except (fetch-router's exclude)", "books", router.ResourceOptions{Except: []string{"new", "edit", "update", "destroy"}}, router.Resources{
			Index: route("GET", "/books"), Show: route("GET", "/books/{id}"), Create: route("POST", "/books"),
		}},
		{"custom param and only", "articles", router.ResourceOptions{Only: []string{"index", "show"}, Param: "slug"}, router.Resources{
			Index: route("GET", "/articles"), Show: route("GET", "/articles/{slug}"),
		}},
		{"Go field names in Only", "books", router.ResourceOptions{Only: []string{"Index", "Show"}}, router.Resources{
			Index: route("GET", "/books"), Show: route("GET", "/books/{id}"),
		}},
		{"empty Only keeps nothing", "books", router.ResourceOptions{Only: []string{}}, router.Resources{}},
		{"empty Except keeps all", "books", router.ResourceOptions{Except: []string{}}, router.NewResources("books", router.ResourceOptions{})},
		{"base with wildcards", "/brands/{brandId}/products", router.ResourceOptions{Only: []string{"show", "edit"}}, router.Resources{
			Show: route("GET", "/brands/{brandId}/products/{id}"), Edit: route("GET", "/brands/{brandId}/products/{id}/edit"),
		}},
		{"base with trailing slash", "/posts/", router.ResourceOptions{Only: []string{"index", "new", "show"}}, router.Resources{
			Index: route("GET", "/posts/{$}"), New: route("GET", "/posts/new"), Show: route("GET", "/posts/{id}"),
		}},
		{"root base", "/", router.ResourceOptions{Only: []string{"index", "new", "show"}}, router.Resources{
			Index: route("GET", "/{$}"), New: route("GET", "/new"), Show: route("GET", "/{id}"),
		}},
	}
	for _, tc := range tests {
		if got := router.NewResources(tc.base, tc.o); got != tc.want {
			t.Errorf("%s: got %+v\nwant %+v", tc.name, got, tc.want)
		}
	}
}

// resources.test.ts: "creates nested resources" (a spread and a nested map):
//
//	brands: { ...resources('brands'), products: resources('brands/:brandId/products') }
type BrandRoutes struct {
	router.Resources
	Products router.Resources
}

func TestNestedResources(t *testing.T) {
	routes := struct{ Brands BrandRoutes }{BrandRoutes{
		Resources: router.NewResources("brands", router.ResourceOptions{}),
		Products:  router.NewResources("brands/{brandId}/products", router.ResourceOptions{}),
	}}
	b, p := routes.Brands, routes.Brands.Products
	for _, tc := range []struct{ got, want router.Route }{
		{b.Index, route("GET", "/brands")},
		{b.New, route("GET", "/brands/new")},
		{b.Show, route("GET", "/brands/{id}")},
		{b.Create, route("POST", "/brands")},
		{b.Edit, route("GET", "/brands/{id}/edit")},
		{b.Update, route("PUT", "/brands/{id}")},
		{b.Destroy, route("DELETE", "/brands/{id}")},
		{p.Index, route("GET", "/brands/{brandId}/products")},
		{p.New, route("GET", "/brands/{brandId}/products/new")},
		{p.Show, route("GET", "/brands/{brandId}/products/{id}")},
		{p.Create, route("POST", "/brands/{brandId}/products")},
		{p.Edit, route("GET", "/brands/{brandId}/products/{id}/edit")},
		{p.Update, route("PUT", "/brands/{brandId}/products/{id}")},
		{p.Destroy, route("DELETE", "/brands/{brandId}/products/{id}")},
	} {
		if tc.got != tc.want {
			t.Errorf("got %v, want %v", tc.got, tc.want)
		}
	}

	// All fourteen routes register and route, the params included.
	type crud struct{ Index, New, Show, Create, Edit, Update, Destroy http.HandlerFunc }
	all := func(prefix string, names ...string) crud {
		h := func(action string) http.HandlerFunc { return echoParams(names...) }
		return crud{h("index"), h("new"), h("show"), h("create"), h("edit"), h("update"), h("destroy")}
	}
	var handlers struct {
		Brands struct {
			crud
			Products crud
		}
	}
	handlers.Brands.crud = all("brands", "id")
	handlers.Brands.Products = all("products", "brandId", "id")
	r := router.New()
	r.Map(routes, handlers)
	if rec := serve(r, "PUT", "/brands/7/products/9"); rec.Body.String() != `PUT /brands/{brandId}/products/{id} brandId="7" id="9"` {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
	if rec := serve(r, "GET", "/brands/new"); rec.Body.String() != `GET /brands/new id=""` {
		t.Errorf("got %d %q", rec.Code, rec.Body.String())
	}
}

// resource.test.ts: a singular resource, its key order, only and exclude.
func TestNewResource(t *testing.T) {
	book := router.NewResource("book", router.ResourceOptions{})
	want := router.Resource{
		New:     route("GET", "/book/new"),
		Show:    route("GET", "/book"),
		Create:  route("POST", "/book"),
		Edit:    route("GET", "/book/edit"),
		Update:  route("PUT", "/book"),
		Destroy: route("DELETE", "/book"),
	}
	if book != want {
		t.Errorf("got %+v\nwant %+v", book, want)
	}
	if got := fieldNames(book); !reflect.DeepEqual(got, []string{"New", "Show", "Create", "Edit", "Update", "Destroy"}) {
		t.Errorf("field order %v", got)
	}
	only := router.NewResource("book", router.ResourceOptions{Only: []string{"show", "update"}})
	if only != (router.Resource{Show: route("GET", "/book"), Update: route("PUT", "/book")}) {
		t.Errorf("only: %+v", only)
	}
	except := router.NewResource("book", router.ResourceOptions{Except: []string{"new", "create", "edit", "destroy"}})
	if except != only {
		t.Errorf("except: %+v", except)
	}
	if got := router.NewResource("/profile/", router.ResourceOptions{Only: []string{"show", "edit"}}); got != (router.Resource{Show: route("GET", "/profile/{$}"), Edit: route("GET", "/profile/edit")}) {
		t.Errorf("trailing slash: %+v", got)
	}
}

// "throws an error if both only and exclude are specified", and the other
// mistakes that TypeScript's types catch at compile time.
func TestResourceOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		f    func()
		want string
	}{
		{"resources only and except", func() {
			router.NewResources("books", router.ResourceOptions{Only: []string{"index"}, Except: []string{"destroy"}})
		}, `router: NewResources("books"): cannot specify both Only and Except`},
		{"resource only and except", func() {
			router.NewResource("book", router.ResourceOptions{Only: []string{"show"}, Except: []string{"destroy"}})
		}, `router: NewResource("book"): cannot specify both Only and Except`},
		{"empty only and except", func() {
			router.NewResources("books", router.ResourceOptions{Only: []string{}, Except: []string{}})
		}, `cannot specify both Only and Except`},
		{"unknown only", func() {
			router.NewResources("books", router.ResourceOptions{Only: []string{"shw"}})
		}, `router: NewResources("books"): Only names an unknown route "shw" (known: index, new, show, create, edit, update, destroy)`},
		{"unknown except", func() {
			router.NewResources("books", router.ResourceOptions{Except: []string{"delete"}})
		}, `Except names an unknown route "delete"`},
		{"index of a singular resource", func() {
			router.NewResource("book", router.ResourceOptions{Only: []string{"index"}})
		}, `router: NewResource("book"): Only names an unknown route "index" (known: new, show, create, edit, update, destroy)`},
		{"param of a singular resource", func() {
			router.NewResource("book", router.ResourceOptions{Param: "id"})
		}, `router: NewResource("book"): Param "id": a singular resource has no id wildcard`},
		{"bad param", func() {
			router.NewResources("books", router.ResourceOptions{Param: "book-id"})
		}, `router: NewResources("books"): invalid pattern: "/books/{book-id}": wildcard name "book-id" is not a Go identifier`},
		{"param repeats a base wildcard", func() {
			router.NewResources("/brands/{id}/products", router.ResourceOptions{})
		}, `duplicate wildcard name "id"`},
		{"base ends in a rest wildcard", func() {
			router.NewResources("/files/{p...}", router.ResourceOptions{})
		}, `{p...} must be the last segment`},
	}
	for _, tc := range tests {
		msg := mustPanic(t, tc.f)
		if !strings.Contains(msg, tc.want) {
			t.Errorf("%s: got %q, want %q", tc.name, msg, tc.want)
		}
	}
}

// The route-map tests of route-map.test.ts: a map, a map with a base, a nested
// map, a spread.
func TestRouteMapShapes(t *testing.T) {
	type Categories struct {
		Index, New, Show, Edit router.Route
	}
	categories := Categories{
		Index: route("", "/categories"),
		New:   route("", "/categories/new"),
		Show:  route("", "/categories/{slug}"),
		Edit:  route("", "/categories/{slug}/edit"),
	}
	type PostRoutes struct{ Posts, EditPost router.Route }
	routes := struct {
		Home, About router.Route
		Categories  Categories // nested route map
		PostRoutes             // "creates nested routes using object spread syntax"
	}{
		Home:       route("", "/{$}"),
		About:      route("", "/about"),
		Categories: categories,
		PostRoutes: PostRoutes{Posts: route("", "/posts"), EditPost: route("", "/posts/{slug}/edit")},
	}
	h := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(name + " " + r.Pattern)) }
	}
	type categoryHandlers struct{ Index, New, Show, Edit http.Handler }
	r := router.New()
	r.Map(&routes, &struct {
		Home, About, Posts, EditPost http.HandlerFunc
		Categories                   *categoryHandlers
	}{
		Home: h("home"), About: h("about"), Posts: h("posts"), EditPost: h("editPost"),
		Categories: &categoryHandlers{h("index"), h("new"), h("show"), h("edit")},
	})
	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/", "home /{$}"},
		{"PATCH", "/about", "about /about"},
		{"GET", "/categories", "index /categories"},
		{"GET", "/categories/new", "new /categories/new"},
		{"DELETE", "/categories/shoes", "show /categories/{slug}"},
		{"GET", "/categories/shoes/edit", "edit /categories/{slug}/edit"},
		{"GET", "/posts", "posts /posts"},
		{"GET", "/posts/hello/edit", "editPost /posts/{slug}/edit"},
	} {
		if rec := serve(r, tc.method, tc.target); rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("%s %s: got %d %q, want %q", tc.method, tc.target, rec.Code, rec.Body.String(), tc.want)
		}
	}
}

// router.test.ts "router.map()": a route map to handlers, the nested map
// mapped separately with its own middleware (Remix's controller middleware),
// and middleware order router → group → map → handler.
func TestMapMiddleware(t *testing.T) {
	var log []string
	mark := func(name string) router.Middleware {
		return func(next http.Handler) http.Handler {
			return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				log = append(log, name)
				next.ServeHTTP(w, r)
			})
		}
	}
	handler := func(name string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) { log = append(log, name) }
	}
	routes := struct {
		Public router.Route
		Admin  struct{ Dashboard, Users router.Route }
	}{Public: route("GET", "/public")}
	routes.Admin.Dashboard = route("GET", "/admin/dashboard")
	routes.Admin.Users = route("GET", "/admin/users")

	r := router.New()
	r.Use(mark("router"))
	// "allows selective middleware by mapping specific nested route subtrees separately"
	r.Map(routes.Public, handler("public"))
	r.Group(func(g *router.Router) {
		g.Use(mark("group"))
		g.Map(routes.Admin, struct{ Dashboard, Users http.HandlerFunc }{handler("dashboard"), handler("users")}, mark("auth"), mark("audit"))
	})
	for _, tc := range []struct {
		target string
		want   []string
	}{
		{"/public", []string{"router", "public"}},
		{"/admin/dashboard", []string{"router", "group", "auth", "audit", "dashboard"}},
		{"/admin/users", []string{"router", "group", "auth", "audit", "users"}},
	} {
		log = nil
		serve(r, "GET", tc.target)
		if !reflect.DeepEqual(log, tc.want) {
			t.Errorf("%s: ran %v, want %v", tc.target, log, tc.want)
		}
	}
}

// Map accepts every handler shape: http.Handler values, http.HandlerFunc,
// plain funcs (method values), and types with a ServeHTTP method.
type serveText string

func (s serveText) ServeHTTP(w http.ResponseWriter, r *http.Request) { w.Write([]byte(s)) }

type postController struct{ prefix string }

func (c *postController) Show(w http.ResponseWriter, r *http.Request) {
	w.Write([]byte(c.prefix + r.PathValue("id")))
}

func TestMapHandlerKinds(t *testing.T) {
	c := &postController{prefix: "post "}
	routes := struct{ A, B, C, D router.Route }{
		route("GET", "/a"), route("GET", "/b"), route("GET", "/c/{id}"), route("GET", "/d"),
	}
	r := router.New()
	r.Map(routes, struct {
		A http.Handler
		B serveText
		C func(http.ResponseWriter, *http.Request)
		D http.HandlerFunc
	}{serveText("a"), serveText("b"), c.Show, http.HandlerFunc(serveText("d").ServeHTTP)})
	for target, want := range map[string]string{"/a": "a", "/b": "b", "/c/7": "post 7", "/d": "d"} {
		if rec := serve(r, "GET", target); rec.Body.String() != want {
			t.Errorf("%s: got %q, want %q", target, rec.Body.String(), want)
		}
	}
}

// Left-out routes (zero Route) need no handler; a nil handler may stand for
// one.
func TestMapSkipsLeftOutRoutes(t *testing.T) {
	routes := struct{ Posts router.Resources }{router.NewResources("/posts", router.ResourceOptions{Only: []string{"index", "show"}})}
	var handlers struct {
		Posts struct {
			Index, Show http.HandlerFunc
			Destroy     http.HandlerFunc // nil: fine for a left-out route
		}
	}
	handlers.Posts.Index = text("index")
	handlers.Posts.Show = echoParams("id")
	r := router.New()
	r.Map(routes, handlers)
	if rec := serve(r, "GET", "/posts/3"); rec.Body.String() != `GET /posts/{id} id="3"` {
		t.Errorf("got %q", rec.Body.String())
	}
	if rec := serve(r, "DELETE", "/posts/3"); rec.Code != 405 || rec.Header().Get("Allow") != "GET, HEAD" {
		t.Errorf("destroy: got %d Allow %q", rec.Code, rec.Header().Get("Allow"))
	}
}

// Map's errors: fetch-router's "Missing action" and "Unknown action", plus the
// mistakes Go's types let through. Each names the full field path, and a
// failed Map registers nothing.
func TestMapErrors(t *testing.T) {
	h := text("x")
	type crud struct{ Index, Show, Destroy http.HandlerFunc }
	posts := router.NewResources("/posts", router.ResourceOptions{Only: []string{"index", "show", "destroy"}})
	tests := []struct {
		name             string
		routes, handlers any
		want             []string
	}{
		{"missing handler", struct{ Posts router.Resources }{posts},
			struct {
				Posts struct{ Index, Show http.HandlerFunc }
			}{struct{ Index, Show http.HandlerFunc }{h, h}},
			[]string{"missing handler for Posts.Destroy (DELETE /posts/{id})"}},
		{"missing nested map", struct {
			Home  router.Route
			Posts router.Resources
		}{route("GET", "/{$}"), posts}, struct{ Home http.HandlerFunc }{h},
			[]string{"3 problems", "missing handler for Posts.Index (GET /posts)", "missing handler for Posts.Show (GET /posts/{id})", "missing handler for Posts.Destroy (DELETE /posts/{id})"}},
		{"unknown handler", struct{ Home router.Route }{route("GET", "/{$}")},
			struct{ Home, Missing http.HandlerFunc }{h, h},
			[]string{"unknown handler Missing: the route map has no route Missing"}},
		{"unknown nested handler", struct{ Home router.Route }{route("GET", "/{$}")},
			struct {
				Home  http.HandlerFunc
				Admin struct{ Users http.HandlerFunc }
			}{Home: h, Admin: struct{ Users http.HandlerFunc }{h}},
			[]string{"unknown handler Admin.Users"}},
		{"handler for a left-out route", struct{ Posts router.Resources }{router.NewResources("/posts", router.ResourceOptions{Except: []string{"destroy"}})},
			struct {
				Posts struct{ Index, New, Show, Create, Edit, Update, Destroy http.HandlerFunc }
			}{struct{ Index, New, Show, Create, Edit, Update, Destroy http.HandlerFunc }{h, h, h, h, h, h, h}},
			[]string{"handler Posts.Destroy for a left-out route (Posts.Destroy is a zero Route)"}},
		{"nil handler", struct{ Posts router.Resources }{posts}, struct{ Posts crud }{crud{h, nil, h}},
			[]string{"nil handler for Posts.Show (GET /posts/{id})"}},
		{"nil interface handler", struct{ Home router.Route }{route("GET", "/")}, struct{ Home http.Handler }{},
			[]string{"nil handler for Home (GET /)"}},
		{"wrong handler type", struct{ Home router.Route }{route("GET", "/")},
			struct {
				Home func(http.ResponseWriter, *http.Request) error
			}{},
			[]string{"Home: field of type func(http.ResponseWriter, *http.Request) error in the handler struct"}},
		{"wrong route type", struct{ Home string }{"/"}, struct{ Home http.HandlerFunc }{h},
			[]string{"Home: field of type string in the route map, which holds only router.Route values"}},
		{"unexported route", struct{ home router.Route }{route("GET", "/")}, struct{}{},
			[]string{"home: unexported field in the route map"}},
		{"unexported handler field", struct{ Home router.Route }{route("GET", "/")},
			struct {
				Home http.HandlerFunc
				db   *strings.Builder
			}{Home: h},
			[]string{"db: unexported field in the handler struct"}},
		{"map paired with a handler", struct{ Posts router.Resources }{posts}, struct{ Posts http.HandlerFunc }{h},
			[]string{"Posts is a nested route map but the handler struct has a single handler Posts"}},
		{"route paired with a struct", struct{ Home router.Route }{route("GET", "/")}, struct{ Home crud }{},
			[]string{"Home is a route but the handler struct has a nested struct Home"}},
		{"routes not a struct", []router.Route{route("GET", "/")}, struct{}{},
			[]string{"routes is []router.Route; want a struct of router.Route fields"}},
		{"nil routes", nil, struct{}{}, []string{"routes is <nil>"}},
		{"handlers not a struct", struct{ Home router.Route }{route("GET", "/")}, h,
			[]string{"handlers is http.HandlerFunc; want a struct of handler fields"}},
		{"nil handler struct pointer", struct{ Home router.Route }{route("GET", "/")}, (*crud)(nil),
			[]string{"handlers is *router_test.crud"}},
		{"single route without a handler", route("GET", "/"), nil,
			[]string{"GET /: the handler is <nil>; want an http.Handler"}},
		{"single left-out route", router.Route{}, h, []string{"a handler for a left-out route"}},
		{"single route, nil handler", route("GET", "/"), http.HandlerFunc(nil), []string{"GET /: nil handler"}},
		{"single route, not a handler", route("GET", "/"), "home", []string{"GET /: the handler is string"}},
		{"invalid pattern", struct{ Home router.Route }{route("GET", "home")}, struct{ Home http.HandlerFunc }{h},
			[]string{`router: Home (GET home) at `, `"home" does not start with "/"`}},
		{"invalid method", struct{ Home router.Route }{route("get", "/")}, struct{ Home http.HandlerFunc }{h},
			[]string{`router: Home (get /) at `, `method "get" must be upper case`}},
		{"same route twice in the map", struct{ A, B router.Route }{route("GET", "/x/{a}"), route("GET", "/x/{b}")},
			struct{ A, B http.HandlerFunc }{h, h},
			[]string{"router: B (GET /x/{b}) at ", "is the same route as A (GET /x/{a})"}},
		{"conflict inside the map", struct{ A, B router.Route }{route("GET", "/{a}/x"), route("GET", "/x/{b}")},
			struct{ A, B http.HandlerFunc }{h, h},
			[]string{"router: B (GET /x/{b}) at ", "conflicts with A (GET /{a}/x) registered at ", `"/x/x"`}},
		{"recursive type", struct{ N *node }{}, struct{}{}, []string{"nested more than 32 levels deep"}},
		{"embedded struct hides its field", struct{ Posts }{Posts{route("GET", "/posts")}}, struct{ Posts http.HandlerFunc }{h},
			[]string{"Posts: embedded struct Posts hides its own field Posts"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := router.New()
			msg := mustPanic(t, func() { r.Map(tc.routes, tc.handlers) })
			if !strings.HasPrefix(msg, "router: ") || !strings.Contains(msg, "routemap_test.go:") {
				t.Errorf("message %q does not start with \"router: \" or lacks the call site", msg)
			}
			for _, w := range tc.want {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q does not contain %q", msg, w)
				}
			}
			// Nothing was registered: the router answers 404 everywhere.
			for _, target := range []string{"/", "/posts", "/x/1", "/1/x"} {
				if rec := serve(r, "GET", target); rec.Code != 404 {
					t.Errorf("GET %s after a failed Map: %d", target, rec.Code)
				}
			}
		})
	}
}

type node struct{ Next *node }

type Posts struct{ Posts router.Route }

// A Map that conflicts with routes already registered names both and
// registers none of its routes.
func TestMapConflictWithTable(t *testing.T) {
	r := router.New()
	r.Get("/posts/{slug}", text("slug"))
	routes := struct{ Posts router.Resources }{router.NewResources("/posts", router.ResourceOptions{Only: []string{"index", "show"}})}
	msg := mustPanic(t, func() {
		r.Map(routes, struct {
			Posts struct{ Index, Show http.HandlerFunc }
		}{struct{ Index, Show http.HandlerFunc }{text("index"), text("show")}})
	})
	if !strings.Contains(msg, "Posts.Show (GET /posts/{id}) at ") || !strings.Contains(msg, "is already registered as GET /posts/{slug} at ") {
		t.Errorf("got %q", msg)
	}
	if rec := serve(r, "GET", "/posts"); rec.Code != 404 {
		t.Errorf("Posts.Index was registered: %d", rec.Code)
	}

	r = router.New()
	r.Get("/{any}/new", text("any"))
	msg = mustPanic(t, func() {
		r.Map(struct{ New router.Route }{route("GET", "/posts/{x}")}, struct{ New http.HandlerFunc }{text("x")})
	})
	if !strings.Contains(msg, "New (GET /posts/{x}) at ") || !strings.Contains(msg, "conflicts with GET /{any}/new registered at ") {
		t.Errorf("got %q", msg)
	}
	// Later registrations name the map's field in their own conflicts.
	r = router.New()
	r.Map(struct{ Show router.Route }{route("GET", "/posts/{id}")}, struct{ Show http.HandlerFunc }{text("x")})
	msg = mustPanic(t, func() { r.Get("/posts/{slug}", text("y")) })
	if !strings.Contains(msg, "already registered as Show (GET /posts/{id}) at ") {
		t.Errorf("got %q", msg)
	}
}

// A table of links built from route maps: Href, and HrefWith's query
// (url.Values.Encode: escaped, keys sorted, a key's values in order).
func TestHrefWithTable(t *testing.T) {
	posts := router.NewResources("/posts", router.ResourceOptions{})
	products := router.NewResources("/brands/{brandId}/products", router.ResourceOptions{Param: "sku"})
	profile := router.NewResource("/profile", router.ResourceOptions{})
	login := router.NewForm("/login")
	root := router.NewForm("/")
	files := router.Route{Method: "GET", Pattern: "/files/{path...}"}
	tests := []struct {
		route  router.Route
		params router.Params
		query  url.Values
		want   string
	}{
		{posts.Index, nil, nil, "/posts"},
		{posts.Index, nil, url.Values{}, "/posts"},
		{posts.Index, nil, url.Values{"tag": nil}, "/posts"},
		{posts.Index, nil, url.Values{"page": {"2"}}, "/posts?page=2"},
		{posts.Index, nil, url.Values{"tag": {"go", "web"}, "page": {"2"}}, "/posts?page=2&tag=go&tag=web"},
		{posts.Index, nil, url.Values{"q": {"a b&c=d/é"}}, "/posts?q=a+b%26c%3Dd%2F%C3%A9"},
		{posts.Index, nil, url.Values{"empty": {""}}, "/posts?empty="},
		{posts.Index, nil, url.Values{"a key": {"#"}}, "/posts?a+key=%23"},
		{posts.New, nil, nil, "/posts/new"},
		{posts.Show, router.Params{"id": "7"}, nil, "/posts/7"},
		{posts.Show, router.Params{"id": "a b/c"}, url.Values{"draft": {"1"}}, "/posts/a%20b%2Fc?draft=1"},
		{posts.Edit, router.Params{"id": "7"}, url.Values{"return": {"/posts?page=2"}}, "/posts/7/edit?return=%2Fposts%3Fpage%3D2"},
		{posts.Update, router.Params{"id": "7"}, nil, "/posts/7"},
		{posts.Destroy, router.Params{"id": "7"}, nil, "/posts/7"},
		{products.Show, router.Params{"brandId": "acme", "sku": "x-1"}, nil, "/brands/acme/products/x-1"},
		{products.Edit, router.Params{"brandId": "acme", "sku": "x-1"}, url.Values{"tab": {"price"}}, "/brands/acme/products/x-1/edit?tab=price"},
		{profile.Show, nil, nil, "/profile"},
		{profile.Edit, nil, url.Values{"section": {"email"}}, "/profile/edit?section=email"},
		{login.Index, nil, url.Values{"next": {"/posts/7"}}, "/login?next=%2Fposts%2F7"},
		{root.Index, nil, url.Values{"ref": {"mail"}}, "/?ref=mail"},
		{files, router.Params{"path": "docs/read me.txt"}, url.Values{"dl": {"1"}}, "/files/docs/read%20me.txt?dl=1"},
	}
	for _, tc := range tests {
		got, err := tc.route.HrefWith(tc.params, tc.query)
		if err != nil || got != tc.want {
			t.Errorf("%v.HrefWith(%v, %v) = %q, %v; want %q", tc.route, tc.params, tc.query, got, err, tc.want)
		}
		if tc.query == nil {
			if href, err := tc.route.Href(tc.params); err != nil || href != tc.want {
				t.Errorf("%v.Href(%v) = %q, %v; want %q", tc.route, tc.params, href, err, tc.want)
			}
		}
	}
	// Errors are Href's, and no query is built.
	if _, err := posts.Show.HrefWith(nil, url.Values{"a": {"b"}}); err == nil || !strings.Contains(err.Error(), `missing parameter "id"`) {
		t.Errorf("missing param: %v", err)
	}
	if _, err := posts.Show.HrefWith(router.Params{"id": "7", "slug": "x"}, nil); err == nil || !strings.Contains(err.Error(), `unknown parameter "slug"`) {
		t.Errorf("unknown param: %v", err)
	}
}

// A nil middleware given to Map panics before anything is registered.
func TestMapNilMiddleware(t *testing.T) {
	r := router.New()
	msg := mustPanic(t, func() {
		r.Map(struct{ Home router.Route }{route("GET", "/")}, struct{ Home http.HandlerFunc }{text("home")},
			func(next http.Handler) http.Handler { return next }, nil)
	})
	if !strings.HasPrefix(msg, "router: Map at ") || !strings.Contains(msg, "middleware 1 is nil") {
		t.Errorf("got %q", msg)
	}
	if rec := serve(r, "GET", "/"); rec.Code != 404 {
		t.Errorf("Home registered: %d", rec.Code)
	}
}
