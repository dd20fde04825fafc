package main

import (
	"crypto/subtle"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/router"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
)

// Routes, declared once: used to register handlers and to build links.
var (
	Home     = router.Route{Method: http.MethodGet, Pattern: "/{$}"}
	LoginGet = router.Route{Method: http.MethodGet, Pattern: "/login"}
	LoginPut = router.Route{Method: http.MethodPost, Pattern: "/login"}
	Account  = router.Route{Method: http.MethodGet, Pattern: "/account"}
	Logout   = router.Route{Method: http.MethodPost, Pattern: "/logout"}
)

// demoUsers are the accounts the example accepts. A real program checks a
// password hash (bcrypt, argon2id) from its database.
var demoUsers = map[string]string{"demo": "password"}

// newApp returns the example site: a visit counter, a login form that
// flashes an error on failure, an account page for signed-in users only, and
// logout with a "signed out" flash.
func newApp(c *cookie.Cookie, st session.Storage, logger *slog.Logger) (http.Handler, error) {
	sessions, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{Logger: logger})
	if err != nil {
		return nil, err
	}
	r := router.New()
	r.Use(sessions)
	r.Handle(Home, http.HandlerFunc(home))
	r.Handle(LoginGet, http.HandlerFunc(loginForm))
	r.Handle(LoginPut, http.HandlerFunc(login))
	r.Handle(Account, http.HandlerFunc(account), requireUser)
	r.Handle(Logout, http.HandlerFunc(logout))
	return r, nil
}

func home(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	visits, _ := session.Value[int](s, "visits")
	visits++
	s.Set("visits", visits)
	render(w, http.StatusOK, pageData{Title: "Home", Session: s, Visits: visits})
}

func loginForm(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	if s.Has("user") {
		http.Redirect(w, r, Account.MustHref(nil), http.StatusSeeOther)
		return
	}
	render(w, http.StatusOK, pageData{Title: "Sign in", Session: s, LoginForm: true})
}

func login(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, password := r.PostFormValue("username"), r.PostFormValue("password")
	want, known := demoUsers[user]
	if !known {
		want = "\x00" // compare anyway, so timing does not tell which users exist
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 || !known {
		s.Flash("error", "Wrong username or password.")
		http.Redirect(w, r, LoginGet.MustHref(nil), http.StatusSeeOther)
		return
	}
	// A new id on every privilege change: an id planted before the login
	// (session fixation) is worthless afterwards, and the old record goes.
	s.RegenerateID(true)
	s.Set("user", user)
	s.Flash("notice", "Welcome, "+user+"!")
	http.Redirect(w, r, Account.MustHref(nil), http.StatusSeeOther)
}

// requireUser sends visitors who are not signed in to the login form.
func requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if !s.Has("user") {
			s.Flash("error", "Please sign in to see your account.")
			http.Redirect(w, r, LoginGet.MustHref(nil), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func account(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, "user")
	render(w, http.StatusOK, pageData{Title: "Account", Session: s, User: user})
}

func logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	s.Destroy()
	// After Destroy, Flash starts a new, anonymous session for the message.
	s.Flash("notice", "You have been signed out.")
	http.Redirect(w, r, Home.MustHref(nil), http.StatusSeeOther)
}

type pageData struct {
	Title     string
	Session   *session.Session
	Visits    int
	LoginForm bool
	User      string
}

// Notice and Error read this request's flash messages.
func (p pageData) Notice() any { return p.Session.Get("notice") }
func (p pageData) Error() any  { return p.Session.Get("error") }

// SignedIn reports whether the visitor is signed in.
func (p pageData) SignedIn() bool { return p.Session.Has("user") }

// Href builds links from the route table.
func (p pageData) Href(rt router.Route) string { return rt.MustHref(nil) }

func (p pageData) Routes() map[string]router.Route {
	return map[string]router.Route{"Home": Home, "Login": LoginGet, "LoginPost": LoginPut, "Account": Account, "Logout": Logout}
}

var page = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>{{.Title}} · sessionkit example</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:2rem auto;line-height:1.5}
.notice{background:#e6f4ea;padding:.5rem 1rem}.error{background:#fce8e6;padding:.5rem 1rem}
nav a,nav form{margin-right:1rem;display:inline}</style></head>
<body>
{{$r := .Routes}}
<nav><a href="{{.Href $r.Home}}">Home</a>
{{if .SignedIn}}<a href="{{.Href $r.Account}}">Account</a>
<form method="post" action="{{.Href $r.Logout}}"><button>Sign out</button></form>
{{else}}<a href="{{.Href $r.Login}}">Sign in</a>{{end}}</nav>
<h1>{{.Title}}</h1>
{{with .Notice}}<p class="notice" role="status">{{.}}</p>{{end}}
{{with .Error}}<p class="error" role="alert">{{.}}</p>{{end}}
{{if .LoginForm}}
<form method="post" action="{{.Href $r.LoginPost}}">
<p><label>Username <input name="username" autocomplete="username" required></label></p>
<p><label>Password <input name="password" type="password" autocomplete="current-password" required></label></p>
<p><button>Sign in</button> (try <code>demo</code> / <code>password</code>)</p>
</form>
{{else if .User}}
<p>Signed in as <strong>{{.User}}</strong>. Only signed-in visitors see this page.</p>
{{else}}
<p>You have visited this page {{.Visits}} time{{if ne .Visits 1}}s{{end}} in this session.</p>
{{end}}
</body></html>
`))

func render(w http.ResponseWriter, status int, p pageData) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := page.Execute(w, p); err != nil {
		slog.Error("render", "error", err)
	}
}
