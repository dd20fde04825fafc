// Package remixshared is the Go half of a mixed deployment: a Go app built
// from sessionkit's modules and a Remix app (node/server.mjs, on
// @remix-run/session-middleware) on two loopback ports, sharing one signed
// session cookie in the Remix format and, optionally, one Redis. Sign in on
// one and the other sees the user; a flash set on one shows once on the
// other; regenerating the id or signing out on either side holds on both.
//
// The commands in goapp (the Go app alone) and demo (Redis, both apps) run
// it; e2e_test.go drives both apps in headless Chromium.
package remixshared

import (
	"crypto/subtle"
	"encoding/json"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/router"
	"github.com/sessionkit/sessionkit/session"
	sessionmiddleware "github.com/sessionkit/sessionkit/session-middleware"
	"github.com/sessionkit/sessionkit/session/cookiestorage"
	redisstorage "github.com/sessionkit/sessionkit/storage-redis"
)

// The settings both apps must share. The Node app has the same defaults
// (node/server.mjs: --cookie, --idle, --prefix).
const (
	// CookieName is the session cookie's name.
	CookieName = "session"
	// IdleTimeout is the sliding expiry on the Go side and the Redis TTL
	// (ttl) on the Node side.
	IdleTimeout = 30 * time.Minute
	// Lifetime is the Go side's absolute limit. Remix has none, and a Remix
	// save drops the creation time it counts from (see the README).
	Lifetime = 12 * time.Hour
	// RedisPrefix is the key prefix of both Redis storages (the default of
	// @remix-run/session-storage-redis and of storage-redis).
	RedisPrefix = "session:"
)

// SessionOptions are the expiry settings of the Go side's Redis storage.
func SessionOptions(logger *slog.Logger) session.Options {
	return session.Options{IdleTimeout: IdleTimeout, Lifetime: Lifetime, Logger: logger}
}

// NewCookieStorage returns the Go side's cookie storage: unsealed (no Keys),
// so the payload is the signed JSON that @remix-run/session's
// createCookieSessionStorage reads and writes. Its expiry settings are those
// of SessionOptions.
func NewCookieStorage(logger *slog.Logger) (session.Storage, error) {
	return cookiestorage.New(cookiestorage.Options{
		CookieName: CookieName,
		Session:    session.ClientOptions{IdleTimeout: IdleTimeout, Lifetime: Lifetime, Logger: logger},
	})
}

// NewRedisClient returns a go-redis client for addr ("127.0.0.1:6379") that
// honours request deadlines, as redisstorage asks.
func NewRedisClient(addr string) *redis.Client {
	return redis.NewClient(&redis.Options{Addr: addr, ContextTimeoutEnabled: true})
}

// NewRedisStorage returns the Go side's Redis storage: the same keys as the
// Node app's createRedisSessionStorage (its prefix, and the plain id that
// Remix uses where the Go storage would hash it), records it reads and
// writes.
func NewRedisStorage(client redis.UniversalClient, logger *slog.Logger) (session.Storage, error) {
	return redisstorage.New(client, redisstorage.Options{KeyPrefix: RedisPrefix, PlainKeys: true, Session: SessionOptions(logger)})
}

// NewCookie returns the session cookie both apps use: the Remix format,
// signed with secrets[0], every secret verifying.
func NewCookie(secrets []string) (*cookie.Cookie, error) {
	return cookie.New(CookieName, cookie.Options{
		Secrets:  secrets,
		Format:   cookie.Remix,
		SameSite: http.SameSiteLaxMode,
	})
}

