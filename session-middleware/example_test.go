package sessionmiddleware_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	"github.com/sessionkit/sessionkit/session/memorystorage"
)

// A site with a counter, a login form that flashes an error, an account
// page and a logout that flashes a message, on net/http.ServeMux.
func ExampleNew() {
	sessionCookie, err := cookie.New("session", cookie.Options{
		Secrets: []string{"replace with 32+ random bytes from a secret store"},
		// Secure: true, with a "__Host-" name, in production (HTTPS).
	})
	if err != nil {
		log.Fatal(err)
	}
	storage, err := memorystorage.New(memorystorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}
	withSession, err := sessionmiddleware.New(sessionCookie, storage, sessionmiddleware.Options{})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Value[int](s, "visits")
		s.Set("visits", n+1)
		user, _ := session.Value[string](s, "user")
		message, _ := session.Value[string](s, "message")
		fmt.Fprintf(w, "visit %d, user %q, message %q", n+1, user, message)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		problem, _ := session.Value[string](session.FromContext(r.Context()), "error")
		fmt.Fprintf(w, "login form, error %q", problem)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if r.FormValue("password") != "open sesame" {
			s.Flash("error", "wrong password")
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		s.RegenerateID(true) // a new id for the new privileges
		s.Set("user", r.FormValue("user"))
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})
	mux.HandleFunc("POST /logout", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.Destroy()
		s.Flash("message", "logged out")
		http.Redirect(w, r, "/", http.StatusSeeOther)
	})

	server := httptest.NewServer(withSession(mux))
	defer server.Close()

	// A browser: a client that keeps cookies and follows redirects.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	show := func(res *http.Response, err error) {
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Printf("%s -> %s\n", res.Request.URL.Path, body)
	}
	form := func(v ...string) url.Values { return url.Values{"user": {v[0]}, "password": {v[1]}} }

	show(browser.Get(server.URL + "/"))
	show(browser.PostForm(server.URL+"/login", form("alice", "guess")))
	show(browser.Get(server.URL + "/login"))
	show(browser.PostForm(server.URL+"/login", form("alice", "open sesame")))
	show(browser.Post(server.URL+"/logout", "text/plain", strings.NewReader("")))
	show(browser.Get(server.URL + "/"))
	// Output:
	// / -> visit 1, user "", message ""
	// /login -> login form, error "wrong password"
	// /login -> login form, error ""
	// / -> visit 2, user "alice", message ""
	// / -> visit 1, user "", message "logged out"
	// / -> visit 2, user "", message ""
}

// Exclusive makes the requests of one session run one at a time on the
// routes it wraps: here "add to cart", which reads a count and writes it
// back. Twenty concurrent requests of one browser all count; without the
// lock, two requests could read the same count and one addition would be
// lost. The other routes do not lock.
func ExampleExclusive() {
	sessionCookie, err := cookie.New("session", cookie.Options{
		Secrets: []string{"replace with 32+ random bytes from a secret store"},
	})
	if err != nil {
		log.Fatal(err)
	}
	// A storage that can lock (session.Locking): memory, file, Redis,
	// Memcache; not cookie storage.
	storage, err := memorystorage.New(memorystorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}
	withSession, err := sessionmiddleware.New(sessionCookie, storage, sessionmiddleware.Options{})
	if err != nil {
		log.Fatal(err)
	}
	exclusive, err := sessionmiddleware.Exclusive(sessionmiddleware.ExclusiveOptions{
		// Held at most 10 s; a request waits at most 2 s for it, then
		// gets 503 Service Unavailable with "Retry-After: 1".
		Lock: session.LockOptions{TTL: 10 * time.Second, Wait: 2 * time.Second},
	})
	if err != nil {
		log.Fatal(err)
	}

	mux := http.NewServeMux()
	mux.Handle("POST /cart", exclusive(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		items, _ := session.Value[int](s, "items")
		s.Set("items", items+1)
		fmt.Fprintf(w, "%d items", items+1)
	})))
	mux.HandleFunc("GET /cart", func(w http.ResponseWriter, r *http.Request) {
		items, _ := session.Value[int](session.FromContext(r.Context()), "items")
		fmt.Fprintf(w, "%d items", items)
	})
	server := httptest.NewServer(withSession(mux))
	defer server.Close()

	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	fetch := func(res *http.Response, err error) string {
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		return res.Status + ": " + string(body)
	}
	fmt.Println(fetch(browser.Post(server.URL+"/cart", "", nil))) // starts the session
	var wg sync.WaitGroup
	for range 19 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetch(browser.Post(server.URL+"/cart", "", nil))
		}()
	}
	wg.Wait()
	fmt.Println(fetch(browser.Get(server.URL + "/cart")))
	// Output:
	// 200 OK: 1 items
	// 200 OK: 20 items
}

