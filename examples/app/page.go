package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/sessionkit/sessionkit/router"
	"github.com/sessionkit/sessionkit/session"
)

// page is what one response shows: Body names the template of the page's own
// part; every page also shows the session panel.
type page struct {
	Title  string
	Body   string // "home", "login", "account", "password" or "refused"
	Visits int    // home
	User   string // account, password

	// login: the page to come back to after signing in ("": the account
	// page); Reauth when a signed-in user is asked to sign in again (a
	// page needs a recent sign-in), with their name and "Remember me" as
	// they were.
	Return   string
	Reauth   bool
	Username string
	Remember bool

	// password: when the user last signed in, how recent that must be,
	// and the shortest password accepted.
	SignedInAt  string
	Recent      string
	MinPassword int

	Devices *devicesView // account: the user's active sessions (devices.go)

	// Filled by render.
	R routeMap
	// Notice and Error are the flash values of those names, unless the
	// handler set them (a failed sign-in's error, shown without a flash).
	Notice  string
	Error   string
	Session *sessionView // nil on pages the session middleware does not serve
	Storage storageInfo
	Cookie  cookieView
	Request requestView
}

// flashKeys are the keys this app flashes. A Session cannot list the flash
// it read (only Get it by key), so the panel asks for these.
var flashKeys = []string{"notice", "error"}

// sessionView is the session panel: what the session holds while this page
// is rendered, which is what the middleware saves after it.
type sessionView struct {
	ShortID   string
	SignedIn  bool
	Values    []entry // persisted until changed
	FlashNow  []entry // read in this request, gone on the next
	FlashNext []entry // set in this request, shown on the next
	WillSave  bool    // Dirty: this response writes the session
	Located   string  // where this session's record lives (storageInfo.Locate); "" when the storage does not say
	Idle      string  // "" when there is no such limit
	Lifetime  string
	// Created and ExpiresAt are the session's times as this request loaded
	// it ("" for a session not saved yet, or no expiry); Persistent says
	// whether its cookie outlives the browser session ("Remember me").
	Created    string
	ExpiresAt  string
	ExpiresIn  string
	Persistent bool
	// Events are the recent events of this session (events.go), newest
	// first; Handle is "" for a session not saved yet.
	Events []eventLine
	Handle string
}

type entry struct{ Key, Value string }

// cookieView says what the browser sent.
type cookieView struct {
	Name    string
	Sent    bool   // a cookie of that name came with the request
	Valid   bool   // its signature verified
	Payload string // cookie storage, not sealed: the decoded payload, id shortened
	Bytes   int    // cookie storage: size of the verified value
}

// requestView is what the refusal page explains.
type requestView struct {
	Method, Path, Origin, FetchSite string
}