// SplitSecrets splits SESSION_SECRET's value: secrets separated by commas,
// the first signing, empty ones dropped (as node/server.mjs does).
func SplitSecrets(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// Config configures the Go app.
type Config struct {
	// Secrets sign the session cookie; the Node app must get the same ones
	// (SESSION_SECRET, comma separated). Required.
	Secrets []string
	// Storage holds the sessions: NewCookieStorage, or the Redis storage
	// with RedisPrefix. Required.
	Storage session.Storage
	// StorageName is shown on the pages ("cookie", "redis").
	StorageName string
	// PeerURL is the Node app's base URL ("http://127.0.0.1:3000"), linked
	// from every page and where "show on the Node app" sends a flash.
	// Required.
	PeerURL string
	// Logger gets the middleware's warnings; nil: slog.Default().
	Logger *slog.Logger
}

// Routes of the Go app; the Node app has the same paths.
var (
	Home       = router.Route{Method: http.MethodGet, Pattern: "/{$}"}
	WhoAmI     = router.Route{Method: http.MethodGet, Pattern: "/whoami"}
	Login      = router.Route{Method: http.MethodPost, Pattern: "/login"}
	Logout     = router.Route{Method: http.MethodPost, Pattern: "/logout"}
	SetFlash   = router.Route{Method: http.MethodPost, Pattern: "/flash"}
	Regenerate = router.Route{Method: http.MethodPost, Pattern: "/regenerate"}
)

// users are the accounts both apps accept. A real app checks a password
// hash from its database.
var users = map[string]string{"demo": "password"}

// NewApp returns the Go app's handler: the session middleware with the
// shared cookie and storage, cross-origin protection on unsafe methods
// (the Node app is another origin, so a form on it cannot post here), and
// the pages.
func NewApp(cfg Config) (http.Handler, error) {
	if len(cfg.Secrets) == 0 {
		return nil, errors.New("remixshared: Config.Secrets is empty; both apps need the same secret")
	}
	if cfg.Storage == nil {
		return nil, errors.New("remixshared: Config.Storage is nil")
	}
	peer, err := url.Parse(cfg.PeerURL)
	if err != nil || (peer.Scheme != "http" && peer.Scheme != "https") || peer.Host == "" {
		return nil, errors.New("remixshared: Config.PeerURL must be an http(s) URL such as http://127.0.0.1:3000")
	}
	c, err := NewCookie(cfg.Secrets)
	if err != nil {
		return nil, err
	}
	sessions, err := sessionmiddleware.New(c, cfg.Storage, sessionmiddleware.Options{Logger: cfg.Logger})
	if err != nil {
		return nil, err
	}
	a := &app{storage: cfg.StorageName, peer: strings.TrimSuffix(cfg.PeerURL, "/") + "/"}
	r := router.New()
	r.Use(sessions)
	r.Handle(Home, http.HandlerFunc(a.home))
	r.Handle(WhoAmI, http.HandlerFunc(a.whoami))
	r.Handle(Login, http.HandlerFunc(a.login))
	r.Handle(Logout, http.HandlerFunc(a.logout))
	r.Handle(SetFlash, http.HandlerFunc(a.flash))
	r.Handle(Regenerate, http.HandlerFunc(a.regenerate))
	return http.NewCrossOriginProtection().Handler(r), nil
}

type app struct {
	storage string
	peer    string
}

// RegeneratedNotice is the flash both apps show after regenerating the id:
// the old id's record is deleted, except with cookie storage, which has no
// record to delete.
func RegeneratedNotice(storage string) string {
	if storage == "cookie" {
		return "New session id. A copy of the old cookie still works: cookie storage cannot delete it."
	}
	return "New session id; the old one is deleted."
}

// ShortID is the part of a session id the pages show: enough to tell two
// sessions apart, too little to use.
func ShortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}

func (a *app) home(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, "user")
	p := pageData{
		User:    user,
		ShortID: ShortID(s.ID()),
		Storage: a.storage,
		Peer:    a.peer,
		Host:    r.Host,
		Notice:  s.Get("notice"),
		Error:   s.Get("error"),
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := pageTemplate.Execute(w, p); err != nil {
		slog.Error("remixshared: page", "err", err)
	}
}

// WhoAmIResponse is the JSON of GET /whoami on both apps.
type WhoAmIResponse struct {
	App     string `json:"app"`
	User    string `json:"user"`    // "" for a signed-out visitor
	Session string `json:"session"` // ShortID of the session id
	Storage string `json:"storage"`
}

