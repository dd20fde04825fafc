package router_test

import (
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"testing"

	"github.com/sessionkit/sessionkit/router"
)

// The routes file of Remix's bookstore demo (demos/bookstore/app/routes.ts),
// ported as the README shows it. This test keeps that port compiling,
// registering and linking.

const assetsBase = "/assets"

// Bookstore is the route map: Map registers it, templates link with it.
var Bookstore = newBookstoreRoutes()

type bookstoreRoutes struct {
	Assets, Uploads router.Route
	Fragments       struct{ CartButton, CartItems router.Route }
	API             struct{ CartToggle router.Route }

	// Simple static routes
	Home, About router.Route
	Contact     router.Form
	Search      router.Route

	// Public book routes
	Books struct{ Index, Genre, Show router.Route }

	// Auth routes
	Auth struct {
		Login, Register               router.Form
		Logout                        router.Route
		ForgotPassword, ResetPassword router.Form
	}

	// Account section (protected, nested routes)
	Account struct {
		Index    router.Route
		Settings struct{ Index, Update router.Route }
		Orders   router.Resources
	}

	// Cart and shopping
	Cart struct {
		Index router.Route
		API   struct{ Add, Update, Remove router.Route }
	}

	// Checkout flow
	Checkout struct{ Index, Action, Confirmation router.Route }

	// Admin section (protected, full CRUD on multiple resources)
	Admin struct {
		Index                router.Route
		Books, Users, Orders router.Resources
	}
}

func newBookstoreRoutes() (r bookstoreRoutes) {
	r.Assets = anyMethod(assetsBase + "/{path...}")
	r.Uploads = anyMethod("/uploads/{key...}")
	r.Fragments.CartButton = get("/fragments/cart-button/{bookId}")
	r.Fragments.CartItems = get("/fragments/cart-items")
	r.API.CartToggle = post("/api/cart/toggle")

	r.Home = anyMethod("/{$}")
	r.About = anyMethod("/about")
	r.Contact = router.NewForm("contact")
	r.Search = anyMethod("/search")

	r.Books.Index = anyMethod("/books")
	r.Books.Genre = anyMethod("/books/genre/{genre}")
	r.Books.Show = anyMethod("/books/{slug}")

	r.Auth.Login = router.NewForm("login")
	r.Auth.Register = router.NewForm("register")
	r.Auth.Logout = post("/logout")
	r.Auth.ForgotPassword = router.NewForm("forgot-password")
	r.Auth.ResetPassword = router.NewForm("reset-password/{token}")

	r.Account.Index = anyMethod("/account")
	r.Account.Settings.Index = get("/account/settings")  // form with formMethod PUT
	r.Account.Settings.Update = put("/account/settings") // and its action named update
	r.Account.Orders = router.NewResources("/account/orders", router.ResourceOptions{
		Only:  []string{"index", "show"}, // read-only, no create/edit/delete
		Param: "orderId",
	})

	r.Cart.Index = get("/cart")
	r.Cart.API.Add = post("/cart/api/add")
	r.Cart.API.Update = put("/cart/api/update")
	r.Cart.API.Remove = del("/cart/api/remove")

	r.Checkout.Index = get("/checkout")
	r.Checkout.Action = post("/checkout")
	r.Checkout.Confirmation = get("/checkout/{orderId}/confirmation")

	r.Admin.Index = get("/admin")
	r.Admin.Books = router.NewResources("/admin/books", router.ResourceOptions{Param: "bookId"})
	r.Admin.Users = router.NewResources("/admin/users", router.ResourceOptions{
		Only:  []string{"index", "show", "edit", "update", "destroy"}, // users self-register
		Param: "userId",
	})
	r.Admin.Orders = router.NewResources("/admin/orders", router.ResourceOptions{
		Only:  []string{"index", "show"},
		Param: "orderId",
	})
	return r
}

func get(p string) router.Route       { return router.Route{Method: "GET", Pattern: p} }
func post(p string) router.Route      { return router.Route{Method: "POST", Pattern: p} }
func put(p string) router.Route       { return router.Route{Method: "PUT", Pattern: p} }
func del(p string) router.Route       { return router.Route{Method: "DELETE", Pattern: p} }
func anyMethod(p string) router.Route { return router.Route{Pattern: p} } // Remix's 'ANY'

// stubHandlers fills a handler struct of any shape with handlers that answer
// their own field path, as a stand-in for an app's real handlers.
func stubHandlers(v reflect.Value, prefix string) {
	for i := 0; i < v.NumField(); i++ {
		f, name := v.Field(i), prefix+v.Type().Field(i).Name
		if f.Kind() == reflect.Struct {
			stubHandlers(f, name+".")
			continue
		}
		f.Set(reflect.ValueOf(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			fmt.Fprintf(w, "%s %s", name, r.Pattern)
		})))
	}
}

