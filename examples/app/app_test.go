package main

import (
	"context"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/sessionkit/sessionkit/cookie"
	"github.com/sessionkit/sessionkit/session"
	postgresstorage "github.com/sessionkit/sessionkit/storage-postgres"
)

const testSecret = "test-secret-test-secret-test-secret!"

// storageRows are the storages the app offers, as -storage and -seal flags.
var storageRows = []struct {
	name    string
	storage string
	seal    bool
}{
	{"memory", "memory", false},
	{"file", "file", false},
	{"cookie-signed", "cookie", false},
	{"cookie-sealed", "cookie", true},
	{"redis", "redis", false},
	{"memcache", "memcache", false},
	{"postgres", "postgres", false},
}

// withServer points cfg at a redis-server, a Redis Cluster, a pool of
// memcached or a PostgreSQL started for the test (skipped with an install hint when missing, unless
// SESSIONKIT_REQUIRE_SERVERS=1) when its storage needs one.
func withServer(t *testing.T, cfg config) config {
	t.Helper()
	switch cfg.storage {
	case "redis":
		cfg.redis = testserver.Redis(t).Addr()
	case "redis-cluster":
		cfg.redis = strings.Join(testserver.RedisCluster(t, clusterMasters).Addrs(), ",")
	case "memcache":
		// A pool, as make run starts: sessions spread over the servers.
		addrs := make([]string, memcachePool)
		for i := range addrs {
			addrs[i] = testserver.Memcached(t).Addr()
		}
		cfg.memcache = strings.Join(addrs, ",")
	case "postgres":
		cfg.postgres = testserver.PostgresServer(t).URL()
	}
	return cfg
}

// idRecorder remembers every id a save wrote, so tests can check that no
// page shows a whole id.
type idRecorder struct {
	session.Storage
	mu  sync.Mutex
	ids []string
}

func (r *idRecorder) Save(ctx context.Context, s *session.Session) (string, bool, error) {
	r.mu.Lock()
	r.ids = append(r.ids, s.ID())
	r.mu.Unlock()
	return r.Storage.Save(ctx, s)
}

func (r *idRecorder) seen() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.ids...)
}

func newTestServer(t *testing.T, storage string, seal bool) (*httptest.Server, *http.Client, *idRecorder) {
	t.Helper()
	return newTestServerWith(t, testOptions{storage: storage, seal: seal})
}

// testOptions are the app's setup for newTestServerWith.
type testOptions struct {
	storage string
	seal    bool
	now     func() time.Time // the storage's and the app's clock; nil: time.Now
	metrics bool             // -metrics
}