func (a *app) whoami(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	user, _ := session.Value[string](s, "user")
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(WhoAmIResponse{App: "go", User: user, Session: ShortID(s.ID()), Storage: a.storage})
}

func (a *app) login(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	name, password := r.PostFormValue("username"), r.PostFormValue("password")
	want, known := users[name]
	if !known {
		want = "\x00" // compare anyway, so timing does not tell which users exist
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(want)) != 1 || !known {
		s.Flash("error", "Wrong username or password.")
		http.Redirect(w, r, "/", http.StatusSeeOther)
		return
	}
	// A new id on sign-in: an id planted before it is worthless after it.
	s.RegenerateID(true)
	s.Set("user", name)
	s.Flash("notice", "Welcome, "+name+"! Signed in on the Go app.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

func (a *app) logout(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	s.Destroy()
	// After Destroy, Flash starts a new, anonymous session for the message
	// (Remix cannot do this: its destroyed session refuses a flash).
	s.Flash("notice", "Signed out on the Go app.")
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// maxFlashRunes caps a flash message (both apps), keeping a session in
// cookie storage well under the 4096-byte cookie limit.
const maxFlashRunes = 200

func (a *app) flash(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	msg := r.PostFormValue("message")
	if r := []rune(msg); len(r) > maxFlashRunes {
		msg = string(r[:maxFlashRunes]) // whole characters, so the text stays valid UTF-8
	}
	if msg == "" {
		msg = "(an empty flash)"
	}
	s.Flash("notice", msg)
	to := "/"
	if r.PostFormValue("show") == "peer" {
		to = a.peer // configured, never taken from the request: no open redirect
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

func (a *app) regenerate(w http.ResponseWriter, r *http.Request) {
	s := session.FromContext(r.Context())
	s.RegenerateID(true)
	s.Flash("notice", RegeneratedNotice(a.storage))
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

type pageData struct {
	User, ShortID, Storage, Peer, Host string
	Notice, Error                      any
}

var pageTemplate = template.Must(template.New("page").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Go app · remix-shared</title>
<style>
body{font:16px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:40rem;padding:0 1rem;color:#222}
header{background:#0f766e;color:#fff;padding:.6rem 1rem;border-radius:.4rem}
.flash{padding:.5rem 1rem;border-radius:.4rem;background:#dcfce7}.error{background:#fee2e2}
form{margin:.8rem 0}code{background:#f3f4f6;padding:0 .3rem}small,.hint{color:#555}
</style></head>
<body>
<header><b>Go app</b> on {{.Host}} — sessionkit session-middleware, {{.Storage}} storage</header>
<p class="hint">This app shares one session cookie with the <a href="{{.Peer}}">Node app</a>:
sign in or set a flash here, then open the other; regenerate the id or sign out on either side.</p>
{{with .Notice}}<p id="notice" class="flash">{{.}}</p>{{end}}
{{with .Error}}<p id="error" class="flash error">{{.}}</p>{{end}}
{{if .User}}<p id="who" data-user="{{.User}}">Signed in as <b>{{.User}}</b></p>
{{else}}<p id="who" data-user="">Signed-out visitor</p>{{end}}
<p>Session id <code id="sid">{{.ShortID}}</code>…</p>
{{if .User}}<form method="post" action="/logout"><button id="logout">Sign out</button></form>
{{else}}<form method="post" action="/login">
  <label>User <input name="username" id="username" value="demo" autocomplete="username"></label>
  <label>Password <input name="password" id="password" type="password" autocomplete="current-password"></label>
  <button id="login">Sign in</button> <small>(demo / password)</small>
</form>{{end}}
<form method="post" action="/flash">
  <label>Flash <input name="message" id="message" value="Hello from Go"></label>
  <button name="show" value="self" id="flash-self">Show here</button>
  <button name="show" value="peer" id="flash-peer">Show on the Node app</button>
</form>
<form method="post" action="/regenerate"><button id="regenerate">Regenerate the id</button></form>
<p><a id="peer" href="{{.Peer}}">Open the Node app</a></p>
</body></html>
`))
