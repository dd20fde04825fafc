package main

import (
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/router"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
)

// routeMap is the app's route map: handlers are registered from it with
// router.Map, which pairs its fields with handlerMap's by name, and every link
// and form action in the pages is built from it, so the two cannot drift
// apart.
type routeMap struct {
	Home     router.Route
	Login    router.Form // GET shows the form, POST signs in
	Account  router.Route
	Password router.Form // GET shows the form, POST changes the password (password.go)
	Logout   router.Route
	Static   router.Route // the page's stylesheet and icon (static.go)
}

var routes = routeMap{
	Home:     router.Route{Method: http.MethodGet, Pattern: "/{$}"},
	Login:    router.NewForm("/login"),
	Account:  router.Route{Method: http.MethodGet, Pattern: "/account"},
	Password: router.NewForm("/account/password"),
	Logout:   router.Route{Method: http.MethodPost, Pattern: "/logout"},
	Static:   router.Route{Method: http.MethodGet, Pattern: "/static/"},
}

// handlerMap has a handler for each field of routeMap, by the same name.
type handlerMap struct {
	Home     http.HandlerFunc
	Login    struct{ Index, Action http.HandlerFunc }
	Account  http.Handler
	Password struct{ Index, Action http.Handler }
	Logout   http.HandlerFunc
	Static   http.Handler
}

// returnParam is the query parameter, and the login form's hidden field,
// that names the page to go back to after signing in: RequireRecentAuth's
// default.
const returnParam = "return"

// appConfig is what the pages say about the setup.
type appConfig struct {
	storage        storageInfo
	idle, lifetime time.Duration
	logger         *slog.Logger // nil: slog.Default()
	// now is the app's clock: the sign-in throttle's, the event log's, and
	// the time a sign-in records (MarkAuthenticated); nil: time.Now. It
	// must be the storage's clock too (config.now), which RequireRecentAuth
	// measures a sign-in's age on: run and the tests give both the same.
	now func() time.Time
	// events is the log the storage's Observer feeds (events.go); nil: a
	// log of the app's own, which then sees no events.
	events *eventLog
	// metrics serves GET /metrics (-metrics); nil: no such route.
	metrics http.Handler
}

type app struct {
	cookie   *cookie.Cookie
	cfg      appConfig
	accounts *demoAccounts   // the users and their passwords (password.go)
	throttle *signInThrottle // failed sign-ins, per account and per client (throttle.go)
	events   *eventLog       // the recent events of each session (events.go)
}

// newApp returns the example site: a visit counter, a login form that shows
// an error on failure (without storing a session) and refuses too many
// failures with 429 (throttle.go), an account page for signed-in users only,
// a password page that needs a recent sign-in (password.go), and logout
// with a "signed out" flash. Unsafe methods (POST) from another
// origin are refused with 403 before the session is even loaded: that is
// what stops a page elsewhere from signing a visitor in or out (CSRF).
func newApp(c *cookie.Cookie, st session.Storage, cfg appConfig) (http.Handler, error) {
	sessions, err := sessionmiddleware.New(c, st, sessionmiddleware.Options{Logger: cfg.logger})
	if err != nil {
		return nil, err
	}
	a := &app{cookie: c, cfg: cfg, accounts: newDemoAccounts(), throttle: newSignInThrottle(cfg.now), events: cfg.events}
	if a.events == nil {
		a.events = newEventLog(cfg.now)
	}
	r := router.New()
	// The events slot first: the session middleware's Read reports into it.
	r.Use(a.events.collect, sessions)
	h := handlerMap{Home: a.home, Account: a.requireUser(http.HandlerFunc(a.account)), Logout: a.logout, Static: staticHandler()}
	h.Login.Index, h.Login.Action = a.loginForm, a.login
	// Not signed in: the sign-in form, with a flash, as for the account
	// page; signed in too long ago (by the storage's clock, which is the
	// app's: password.go): the sign-in form, to come back.
	recent := sessionmiddleware.RequireRecentAuth(recentAuth, sessionmiddleware.ReauthOptions{SignIn: routes.Login.Index.MustHref(nil)})
	h.Password.Index = a.requireUser(recent(http.HandlerFunc(a.passwordForm)))
	h.Password.Action = a.requireUser(recent(http.HandlerFunc(a.changePassword)))
	r.Map(routes, h)
	// The account page's "Active sessions" forms, for signed-in users only.
	r.Map(deviceRoutes, struct{ SignOut, SignOutOthers http.HandlerFunc }{a.signOutDevice, a.signOutOthers}, a.requireUser)

	csrf := http.NewCrossOriginProtection()
	csrf.SetDenyHandler(http.HandlerFunc(a.refused))
	if cfg.metrics == nil {
		return csrf.Handler(r), nil
	}
	// -metrics: GET /metrics next to the site, outside the session
	// middleware, so that a scrape neither reads nor makes a session.
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", cfg.metrics)
	mux.Handle("/", csrf.Handler(r))
	return mux, nil
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	visits, _ := session.Value[int](s, "visits")
	visits++
	s.Set("visits", visits)
	a.render(w, r, http.StatusOK, page{Title: "Home", Body: "home", Visits: visits})
}

// loginForm shows the sign-in form. A signed-in user is sent to the account
// page, unless a page that needs a recent sign-in sent them here to sign in
// again (the query names that page): the form then comes back to it.
func (a *app) loginForm(w http.ResponseWriter, r *http.Request) {
	back := returnPath(r.URL.Query().Get(returnParam))
	if session.FromContext(r.Context()).Has(userKey) && back == "" {
		http.Redirect(w, r, routes.Account.MustHref(nil), http.StatusSeeOther)
		return
	}
	a.render(w, r, http.StatusOK, loginPage(r, back, ""))
}