// newTestServerWith serves the app as run sets it up (the event log and the
// logger observe the storage; -metrics adds the exporter and /metrics), with
// a 1-hour idle timeout and a 24-hour lifetime.
func newTestServerWith(t *testing.T, o testOptions) (*httptest.Server, *http.Client, *idRecorder) {
	t.Helper()
	c, err := cookie.New("session", cookie.Options{Secrets: []string{testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := withServer(t, config{storage: o.storage, seal: o.seal, dir: t.TempDir(), idle: time.Hour, lifetime: 24 * time.Hour, now: o.now})
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	acfg := appConfig{idle: cfg.idle, lifetime: cfg.lifetime, logger: logger, now: o.now, events: newEventLog(o.now)}
	var exported session.Observer
	if o.metrics {
		m, err := newMetrics()
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Shutdown(context.Background()) })
		acfg.metrics, exported = m.Handler, m.Observer
	}
	cfg.observer = acfg.events.observer(logger, exported)
	st, info, err := newStorage(cfg, "session", testSecret)
	if err != nil {
		t.Fatal(err)
	}
	if info.Close != nil {
		t.Cleanup(info.Close) // before the server stops: cleanups run last first
	}
	acfg.storage = info
	rec := &idRecorder{Storage: st}
	h, err := newApp(c, rec, acfg)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	return srv, &http.Client{Jar: jar}, rec
}

func do(t *testing.T, cl *http.Client, method, u string, form url.Values, header http.Header) (*http.Response, string) {
	t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, u, body)
	if err != nil {
		t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := cl.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func get(t *testing.T, cl *http.Client, u string) (int, string) {
	t.Helper()
	resp, body := do(t, cl, http.MethodGet, u, nil, nil)
	return resp.StatusCode, body
}

func post(t *testing.T, cl *http.Client, u string, form url.Values) (int, string) {
	t.Helper()
	if form == nil {
		form = url.Values{}
	}
	resp, body := do(t, cl, http.MethodPost, u, form, nil)
	return resp.StatusCode, body
}

func sessionCookie(t *testing.T, cl *http.Client, srv *httptest.Server) string {
	t.Helper()
	u, _ := url.Parse(srv.URL)
	for _, c := range cl.Jar.Cookies(u) {
		if c.Name == "session" {
			return c.Value
		}
	}
	return ""
}

func mustContain(t *testing.T, body string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(body, w) {
			t.Fatalf("page lacks %q:\n%s", w, body)
		}
	}
}

func mustNotContain(t *testing.T, body string, unwanted ...string) {
	t.Helper()
	for _, w := range unwanted {
		if strings.Contains(body, w) {
			t.Fatalf("page has %q:\n%s", w, body)
		}
	}
}

func TestLoginFlow(t *testing.T) {
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, cl, _ := newTestServer(t, row.storage, row.seal)

			_, body := get(t, cl, srv.URL+"/")
			mustContain(t, body, "visited this page 1 time in")
			_, body = get(t, cl, srv.URL+"/")
			mustContain(t, body, "visited this page 2 times")
			anonymous := sessionCookie(t, cl, srv)
			if anonymous == "" {
				t.Fatal("no session cookie before the login")
			}

			// The account page sends visitors to the login form, with a flash.
			_, body = get(t, cl, srv.URL+"/account")
			mustContain(t, body, "<h1>Sign in</h1>", "Please sign in to see your account.")

			// A failed login: the error shows once.
			_, body = post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"wrong"}})
			mustContain(t, body, "Wrong username or password.")
			_, body = get(t, cl, srv.URL+"/login")
			mustNotContain(t, body, "Wrong username or password.")

			// A good login: a new id, the welcome flash, the account page.
			code, body := post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}})
			if code != http.StatusOK {
				t.Fatalf("login: status %d", code)
			}
			mustContain(t, body, "Welcome, demo!", `Signed in as <strong id="user">demo</strong>`)
			signedIn := sessionCookie(t, cl, srv)
			if signedIn == anonymous || signedIn == "" {
				t.Fatal("the session cookie did not change on login")
			}
			_, body = get(t, cl, srv.URL+"/account")
			mustNotContain(t, body, "Welcome, demo!")
			_, body = get(t, cl, srv.URL+"/")
			mustContain(t, body, "visited this page 3 times")

			if row.storage != "cookie" {
				// The id from before the login is dead at once: replaying it
				// gives a new, anonymous session (a sign-in gets no grace
				// window; TestRegenerateGrace).
				req, _ := http.NewRequest(http.MethodGet, srv.URL+"/account", nil)
				req.AddCookie(&http.Cookie{Name: "session", Value: anonymous})
				resp, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
				if err != nil {
					t.Fatal(err)
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusSeeOther {
					t.Fatalf("old id after login: status %d, want a redirect to the login form", resp.StatusCode)
				}
			}

			// Logout: a new anonymous session carrying the notice.
			_, body = post(t, cl, srv.URL+"/logout", nil)
			mustContain(t, body, "You have been signed out.", "visited this page 1 time in")
			mustNotContain(t, body, "Account</a>")
			_, body = get(t, cl, srv.URL+"/account")
			mustContain(t, body, "Please sign in")

			// GET /logout is not a way to sign out.
			if code, _ := get(t, cl, srv.URL+"/logout"); code != http.StatusMethodNotAllowed {
				t.Fatalf("GET /logout: status %d, want 405", code)
			}
		})
	}
}

