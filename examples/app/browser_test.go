package main

import (
	"context"
	"fmt"
	"github.com/sessionkit/sessionkit/examples/internal/browsertest"
	"github.com/sessionkit/sessionkit/session/sessiontest/testserver"
	"html/template"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser test drives the built app in headless Chromium. It is slow and
// needs a browser, so plain `go test` skips it; `make e2e` and .ci/run set
// SESSIONKIT_E2E=1. SESSIONKIT_CHROMIUM names another browser binary, and
// SESSIONKIT_E2E_OUT another folder for the screenshots.
const (
	e2eEnv        = browsertest.Env
	defaultOutDir = "../e2e-output"
)

// browserRows are the storages the app offers, each run through the whole
// flow in a fresh browser profile. A storage that needs a server (Redis,
// Memcache, PostgreSQL) adds a row whose setup starts it and returns the
// flags that point the app at it.
var browserRows = []struct {
	name  string
	setup func(t *testing.T) []string // the app's flags
}{
	{"memory", func(*testing.T) []string { return []string{"-storage", "memory", "-metrics"} }},
	{"file", func(t *testing.T) []string { return []string{"-storage", "file", "-dir", t.TempDir()} }},
	{"cookie-signed", func(*testing.T) []string { return []string{"-storage", "cookie", "-metrics"} }},
	{"cookie-sealed", func(*testing.T) []string { return []string{"-storage", "cookie", "-seal"} }},
	{"redis", func(t *testing.T) []string {
		return []string{"-storage", "redis", "-redis", testserver.Redis(t).Addr()}
	}},
	{"redis-cluster", func(t *testing.T) []string {
		return []string{"-storage", "redis-cluster", "-redis", strings.Join(testserver.RedisCluster(t, clusterMasters).Addrs(), ",")}
	}},
	{"memcache", func(t *testing.T) []string {
		addrs := make([]string, memcachePool) // a pool, as make run starts
		for i := range addrs {
			addrs[i] = testserver.Memcached(t).Addr()
		}
		return []string{"-storage", "memcache", "-memcache", strings.Join(addrs, ",")}
	}},
	{"postgres", func(t *testing.T) []string {
		return []string{"-storage", "postgres", "-postgres", testserver.PostgresServer(t).URL()}
	}},
}

func TestBrowser(t *testing.T) {
	if !browsertest.Enabled() {
		t.Skipf("browser test skipped: set %s=1 to drive the app in headless Chromium (make e2e does)", e2eEnv)
	}
	browserPath, err := browsertest.Chromium()
	if err != nil {
		t.Fatalf("%s=1: %v", e2eEnv, err)
	}
	outDir := os.Getenv("SESSIONKIT_E2E_OUT")
	if outDir == "" {
		outDir = defaultOutDir
	}
	outDir, err = filepath.Abs(outDir)
	if err != nil {
		t.Fatal(err)
	}

	appBinary(t) // built before the clock starts for the first row

	// The other origin: a page on a second loopback port whose forms post to
	// the app, as a malicious site would.
	other := httptest.NewServer(http.HandlerFunc(serveOtherOrigin))
	defer other.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	browserCtx := browsertest.Start(t, ctx, browserPath, 1000, 900)

	for _, row := range browserRows {
		t.Run(row.name, func(t *testing.T) {
			start := time.Now()
			dir := filepath.Join(outDir, row.name)
			if err := os.RemoveAll(dir); err != nil {
				t.Fatal(err)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			p := startApp(t, []string{"SESSION_SECRET=" + testSecret}, row.setup(t)...)
			// A new browser context per row: its own cookie jar.
			tabCtx, cancelTab := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
			defer cancelTab()
			b := &tab{t: t, ctx: tabCtx, dir: dir, started: time.Now()}
			browseFlow(b, p.URL, other.URL)
			if !strings.HasPrefix(row.name, "cookie") {
				devicesFlow(t, browserCtx, dir, p.URL)
			}
			if slices.Contains(p.args, "-metrics") {
				checkMetrics(t, p.URL)
			}
			if code := p.stop(t, syscall.SIGTERM); code != 0 {
				t.Fatalf("the app exited %d after SIGTERM", code)
			}
			reauthFlow(t, browserCtx, dir, p.args)
			t.Logf("%s: %d screenshots in %s, %v", row.name, b.shots, dir, time.Since(start).Round(time.Millisecond))
		})
	}
}

// browseFlow is what a visitor does: sign in (after one wrong password,
// with "Remember me"), see the account page and its flash exactly once,
// reload, have a page on another origin try to sign them out and in, sign
// out, and be refused the account page.
func browseFlow(b *tab, app, other string) {
	home := b.open(app + "/")
	b.want(home, pageState{Status: 200, Path: "/", H1: "Home"})
	b.contains("#visits", "visited this page 1 time in")
	anonymousID := home.SID
	b.shot("home")

	login := b.follow(chromedp.Click(chromedp.ID("signin")))
	b.want(login, pageState{Status: 200, Path: "/login", H1: "Sign in"})
	b.shot("login")

	b.do(chromedp.SendKeys(chromedp.ID("username"), "demo"), chromedp.SendKeys(chromedp.ID("password"), "wrong"))
	failed := b.follow(chromedp.Submit(chromedp.ID("login")))
	b.want(failed, pageState{Status: 200, Path: "/login", H1: "Sign in", Error: "Wrong username or password."})
	b.shot("login-failed")

	b.do(chromedp.SendKeys(chromedp.ID("username"), "demo"), chromedp.SendKeys(chromedp.ID("password"), "password"),
		chromedp.Click(chromedp.ID("remember")))
	account := b.follow(chromedp.Submit(chromedp.ID("login")))
	b.want(account, pageState{Status: 200, Path: "/account", H1: "Account", Notice: "Welcome, demo!", User: "demo"})
	if account.SID == anonymousID || account.SID == "" {
		b.t.Fatalf("the session id did not change at sign-in (%q before, %q after)", anonymousID, account.SID)
	}
	b.contains("#persistent", "on: the cookie has a Max-Age")
	b.contains("#created", " UTC")
	// The sign-in, then the anonymous session's visit before it.
	b.contains("#events", "new id")
	b.contains("#events", "created")
	b.shot("account-welcome")

	again := b.follow(chromedp.Reload())
	b.want(again, pageState{Status: 200, Path: "/account", H1: "Account", User: "demo"}) // the flash is gone
	b.shot("account-reloaded")

	// Another origin posts the sign-out form with the visitor's cookie.
	evil := b.open(other + "/?app=" + app)
	b.want(evil, pageState{Status: 200, Path: "/", H1: "Another site"})
	b.shot("other-origin")
	refused := b.follow(chromedp.Click(chromedp.ID("evil-logout")))
	b.want(refused, pageState{Status: 403, Path: "/logout", H1: "Cross-origin request refused"})
	b.shot("other-origin-logout-refused")
	still := b.open(app + "/account")
	b.want(still, pageState{Status: 200, Path: "/account", H1: "Account", User: "demo"})

	out := b.follow(chromedp.Click(chromedp.ID("signout")))
	b.want(out, pageState{Status: 200, Path: "/", H1: "Home", Notice: "You have been signed out."})
	b.shot("signed-out")

	denied := b.open(app + "/account")
	b.want(denied, pageState{Status: 200, Path: "/login", H1: "Sign in", Error: "Please sign in to see your account."})
	b.shot("account-denied")

	// Another origin posts the sign-in form: refused, still signed out.
	b.open(other + "/?app=" + app)
	refused = b.follow(chromedp.Click(chromedp.ID("evil-login")))
	b.want(refused, pageState{Status: 403, Path: "/login", H1: "Cross-origin request refused"})
	b.shot("other-origin-login-refused")
	denied = b.open(app + "/account")
	b.want(denied, pageState{Status: 200, Path: "/login", H1: "Sign in", Error: "Please sign in to see your account."})
}

// pageState is what a test reads off a loaded page.
type pageState struct {
	Status int    `json:"-"`
	Path   string `json:"path"`
	H1     string `json:"h1"`
	Notice string `json:"notice"`
	Error  string `json:"error"`
	User   string `json:"user"`
	SID    string `json:"sid"`
}

const readState = `(() => {
	const text = (sel) => { const e = document.querySelector(sel); return e ? e.textContent.trim() : ""; };
	return {path: location.pathname, h1: text("h1"), notice: text("#notice"), error: text("#error"), user: text("#user"), sid: text("#sid")};
})()`

// tab is one browser tab; its methods end the test on an error.
type tab struct {
	t       *testing.T
	ctx     context.Context
	dir     string
	shots   int
	started time.Time
}

func (b *tab) do(steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	if err := chromedp.Do(b.ctx, steps...); err != nil {
		b.t.Fatal(err)
	}
}

// open navigates to u and returns the loaded page.
func (b *tab) open(u string) pageState {
	b.t.Helper()
	resp, err := chromedp.Run(b.ctx, chromedp.NavigateResponse(u))
	if err != nil {
		b.t.Fatalf("open %s: %v", u, err)
	}
	return b.state(int(resp.Status))
}

// follow runs an action that loads a page (a click, a submit, a reload) and
// returns that page.
func (b *tab) follow(step chromedp.Action[chromedp.Void]) pageState {
	b.t.Helper()
	resp, err := chromedp.RunResponse(b.ctx, step)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.state(int(resp.Status))
}

func (b *tab) state(status int) pageState {
	b.t.Helper()
	if testing.Verbose() {
		b.t.Logf("%v loaded, status %d", time.Since(b.started).Round(time.Millisecond), status)
	}
	s, err := chromedp.Run(b.ctx, chromedp.Evaluate[pageState](readState))
	if err != nil {
		b.t.Fatal(err)
	}
	s.Status = status
	return s
}

// want compares a page with what the step expects; SID is not compared.
func (b *tab) want(got, want pageState) {
	b.t.Helper()
	want.SID = got.SID
	if got != want {
		b.t.Fatalf("page:\n got  %+v\n want %+v", got, want)
	}
}

func (b *tab) contains(sel, want string) {
	b.t.Helper()
	text, err := chromedp.Run(b.ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.t.Fatal(err)
	}
	if !strings.Contains(text, want) {
		b.t.Fatalf("%s: %q lacks %q", sel, text, want)
	}
}

// shot saves a full-page screenshot as NN-name.png.
func (b *tab) shot(name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.t.Fatal(err)
	}
	b.shots++
	if testing.Verbose() {
		b.t.Logf("%v screenshot %d", time.Since(b.started).Round(time.Millisecond), b.shots)
	}
	if err := os.WriteFile(filepath.Join(b.dir, fmt.Sprintf("%02d-%s.png", b.shots, name)), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

var otherOriginPage = template.Must(template.New("other").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Another site</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:2rem auto;background:#fff5f5}form{margin:1rem 0}</style></head>
<body><h1>Another site</h1>
<p>This page is served from another origin. Its forms post to <code>{{.}}</code> with the visitor's cookie.</p>
<form method="post" action="{{.}}/logout"><button id="evil-logout">Sign the visitor out</button></form>
<form method="post" action="{{.}}/login"><input type="hidden" name="username" value="demo"><input type="hidden" name="password" value="password"><button id="evil-login">Sign the visitor in as demo</button></form>
</body></html>`))

func serveOtherOrigin(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	otherOriginPage.Execute(w, r.URL.Query().Get("app"))
}

// devicesFlow signs in from two browsers (two browser contexts, two cookie
// jars): each sees two active sessions, one of them "This device". The first
// signs the second out from its row, and the second is anonymous on its
// next request; then "sign out everywhere else" does the same.
func devicesFlow(t *testing.T, browserCtx context.Context, dir, app string) {
	newTab := func(shots int) *tab {
		ctx, cancel := chromedp.NewContext(browserCtx, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		return &tab{t: t, ctx: ctx, dir: dir, started: time.Now(), shots: shots}
	}
	a, b := newTab(20), newTab(30) // screenshots 21-… and 31-…
	signIn := func(x *tab) {
		t.Helper()
		x.open(app + "/login")
		x.do(chromedp.SendKeys(chromedp.ID("username"), "demo"), chromedp.SendKeys(chromedp.ID("password"), "password"))
		page := x.follow(chromedp.Submit(chromedp.ID("login")))
		x.want(page, pageState{Status: 200, Path: "/account", H1: "Account", Notice: "Welcome, demo!", User: "demo"})
	}
	rows := func(x *tab) (all, this int) {
		t.Helper()
		n, err := chromedp.Run(x.ctx, chromedp.Evaluate[[]int](`[document.querySelectorAll("tr.device").length, document.querySelectorAll("tr.device.this").length]`))
		if err != nil {
			t.Fatal(err)
		}
		return n[0], n[1]
	}
	signIn(a)
	signIn(b)
	for name, x := range map[string]*tab{"A": a, "B": b} {
		x.open(app + "/account")
		if all, this := rows(x); all != 2 || this != 1 {
			t.Fatalf("browser %s lists %d sessions (%d this device), want 2 (1)", name, all, this)
		}
		x.contains("#devices", "This device")
	}
	a.contains("tr.device", "This device") // the first row
	a.shot("active-sessions-two-browsers")

	out := a.follow(chromedp.Click(chromedp.CSS(`tr.device:not(.this) button.sign-out-device`)))
	a.want(out, pageState{Status: 200, Path: "/account", H1: "Account", Notice: "That device has been signed out.", User: "demo"})
	if all, this := rows(a); all != 1 || this != 1 {
		t.Fatalf("after signing the other out, A lists %d sessions (%d this device)", all, this)
	}
	a.shot("active-sessions-other-signed-out")
	// B is told why it is signed out, once.
	denied := b.open(app + "/account")
	b.wantSignedOutByOther(denied, "/login", "Sign in", " Please sign in to see your account.")
	b.shot("signed-out-by-other-device")
	again := b.follow(chromedp.Reload())
	b.want(again, pageState{Status: 200, Path: "/login", H1: "Sign in"})

	signIn(b)
	a.open(app + "/account")
	out = a.follow(chromedp.Click(chromedp.ID("sign-out-others")))
	a.want(out, pageState{Status: 200, Path: "/account", H1: "Account", Notice: "Signed out 1 other session.", User: "demo"})
	a.contains("#events", "signed in as demo")
	a.shot("account-events")
	home := b.open(app + "/")
	b.wantSignedOutByOther(home, "/", "Home", "")
	b.shot("home-signed-out-everywhere-else")
}

var signedOutByOther = regexp.MustCompile(`^You were signed out from another device at \d\d:\d\d UTC\.`)

// wantSignedOutByOther checks a page that tells this browser another device
// signed it out: the message, then rest.
func (b *tab) wantSignedOutByOther(got pageState, path, h1, rest string) {
	b.t.Helper()
	msg := got.Error
	if !signedOutByOther.MatchString(msg) || !strings.HasSuffix(msg, "UTC."+rest) {
		b.t.Fatalf("page error %q, want the signed-out-from-another-device message, then %q", msg, rest)
	}
	b.want(got, pageState{Status: 200, Path: path, H1: h1, Error: msg})
}

// checkMetrics scrapes the app's GET /metrics (-metrics) after the flow: the
// session read and save histograms are there, with counts.
func checkMetrics(t *testing.T, app string) {
	t.Helper()
	resp, err := http.Get(app + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /metrics: status %d, %v", resp.StatusCode, err)
	}
	mustHaveHistograms(t, string(body))
}