type bookstoreHandlers struct {
	Assets, Uploads http.HandlerFunc
	Fragments       struct{ CartButton, CartItems http.HandlerFunc }
	API             struct{ CartToggle http.HandlerFunc }
	Home, About     http.HandlerFunc
	Contact         struct{ Index, Action http.HandlerFunc }
	Search          http.HandlerFunc
	Books           struct{ Index, Genre, Show http.HandlerFunc }
	Auth            struct {
		Login, Register               struct{ Index, Action http.HandlerFunc }
		Logout                        http.HandlerFunc
		ForgotPassword, ResetPassword struct{ Index, Action http.HandlerFunc }
	}
	Account struct {
		Index    http.HandlerFunc
		Settings struct{ Index, Update http.HandlerFunc }
		Orders   struct{ Index, Show http.HandlerFunc }
	}
	Cart struct {
		Index http.HandlerFunc
		API   struct{ Add, Update, Remove http.HandlerFunc }
	}
	Checkout struct{ Index, Action, Confirmation http.HandlerFunc }
	Admin    struct {
		Index  http.HandlerFunc
		Books  struct{ Index, New, Show, Create, Edit, Update, Destroy http.HandlerFunc }
		Users  struct{ Index, Show, Edit, Update, Destroy http.HandlerFunc }
		Orders struct{ Index, Show http.HandlerFunc }
	}
}

func TestBookstorePort(t *testing.T) {
	var h bookstoreHandlers
	stubHandlers(reflect.ValueOf(&h).Elem(), "")
	r := router.New()
	r.Use(router.MethodOverride)
	r.Map(Bookstore, h)

	for _, tc := range []struct{ method, target, want string }{
		{"GET", "/", "Home /{$}"},
		{"GET", "/assets/app.js", "Assets /assets/{path...}"},
		{"GET", "/fragments/cart-button/12", "Fragments.CartButton GET /fragments/cart-button/{bookId}"},
		{"POST", "/contact", "Contact.Action POST /contact"},
		{"GET", "/books/genre/fiction", "Books.Genre /books/genre/{genre}"},
		{"GET", "/books/dune", "Books.Show /books/{slug}"},
		{"GET", "/reset-password/tok", "Auth.ResetPassword.Index GET /reset-password/{token}"},
		{"PUT", "/account/settings", "Account.Settings.Update PUT /account/settings"},
		{"GET", "/account/orders/9", "Account.Orders.Show GET /account/orders/{orderId}"},
		{"DELETE", "/cart/api/remove", "Cart.API.Remove DELETE /cart/api/remove"},
		{"GET", "/checkout/9/confirmation", "Checkout.Confirmation GET /checkout/{orderId}/confirmation"},
		{"GET", "/admin/books/new", "Admin.Books.New GET /admin/books/new"},
		{"GET", "/admin/books/3/edit", "Admin.Books.Edit GET /admin/books/{bookId}/edit"},
		{"DELETE", "/admin/users/5", "Admin.Users.Destroy DELETE /admin/users/{userId}"},
	} {
		if rec := serve(r, tc.method, tc.target); rec.Code != 200 || rec.Body.String() != tc.want {
			t.Errorf("%s %s: got %d %q, want %q", tc.method, tc.target, rec.Code, rec.Body.String(), tc.want)
		}
	}
	// Left out by Only: no route.
	if rec := serve(r, "POST", "/admin/users"); rec.Code != 405 {
		t.Errorf("POST /admin/users: %d", rec.Code)
	}

	// Links, as the templates of the demo build them.
	for _, tc := range []struct {
		got  string
		want string
	}{
		{Bookstore.Books.Show.MustHref(router.Params{"slug": "dune"}), "/books/dune"},
		{Bookstore.Admin.Users.Edit.MustHref(router.Params{"userId": "5"}), "/admin/users/5/edit"},
		{Bookstore.Auth.Login.Index.MustHref(nil), "/login"},
		{must(Bookstore.Search.HrefWith(nil, url.Values{"query": {"science fiction"}})), "/search?query=science+fiction"},
		{must(Bookstore.Books.Genre.HrefWith(router.Params{"genre": "sci-fi"}, url.Values{"page": {"2"}})), "/books/genre/sci-fi?page=2"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}

func must(s string, err error) string {
	if err != nil {
		panic(err)
	}
	return s
}