// TestCrossOriginRefused: a page on another origin cannot sign a visitor out
// or in, whatever header the browser marks it with; the same origin and
// non-browser clients (no Origin, no Sec-Fetch-Site) still can.
func TestCrossOriginRefused(t *testing.T) {
	cross := []struct {
		name   string
		header http.Header
		want   string // how the refusal page describes the sender
	}{
		{"Sec-Fetch-Site cross-site", http.Header{"Sec-Fetch-Site": {"cross-site"}, "Origin": {"https://evil.example"}},
			"came from a page at <code>https://evil.example</code>, which your browser marked <code>Sec-Fetch-Site: cross-site</code>: that page is on another site."},
		{"Sec-Fetch-Site same-site", http.Header{"Sec-Fetch-Site": {"same-site"}, "Origin": {"http://127.0.0.1:1"}},
			"came from a page at <code>http://127.0.0.1:1</code>, which your browser marked <code>Sec-Fetch-Site: same-site</code>: that page is on this site, but at another origin (another port or subdomain)."},
		{"Origin only", http.Header{"Origin": {"https://evil.example"}},
			"came from a page at <code>https://evil.example</code>: that page is at another origin than this one. The request was refused"},
	}
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, cl, _ := newTestServer(t, row.storage, row.seal)
			if code, _ := post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}}); code != http.StatusOK {
				t.Fatalf("login: status %d", code)
			}
			for _, c := range cross {
				before := sessionCookie(t, cl, srv)
				resp, body := do(t, cl, http.MethodPost, srv.URL+"/logout", url.Values{}, c.header)
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("%s: POST /logout: status %d, want 403", c.name, resp.StatusCode)
				}
				if sc := resp.Header.Values("Set-Cookie"); len(sc) > 0 {
					t.Fatalf("%s: refused POST /logout set a cookie: %q", c.name, sc)
				}
				mustContain(t, body, "Cross-origin request refused", "CrossOriginProtection", c.want)
				if strings.Contains(c.name, "same-site") {
					mustNotContain(t, between(body, `<p id="refused">`, "</p>"), "another site")
				}
				if after := sessionCookie(t, cl, srv); after != before {
					t.Fatalf("%s: the refused logout changed the cookie", c.name)
				}
				_, body = get(t, cl, srv.URL+"/account")
				mustContain(t, body, `Signed in as <strong id="user">demo</strong>`)
			}

			// A refused cross-origin login does not sign a fresh visitor in.
			jar, _ := cookiejar.New(nil)
			fresh := &http.Client{Jar: jar}
			for _, c := range cross {
				resp, _ := do(t, fresh, http.MethodPost, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}}, c.header)
				if resp.StatusCode != http.StatusForbidden {
					t.Fatalf("%s: POST /login: status %d, want 403", c.name, resp.StatusCode)
				}
				if sessionCookie(t, fresh, srv) != "" {
					t.Fatalf("%s: the refused login set a session cookie", c.name)
				}
			}

			// The same origin, as a browser marks it, signs out.
			resp, body := do(t, cl, http.MethodPost, srv.URL+"/logout", url.Values{}, http.Header{"Sec-Fetch-Site": {"same-origin"}, "Origin": {srv.URL}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("same-origin POST /logout: status %d", resp.StatusCode)
			}
			mustContain(t, body, "You have been signed out.")
			// And signs in, with only the Origin header (older browsers).
			resp, body = do(t, cl, http.MethodPost, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}}, http.Header{"Origin": {srv.URL}})
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("same-origin POST /login: status %d", resp.StatusCode)
			}
			mustContain(t, body, "Welcome, demo!")
		})
	}
}

// TestPagesExplainSession: every page shows the storage, the shortened id
// and what the session holds, never the whole id; cookie storage says
// whether its payload is readable.
func TestPagesExplainSession(t *testing.T) {
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, cl, rec := newTestServer(t, row.storage, row.seal)
			var pages []string

			_, body := get(t, cl, srv.URL+"/")
			mustContain(t, body, "What the session holds now", "<strong>"+row.storage+"</strong>",
				"your browser sent none: this is a new session", "saves the session (it changed; the save creates it)",
				`<td id="created"><span class="muted">now: this is a new session, created by this response's save</span>`,
				"<code>visits</code> = <code>1</code>", "after 1 hour without a request, or 24 hours after it was created", "Try next")
			pages = append(pages, body)

			_, body = get(t, cl, srv.URL+"/")
			mustContain(t, body, "<code>visits</code> = <code>2</code>", "saves the session (it changed)</td>")
			// One duration format everywhere: minutes and seconds, never
			// thousands of seconds.
			if in := between(body, "</span> (in ", ")"); !regexp.MustCompile(`^(1 hour|59 minutes( \d+ seconds?)?)$`).MatchString(in) {
				t.Errorf("expires in %q, want 1 hour or 59 minutes and some seconds", in)
			}
			if row.storage == "file" {
				mustContain(t, body, "one file per session under /") // an absolute path
			}
			if row.storage == "postgres" {
				mustContain(t, body, "in PostgreSQL at 127.0.0.1:", "one row per session in the table sessions of the database postgres")
			}
			switch {
			case row.storage != "cookie":
				mustContain(t, body, "it carries only the id, the data stays on the server")
				mustNotContain(t, body, `id="payload"`)
			case row.seal:
				mustContain(t, body, "<strong>cookie</strong>, sealed", "The payload is sealed with AES-256-GCM")
				mustNotContain(t, body, "Readable by anyone")
			default:
				mustContain(t, body, "<strong>cookie</strong>, signed only", "Readable by anyone who has the cookie",
					"&#34;visits&#34;:1", "-seal")
			}
			pages = append(pages, body)

			_, body = post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"nope"}})
			// The error is part of the answer, not a flash: nothing is written.
			mustContain(t, body, `<p class="flash error" role="alert" id="error">Wrong username or password.</p>`,
				"does not write the session: unchanged")
			mustNotContain(t, body, "<code>error</code> = ")
			pages = append(pages, body)

			_, body = post(t, cl, srv.URL+"/login", url.Values{"username": {"demo"}, "password": {"password"}})
			mustContain(t, body, "<code>user</code> = <code>&#34;demo&#34;</code>", "<code>notice</code> = <code>&#34;Welcome, demo!&#34;</code>")
			pages = append(pages, body)

			_, body = get(t, cl, srv.URL+"/account")
			mustContain(t, body, "does not write the session: unchanged")
			if row.storage == "cookie" {
				mustContain(t, body, "there is no record on the server to delete")
				mustNotContain(t, body, "its record")
			} else {
				mustContain(t, body, "(its record on the server deleted)", "<th>Session began</th>", "may be before it signed in")
			}
			pages = append(pages, body)

			_, body = post(t, cl, srv.URL+"/logout", nil)
			pages = append(pages, body)

			ids := rec.seen()
			if len(ids) == 0 {
				t.Fatal("no session was saved")
			}
			for _, id := range ids {
				for _, p := range pages {
					mustNotContain(t, p, id)
				}
			}
			last := ids[len(ids)-1]
			mustContain(t, pages[len(pages)-1], `<code id="sid">`+last[:8]+"…</code>")
		})
	}
}