func (a *app) render(w http.ResponseWriter, r *http.Request, status int, p page) {
	p.R = routes
	p.Storage = a.cfg.storage
	p.Cookie = a.cookieView(r)
	p.Request = requestView{Method: r.Method, Path: r.URL.Path, Origin: r.Header.Get("Origin"), FetchSite: r.Header.Get("Sec-Fetch-Site")}
	if s := session.FromContext(r.Context()); s != nil {
		if p.Notice == "" {
			p.Notice = flashString(s, "notice")
		}
		if p.Error == "" {
			p.Error = flashString(s, "error")
		}
		if p.Error == "" {
			// This request's cookie named a session that was revoked or
			// expired: say so on the page it gets instead.
			p.Error = a.endedReason(r.Context())
		}
		p.Session = a.sessionView(r.Context(), s)
	}
	var buf bytes.Buffer
	if err := pageTemplate.Execute(&buf, p); err != nil {
		a.logger().ErrorContext(r.Context(), "render", "page", p.Body, "error", err)
		http.Error(w, "500 Internal Server Error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

func (a *app) logger() *slog.Logger {
	if a.cfg.logger != nil {
		return a.cfg.logger
	}
	return slog.Default()
}

func flashString(s *session.Session, key string) string {
	if v, ok := session.Value[string](s, key); ok {
		return v
	}
	return ""
}

func (a *app) sessionView(ctx context.Context, s *session.Session) *sessionView {
	d := s.Data()
	v := &sessionView{
		ShortID:   shortID(s.ID()),
		SignedIn:  s.Has("user"),
		Values:    entries(d.Values),
		FlashNext: entries(d.Flash),
		WillSave:  s.State().Dirty,
	}
	for _, k := range flashKeys {
		if _, isValue := d.Values[k]; !isValue && s.Has(k) {
			v.FlashNow = append(v.FlashNow, entry{k, jsonString(s.Get(k))})
		}
	}
	if t := s.Created(); !t.IsZero() {
		v.Created = clockTime(t)
	}
	if t := s.ExpiresAt(); !t.IsZero() {
		v.ExpiresAt = clockTime(t)
		v.ExpiresIn = humanDuration(s.ExpiresIn().Round(time.Second))
	}
	v.Persistent = s.Persistent()
	v.Handle = s.Handle()
	v.Events = a.recentEvents(v.Handle)
	if a.cfg.storage.Locate != nil {
		v.Located = a.cfg.storage.Locate(ctx, s.ID())
	}
	if a.cfg.idle > 0 {
		v.Idle = humanDuration(a.cfg.idle)
	}
	if a.cfg.lifetime > 0 {
		v.Lifetime = humanDuration(a.cfg.lifetime)
	}
	return v
}

func (a *app) cookieView(r *http.Request) cookieView {
	v := cookieView{Name: a.cookie.Name()}
	_, err := r.Cookie(v.Name)
	v.Sent = err == nil
	value, ok := a.cookie.Parse(strings.Join(r.Header.Values("Cookie"), "; "))
	v.Valid = ok && value != ""
	if !v.Valid || !a.cfg.storage.ClientSide {
		return v
	}
	v.Bytes = len(value)
	if !a.cfg.storage.Sealed {
		v.Payload = shortenPayloadID(value)
	}
	return v
}

// shortenPayloadID returns a plain cookie-storage payload with its session
// id shortened, as everywhere on the pages: a page can be read by scripts
// that the HttpOnly cookie is hidden from.
func shortenPayloadID(payload string) string {
	var p struct {
		ID string `json:"i"`
	}
	if json.Unmarshal([]byte(payload), &p) != nil || p.ID == "" {
		return payload
	}
	return strings.ReplaceAll(payload, p.ID, shortID(p.ID))
}

// shortID shows enough of an id to tell two apart; the whole id is a
// credential and never appears on a page or in a log.
func shortID(id string) string {
	if len(id) <= 8 {
		return id
	}
	return id[:8] + "…"
}

func entries(m map[string]any) []entry {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make([]entry, 0, len(keys))
	for _, k := range keys {
		out = append(out, entry{k, jsonString(m[k])})
	}
	return out
}

// jsonString shows a value as JSON, its stored form; the template escapes
// it for HTML.
func jsonString(v any) string {
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return fmt.Sprint(v)
	}
	return strings.TrimSuffix(b.String(), "\n")
}

// clockTime shows a time to the second, in UTC.
func clockTime(t time.Time) string {
	return t.UTC().Format("2006-01-02 15:04:05 UTC")
}

// humanDuration is the one format of every duration on the pages: the
// largest unit and the next one when it is not zero, so 30m is "30 minutes",
// 1799s "29 minutes 59 seconds" and 12h "12 hours". Below a minute, a
// fraction of a second is kept ("1.5s").
func humanDuration(d time.Duration) string {
	if d < time.Minute && d%time.Second != 0 {
		return d.String()
	}
	parts := []struct {
		n    time.Duration
		name string
	}{{d / time.Hour, "hour"}, {d % time.Hour / time.Minute, "minute"}, {d % time.Minute / time.Second, "second"}}
	for i, p := range parts {
		if p.n == 0 && i < len(parts)-1 {
			continue
		}
		out := plural(int(p.n), p.name)
		if i+1 < len(parts) && parts[i+1].n != 0 {
			out += " " + plural(int(parts[i+1].n), parts[i+1].name)
		}
		return out
	}
	return "0 seconds"
}

var pageTemplate = template.Must(template.New("page").Funcs(template.FuncMap{
	"href": func(rt router.Route) string { return rt.MustHref(nil) },
}).Parse(pageHTML))

const pageHTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · sessionkit example</title>
<link rel="stylesheet" href="/static/app.css">
<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">
</head>
<body>
<header>
<span class="brand">sessionkit example</span>
<a href="{{href .R.Home}}">Home</a>
{{with .Session}}{{if .SignedIn}}<a href="{{href $.R.Account}}">Account</a>
<form method="post" action="{{href $.R.Logout}}"><button type="submit" id="signout">Sign out</button></form>
{{else}}<a href="{{href $.R.Login.Index}}" id="signin">Sign in</a>{{end}}{{end}}
</header>
<main>
<h1>{{.Title}}</h1>
{{with .Notice}}<p class="flash notice" role="status" id="notice">{{.}}</p>{{end}}
{{with .Error}}<p class="flash error" role="alert" id="error">{{.}}</p>{{end}}
{{if eq .Body "home"}}{{template "home" .}}{{else if eq .Body "login"}}{{template "login" .}}{{else if eq .Body "account"}}{{template "account" .}}{{else if eq .Body "password"}}{{template "password" .}}{{else if eq .Body "refused"}}{{template "refused" .}}{{end}}
{{with .Session}}{{template "session" $}}{{end}}
</main>
</body>
</html>
{{- define "home"}}
<p id="visits">You have visited this page {{.Visits}} time{{if ne .Visits 1}}s{{end}} in this session.</p>
<div class="card next"><h2>Try next</h2>
{{if .Session.SignedIn}}<p>Reload: <code>visits</code> goes up and the session is saved on every request. Open <a href="{{href .R.Account}}">your account</a>, or sign out and watch the id change again.</p>
{{else}}<p>Reload: <code>visits</code> goes up, and the session id below stays the same. Then <a href="{{href .R.Login.Index}}">sign in</a> and compare the id: it changes on sign-in, so an id someone planted before cannot follow you in.</p>{{end}}
</div>
{{end -}}
{{- define "login"}}
{{if .Reauth}}<p class="flash notice" id="reauth">The page you asked for, <code>{{.Return}}</code>, needs a recent sign-in: type your password again to go on.</p>
{{end}}<form method="post" action="{{href .R.Login.Action}}" id="login">
{{with .Return}}<input type="hidden" name="return" id="return" value="{{.}}">
{{end}}<label>Username <input name="username" id="username" autocomplete="username" value="{{.Username}}" required></label>
<label>Password <input name="password" id="password" type="password" autocomplete="current-password" required{{if .Reauth}} autofocus{{end}}></label>
<label class="check"><input name="remember" id="remember" type="checkbox" value="on"{{if .Remember}} checked{{end}}> Remember me</label>
<p><button class="primary" type="submit">Sign in</button></p>
</form>
<div class="card next"><h2>Try next</h2>
<p>Sign in with a wrong password first: the error is part of this answer, not a <em>flash</em> value, so the panel below says the session is not written: a failed sign-in stores nothing, however many a client sends. After 5 wrong passwords for one account (or 20 from one address) sign-in is refused for 30 seconds, answered with <code>429 Too Many Requests</code> and <code>Retry-After</code>, and each further failure doubles the wait, up to 15 minutes. Then use <code>demo</code> / <code>password</code>. With <em>Remember me</em> ticked, the session cookie gets a <code>Max-Age</code> equal to the time the server leaves the session, so it survives a browser restart; without it, the cookie is gone when the browser closes.</p>
</div>
{{end -}}
{{- define "account"}}
<p>Signed in as <strong id="user">{{.User}}</strong>. Only signed-in visitors see this page; others are sent to the sign-in form with a flash.</p>
<p><a href="{{href .R.Password.Index}}" id="change-password">Change password</a> <span class="muted">(asks for your password again unless you signed in within the last few minutes; signs out every other device)</span></p>
{{template "devices" .}}
<div class="card next"><h2>Try next</h2>
<p>Reload: the welcome message was flash, so it is gone. Then sign out: {{if .Storage.ClientSide}}the session is destroyed, and since it lives only in the cookie there is no record on the server to delete: your browser's cookie is replaced by that of a new, anonymous session, which carries the “signed out” message{{else}}the session is destroyed (its record on the server deleted) and a new, anonymous one carries the “signed out” message{{end}}.</p>
{{if and .Devices .Devices.Available}}<p>Sign in from a second browser (or a private window) too: both appear under <em>Active sessions</em>. Sign the other one out from here, then reload it: it is anonymous, and its page says it was signed out from another device.</p>{{end}}
</div>
{{end -}}
{{- define "refused"}}
<p id="refused">This <code>{{.Request.Method}} {{.Request.Path}}</code> came from a page{{with .Request.Origin}} at <code>{{.}}</code>{{end}}{{with .Request.FetchSite}}, which your browser marked <code>Sec-Fetch-Site: {{.}}</code>{{end}}: {{if eq .Request.FetchSite "cross-site"}}that page is on another site{{else if eq .Request.FetchSite "same-site"}}that page is on this site, but at another origin (another port or subdomain){{else}}that page is at another origin than this one{{end}}. The request was refused before the session was read. Nothing changed.</p>
<div class="card"><h2>Why</h2>
<p>A page of another origin (another site, or another port or subdomain of this one) can make your browser post a form here, and the browser would attach your session cookie. The app wraps every route in Go's <code>net/http.CrossOriginProtection</code>, which refuses unsafe methods (POST, PUT, DELETE…) unless the browser marks them <code>Sec-Fetch-Site: same-origin</code> (or, without that header, their <code>Origin</code> is this host). <code>GET</code> pages and non-browser clients are not affected.</p>
</div>
<div class="card next"><h2>Try next</h2><p><a href="{{href .R.Home}}">Go home</a>: you are still signed in if you were.</p></div>
{{end -}}
{{- define "session"}}{{$s := .Session}}
<section class="card" id="session">
<h2>What the session holds now</h2>
<table>
<tr><th>Storage</th><td><strong>{{.Storage.Name}}</strong>{{if .Storage.ClientSide}}{{if .Storage.Sealed}}, sealed{{else}}, signed only{{end}}{{end}}: {{.Storage.Where}}</td></tr>
{{with $s.Located}}<tr><th>Where this session is</th><td id="located">{{.}}</td></tr>
{{end}}<tr><th>Session id</th><td><code id="sid">{{$s.ShortID}}</code> <span class="muted">(shortened: the whole id is a credential)</span></td></tr>
<tr><th>Values</th><td>{{range $s.Values}}<code>{{.Key}}</code> = <code>{{.Value}}</code><br>{{else}}<span class="muted">none</span>{{end}}</td></tr>
<tr><th>Flash read now</th><td>{{range $s.FlashNow}}<code>{{.Key}}</code> = <code>{{.Value}}</code> <span class="muted">(gone on the next request)</span><br>{{else}}<span class="muted">none</span>{{end}}</td></tr>
<tr><th>Flash for next page</th><td>{{range $s.FlashNext}}<code>{{.Key}}</code> = <code>{{.Value}}</code><br>{{else}}<span class="muted">none</span>{{end}}</td></tr>
<tr><th>Created</th><td id="created">{{if $s.Created}}{{$s.Created}}{{else if $s.WillSave}}<span class="muted">now: this is a new session, created by this response's save</span>{{else}}<span class="muted">not yet: this is a new session and this response does not save it, so it is created by the first response that does</span>{{end}}</td></tr>
<tr><th>Expires</th><td>{{if $s.Idle}}after {{$s.Idle}} without a request{{end}}{{if and $s.Idle $s.Lifetime}}, or {{end}}{{if $s.Lifetime}}{{$s.Lifetime}} after it was created{{end}}{{if not (or $s.Idle $s.Lifetime)}}never (no idle timeout, no lifetime){{end}}, enforced by the server.{{with $s.ExpiresAt}} As loaded for this page: at <span id="expires">{{.}}</span> (in {{$s.ExpiresIn}}){{if $s.Idle}}; a request that saves or refreshes the session moves it{{end}}.{{end}}</td></tr>
<tr><th>Remember me</th><td id="persistent">{{if $s.Persistent}}on: the cookie has a <code>Max-Age</code> that follows the server's expiry, so it survives a browser restart{{else}}off: the cookie has no <code>Max-Age</code>, so the browser drops it when it closes{{end}}</td></tr>
<tr><th>This response</th><td>{{if $s.WillSave}}saves the session ({{if $s.Created}}it changed{{else}}it changed; the save creates it{{end}}){{else}}does not write the session: unchanged, so no write and no <code>Set-Cookie</code>{{end}}</td></tr>
<tr><th>Cookie <code>{{.Cookie.Name}}</code></th><td>{{if not .Cookie.Sent}}your browser sent none: this is a new session{{else if not .Cookie.Valid}}your browser sent one that does not verify (forged, or signed with another secret): this is a new session{{else if .Storage.ClientSide}}signed with HMAC-SHA256; it carries the whole session ({{.Cookie.Bytes}} bytes{{if .Storage.Sealed}}, encrypted{{end}}){{else}}signed with HMAC-SHA256; it carries only the id, the data stays on the server{{end}}</td></tr>
</table>
{{if and .Storage.ClientSide .Cookie.Payload}}
<div class="card warn" id="payload"><h2>Readable by anyone who has the cookie</h2>
<p>Cookie storage without keys only <em>signs</em> the payload: it cannot be changed, but it can be read. This is what your browser sent (id shortened here):</p>
<pre>{{.Cookie.Payload}}</pre>
<p class="muted">The values, the flash for the next request, then the creation and last-save times (Unix milliseconds) that the server checks expiry against, and once signed in the time of the sign-in (<code>a</code>), the device and network it was last used from (<code>d</code>, <code>n</code>), and after a password change the account's epoch it was stamped with (<code>e</code>).</p>
<p>Restart with <code>-seal</code> (<code>make run STORAGE=cookie ARGS="-seal"</code>) to encrypt it with AES-256-GCM.</p>
</div>
{{else if .Storage.Sealed}}
<p class="muted" id="payload">The payload is sealed with AES-256-GCM: the browser holds it but cannot read or change it.</p>
{{end}}
</section>
{{template "events" $s}}
{{end}}
{{- define "events"}}
<section class="card" id="events">
<h2>Recent events of this session</h2>
{{if .Events}}<ol class="events">
{{range .Events}}<li><span class="mono muted">{{.At}}</span> {{.Text}}</li>
{{end}}</ol>
<p class="muted">Newest first, times in UTC, as the storage reported them to the app's observer; page loads are not listed. Events of this response's own save appear on the next page.</p>
{{else if .Handle}}<p class="muted">None recorded since the app started.</p>
{{else}}<p class="muted">None yet: this session has not been saved. Its events start with the save that creates it.</p>
{{end}}</section>
{{end}}`