// An ErrorHandler chooses the response when the storage fails: here a 503
// that asks the client to retry, instead of the default plain 500.
func ExampleOptions_errorHandler() {
	sessionCookie, _ := cookie.New("session", cookie.Options{Secrets: []string{"replace with 32+ random bytes from a secret store"}})
	withSession, err := sessionmiddleware.New(sessionCookie, downStorage{}, sessionmiddleware.Options{
		ErrorHandler: func(w http.ResponseWriter, r *http.Request, err error) {
			w.Header().Set("Retry-After", "5")
			http.Error(w, "sessions are unavailable, try again shortly", http.StatusServiceUnavailable)
		},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		log.Fatal(err)
	}
	h := withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context()) // loads the session: the storage fails
		fmt.Fprintln(w, "not reached", s.ID())
	}))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	fmt.Print(rec.Code, " ", rec.Header().Get("Retry-After"), " ", rec.Body.String())
	// Output:
	// 503 5 sessions are unavailable, try again shortly
}

// downStorage is a storage whose database is down.
type downStorage struct{ session.Storage }

func (downStorage) Read(context.Context, string) (*session.Session, error) {
	return nil, errors.New("connection refused")
}

// Cookie storage keeps the whole session in the cookie. New tells the
// storage which cookie carries it, so cookiestorage.Options.CookieName is not
// needed, and refuses a setup that could never work, such as a sealed
// payload in the text-only Remix cookie format.
func Example_cookieStorage() {
	key := []byte("replace with 32 random bytes!!!!") // AES-256: 32 bytes
	storage, err := cookiestorage.New(cookiestorage.Options{Keys: [][]byte{key}})
	if err != nil {
		log.Fatal(err)
	}
	remixCookie, _ := cookie.New("session", cookie.Options{
		Secrets: []string{"replace with 32+ random bytes from a secret store"},
		Format:  cookie.Remix,
	})
	_, err = sessionmiddleware.New(remixCookie, storage, sessionmiddleware.Options{})
	fmt.Println(err != nil)

	nativeCookie, _ := cookie.New("session", cookie.Options{
		Secrets: []string{"replace with 32+ random bytes from a secret store"},
	})
	withSession, err := sessionmiddleware.New(nativeCookie, storage, sessionmiddleware.Options{})
	if err != nil {
		log.Fatal(err)
	}
	h := withSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		n, _ := session.Value[int](s, "visits")
		s.Set("visits", n+1)
		fmt.Fprintf(w, "visit %d", n+1)
	}))
	var cookieHeader string
	for range 2 {
		req := httptest.NewRequest("GET", "/", nil)
		req.Header.Set("Cookie", cookieHeader)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		cookieHeader, _, _ = strings.Cut(rec.Header().Get("Set-Cookie"), ";")
		fmt.Println(rec.Body.String())
	}
	// Output:
	// true
	// visit 1
	// visit 2
}