// TestPageEscapes: session values are shown through html/template.
func TestPageEscapes(t *testing.T) {
	c, err := cookie.New("session", cookie.Options{Secrets: []string{testSecret}})
	if err != nil {
		t.Fatal(err)
	}
	a := &app{cookie: c, cfg: appConfig{storage: storageInfo{Name: "memory"}}}
	s := session.New()
	s.Set("<b>key", "<script>alert(1)</script>")
	req := httptest.NewRequest(http.MethodGet, "/", nil)
	req = req.WithContext(session.NewContext(req.Context(), s))
	w := httptest.NewRecorder()
	a.render(w, req, http.StatusOK, page{Title: "Home", Body: "home", Visits: 1})
	body := w.Body.String()
	mustNotContain(t, body, "<script>alert", "<b>key")
	mustContain(t, body, "&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;b&gt;key")
}

func TestStorageFlag(t *testing.T) {
	for _, tc := range []struct {
		cfg  config
		want string
	}{
		{config{storage: "redis", redis: "127.0.0.1:1"}, "-storage redis: no Redis answers at 127.0.0.1:1 (-redis)"},
		{config{storage: "memcache", memcache: "127.0.0.1:1"}, "-storage memcache: a server at 127.0.0.1:1 (-memcache) does not answer"},
		{config{storage: "postgres", postgres: "postgres://127.0.0.1:1/postgres?sslmode=disable"}, "-storage postgres: no PostgreSQL answers at 127.0.0.1:1 (-postgres)"},
		{config{storage: "postgres", postgres: "postgres://127.0.0.1:bad/"}, "-storage postgres: -postgres: "},
		{config{storage: "nope"}, `-storage "nope": want one of memory, file, cookie, redis, redis-cluster, memcache, postgres`},
		{config{storage: "file", seal: true, dir: t.TempDir()}, "-seal applies to -storage cookie only"},
	} {
		_, _, err := newStorage(tc.cfg, "session", testSecret)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("-storage %s -seal=%v: error %v, want %q", tc.cfg.storage, tc.cfg.seal, err, tc.want)
		}
	}
	// A -postgres URL's password never appears in the message.
	for _, u := range []string{"postgres://app:hunter2@127.0.0.1:1/app?sslmode=disable", "postgres://app:hunter2@127.0.0.1:bad/app"} {
		_, _, err := newStorage(config{storage: "postgres", postgres: u}, "session", testSecret)
		if err == nil || strings.Contains(err.Error(), "hunter2") {
			t.Errorf("-postgres %s: error %v: want one without the password", u, err)
		}
	}
}