// returnPath is the page to come back to after signing in, as the form
// carries it: "" for none, and the home page for one that is not a path of
// this site (an open redirect to another is what a forged link would want).
func returnPath(p string) string {
	if p == "" {
		return ""
	}
	return sessionmiddleware.SafeReturnPath(p)
}

// loginPage is the sign-in form, coming back to back after signing in
// ("": the account page), with errMsg about the last attempt. For a
// signed-in user it is signing in again: only the password is left to type,
// and "Remember me" stays as it was.
func loginPage(r *http.Request, back, errMsg string) page {
	p := page{Title: "Sign in", Body: "login", Return: back, Error: errMsg}
	s := session.FromContext(r.Context())
	if user, ok := session.Value[string](s, userKey); ok && back != "" {
		p.Reauth, p.Username, p.Remember = true, user, s.Persistent()
	}
	return p
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, password := r.PostFormValue("username"), r.PostFormValue("password")
	// Too many failures for this account or from this client: refused
	// before the password is even checked (throttle.go).
	if wait := a.throttle.wait(user, r); wait > 0 {
		a.tooManyFailures(w, r, wait, "")
		return
	}
	if !a.accounts.check(user, password) {
		a.loginFailed(w, r, user)
		return
	}
	a.throttle.succeeded(user)
	// A new id on every privilege change: an id planted before the login
	// (session fixation) is worthless afterwards, at once. A sign-in, and
	// signing in again, get no grace window (regenerateGrace, storage.go).
	s.RegenerateID(true)
	s.Set("user", user)
	// The proof that pages needing a recent sign-in ask for
	// (RequireRecentAuth): it survives the new id. It is set on the app's
	// clock, which the storage measures its age on, so that a test can
	// age it.
	s.MarkAuthenticated(a.now())
	// "Remember me": a persistent session's cookie outlives the browser
	// session, with a Max-Age that follows the server's expiry; otherwise
	// the browser drops the cookie when it closes.
	s.Persist(r.PostFormValue("remember") == "on")
	s.Flash("notice", "Welcome, "+user+"!")
	http.Redirect(w, r, afterSignIn(r), http.StatusSeeOther)
}

// afterSignIn is where a sign-in goes: back to the page that asked for it
// (the form's return field), else the account page.
func afterSignIn(r *http.Request) string {
	if back := returnPath(r.PostFormValue(returnParam)); back != "" {
		return back
	}
	return routes.Account.MustHref(nil)
}

// loginFailed answers a wrong username or password: the form again, with
// the error in this response rather than in a flash after a redirect, so
// that a failed sign-in stores no session (a flash would store one per
// attempt from a client without a cookie, which is what a flood of guesses
// is). The failure that starts a lockout is answered with 429 already.
func (a *app) loginFailed(w http.ResponseWriter, r *http.Request, user string) {
	const wrong = "Wrong username or password."
	if lock := a.throttle.failed(user, r); lock > 0 {
		a.logger().WarnContext(r.Context(), "sign-in: too many failures; locked out", "client", clientKey(r), "for", lock)
		a.tooManyFailures(w, r, lock, wrong+" ")
		return
	}
	a.render(w, r, http.StatusOK, loginPage(r, returnPath(r.PostFormValue(returnParam)), wrong))
}

// tooManyFailures answers a sign-in refused for wait: 429 Too Many
// Requests, with Retry-After in whole seconds and the form saying when to
// try again.
func (a *app) tooManyFailures(w http.ResponseWriter, r *http.Request, wait time.Duration, prefix string) {
	seconds := (wait + time.Second - 1) / time.Second // rounded up: never too early
	wait = seconds * time.Second
	w.Header().Set("Retry-After", strconv.Itoa(int(seconds)))
	msg := prefix + "Too many failed sign-ins: try again in " + humanDuration(wait) +
		", after " + clockTime(a.now().Add(wait)) + "."
	a.render(w, r, http.StatusTooManyRequests, loginPage(r, returnPath(r.PostFormValue(returnParam)), msg))
}

func (a *app) now() time.Time {
	if a.cfg.now != nil {
		return a.cfg.now()
	}
	return time.Now()
}

// requireUser sends visitors who are not signed in to the login form, with
// a flash that says why they were signed out when their cookie named a
// session that was revoked or expired (events.go).
func (a *app) requireUser(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if !s.Has("user") {
			msg := "Please sign in to see your account."
			if why := a.endedReason(r.Context()); why != "" {
				msg = why + " " + msg
			}
			s.Flash("error", msg)
			http.Redirect(w, r, routes.Login.Index.MustHref(nil), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func (a *app) account(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, "user")
	a.render(w, r, http.StatusOK, page{Title: "Account", Body: "account", User: user, Devices: a.devices(r, s, user)})
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	s.Destroy()
	// After Destroy, Flash starts a new, anonymous session for the message.
	s.Flash("notice", "You have been signed out.")
	http.Redirect(w, r, routes.Home.MustHref(nil), http.StatusSeeOther)
}

// refused answers a cross-origin POST. It runs outside the session
// middleware: the session is neither read nor changed.
func (a *app) refused(w http.ResponseWriter, r *http.Request) {
	a.render(w, r, http.StatusForbidden, page{Title: "Cross-origin request refused", Body: "refused"})
}