// NewToken serves clients without a cookie jar: the session travels in
// "Authorization: Bearer <token>", and a new token comes back in
// "Session-Token" only when it changes.
func ExampleNewToken() {
	tokens, err := cookie.New("api", cookie.Options{Secrets: []string{"a-secret-of-32-bytes-or-more...."}})
	if err != nil {
		log.Fatal(err)
	}
	storage, err := memorystorage.New(memorystorage.Options{})
	if err != nil {
		log.Fatal(err)
	}
	withSession, err := sessionmiddleware.NewToken(tokens, storage, sessionmiddleware.TokenOptions{})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		s.RegenerateID(true)
		s.Set("user", "alice")
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		user, _ := session.Value[string](session.FromContext(r.Context()), "user")
		fmt.Fprintf(w, "user %q", user)
	})
	ts := httptest.NewServer(withSession(mux))
	defer ts.Close()

	res, err := http.Post(ts.URL+"/login", "", nil)
	if err != nil {
		log.Fatal(err)
	}
	res.Body.Close()
	token := res.Header.Get("Session-Token")
	fmt.Println("token:", token != "", "Vary:", res.Header.Get("Vary"))

	req, _ := http.NewRequest("GET", ts.URL+"/me", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err = http.DefaultClient.Do(req)
	if err != nil {
		log.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	_, sent := res.Header["Session-Token"]
	fmt.Printf("%s (new token sent: %v)\n", body, sent)
	// Output:
	// token: true Vary: Authorization
	// user "alice" (new token sent: false)
}

// RequireRecentAuth asks for a recent sign-in before a sensitive action,
// here changing the password: a session signed in more than five minutes
// ago is sent to the sign-in form first. The sign-in handler records the
// sign-in (MarkAuthenticated) and sends the browser back where it was
// going, through SafeReturnPath, so that a crafted link cannot send it to
// another site. An API client gets 401 instead of the redirect.
func ExampleRequireRecentAuth() {
	sessionCookie, err := cookie.New("session", cookie.Options{
		Secrets: []string{"replace with 32+ random bytes from a secret store"},
	})
	if err != nil {
		log.Fatal(err)
	}
	storage, err := memorystorage.New(memorystorage.Options{
		Session: session.Options{IdleTimeout: 30 * time.Minute},
	})
	if err != nil {
		log.Fatal(err)
	}
	withSession, err := sessionmiddleware.New(sessionCookie, storage, sessionmiddleware.Options{})
	if err != nil {
		log.Fatal(err)
	}
	recentSignIn := sessionmiddleware.RequireRecentAuth(5*time.Minute, sessionmiddleware.ReauthOptions{SignIn: "/login"})

	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		user, _ := session.Value[string](session.FromContext(r.Context()), "user")
		fmt.Fprintf(w, "home of %q", user)
	})
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		// The form posts the return path back in a hidden field.
		fmt.Fprintf(w, "sign-in form, return %q", r.FormValue("return"))
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		s := session.FromContext(r.Context())
		if r.FormValue("password") != "open sesame" {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		s.RegenerateID(true)
		s.Set("user", r.FormValue("user"))
		s.MarkAuthenticated(time.Now())
		http.Redirect(w, r, sessionmiddleware.SafeReturnPath(r.FormValue("return")), http.StatusSeeOther)
	})
	mux.Handle("GET /settings/password", recentSignIn(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, "change password form")
	})))

	server := httptest.NewServer(withSession(mux))
	defer server.Close()

	// A browser keeps cookies, follows redirects and asks for HTML.
	jar, _ := cookiejar.New(nil)
	browser := &http.Client{Jar: jar}
	show := func(client *http.Client, method, path, accept string, form url.Values) {
		req, err := http.NewRequest(method, server.URL+path, strings.NewReader(form.Encode()))
		if err != nil {
			log.Fatal(err)
		}
		req.Header.Set("Accept", accept)
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := client.Do(req)
		if err != nil {
			log.Fatal(err)
		}
		defer res.Body.Close()
		body, _ := io.ReadAll(res.Body)
		fmt.Printf("%s %s -> %d %s: %s\n", method, path, res.StatusCode, res.Request.URL.Path, strings.TrimSpace(string(body)))
	}
	const html = "text/html,application/xhtml+xml,*/*;q=0.8"
	signIn := func(returnTo string) url.Values {
		return url.Values{"user": {"alice"}, "password": {"open sesame"}, "return": {returnTo}}
	}

	show(browser, "GET", "/settings/password", html, nil)
	show(browser, "POST", "/login", html, signIn("/settings/password"))
	show(browser, "POST", "/login", html, signIn("//evil.example/"))
	show(http.DefaultClient, "GET", "/settings/password", "application/json", nil)
	// Output:
	// GET /settings/password -> 200 /login: sign-in form, return "/settings/password"
	// POST /login -> 200 /settings/password: change password form
	// POST /login -> 200 /: home of "alice"
	// GET /settings/password -> 401 /settings/password: recent sign-in required
}

// SafeReturnPath keeps a path on this site, and turns anything that could
// send the browser elsewhere into "/".
func ExampleSafeReturnPath() {
	for _, p := range []string{"/settings/password?tab=2", "//evil.example/", "/\\evil.example", "https://evil.example/", "/%2F%2Fevil.example"} {
		fmt.Printf("%q -> %q\n", p, sessionmiddleware.SafeReturnPath(p))
	}
	// Output:
	// "/settings/password?tab=2" -> "/settings/password?tab=2"
	// "//evil.example/" -> "/"
	// "/\\evil.example" -> "/"
	// "https://evil.example/" -> "/"
	// "/%2F%2Fevil.example" -> "/"
}