// TestPostgresLeastPrivilege: a PostgreSQL user that may only read and
// write the sessions table, made by an administrator, cannot run Migrate
// (CREATE on the schema), yet the app starts and keeps sessions; without the
// table it says which table it could not create.
func TestPostgresLeastPrivilege(t *testing.T) {
	srv := testserver.PostgresServer(t)
	ctx := context.Background()
	admin, err := pgxpool.New(ctx, srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	if _, err := admin.Exec(ctx, "CREATE ROLE app LOGIN"); err != nil {
		t.Fatal(err)
	}
	appURL := strings.Replace(srv.URL(), testserver.PostgresUser+"@", "app@", 1)
	cfg := config{storage: "postgres", postgres: appURL, idle: time.Hour, lifetime: 24 * time.Hour}
	if _, _, err := newStorage(cfg, "session", testSecret); err == nil || !strings.Contains(err.Error(), "-storage postgres: creating the table sessions: ") {
		t.Fatalf("no table, no right to create it: error %v", err)
	}

	if err := postgresstorage.Migrate(ctx, admin, "sessions"); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.Exec(ctx, "GRANT SELECT, INSERT, UPDATE, DELETE ON sessions TO app"); err != nil {
		t.Fatal(err)
	}
	st, info, err := newStorage(cfg, "session", testSecret)
	if err != nil {
		t.Fatalf("the table exists and app may use it: %v", err)
	}
	defer info.Close()
	s, err := st.Read(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	s.Set(userKey, "demo")
	if _, _, err := st.Save(ctx, s); err != nil {
		t.Fatalf("save as app: %v", err)
	}
}

func TestShortIDAndDuration(t *testing.T) {
	if got := shortID("abcdefghijklmnop"); got != "abcdefgh…" {
		t.Errorf("shortID: %q", got)
	}
	for d, want := range map[time.Duration]string{30 * time.Minute: "30 minutes", time.Hour: "1 hour", 12 * time.Hour: "12 hours", 90 * time.Second: "1 minute 30 seconds", 1799 * time.Second: "29 minutes 59 seconds",
		12*time.Hour - time.Second: "11 hours 59 minutes", time.Hour + 5*time.Second: "1 hour", 45 * time.Second: "45 seconds", 1500 * time.Millisecond: "1.5s"} {
		if got := humanDuration(d); got != want {
			t.Errorf("humanDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// TestRememberMe: the login form's "Remember me" makes the session
// persistent: its cookie carries Max-Age = the time the server leaves it (the
// 1-hour idle timeout here); without it the cookie has neither Max-Age nor
// Expires. The pages show the session's created and expiry times.
func TestRememberMe(t *testing.T) {
	for _, row := range storageRows {
		t.Run(row.name, func(t *testing.T) {
			srv, cl, _ := newTestServer(t, row.storage, row.seal)
			cl.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
			_, body := get(t, cl, srv.URL+"/login")
			mustContain(t, body, `<input name="remember" id="remember" type="checkbox" value="on"> Remember me`,
				`<td id="created"><span class="muted">not yet: this is a new session and this response does not save it`, `<td id="persistent">off:`)

			for _, remember := range []bool{true, false} {
				form := url.Values{"username": {"demo"}, "password": {"password"}}
				if remember {
					form.Set("remember", "on")
				}
				before := time.Now().UTC().Truncate(time.Second)
				resp, _ := do(t, cl, http.MethodPost, srv.URL+"/login", form, nil)
				lines := resp.Header.Values("Set-Cookie")
				if len(lines) != 1 || !strings.HasPrefix(lines[0], "session=") {
					t.Fatalf("login: Set-Cookie %q", lines)
				}
				_, attrs, _ := strings.Cut(lines[0], ";")
				want := " HttpOnly; Path=/; SameSite=Lax"
				if remember {
					want = " HttpOnly; Max-Age=3600; Path=/; SameSite=Lax"
				}
				if attrs != want {
					t.Errorf("remember=%v: cookie attributes %q, want %q", remember, attrs, want)
				}
				_, body = get(t, cl, srv.URL+"/account")
				if remember {
					mustContain(t, body, `<td id="persistent">on:`)
				} else {
					mustContain(t, body, `<td id="persistent">off:`)
				}
				created := between(body, `<td id="created">`, "</td>")
				at, err := time.Parse("2006-01-02 15:04:05 UTC", created)
				if err != nil || at.Before(before.Add(-time.Second)) || at.After(time.Now().Add(time.Second)) {
					t.Errorf("created %q (%v), want about now", created, err)
				}
				expires, err := time.Parse("2006-01-02 15:04:05 UTC", between(body, `<span id="expires">`, "</span>"))
				if d := expires.Sub(at); err != nil || d < time.Hour-2*time.Second || d > time.Hour+2*time.Second {
					t.Errorf("expires %v (%v), want an hour after %v", expires, err, at)
				}
				post(t, cl, srv.URL+"/logout", nil)
			}
		})
	}
}

// between returns the text of s between the first from and the next to.
func between(s, from, to string) string {
	_, rest, _ := strings.Cut(s, from)
	v, _, _ := strings.Cut(rest, to)
	return v
}
